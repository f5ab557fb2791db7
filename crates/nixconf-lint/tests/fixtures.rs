//! The `fixtures/lint` cases (`FIXTURE_FILTER=name` narrows the run,
//! `UPDATE_EXPECT=1` rewrites the expected findings).

#[path = "fixture_kinds/lint.rs"]
mod lint;

#[test]
fn lint_fixtures() {
    nixconf_fixtures::test_kind(&lint::KIND);
}
