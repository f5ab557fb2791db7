//! The settings-schema generator: turns `reference/settings.tsv` and
//! `reference/settings-history.tsv` into `src/schema_generated.rs`.
//!
//! This file is compiled twice, by path: into xtask (`cargo xtask codegen`
//! writes the file) and into nixconf-format's `schema_fresh` test (which
//! regenerates in memory and fails when the committed file is stale). It
//! depends on `std` only, so both can include it; the name hash is
//! `src/name_hash.rs`, which the runtime lookup uses too.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The newest Nix minor version the reference data describes (`current`
/// in settings-history.tsv).
pub const NEWEST_MINOR: u8 = 35;

/// Gates that the reference tables do not date: the experimental-feature
/// gating mechanism exists from 2.16, and two settings got their gate later
/// than they appeared or were removed before 2.35 (read in Nix's
/// `src/libstore/globals.hh` and `src/libflake` at the 2.16 and 2.19 tags).
const GATE_OVERRIDES: &[(&str, &str, u8)] = &[
    ("auto-allocate-uids", "auto-allocate-uids", 19),
    ("commit-lockfile-summary", "flakes", 16),
];

/// First minor version with the experimental-feature gate mechanism.
const GATE_MECHANISM_SINCE: u8 = 16;

#[path = "../src/name_hash.rs"]
mod name_hash;

use name_hash::{name_hash, HASH_BITS};

/// A spelling's own setting (if any) and the settings it aliases, with
/// the minor version each alias starts at.
type SpellingRow = (Option<usize>, Vec<(usize, u8)>);

struct Def {
    name: String,
    first: u8,
    last: u8,
    types: Vec<(u8, String)>,
    aliases: Vec<(String, u8)>,
    description: String,
    default_observed: Option<String>,
    default_source: Option<String>,
    gate: Option<(String, u8)>,
    platform: &'static str,
    appendable_newest: Option<bool>,
}

/// Generate the Rust source of `schema_generated.rs`.
pub fn generate(settings_tsv: &str, history_tsv: &str) -> Result<String, String> {
    let mut defs: BTreeMap<String, Def> = BTreeMap::new();
    for (lineno, line) in history_tsv.lines().enumerate().skip(1) {
        let where_ = || format!("settings-history.tsv:{}", lineno + 1);
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 {
            return Err(format!("{}: expected 5 columns", where_()));
        }
        let name = cols[0].to_owned();
        let first = parse_minor(cols[1]).ok_or_else(|| format!("{}: bad first_seen", where_()))?;
        let last = if cols[2] == "current" {
            NEWEST_MINOR
        } else {
            parse_minor(cols[2]).ok_or_else(|| format!("{}: bad last_seen", where_()))?
        };
        let mut types = Vec::new();
        for part in cols[3].split(" -> ") {
            let (v, cpp) = part
                .split_once(':')
                .ok_or_else(|| format!("{}: bad type history {part:?}", where_()))?;
            let minor = parse_minor(v).ok_or_else(|| format!("{}: bad version {v:?}", where_()))?;
            let ty = rust_type(&name, cpp)
                .ok_or_else(|| format!("{}: unknown C++ setting type {cpp:?}", where_()))?;
            types.push((minor, ty));
        }
        let mut aliases = Vec::new();
        for part in cols
            .get(4)
            .copied()
            .unwrap_or("")
            .split(", ")
            .filter(|s| !s.is_empty())
        {
            let (alias, rest) = part
                .split_once("(from ")
                .ok_or_else(|| format!("{}: bad alias {part:?}", where_()))?;
            let since = parse_minor(rest.trim_end_matches(')'))
                .ok_or_else(|| format!("{}: bad alias version {part:?}", where_()))?;
            aliases.push((alias.to_owned(), since));
        }
        let gate = GATE_OVERRIDES
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, f, v)| ((*f).to_owned(), *v));
        defs.insert(
            name.clone(),
            Def {
                name,
                first,
                last,
                types,
                aliases,
                description: String::new(),
                default_observed: None,
                default_source: None,
                gate,
                platform: "Any",
                appendable_newest: None,
            },
        );
    }
    for (lineno, line) in settings_tsv.lines().enumerate().skip(1) {
        let where_ = || format!("settings.tsv:{}", lineno + 1);
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 10 {
            return Err(format!("{}: expected 12 columns", where_()));
        }
        let def = defs
            .get_mut(cols[0])
            .ok_or_else(|| format!("{}: {} is not in settings-history.tsv", where_(), cols[0]))?;
        def.description = cols[1].to_owned();
        def.default_source = source_default(cols[3], cols[1].contains("set"));
        def.default_observed = if cols[4].is_empty() {
            None
        } else {
            Some(observed_default(cols[4]).ok_or_else(|| {
                format!("{}: cannot read observed default {:?}", where_(), cols[4])
            })?)
        };
        def.platform = match cols[7] {
            "macOS only" => "MacOs",
            _ => "Any",
        };
        let gate = cols[8];
        if !gate.is_empty() && !gate.starts_with("none") && def.gate.is_none() {
            def.gate = Some((gate.to_owned(), def.first.max(GATE_MECHANISM_SINCE)));
        }
        def.appendable_newest = Some(cols[9] == "yes");
    }

    let names: Vec<&String> = defs.keys().collect();
    let index_of = |n: &str| names.iter().position(|k| k.as_str() == n);

    // Every spelling nix.conf may use: canonical names and aliases.
    let mut spellings: BTreeMap<String, SpellingRow> = BTreeMap::new();
    for (i, def) in defs.values().enumerate() {
        spellings.entry(def.name.clone()).or_default().0 = Some(i);
        for (alias, since) in &def.aliases {
            spellings
                .entry(alias.clone())
                .or_default()
                .1
                .push((i, *since));
        }
    }
    let spelling_list: Vec<&String> = spellings.keys().collect();
    let seed = find_seed(&spelling_list)?;

    let mut out = String::new();
    out.push_str(
        "// @generated by `cargo xtask codegen` from reference/settings.tsv and\n\
         // reference/settings-history.tsv. Do not edit by hand.\n\n\
         use crate::schema_types::{Def, IntKind, Platform, Spelling, Ty};\n\n",
    );
    let _ = writeln!(
        out,
        "/// The newest Nix minor version the schema describes."
    );
    let _ = writeln!(out, "pub(crate) const NEWEST_MINOR: u8 = {NEWEST_MINOR};\n");
    let _ = writeln!(
        out,
        "/// Every setting of Nix 2.0 to 2.{NEWEST_MINOR}, sorted by name."
    );
    let _ = writeln!(out, "pub(crate) static DEFS: [Def; {}] = [", defs.len());
    for def in defs.values() {
        let _ = writeln!(out, "    Def {{");
        let _ = writeln!(out, "        name: {:?},", def.name);
        let _ = writeln!(out, "        first: {},", def.first);
        let _ = writeln!(out, "        last: {},", def.last);
        let types: Vec<String> = def
            .types
            .iter()
            .map(|(v, t)| format!("({v}, {t})"))
            .collect();
        let _ = writeln!(out, "        types: &[{}],", types.join(", "));
        let _ = writeln!(out, "        description: {:?},", def.description);
        let _ = writeln!(
            out,
            "        default_observed_2_8: {},",
            opt_str(&def.default_observed)
        );
        let _ = writeln!(
            out,
            "        default_source_2_35: {},",
            opt_str(&def.default_source)
        );
        match &def.gate {
            Some((f, v)) => {
                let _ = writeln!(out, "        gate: Some(({f:?}, {v})),");
            }
            None => {
                let _ = writeln!(out, "        gate: None,");
            }
        }
        let _ = writeln!(out, "        platform: Platform::{},", def.platform);
        let _ = writeln!(
            out,
            "        appendable_newest: {},",
            match def.appendable_newest {
                Some(b) => format!("Some({b})"),
                None => "None".to_owned(),
            }
        );
        let _ = writeln!(out, "    }},");
    }
    out.push_str("];\n\n");
    let _ = writeln!(
        out,
        "/// Every spelling (canonical names and aliases), sorted bytewise."
    );
    let _ = writeln!(
        out,
        "pub(crate) static SPELLINGS: [Spelling; {}] = [",
        spellings.len()
    );
    for (name, (setting, aliases)) in &spellings {
        let setting = match setting {
            Some(i) => format!("Some({i})"),
            None => "None".to_owned(),
        };
        let aliases: Vec<String> = aliases.iter().map(|(i, v)| format!("({i}, {v})")).collect();
        let _ = writeln!(
            out,
            "    Spelling {{ name: {name:?}, setting: {setting}, alias_of: &[{}] }},",
            aliases.join(", ")
        );
    }
    out.push_str("];\n\n");
    let mut table = vec![u16::MAX; 1 << HASH_BITS];
    for (i, name) in spelling_list.iter().enumerate() {
        table[name_hash(name.as_bytes(), seed)] = i as u16;
    }
    let _ = writeln!(out, "/// Seed of the perfect hash over `SPELLINGS`.");
    let _ = writeln!(out, "pub(crate) const HASH_SEED: u64 = {seed};\n");
    let _ = writeln!(
        out,
        "/// `name_hash(spelling) -> index into SPELLINGS`; `u16::MAX` is empty."
    );
    let _ = writeln!(
        out,
        "pub(crate) static HASH_TABLE: [u16; {}] = [",
        table.len()
    );
    for chunk in table.chunks(16) {
        let row: Vec<String> = chunk.iter().map(u16::to_string).collect();
        let _ = writeln!(out, "    {},", row.join(", "));
    }
    out.push_str("];\n");
    if index_of("max-jobs").is_none() {
        return Err("settings-history.tsv lacks max-jobs".to_owned());
    }
    Ok(out)
}

fn opt_str(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("Some({s:?})"),
        None => "None".to_owned(),
    }
}

fn find_seed(names: &[&String]) -> Result<u64, String> {
    let mut used = vec![false; 1 << HASH_BITS];
    for seed in 0..100_000u64 {
        used.iter_mut().for_each(|u| *u = false);
        let ok = names.iter().all(|n| {
            let h = name_hash(n.as_bytes(), seed);
            !std::mem::replace(&mut used[h], true)
        });
        if ok {
            return Ok(seed);
        }
    }
    Err("no collision-free hash seed found; widen HASH_BITS".to_owned())
}

/// `≤2.0`, `2.0`, `2.23` -> the minor number.
fn parse_minor(v: &str) -> Option<u8> {
    let v = v.trim_start_matches('≤');
    let rest = v.strip_prefix("2.")?;
    rest.parse().ok()
}

/// The schema's type for one C++ setting type.
fn rust_type(name: &str, cpp: &str) -> Option<String> {
    let int = |kind: &str| Some(format!("Ty::Int(IntKind::{kind})"));
    match cpp {
        "Setting<bool>" => Some("Ty::Bool".to_owned()),
        "Setting<unsigned int>" | "Setting<unsigned>" | "Setting<uint32_t>" => int("U32"),
        "Setting<unsigned long>" | "Setting<size_t>" | "Setting<uint64_t>" => int("U64"),
        "Setting<time_t>" | "Setting<off_t>" => int("I64"),
        "Setting<std::string>" | "Setting<Path>" => Some("Ty::Str".to_owned()),
        // In 2.4 `experimental-features` was a plain string list.
        "Setting<Strings>" | "Setting<Paths>" => Some("Ty::Strings".to_owned()),
        "Setting<StringSet>" | "Setting<PathSet>" => Some("Ty::StringSet".to_owned()),
        "Setting<StringMap>" => Some("Ty::StringMap".to_owned()),
        "PathSetting" => Some("Ty::CanonPath".to_owned()),
        "OptionalPathSetting" | "Setting<std::optional<Path>>" => {
            Some("Ty::OptionalCanonPath".to_owned())
        }
        "Setting<std::optional<std::filesystem::path>>" => Some("Ty::OptionalStr".to_owned()),
        "Setting<std::optional<AbsolutePath>>" => Some("Ty::OptionalAbsolutePath".to_owned()),
        "Setting<AbsolutePath>" => Some("Ty::AbsolutePath".to_owned()),
        "Setting<std::filesystem::path>" => Some("Ty::NonEmptyPath".to_owned()),
        "Setting<std::set<std::filesystem::path>>" => Some("Ty::PathSet".to_owned()),
        "MaxBuildJobsSetting" => Some("Ty::MaxJobs".to_owned()),
        "Setting<SandboxMode>" => Some("Ty::Sandbox".to_owned()),
        "Setting<EvalProfilerMode>" => Some("Ty::EvalProfiler".to_owned()),
        "Setting<Diagnose>" => Some("Ty::Diagnose".to_owned()),
        "Setting<ExternalBuilders>" => Some("Ty::ExternalBuilders".to_owned()),
        "Setting<std::set<ExperimentalFeature>>" => Some("Ty::XpFeatures".to_owned()),
        "PluginFilesSetting" => Some("Ty::PluginFiles".to_owned()),
        "Setting<PathsInChroot>" => Some("Ty::PathsInChroot".to_owned()),
        "Setting<StoreReference>" => Some("Ty::StoreRef".to_owned()),
        "Setting<std::vector<StoreReference>>" => Some("Ty::StoreRefList".to_owned()),
        "Setting<std::set<StoreReference>>" => Some("Ty::StoreRefSet".to_owned()),
        "DeprecatedWarnSetting" if name == "warn-short-path-literals" => {
            Some("Ty::DeprecatedWarn".to_owned())
        }
        _ => None,
    }
}

/// The `default observed (nix 2.8)` column is JSON as `nix show-config
/// --json` printed it; turn it into the text `nix show-config` prints.
fn observed_default(col: &str) -> Option<String> {
    let col = col.trim();
    if col == "{}" || col == "[]" {
        return Some(String::new());
    }
    if let Some(inner) = col.strip_prefix('[').and_then(|c| c.strip_suffix(']')) {
        let items: Option<Vec<String>> = inner.split(", ").map(json_string).collect();
        return items.map(|v| v.join(" "));
    }
    if col.starts_with('"') {
        return json_string(col);
    }
    if col == "true" || col == "false" || col.bytes().all(|b| b.is_ascii_digit()) {
        return Some(col.to_owned());
    }
    None
}

/// A JSON string literal without escapes (the reference has none).
fn json_string(s: &str) -> Option<String> {
    let inner = s.trim().strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains(['\\', '"']) {
        return None;
    }
    Some(inner.to_owned())
}

/// The 2.35 source default, when it is a literal: `true`, `25`,
/// `30 * 24 * 3600`, `"text"`, `{}`, `{"a", "b"}`, or a one-element store
/// list. Anything computed (`getDefaultSystemFeatures()`, platform
/// branches) gives `None`.
fn source_default(col: &str, is_set: bool) -> Option<String> {
    let expr = col.split(" [").next().unwrap_or(col).trim();
    if expr == "true" || expr == "false" || expr == "std::nullopt" {
        return Some(if expr == "std::nullopt" {
            String::new()
        } else {
            expr.to_owned()
        });
    }
    if expr == "{}" {
        return Some(String::new());
    }
    if let Some(product) = expr
        .split(" * ")
        .map(|f| f.parse::<u64>().ok())
        .try_fold(1u64, |acc, f| f.and_then(|f| acc.checked_mul(f)))
    {
        return Some(product.to_string());
    }
    if let Some(inner) = expr.strip_prefix('{').and_then(|e| e.strip_suffix('}')) {
        let mut items: Vec<String> = inner.split(", ").map(json_string).collect::<Option<_>>()?;
        // Set-typed defaults print sorted, list-typed ones in order.
        if is_set {
            items.sort();
        }
        return Some(items.join(" "));
    }
    if let Some(rest) = expr.strip_prefix("std::vector<StoreReference>{StoreReference::parse(") {
        return json_string(rest.strip_suffix(")}")?);
    }
    json_string(expr)
}
