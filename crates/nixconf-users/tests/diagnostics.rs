//! Conflicts, lints and malformed lines as `nixconf_diagnostic`
//! diagnostics: at the account file's line, which is never quoted (it may
//! hold a password hash), and with the same one-line form the plan's JSON
//! and text have always had.

use nixconf_diagnostic::Severity;
use nixconf_users::{plan_accounts, Accounts, Platform, PoolRequest};

fn linux(count: u32) -> PoolRequest {
    PoolRequest::builder(Platform::Linux)
        .count(count)
        .build()
        .expect("request")
}

#[test]
fn a_malformed_line_is_a_warning_at_its_line_that_does_not_quote_it() {
    let passwd = "root:x:0:0:root:/root:/bin/sh\nalice:$6$secrethash:1000\n";
    let a = Accounts::parse(Some(passwd.as_bytes()), None, None, None);
    let m = &a.malformed()[0];
    let d = m.to_diagnostic();
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(
        m.to_string(),
        "etc/passwd:2: malformed line (kept unchanged): expected 7 `:`-separated fields, found 3"
    );
    assert_eq!(d.to_string(), m.to_string());
    assert_eq!(
        d.render(),
        "warning: malformed line (kept unchanged): expected 7 `:`-separated fields, found 3\n \
         --> etc/passwd:2\n"
    );
    assert!(!d.render().contains("secrethash"));
}

#[test]
fn conflicts_are_errors_and_lints_warnings_with_their_fix_as_help() {
    let a = Accounts::parse(
        Some(b"root:x:0:0::/:/bin/sh\nalice:x:30002:100::/:/bin/sh\n"),
        Some(b"root:x:0:\nnixbld:x:30000:bob\n"),
        None,
        None,
    );
    let p = plan_accounts(&a, &linux(3));
    let ds = p.diagnostics();
    assert_eq!(
        ds.len(),
        p.conflicts.len() + p.lints.len() + p.malformed.len()
    );
    let conflict = &ds[0];
    assert_eq!(conflict.severity, Severity::Error);
    assert_eq!(
        conflict.to_string(),
        "etc/passwd:2: uid 30002 for build user nixbld2 is held by account alice"
    );
    assert_eq!(
        conflict.render(),
        "error: uid 30002 for build user nixbld2 is held by account alice\n \
         --> etc/passwd:2\n  \
         = help: set ids.uids.nixbld = 30002: uids 30003-30005 are free \
         (`nixconf users free-range --count 3` finds such a base)\n"
    );
    let lint = &ds[p.conflicts.len()];
    assert_eq!(lint.severity, Severity::Warning);
    assert_eq!(lint.help.as_deref(), Some("remove bob from group nixbld"));
    assert_eq!(
        lint.span.as_ref().map(ToString::to_string).as_deref(),
        Some("etc/group:2")
    );
}

#[test]
fn locations_keep_their_json_form() {
    let a = Accounts::parse(
        Some(b"alice:x:30001:100::/:/bin/sh\nbroken\n"),
        None,
        None,
        None,
    );
    let p = plan_accounts(&a, &linux(1));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json["conflicts"][0]["location"],
        serde_json::json!({"file": "etc/passwd", "line": 1})
    );
    assert_eq!(
        json["malformed"][0],
        serde_json::json!({
            "location": {"file": "etc/passwd", "line": 2},
            "reason": "expected 7 `:`-separated fields, found 1"
        })
    );
    let back: nixconf_users::Plan = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
}
