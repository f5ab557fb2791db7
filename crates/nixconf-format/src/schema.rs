//! The settings schema: which settings exist in which Nix version, with
//! their types and aliases. The data is generated (`schema_generated.rs`,
//! written in the types of `schema_types.rs`); this module holds the
//! lookups, and is the only reader of the generated tables.

use std::sync::OnceLock;

use crate::error::ConfError;
use crate::name_hash::{load_le, name_hash};
use crate::schema_generated::{DEFS, HASH_SEED, HASH_TABLE, SPELLINGS};
use crate::schema_types::Spelling;
pub(crate) use crate::schema_types::{Def, IntKind, Ty};
use crate::version::NixVersion;

pub(crate) use crate::schema_generated::NEWEST_MINOR;

/// The Nix minor version (2.`minor`) the schema uses for `version`.
pub(crate) fn minor_of(version: &NixVersion) -> Result<u8, ConfError> {
    match version.triple() {
        (2, minor, _) if minor <= u32::from(NEWEST_MINOR) => {
            Ok(u8::try_from(minor).unwrap_or(NEWEST_MINOR))
        }
        _ => Err(ConfError::UnsupportedVersion(version.to_string())),
    }
}

/// All settings, sorted by name.
pub(crate) fn defs() -> &'static [Def] {
    &DEFS
}

/// One setting as one Nix version has it, computed once per version.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Info {
    /// [`Def::ty`].
    pub ty: Ty,
    /// [`Def::is_appendable`].
    pub appendable: bool,
    /// [`Def::gate`]: the feature's name and its bit in
    /// [`crate::xp::bit`]'s numbering (`None` when the version does not
    /// know the feature, so it can never be enabled).
    pub gate: Option<(&'static str, Option<u32>)>,
    /// [`Def::default_text`].
    pub default: Option<&'static str>,
}

/// Name resolution and per-setting facts for one Nix version.
#[derive(Debug)]
pub(crate) struct Version {
    pub minor: u8,
    /// By spelling index: the setting the name means, or [`NONE`].
    resolved: Vec<u16>,
    /// By setting index.
    pub infos: Vec<Info>,
    /// Every name this version accepts, `extra-` forms included.
    names: NameTable,
}

/// An open-addressing hash table from every name a version accepts to
/// what it sets: one probe, usually, and a comparison of a few words.
#[derive(Debug)]
struct NameTable {
    slots: Vec<NameSlot>,
    /// The names, for comparing those longer than 32 bytes.
    names: Vec<Vec<u8>>,
}

/// What a name sets in one version, and how a plain `=` of it can be
/// applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub setting: u16,
    /// `extra-NAME`: appends.
    pub append: bool,
    pub quick: Quick,
}

/// The shortcut that applies a valid value of a name without the general
/// machinery (with the same result), for the common cases: a plain `=`
/// of an ungated setting of these types, and `extra-` of an ungated list
/// whose values are kept as written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Quick {
    /// No shortcut.
    #[default]
    General,
    /// `true`/`yes`/`1`, `false`/`no`/`0`.
    Bool,
    /// Plain digits (see [`crate::typed::parse_plain_digits`]).
    Int(IntKind),
    /// `max-jobs`: plain digits (`auto` takes the general way).
    MaxJobs,
    /// `sandbox`: `true`, `false`, `relaxed`, kept as written.
    Sandbox,
    /// Strings and lists of strings: kept as written.
    Span,
    /// `experimental-features`: known features, kept as written (the
    /// enabled set is updated too).
    Features,
}

#[derive(Clone, Copy, Debug, Default)]
struct NameSlot {
    /// 0 for an empty slot.
    len: u32,
    words: NameWords,
    entry: Entry,
    name: u32,
}

/// A name's bytes `0..8` and its last 8 bytes (zero when it is not
/// longer than 8), and bytes `8..16` and `16..24` where they are not
/// already in those two; each little-endian and zero-padded. For names
/// up to 32 bytes, equal words and lengths mean equal names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct NameWords {
    head: u64,
    tail: u64,
    mid: u64,
    mid2: u64,
}

/// Bytes `at..at + 8` of `text` as a little-endian word, zero-padded past
/// its end.
#[inline(always)]
fn word_at(text: &[u8], at: usize) -> u64 {
    match text.get(at..at + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().unwrap_or([0; 8])),
        None => load_le(text.get(at..).unwrap_or_default()),
    }
}

/// [`NameWords`] of `text[start..end]` (a non-empty name).
#[inline(always)]
fn name_words(text: &[u8], start: usize, end: usize) -> NameWords {
    let len = end - start;
    // The bytes past the name within the loaded word are masked away,
    // with no branch on the length.
    let keep = 8 * len.clamp(1, 8) as u32;
    let head = word_at(text, start) & (u64::MAX >> (64 - keep));
    // All words loaded, the unused ones zeroed by masks: name lengths
    // vary from line to line, and branches on them would mispredict.
    let over = |n: usize| u64::from(len > n).wrapping_neg();
    let tail = word_at(text, end.saturating_sub(8)) & over(8);
    let mid = word_at(text, start + 8) & over(16);
    let mid2 = word_at(text, start + 16) & over(24);
    NameWords {
        head,
        tail,
        mid,
        mid2,
    }
}

#[inline(always)]
fn table_hash(len: usize, w: &NameWords) -> usize {
    let h = (w.head ^ w.tail.rotate_left(23) ^ ((len as u64) << 57))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 40) as usize
}

impl NameTable {
    /// Room for `n` names at most one third full.
    fn with_room(n: usize) -> NameTable {
        let size = (3 * n).next_power_of_two().max(16);
        NameTable {
            slots: vec![NameSlot::default(); size],
            names: Vec::new(),
        }
    }

    /// Add `name` unless present.
    fn insert(&mut self, name: Vec<u8>, entry: Entry) {
        if self.get(&name, 0, name.len()).is_some() {
            return;
        }
        let words = name_words(&name, 0, name.len());
        let mask = self.slots.len() - 1;
        let mut i = table_hash(name.len(), &words) & mask;
        while self.slots[i].len != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = NameSlot {
            len: name.len() as u32,
            words,
            entry,
            name: self.names.len() as u32,
        };
        self.names.push(name);
    }

    /// The entry of the name `text[start..end]`.
    #[inline(always)]
    fn get(&self, text: &[u8], start: usize, end: usize) -> Option<Entry> {
        if end <= start {
            return None;
        }
        let len = end - start;
        let words = name_words(text, start, end);
        let mask = self.slots.len() - 1;
        let mut i = table_hash(len, &words) & mask;
        loop {
            let slot = self.slots.get(i)?;
            if slot.len == 0 {
                return None;
            }
            if slot.len as usize == len
                && slot.words == words
                && (len <= 32
                    || self.names.get(slot.name as usize).map(Vec::as_slice)
                        == text.get(start..end))
            {
                return Some(slot.entry);
            }
            i = (i + 1) & mask;
        }
    }
}

/// No setting.
const NONE: u16 = u16::MAX;

impl Version {
    fn build(minor: u8) -> Version {
        let resolved = SPELLINGS
            .iter()
            .map(|s| resolve_spelling(s, minor).unwrap_or(NONE))
            .collect();
        let infos = DEFS
            .iter()
            .map(|d| Info {
                ty: d.ty(minor),
                appendable: d.is_appendable(minor),
                gate: d
                    .gate(minor)
                    .map(|f| (f, crate::xp::bit(f.as_bytes(), minor))),
                default: d.default_text(minor),
            })
            .collect();
        let mut version = Version {
            minor,
            resolved,
            infos,
            names: NameTable::with_room(2 * SPELLINGS.len()),
        };
        // Names as spelled first: they win over an `extra-` reading.
        for (s, &i) in SPELLINGS.iter().zip(&version.resolved) {
            if i != NONE {
                let entry = Entry {
                    setting: i,
                    append: false,
                    quick: quick(&version.infos[usize::from(i)]),
                };
                version.names.insert(s.name.as_bytes().to_vec(), entry);
            }
        }
        if minor >= 4 {
            for (s, &i) in SPELLINGS.iter().zip(&version.resolved) {
                if i != NONE && version.infos[usize::from(i)].appendable {
                    let name = [b"extra-".as_slice(), s.name.as_bytes()].concat();
                    let info = &version.infos[usize::from(i)];
                    let entry = Entry {
                        setting: i,
                        append: true,
                        quick: quick_append(info),
                    };
                    version.names.insert(name, entry);
                }
            }
        }
        version
    }

    /// What `name` sets in this version: the setting, and whether it
    /// appends (`extra-NAME`); `None` for an unknown name.
    #[cfg(test)]
    pub fn lookup(&self, name: &[u8]) -> Option<(u16, bool)> {
        self.names
            .get(name, 0, name.len())
            .map(|e| (e.setting, e.append))
    }

    /// What the name `text[start..end]` sets in this version.
    #[inline(always)]
    pub fn entry(&self, text: &[u8], start: usize, end: usize) -> Option<Entry> {
        self.names.get(text, start, end)
    }

    /// [`resolve`] for this version.
    #[inline]
    pub fn resolve(&self, name: &[u8]) -> Option<u16> {
        let i = *self.resolved.get(spelling_index(name)?)?;
        (i != NONE).then_some(i)
    }
}

/// The shortcut for a plain `=` of a setting with these facts.
fn quick(info: &Info) -> Quick {
    if info.gate.is_some() {
        return Quick::General;
    }
    match info.ty {
        Ty::Bool => Quick::Bool,
        Ty::Int(kind) => Quick::Int(kind),
        Ty::MaxJobs => Quick::MaxJobs,
        Ty::Sandbox => Quick::Sandbox,
        Ty::Str
        | Ty::Strings
        | Ty::StringSet
        | Ty::StringMap
        | Ty::StoreRef
        | Ty::StoreRefList
        | Ty::StoreRefSet => Quick::Span,
        Ty::XpFeatures => Quick::Features,
        _ => Quick::General,
    }
}

/// The shortcut for `extra-` of an appendable setting: values its type
/// keeps as written are appended without the general machinery.
fn quick_append(info: &Info) -> Quick {
    if info.gate.is_some() {
        return Quick::General;
    }
    match info.ty {
        Ty::Strings
        | Ty::StringSet
        | Ty::StringMap
        | Ty::StoreRefList
        | Ty::StoreRefSet
        | Ty::PathsInChroot
        | Ty::PluginFiles => Quick::Span,
        Ty::XpFeatures => Quick::Features,
        _ => Quick::General,
    }
}

/// The table for 2.`minor` (built on first use; `minor` at most
/// [`NEWEST_MINOR`]).
pub(crate) fn version(minor: u8) -> &'static Version {
    static TABLES: [OnceLock<Version>; NEWEST_MINOR as usize + 1] =
        [const { OnceLock::new() }; NEWEST_MINOR as usize + 1];
    let minor = minor.min(NEWEST_MINOR);
    TABLES[usize::from(minor)].get_or_init(|| Version::build(minor))
}

/// The setting `name` (canonical or alias) means in 2.`minor`, with no
/// `extra-` handling.
#[inline]
pub(crate) fn resolve(name: &[u8], minor: u8) -> Option<u16> {
    resolve_spelling(spelling(name)?, minor)
}

fn resolve_spelling(spelling: &Spelling, minor: u8) -> Option<u16> {
    if let Some(i) = spelling.setting {
        if DEFS[usize::from(i)].exists_in(minor) {
            return Some(i);
        }
    }
    spelling
        .alias_of
        .iter()
        .find(|&&(i, since)| since <= minor && DEFS[usize::from(i)].exists_in(minor))
        .map(|&(i, _)| i)
}

#[inline]
fn spelling(name: &[u8]) -> Option<&'static Spelling> {
    SPELLINGS.get(spelling_index(name)?)
}

/// The index in `SPELLINGS` of `name`, if it is one.
#[inline]
fn spelling_index(name: &[u8]) -> Option<usize> {
    let slot = usize::from(HASH_TABLE[name_hash(name, HASH_SEED)]);
    let spelling = SPELLINGS.get(slot)?;
    (spelling.name.as_bytes() == name).then_some(slot)
}

/// Every name (canonical and alias) that 2.`minor` accepts, sorted.
pub(crate) fn known_names(minor: u8) -> Vec<&'static str> {
    SPELLINGS
        .iter()
        .filter(|s| resolve(s.name.as_bytes(), minor).is_some())
        .map(|s| s.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_is_found() {
        for s in SPELLINGS.iter() {
            let found = spelling(s.name.as_bytes()).map(|f| f.name);
            assert_eq!(found, Some(s.name));
        }
        assert!(spelling(b"no-such-setting").is_none());
        assert!(spelling(b"").is_none());
    }

    #[test]
    fn aliases_and_versions_resolve() {
        let name = |i: Option<u16>| i.map(|i| DEFS[usize::from(i)].name);
        assert_eq!(name(resolve(b"build-max-jobs", 8)), Some("max-jobs"));
        assert_eq!(
            name(resolve(b"download-attempts", 8)),
            Some("download-attempts")
        );
        assert_eq!(name(resolve(b"download-attempts", 2)), None);
        assert_eq!(
            name(resolve(b"download-attempts", 35)),
            Some("filetransfer-retry-attempts")
        );
        assert_eq!(
            name(resolve(b"commit-lockfile-summary", 22)),
            Some("commit-lockfile-summary")
        );
        assert_eq!(
            name(resolve(b"commit-lockfile-summary", 23)),
            Some("commit-lock-file-summary")
        );
        assert_eq!(
            name(resolve(b"extra-binary-caches", 3)),
            Some("extra-substituters")
        );
        assert_eq!(name(resolve(b"extra-binary-caches", 4)), None);
        assert_eq!(name(resolve(b"use-cgroups", 8)), None);
        assert_eq!(name(resolve(b"darwin-log-sandbox-violations", 8)), None);
        assert_eq!(name(resolve(b"build-repeat", 12)), Some("repeat"));
        assert_eq!(name(resolve(b"build-repeat", 13)), None);
    }

    /// What `name` sets in 2.`minor`, by Nix's rule: the name as
    /// spelled, else `extra-` and an appendable setting.
    fn lookup_by_rule(name: &[u8], minor: u8) -> Option<(u16, bool)> {
        if let Some(i) = resolve(name, minor) {
            return Some((i, false));
        }
        let base = name.strip_prefix(b"extra-").filter(|_| minor >= 4)?;
        resolve(base, minor)
            .filter(|&i| DEFS[usize::from(i)].is_appendable(minor))
            .map(|i| (i, true))
    }

    /// The per-version name tables agree with the rule on every name
    /// and its `extra-` form, and know nothing else.
    #[test]
    fn version_tables_agree_with_resolve() {
        for minor in 0..=NEWEST_MINOR {
            let v = version(minor);
            for s in SPELLINGS.iter() {
                let name = s.name.as_bytes();
                assert_eq!(v.resolve(name), resolve(name, minor));
                assert_eq!(
                    v.lookup(name),
                    lookup_by_rule(name, minor),
                    "{} in 2.{minor}",
                    s.name
                );
                let extra = [b"extra-".as_slice(), name].concat();
                assert_eq!(
                    v.lookup(&extra),
                    lookup_by_rule(&extra, minor),
                    "extra-{} in 2.{minor}",
                    s.name
                );
            }
            for unknown in [
                "",
                "x",
                "extra-",
                "extra-x",
                "max-jobz",
                "max-jobs-",
                "cores\0",
            ] {
                assert_eq!(v.lookup(unknown.as_bytes()), None);
            }
        }
    }

    /// The appendability rule agrees with the reference's own column.
    #[test]
    fn appendability_matches_reference_at_newest() {
        for def in DEFS.iter() {
            if let Some(expected) = def.appendable_newest {
                assert_eq!(def.is_appendable(NEWEST_MINOR), expected, "{}", def.name);
            }
        }
    }

    /// Nix 2.8's `nix show-config` knows 91 settings on Linux.
    #[test]
    fn nix_2_8_has_91_settings() {
        assert_eq!(DEFS.iter().filter(|d| d.exists_in(8)).count(), 91);
    }
}

/// What kind of value a setting holds, as far as a configuration written
/// in the NixOS option tree cares: how to spell it there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingKind {
    /// `true` or `false`.
    Bool,
    /// An integer.
    Int,
    /// An integer or `auto` (`max-jobs`).
    IntOrAuto,
    /// `true`, `false` or `relaxed` (`sandbox`).
    BoolOrRelaxed,
    /// A whitespace-separated list.
    List,
    /// Anything else: one string.
    Text,
}

/// The setting a name means in a Nix version: its canonical name, and the
/// kind of its value. `None` for a name that version does not know
/// (aliases resolve to their setting; `extra-NAME` is not resolved).
///
/// ```
/// use nixconf_format::{setting_info, SettingKind};
/// let v = "2.8.0".parse().unwrap();
/// assert_eq!(setting_info("build-max-jobs", &v), Some(("max-jobs", SettingKind::IntOrAuto)));
/// assert_eq!(setting_info("trusted-users", &v), Some(("trusted-users", SettingKind::List)));
/// assert_eq!(setting_info("no-such-setting", &v), None);
/// ```
pub fn setting_info(name: &str, version: &NixVersion) -> Option<(&'static str, SettingKind)> {
    let minor = minor_of(version).ok()?;
    let def = &DEFS[usize::from(resolve(name.as_bytes(), minor)?)];
    let kind = match def.ty(minor) {
        Ty::Bool | Ty::DeprecatedWarn => SettingKind::Bool,
        Ty::Int(_) => SettingKind::Int,
        Ty::MaxJobs => SettingKind::IntOrAuto,
        Ty::Sandbox => SettingKind::BoolOrRelaxed,
        Ty::Strings
        | Ty::StringSet
        | Ty::StringMap
        | Ty::PathSet
        | Ty::XpFeatures
        | Ty::PluginFiles
        | Ty::PathsInChroot
        | Ty::StoreRefList
        | Ty::StoreRefSet => SettingKind::List,
        _ => SettingKind::Text,
    };
    Some((def.name, kind))
}

/// A setting's default as `nix show-config` prints it for a Nix version,
/// where the reference knows it (host-dependent defaults such as
/// `system-features` are those of the reference host).
///
/// ```
/// let v = "2.8.0".parse().unwrap();
/// assert_eq!(nixconf_format::setting_default("require-sigs", &v), Some("true"));
/// assert_eq!(nixconf_format::setting_default("no-such-setting", &v), None);
/// ```
pub fn setting_default(name: &str, version: &NixVersion) -> Option<&'static str> {
    let minor = minor_of(version).ok()?;
    DEFS[usize::from(resolve(name.as_bytes(), minor)?)].default_text(minor)
}
