//! The fixture kinds of nixconf-format (`FIXTURE_FILTER=name` narrows a run,
//! `UPDATE_EXPECT=1` rewrites our own expected outputs).

#[path = "fixture_kinds/conf.rs"]
mod conf;

#[test]
fn conf_conformance_fixtures() {
    nixconf_fixtures::test_kind(&conf::CONFORMANCE_KIND);
}

#[test]
fn conf_fixtures() {
    nixconf_fixtures::test_kind(&conf::KIND);
}
