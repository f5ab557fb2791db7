//! The kinds of fixture directory, each with its own `check`.

pub mod cases;
pub mod options;

mod activation;
mod conf;
mod import;
mod install;
#[path = "../../../crates/nixconf-lint/tests/fixture_kinds/lint.rs"]
mod lint;
mod machines;
mod users;

pub use nixconf_fixtures::Kind;

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
    lint::KIND,
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
