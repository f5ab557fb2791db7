//! The types the generated settings tables (`schema_generated.rs`) are
//! written in: a leaf, so that the tables depend on nothing else.

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
