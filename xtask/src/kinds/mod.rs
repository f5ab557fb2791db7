//! The kinds of fixture directory, each with its own `check`.

use std::path::Path;

mod activation;

/// A kind of fixture: where its cases live and how one is checked.
pub struct Kind {
    /// Directory under `fixtures/` whose subdirectories are the cases.
    pub dir: &'static str,
    /// Vendored reference corpora are never rewritten by `UPDATE_EXPECT=1`.
    pub vendored: bool,
    /// Check one case directory; with `update`, rewrite its expected output
    /// instead of comparing.
    pub check: fn(&Path, bool) -> Result<(), String>,
}

pub static KINDS: &[Kind] = &[Kind {
    dir: "activation",
    vendored: false,
    check: activation::check,
}];
