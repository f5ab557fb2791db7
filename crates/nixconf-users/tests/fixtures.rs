//! The fixture kinds of nixconf-users (`FIXTURE_FILTER=name` narrows a run,
//! `UPDATE_EXPECT=1` rewrites our own expected outputs).

#[path = "fixture_kinds/users.rs"]
mod users;

#[test]
fn users_fixtures() {
    nixconf_fixtures::test_kind(&users::KIND);
}
