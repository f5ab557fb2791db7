//! The kinds of fixture directory. Each kind's checker lives in its
//! crate's `tests/fixture_kinds/` (run there by `cargo test`) and is
//! included here, so `cargo xtask test-fixtures` runs them all at once.

pub use nixconf_fixtures::Kind;

#[path = "../../../crates/nixconf-activation/tests/fixture_kinds/activation.rs"]
mod activation;
#[path = "../../../crates/nixconf-options/tests/fixture_kinds/cases.rs"]
mod cases;
#[path = "../../../crates/nixconf-format/tests/fixture_kinds/conf.rs"]
mod conf;
#[path = "../../../crates/nixconf-cli/tests/fixture_kinds/import.rs"]
mod import;
#[path = "../../../crates/nixconf-activation/tests/fixture_kinds/install.rs"]
mod install;
#[path = "../../../crates/nixconf-lint/tests/fixture_kinds/lint.rs"]
mod lint;
#[path = "../../../crates/nixconf-machines/tests/fixture_kinds/machines.rs"]
mod machines;
#[path = "../../../crates/nixconf-options/tests/fixture_kinds/options.rs"]
mod options;
#[path = "../../../crates/nixconf-users/tests/fixture_kinds/users.rs"]
mod users;

pub static KINDS: &[Kind] = &[
    conf::CONFORMANCE_KIND,
    cases::KIND,
    cases::KIND_2026,
    conf::KIND,
    machines::KIND,
    users::KIND,
    options::KIND,
    lint::KIND,
    import::KIND,
    activation::KIND,
    install::KIND,
];
