//! The fixture kinds of nixconf-cli (`FIXTURE_FILTER=name` narrows a run,
//! `UPDATE_EXPECT=1` rewrites our own expected outputs).

#[path = "fixture_kinds/import.rs"]
mod import;

#[path = "../../nixconf-activation/tests/fixture_kinds/activation.rs"]
mod activation;

#[path = "../../nixconf-activation/tests/fixture_kinds/install.rs"]
mod install;

#[test]
fn import_fixtures() {
    nixconf_fixtures::test_kind(&import::KIND);
}
