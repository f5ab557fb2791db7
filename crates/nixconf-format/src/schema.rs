//! The settings schema: which settings exist in which Nix version, with
//! their types and aliases. The data is generated (`schema_generated.rs`);
//! this module holds the types it is written in and the lookups.

use std::sync::OnceLock;

use crate::schema_generated::{DEFS, HASH_SEED, HASH_TABLE, SPELLINGS};

pub(crate) use crate::schema_generated::NEWEST_MINOR;

/// Width of an integer setting, as its C++ type has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntKind {
    /// `unsigned int`, `uint32_t`.
    U32,
    /// `unsigned long`, `size_t`, `uint64_t` (LP64).
    U64,
    /// `time_t`, `off_t`.
    I64,
}

/// How a setting's value is parsed and printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Bool,
    Int(IntKind),
    Str,
    Strings,
    StringSet,
    StringMap,
    /// `PathSetting` (≤2.17): absolute, lexically canonicalised; "" allowed.
    CanonPath,
    /// `OptionalPathSetting`, `std::optional<Path>`: "" unsets, else as
    /// [`Ty::CanonPath`].
    OptionalCanonPath,
    /// `std::optional<std::filesystem::path>` (2.33): "" unsets, anything
    /// else kept verbatim.
    OptionalStr,
    /// `AbsolutePath` (≥2.34): non-empty, absolute, canonicalised.
    AbsolutePath,
    /// `std::optional<AbsolutePath>` (≥2.34).
    OptionalAbsolutePath,
    /// `std::filesystem::path` (≥2.34): non-empty, verbatim.
    NonEmptyPath,
    /// `std::set<std::filesystem::path>` (≥2.34): a sorted set, not
    /// appendable.
    PathSet,
    MaxJobs,
    Sandbox,
    EvalProfiler,
    Diagnose,
    ExternalBuilders,
    XpFeatures,
    PluginFiles,
    PathsInChroot,
    StoreRef,
    StoreRefList,
    StoreRefSet,
    DeprecatedWarn,
}

/// Platforms a setting is compiled on; nixconf models a Linux host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Platform {
    Any,
    MacOs,
}

/// One setting, across the versions that have it.
#[derive(Debug)]
pub(crate) struct Def {
    pub name: &'static str,
    pub first: u8,
    pub last: u8,
    /// `(since minor, type)`, oldest first.
    pub types: &'static [(u8, Ty)],
    /// The type column of settings.tsv (for `--help`-style listings).
    #[allow(dead_code)]
    pub description: &'static str,
    pub default_observed_2_8: Option<&'static str>,
    pub default_source_2_35: Option<&'static str>,
    /// `(experimental feature, since minor)`.
    pub gate: Option<(&'static str, u8)>,
    pub platform: Platform,
    /// The reference's "appendable via extra-" column (2.35 only).
    #[allow(dead_code)]
    pub appendable_newest: Option<bool>,
}

/// A name as nix.conf may spell it.
#[derive(Debug)]
pub(crate) struct Spelling {
    pub name: &'static str,
    /// The setting of that name, if one ever existed.
    pub setting: Option<u16>,
    /// `(setting, since minor)` for which this name is an alias.
    pub alias_of: &'static [(u16, u8)],
}

impl Def {
    /// Whether the setting exists on a Linux build of Nix 2.`minor`.
    pub fn exists_in(&self, minor: u8) -> bool {
        self.first <= minor && minor <= self.last && self.platform == Platform::Any
    }

    /// The type in 2.`minor`.
    pub fn ty(&self, minor: u8) -> Ty {
        let mut ty = self.types[0].1;
        for &(since, t) in self.types {
            if since <= minor {
                ty = t;
            }
        }
        ty
    }

    /// Whether `extra-NAME` appends to this setting in 2.`minor`.
    pub fn is_appendable(&self, minor: u8) -> bool {
        if minor < 4 {
            return false;
        }
        match self.ty(minor) {
            Ty::Strings | Ty::StringSet | Ty::StringMap | Ty::XpFeatures => true,
            Ty::PathsInChroot => minor >= 31,
            Ty::StoreRefList | Ty::StoreRefSet => minor >= 34,
            // `plugin-files` became a list of paths in 2.33, which Nix's
            // setting traits do not mark appendable.
            Ty::PluginFiles => minor < 33,
            _ => false,
        }
    }

    /// The default as `nix show-config` prints it, where the reference
    /// knows it: the value observed on Nix 2.8 for 2.8 and older, the 2.35
    /// source literal for newer versions, each falling back to the other.
    pub fn default_text(&self, minor: u8) -> Option<&'static str> {
        if minor <= 8 {
            self.default_observed_2_8.or(self.default_source_2_35)
        } else {
            self.default_source_2_35.or(self.default_observed_2_8)
        }
    }

    /// The experimental feature that must be enabled for a nix.conf value
    /// to be applied in 2.`minor`.
    pub fn gate(&self, minor: u8) -> Option<&'static str> {
        self.gate
            .and_then(|(feature, since)| (minor >= since).then_some(feature))
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
/// what it sets: one probe, usually, and a comparison of two words.
#[derive(Debug)]
struct NameTable {
    slots: Vec<NameSlot>,
    /// The names, for comparing those longer than 16 bytes.
    names: Vec<Vec<u8>>,
}

#[derive(Clone, Copy, Debug, Default)]
struct NameSlot {
    /// 0 for an empty slot.
    len: u32,
    head: u64,
    tail: u64,
    setting: u16,
    append: bool,
    name: u32,
}

/// The name's first 8 bytes and (if longer than 8) its last 8, each
/// little-endian and zero-padded: for names up to 16 bytes, equal words
/// and lengths mean equal names.
#[inline]
fn name_words(name: &[u8]) -> (u64, u64) {
    match <[u8; 8]>::try_from(name.get(..8).unwrap_or_default()) {
        Ok(head) => {
            let tail = name.len().checked_sub(8).map_or([0; 8], |k| {
                <[u8; 8]>::try_from(&name[k..]).unwrap_or_default()
            });
            let tail = if name.len() > 8 {
                u64::from_le_bytes(tail)
            } else {
                0
            };
            (u64::from_le_bytes(head), tail)
        }
        Err(_) => (load_le(name), 0),
    }
}

#[inline]
fn table_hash(len: usize, head: u64, tail: u64) -> usize {
    let h =
        (head ^ tail.rotate_left(23) ^ ((len as u64) << 57)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
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
    fn insert(&mut self, name: Vec<u8>, setting: u16, append: bool) {
        if self.get(&name).is_some() {
            return;
        }
        let (head, tail) = name_words(&name);
        let mask = self.slots.len() - 1;
        let mut i = table_hash(name.len(), head, tail) & mask;
        while self.slots[i].len != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = NameSlot {
            len: name.len() as u32,
            head,
            tail,
            setting,
            append,
            name: self.names.len() as u32,
        };
        self.names.push(name);
    }

    #[inline]
    fn get(&self, name: &[u8]) -> Option<(u16, bool)> {
        let (head, tail) = name_words(name);
        let mask = self.slots.len() - 1;
        let mut i = table_hash(name.len(), head, tail) & mask;
        loop {
            let slot = self.slots.get(i)?;
            if slot.len == 0 {
                return None;
            }
            if slot.len as usize == name.len()
                && slot.head == head
                && slot.tail == tail
                && (name.len() <= 16
                    || self.names.get(slot.name as usize).map(Vec::as_slice) == Some(name))
            {
                return Some((slot.setting, slot.append));
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
                version.names.insert(s.name.as_bytes().to_vec(), i, false);
            }
        }
        if minor >= 4 {
            for (s, &i) in SPELLINGS.iter().zip(&version.resolved) {
                if i != NONE && version.infos[usize::from(i)].appendable {
                    let name = [b"extra-".as_slice(), s.name.as_bytes()].concat();
                    version.names.insert(name, i, true);
                }
            }
        }
        version
    }

    /// What `name` sets in this version: the setting, and whether it
    /// appends (`extra-NAME`); `None` for an unknown name.
    #[inline]
    pub fn lookup(&self, name: &[u8]) -> Option<(u16, bool)> {
        self.names.get(name)
    }

    /// [`resolve`] for this version.
    #[inline]
    pub fn resolve(&self, name: &[u8]) -> Option<u16> {
        let i = *self.resolved.get(spelling_index(name)?)?;
        (i != NONE).then_some(i)
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

/// Must stay identical to `name_hash` in `codegen/generate.rs`; the test
/// `every_spelling_is_found` checks the two agree on every name.
#[inline]
fn name_hash(name: &[u8], seed: u64) -> usize {
    let n = name.len();
    let head = load_le(&name[..n.min(8)]);
    let tail = load_le(&name[n.saturating_sub(8)..]);
    let m = n / 2;
    let mid = load_le(&name[m.saturating_sub(4)..(m + 4).min(n)]);
    let mut h = (head ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= tail.rotate_left(29) ^ mid.rotate_left(43) ^ (n as u64);
    h = h.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    (h >> (64 - 12)) as usize
}

#[inline]
fn load_le(bytes: &[u8]) -> u64 {
    if let Ok(word) = <[u8; 8]>::try_from(bytes) {
        return u64::from_le_bytes(word);
    }
    let mut word = [0u8; 8];
    word[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(word)
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
