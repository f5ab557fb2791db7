//! The kinds of fixture directory, each with its own `check`.

pub mod cases;
pub mod options;

use std::path::Path;

mod activation;
mod conf;
mod import;
mod install;
mod lint;
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
    /// A checked-in list (path under `fixtures/`) of cases known not to
    /// pass yet: they are reported, not failed, and a listed case that
    /// passes fails the run (the list only shrinks).
    pub pending: Option<&'static str>,
}

pub static KINDS: &[Kind] = &[
    Kind {
        dir: "conformance/conf",
        vendored: true,
        check: conf::check_conformance,
        pending: None,
    },
    Kind {
        dir: "conformance/cases",
        vendored: true,
        check: cases::check,
        pending: None,
    },
    Kind {
        dir: "conformance/cases-2026",
        vendored: true,
        check: cases::check_2026,
        pending: Some(cases::PENDING_2026),
    },
    Kind {
        dir: "conf",
        vendored: false,
        check: conf::check,
        pending: None,
    },
    Kind {
        dir: "machines",
        vendored: false,
        check: machines::check,
        pending: None,
    },
    Kind {
        dir: "users",
        vendored: false,
        check: users::check,
        pending: None,
    },
    Kind {
        dir: "options",
        vendored: false,
        check: options::check,
        pending: None,
    },
    Kind {
        dir: "lint",
        vendored: false,
        check: lint::check,
        pending: None,
    },
    Kind {
        dir: "import",
        vendored: false,
        check: import::check,
        pending: None,
    },
    Kind {
        dir: "activation",
        vendored: false,
        check: activation::check,
        pending: None,
    },
    Kind {
        dir: "install",
        vendored: false,
        check: install::check,
        pending: None,
    },
];
