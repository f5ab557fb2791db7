//! Why a setting has its value: every line that touched it, in the order
//! Nix applied them (the types; [`crate::trace`] makes them).

use nixconf_diagnostic::Span;

/// One line that touched the setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    /// Where: the file as messages print it, the line, the name's column.
    pub location: Span,
    /// The name as written (an alias, or `extra-NAME`).
    pub written_name: String,
    /// The value as written, its tokens joined by single spaces.
    pub value: String,
    /// `extra-NAME`: the value was appended.
    pub appends: bool,
    /// The name is an alias of the setting.
    pub alias: bool,
}

/// The history of one setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The setting's canonical name.
    pub setting: &'static str,
    /// Every line that touched it, in the order Nix applied them
    /// (includes followed; from Nix 2.16 the `experimental-features`
    /// lines of a file come before its other lines).
    pub steps: Vec<TraceStep>,
    /// The value as `nix show-config` prints it when the files set it.
    pub value: Option<String>,
    /// Nix's default, where the reference knows it.
    pub default: Option<&'static str>,
}
