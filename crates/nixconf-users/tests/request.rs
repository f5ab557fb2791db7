//! Build-user requests: the module's defaults, each platform's
//! conventions, and the requests refused before anything is planned.

mod common;

use common::linux;
use nixconf_users::{MaxJobs, Platform, PoolRequest};

#[test]
fn default_count_follows_the_module() {
    let b = || PoolRequest::builder(Platform::Linux);
    assert_eq!(b().build().unwrap().count(), 32);
    assert_eq!(b().max_jobs(MaxJobs::Jobs(8)).build().unwrap().count(), 32);
    assert_eq!(b().max_jobs(MaxJobs::Jobs(64)).build().unwrap().count(), 64);
    assert_eq!(b().auto_allocate_uids(true).build().unwrap().count(), 0);
    assert_eq!(
        b().auto_allocate_uids(true)
            .count(4)
            .build()
            .unwrap()
            .count(),
        4
    );
}

#[test]
fn platform_conventions() {
    let r = PoolRequest::builder(Platform::Macos)
        .count(2)
        .build()
        .unwrap();
    assert_eq!(
        (r.user_name(1), r.user_uid(1), r.gid()),
        ("_nixbld1".to_owned(), 351, 350)
    );
    let r = linux(2);
    assert_eq!(
        (r.user_name(2), r.user_uid(2), r.gid()),
        ("nixbld2".to_owned(), 30002, 30000)
    );
}

#[test]
fn bad_requests_are_errors_not_corrupt_files() {
    let b = || PoolRequest::builder(Platform::Linux);
    let msg = |r: Result<PoolRequest, nixconf_users::Error>| r.unwrap_err().to_string();
    assert_eq!(
        msg(b().name_prefix("nix:bld").build()),
        "`users.namePrefix`: user-name prefix `nix:bld` is not a valid account name (letters, digits, `_`, `.`, `-`, not starting with `-`)"
    );
    assert_eq!(
        msg(b().shell("/bin/sh\n").build()),
        "`users.shell`: shell `/bin/sh\\n` holds a line break"
    );
    assert_eq!(
        msg(b().base_uid(u32::MAX - 10).count(10).build()),
        "`ids.uids.nixbld`: 10 build users from base uid 4294967285 run past the largest uid 4294967294"
    );
    // Every passwd field: no line break, NUL or `:`, and the paths
    // absolute, as useradd requires.
    for (home, why) in [
        ("/var/em\npty", "holds a line break"),
        ("/var/em\rpty", "holds a line break"),
        ("/var/em\0pty", "holds a NUL byte"),
        ("/var:empty", "holds a `:`, the passwd field separator"),
        ("var/empty", "is not an absolute path"),
        ("", "is not an absolute path"),
    ] {
        let m = msg(b().home(home).build());
        assert!(m.starts_with("`users.home`: home directory `"), "{m}");
        assert!(m.ends_with(why), "{m}");
        let m = msg(b().shell(home.replace("var/em", "bin/")).build());
        assert!(m.starts_with("`users.shell`: shell `"), "{m}");
    }
    for (group, why) in [
        ("nix\nbld", "is not a valid account name"),
        ("nix\0bld", "is not a valid account name"),
        ("nix:bld", "is not a valid account name"),
        ("nix bld", "is not a valid account name"),
        ("-nixbld", "is not a valid account name"),
        ("12345", "all-digit names are refused by the shadow tools)"),
        ("..", "all-digit names are refused by the shadow tools)"),
        (
            "g234567890123456789012345678901234",
            "is longer than 32 characters, the most useradd and groupadd accept",
        ),
    ] {
        let m = msg(b().group(group).build());
        assert!(
            m.starts_with("`nix.settings.build-users-group`: group name `"),
            "{m}"
        );
        assert!(m.contains(why), "{m}");
    }
    // The prefix with the pool's largest number must fit 32 characters.
    let prefix = "p".repeat(30);
    assert!(b().name_prefix(&prefix).count(99).build().is_ok());
    assert_eq!(
        msg(b().name_prefix(&prefix).count(100).build()),
        format!("`users.namePrefix`: user-name prefix `{prefix}` is too long: with the pool's numbers (3 digits) the names would be longer than 32 characters, the most useradd accepts")
    );
}

#[test]
fn pools_are_bounded_with_the_reason() {
    let b = || PoolRequest::builder(Platform::Linux);
    assert_eq!(b().count(10_000).build().unwrap().count(), 10_000);
    let e = b().count(10_001).build().unwrap_err().to_string();
    assert!(
        e.starts_with(
            "`nix.nrBuildUsers`: 10001 build users is more than 10000: each is an account"
        ),
        "{e}"
    );
    // A count derived from max-jobs names max-jobs.
    let e = b()
        .max_jobs(nixconf_users::MaxJobs::Jobs(1_000_000))
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("`nix.settings.max-jobs`: 1000000 build users is more than 10000"),
        "{e}"
    );
}

#[test]
fn a_request_reads_from_json_through_the_builder() {
    let r: PoolRequest =
        serde_json::from_str(r#"{"platform": "macos", "count": 2, "maxJobs": 8}"#).unwrap();
    assert_eq!(
        r,
        PoolRequest::builder(Platform::Macos)
            .count(2)
            .max_jobs(MaxJobs::Jobs(8))
            .build()
            .unwrap()
    );
    let back: PoolRequest = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let bad = serde_json::from_str::<PoolRequest>(r#"{"platform": "linux", "namePrefix": "a:b"}"#);
    assert_eq!(
        bad.unwrap_err().to_string(),
        "`users.namePrefix`: user-name prefix `a:b` is not a valid account name (letters, digits, `_`, `.`, `-`, not starting with `-`)"
    );
    let r: PoolRequest =
        serde_json::from_str(r#"{"platform": "linux", "maxJobs": "auto"}"#).unwrap();
    assert_eq!(r.count(), 32);
}
