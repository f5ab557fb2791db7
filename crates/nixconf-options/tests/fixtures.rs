//! The fixture kinds of nixconf-options (`FIXTURE_FILTER=name` narrows a run,
//! `UPDATE_EXPECT=1` rewrites our own expected outputs).

#[path = "fixture_kinds/cases.rs"]
mod cases;

#[path = "fixture_kinds/options.rs"]
mod options;

#[test]
fn cases_fixtures() {
    nixconf_fixtures::test_kind(&cases::KIND);
}

#[test]
fn cases_2026_fixtures() {
    nixconf_fixtures::test_kind(&cases::KIND_2026);
}

#[test]
fn options_fixtures() {
    nixconf_fixtures::test_kind(&options::KIND);
}
