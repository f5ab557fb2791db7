//! The fixture kinds of nixconf-machines (`FIXTURE_FILTER=name` narrows a run,
//! `UPDATE_EXPECT=1` rewrites our own expected outputs).

#[path = "fixture_kinds/machines.rs"]
mod machines;

#[test]
fn machines_fixtures() {
    nixconf_fixtures::test_kind(&machines::KIND);
}
