//! The fixture kinds of nixconf-activation (`FIXTURE_FILTER=name` narrows a run,
//! `UPDATE_EXPECT=1` rewrites our own expected outputs).

#[path = "fixture_kinds/activation.rs"]
mod activation;

#[path = "fixture_kinds/install.rs"]
mod install;

#[test]
fn activation_fixtures() {
    nixconf_fixtures::test_kind(&activation::KIND);
}

#[test]
fn install_fixtures() {
    nixconf_fixtures::test_kind(&install::KIND);
}
