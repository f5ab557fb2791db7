//! The kinds of fixture directory, each with its own `check`.

pub mod cases;
pub mod options;

use std::path::Path;

mod activation;
mod conf;
mod import;
mod install;
mod machines;
mod users;

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

pub static KINDS: &[Kind] = &[
    Kind {
        dir: "conformance/conf",
        vendored: true,
        check: conf::check_conformance,
    },
    Kind {
        dir: "conformance/cases",
        vendored: true,
        check: cases::check,
    },
    Kind {
        dir: "conf",
        vendored: false,
        check: conf::check,
    },
    Kind {
        dir: "machines",
        vendored: false,
        check: machines::check,
    },
    Kind {
        dir: "users",
        vendored: false,
        check: users::check,
    },
    Kind {
        dir: "options",
        vendored: false,
        check: options::check,
    },
    Kind {
        dir: "import",
        vendored: false,
        check: import::check,
    },
    Kind {
        dir: "activation",
        vendored: false,
        check: activation::check,
    },
    Kind {
        dir: "install",
        vendored: false,
        check: install::check,
    },
];
