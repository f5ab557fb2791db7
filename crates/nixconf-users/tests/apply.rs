//! Apply to a temporary root, read the files back, undo, and compare with
//! the start byte for byte.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use common::{
    managed, read, request, root_with, shrinking_root, standard_root, tree, GROUP, GSHADOW, PASSWD,
    SHADOW,
};
use nixconf_users::{
    apply, plan, plan_with_managed, undo, Error, LintKind, Platform, PoolRequest, Step,
};

#[test]
fn apply_reads_back_and_undoes_byte_for_byte() {
    let root = standard_root();
    let start = tree(root.path());
    let p = plan(root.path(), &request()).expect("plan");
    assert!(p.conflicts.is_empty(), "{p}");
    let journal = apply(root.path(), &p).expect("apply");

    assert_eq!(
        read(root.path(), "etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\n\
         daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
         # a comment the tools must keep\n\
         this line is malformed\n\
         nixbld2:x:30002:30000:Nix build user 2:/var/empty:/sbin/nologin\n\
         alice:x:1000:1000:Alice:/home/alice:/bin/bash\n\
         nixbld1:x:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n\
         nixbld3:x:30003:30000:Nix build user 3:/var/empty:/sbin/nologin\n"
    );
    assert_eq!(
        read(root.path(), "etc/group"),
        "root:x:0:\ndaemon:x:1:\nnixbld:x:30000:nixbld1,nixbld3,nixbld2\nalice:x:1000:\n"
    );
    assert_eq!(
        read(root.path(), "etc/gshadow"),
        "root:*::\ndaemon:*::\nnixbld:!::nixbld1,nixbld3,nixbld2\nalice:!::\n"
    );
    let shadow = read(root.path(), "etc/shadow");
    let added: Vec<String> = shadow
        .lines()
        .skip(4)
        .map(|l| {
            // The last-change day is today's.
            let f: Vec<&str> = l.split(':').collect();
            assert!(f[2].parse::<u64>().is_ok(), "{l}");
            format!("{}:{}:DAY:{}", f[0], f[1], f[3..].join(":"))
        })
        .collect();
    assert_eq!(added, vec!["nixbld1:!:DAY::::::", "nixbld3:!:DAY::::::"]);
    assert!(shadow.starts_with(SHADOW));

    let again = plan(root.path(), &request()).expect("plan after apply");
    assert!(
        again.is_up_to_date(),
        "not up to date after apply:\n{again}"
    );

    // The journal survives a round trip through JSON (the activation
    // crate stores it).
    let json = serde_json::to_string(&journal).expect("serialize journal");
    let journal = serde_json::from_str(&json).expect("deserialize journal");
    undo(root.path(), &journal).expect("undo");
    let end = tree(root.path());
    assert_eq!(
        start.keys().collect::<Vec<_>>(),
        end.keys().collect::<Vec<_>>(),
        "files left behind or missing after undo"
    );
    for (k, v) in &start {
        assert_eq!(Some(v), end.get(k), "{k} differs after undo");
    }
}

#[test]
fn without_shadow_files_the_password_goes_in_passwd_as_useradd_does() {
    let root = root_with(&[
        ("passwd", "root:x:0:0::/root:/bin/sh", 0o644),
        ("group", "root:x:0:\n", 0o644),
    ]);
    let req = PoolRequest::builder(Platform::Linux)
        .count(1)
        .build()
        .expect("request");
    let p = plan(root.path(), &req).expect("plan");
    apply(root.path(), &p).expect("apply");
    assert_eq!(
        read(root.path(), "etc/passwd"),
        "root:x:0:0::/root:/bin/sh\nnixbld1:!:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n"
    );
    assert_eq!(
        read(root.path(), "etc/group"),
        "root:x:0:\nnixbld:x:30000:nixbld1\n"
    );
    assert!(!root.path().join("etc/shadow").exists());
}

#[test]
fn accounts_added_after_apply_survive_undo_and_the_rest_is_as_before() {
    let root = standard_root();
    let start = tree(root.path());
    let p = plan(root.path(), &request()).expect("plan");
    let journal = apply(root.path(), &p).expect("apply");
    // `useradd dave` after the apply, in every file it touches.
    let add = |rel: &str, line: &str| {
        let path = root.path().join(rel);
        let mut text = read(root.path(), rel);
        text.push_str(line);
        fs::write(&path, text).expect("add dave");
    };
    add("etc/passwd", "dave:x:1001:1001::/home/dave:/bin/sh\n");
    add("etc/shadow", "dave:$6$salt$hash:20000:0:99999:7:::\n");
    add("etc/group", "dave:x:1001:\n");
    add("etc/gshadow", "dave:!::\n");
    undo(root.path(), &journal).expect("undo with dave added since");
    let end = tree(root.path());
    for (rel, dave) in [
        ("etc/passwd", "dave:x:1001:1001::/home/dave:/bin/sh\n"),
        ("etc/shadow", "dave:$6$salt$hash:20000:0:99999:7:::\n"),
        ("etc/group", "dave:x:1001:\n"),
        ("etc/gshadow", "dave:!::\n"),
    ] {
        let mut want = start[rel].0.clone();
        want.extend_from_slice(dave.as_bytes());
        assert_eq!(
            String::from_utf8_lossy(&end[rel].0),
            String::from_utf8_lossy(&want),
            "{rel}"
        );
        assert_eq!(end[rel].1, start[rel].1, "{rel} mode");
    }
    // Nothing else: the backups the apply created are gone.
    assert_eq!(
        start.keys().collect::<Vec<_>>(),
        end.keys().collect::<Vec<_>>()
    );
}

#[test]
fn undo_refuses_when_a_field_nixconf_set_was_changed_again() {
    let root = standard_root();
    let p = plan(root.path(), &request()).expect("plan");
    let journal = apply(root.path(), &p).expect("apply");
    // nixbld2's shell was converged to /sbin/nologin; someone set another.
    let passwd = root.path().join("etc/passwd");
    let text = read(root.path(), "etc/passwd").replace(
        "nixbld2:x:30002:30000:Nix build user 2:/var/empty:/sbin/nologin",
        "nixbld2:x:30002:30000:Nix build user 2:/var/empty:/bin/zsh",
    );
    fs::write(&passwd, &text).expect("edit");
    let before_undo = tree(root.path());
    match undo(root.path(), &journal) {
        Err(e @ Error::ChangedSinceApply { .. }) => assert_eq!(
            e.to_string(),
            "cannot undo the build users: etc/passwd: nixbld2: shell is `/bin/zsh`, neither what nixconf set (`/sbin/nologin`) nor what it was (`/bin/bash`); nothing was changed (put those entries back as nixconf left them, or remove them, and revert again)"
        ),
        other => panic!("expected ChangedSinceApply, got {other:?}"),
    }
    assert_eq!(
        tree(root.path()),
        before_undo,
        "a refused undo changed files"
    );
}

#[test]
fn apply_refuses_a_stale_plan() {
    let root = standard_root();
    let p = plan(root.path(), &request()).expect("plan");
    fs::write(
        root.path().join("etc/group"),
        format!("{GROUP}extra:x:5:\n"),
    )
    .expect("edit");
    let before = tree(root.path());
    match apply(root.path(), &p) {
        Err(Error::StalePlan { path }) => assert_eq!(path, "etc/group"),
        other => panic!("expected StalePlan, got {other:?}"),
    }
    assert_eq!(tree(root.path()), before);
}

#[test]
fn apply_refuses_a_plan_with_conflicts() {
    let root = root_with(&[
        (
            "passwd",
            "root:x:0:0::/root:/bin/sh\nmallory:x:30001:100::/:/bin/sh\n",
            0o644,
        ),
        ("group", "root:x:0:\n", 0o644),
    ]);
    let p = plan(root.path(), &request()).expect("plan");
    assert!(matches!(
        apply(root.path(), &p),
        Err(Error::Conflicts { count: 1 })
    ));
}

#[test]
fn a_live_lock_blocks_apply_and_undo_and_a_stale_one_does_not() {
    let root = standard_root();
    let p = plan(root.path(), &request()).expect("plan");
    let lock = root.path().join("etc/group.lock");
    let me = std::process::id();
    fs::write(&lock, format!("{me}\0")).expect("lock");
    match apply(root.path(), &p) {
        Err(e @ Error::Locked { .. }) => assert_eq!(
            e.to_string(),
            format!("etc/group is locked (etc/group.lock exists, held by running process {me}): another program is editing the accounts; try again when it has finished")
        ),
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(!root.path().join("etc/passwd.lock").exists(), "lock leaked");
    assert_eq!(read(root.path(), "etc/passwd"), PASSWD);

    // What useradd leaves when killed: `PID\0` of a process that is gone
    // (a pid above Linux's largest pid_max names none); and the same
    // written by hand, with or without a newline.
    fs::write(&lock, "99999999\0").expect("stale lock");
    fs::write(root.path().join("etc/passwd.lock"), "99999999").expect("stale lock");
    fs::write(root.path().join("etc/shadow.lock"), "99999999\n").expect("stale lock");
    let journal = apply(root.path(), &p).expect("apply");
    for f in ["passwd", "shadow", "group", "gshadow"] {
        assert!(
            !root.path().join(format!("etc/{f}.lock")).exists(),
            "{f} lock not released"
        );
    }

    // Undo (revert) too.
    fs::write(&lock, format!("{me}")).expect("lock");
    assert!(matches!(
        undo(root.path(), &journal),
        Err(Error::Locked { holder: Some(pid), .. }) if pid == me
    ));
    fs::write(&lock, "99999999\0").expect("stale lock");
    undo(root.path(), &journal).expect("undo past a stale lock");
    assert!(!lock.exists());
    assert_eq!(read(root.path(), "etc/passwd"), PASSWD);
}

#[test]
fn an_up_to_date_plan_applies_as_an_empty_journal() {
    let root = standard_root();
    let p = plan(root.path(), &request()).expect("plan");
    apply(root.path(), &p).expect("apply");
    let again = plan(root.path(), &request()).expect("plan");
    let journal = apply(root.path(), &again).expect("apply");
    assert!(journal.is_empty());
    assert!(journal.steps.is_empty());
}

/// A primary-group change is an edit of one field, undone as such.
#[test]
fn a_primary_group_change_is_undone_field_by_field() {
    let root = root_with(&[
        (
            "passwd",
            "root:x:0:0::/root:/bin/sh\nnixbld1:x:30001:100:Nix build user 1:/var/empty:/sbin/nologin\n",
            0o644,
        ),
        ("group", "root:x:0:\nusers:x:100:\nnixbld:x:30000:nixbld1\n", 0o644),
    ]);
    let start = tree(root.path());
    let req = PoolRequest::builder(Platform::Linux)
        .count(1)
        .build()
        .expect("request");
    let p = plan(root.path(), &req).expect("plan");
    let journal = apply(root.path(), &p).expect("apply");
    assert_eq!(
        read(root.path(), "etc/passwd"),
        "root:x:0:0::/root:/bin/sh\nnixbld1:x:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n"
    );
    undo(root.path(), &journal).expect("undo");
    assert_eq!(tree(root.path()), start);
}

#[test]
fn a_journal_of_non_utf8_files_round_trips_and_undoes() {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::create_dir_all(dir.path().join("etc")).expect("etc");
    let passwd: &[u8] =
        b"root:x:0:0::/root:/bin/sh\nlatin:x:1000:1000:Jos\xe9:/home/latin:/bin/sh\n";
    fs::write(dir.path().join("etc/passwd"), passwd).expect("passwd");
    fs::write(dir.path().join("etc/group"), "root:x:0:\n").expect("group");
    let start = tree(dir.path());
    let req = PoolRequest::builder(Platform::Linux)
        .count(1)
        .build()
        .expect("request");
    let p = plan(dir.path(), &req).expect("plan");
    assert_eq!(p.malformed.len(), 1);
    let journal = apply(dir.path(), &p).expect("apply");
    let mut want = passwd.to_vec();
    want.extend_from_slice(b"nixbld1:!:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n");
    assert_eq!(fs::read(dir.path().join("etc/passwd")).expect("read"), want);
    let json = serde_json::to_string(&journal).expect("serialize");
    let journal = serde_json::from_str(&json).expect("deserialize");
    undo(dir.path(), &journal).expect("undo");
    assert_eq!(tree(dir.path()), start);
}

#[test]
fn removes_users_as_userdel_does_and_undo_restores_them() {
    let root = shrinking_root();
    let start = tree(root.path());
    let request = PoolRequest::builder(Platform::Linux)
        .count(2)
        .build()
        .expect("request");
    let ours = managed(&["nixbld1", "nixbld2", "nixbld3", "nixbld4"]);
    let p = plan_with_managed(root.path(), &request, &ours).expect("plan");
    assert_eq!(
        p.steps,
        vec![
            Step::RemoveUser {
                name: "nixbld3".into()
            },
            Step::RemoveUser {
                name: "nixbld4".into()
            }
        ]
    );
    let journal = apply(root.path(), &p).expect("apply");
    assert_eq!(
        read(root.path(), "etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\n\
         nixbld1:x:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n\
         nixbld2:x:30002:30000:Nix build user 2:/var/empty:/sbin/nologin\n\
         nixbld9:x:30009:30000:Nix build user 9:/var/empty:/sbin/nologin\n"
    );
    assert_eq!(
        read(root.path(), "etc/shadow"),
        "root:*:19000:0:99999:7:::\nnixbld1:!:19000::::::\nnixbld2:!:19000::::::\n\
         nixbld9:!:19000::::::\n"
    );
    assert_eq!(
        read(root.path(), "etc/group"),
        "root:x:0:\nkvm:x:104:\nnixbld:x:30000:nixbld1,nixbld2,nixbld9\n"
    );
    assert_eq!(
        read(root.path(), "etc/gshadow"),
        "root:*::\nkvm:!::\nnixbld:!::nixbld1,nixbld2,nixbld9\n"
    );
    assert_eq!(read(root.path(), "etc/subuid"), "alice:165536:65536\n");
    assert_eq!(read(root.path(), "etc/subgid"), "alice:165536:65536\n");

    let again = plan_with_managed(root.path(), &request, &ours).expect("plan after apply");
    assert!(again.is_up_to_date(), "{again}");
    // nixbld9 was never ours: it stays, with a warning.
    assert_eq!(again.lints.len(), 1, "{again}");
    assert_eq!(again.lints[0].kind, LintKind::SurplusUser);

    let json = serde_json::to_string(&journal).expect("serialize journal");
    undo(root.path(), &serde_json::from_str(&json).expect("journal")).expect("undo");
    assert_eq!(tree(root.path()), start, "undo did not restore the start");
}

#[test]
fn removal_refuses_a_user_that_disappeared_since_the_plan() {
    let root = shrinking_root();
    let request = PoolRequest::builder(Platform::Linux)
        .count(3)
        .build()
        .expect("request");
    let mut p = plan_with_managed(root.path(), &request, &managed(&["nixbld4"])).expect("plan");
    // A plan made without input fingerprints, carried out after someone
    // removed the user by hand: the editor says so and changes nothing.
    p.inputs.clear();
    p.steps.push(Step::RemoveUser {
        name: "ghost".into(),
    });
    let start = tree(root.path());
    let err = apply(root.path(), &p).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot apply the plan to the files: user ghost does not exist"
    );
    assert_eq!(tree(root.path()), start);
}

/// An activation killed after an undo but before it recorded that undo
/// runs the same undo again: it must find its work done, not refuse.
#[test]
fn an_undo_run_again_after_it_finished_changes_nothing() {
    let root = standard_root();
    let start = tree(root.path());
    let p = plan(root.path(), &request()).expect("plan");
    let journal = apply(root.path(), &p).expect("apply");
    undo(root.path(), &journal).expect("undo");
    undo(root.path(), &journal).expect("undo again");
    assert_eq!(tree(root.path()), start);

    // Half undone (passwd back, group not yet): the rest is undone.
    let journal = apply(root.path(), &p).expect("apply");
    fs::write(root.path().join("etc/passwd"), PASSWD).expect("restore passwd by hand");
    undo(root.path(), &journal).expect("undo of the rest");
    assert_eq!(tree(root.path()), start);
}

/// The journal (stored in a world-readable receipt) holds nixconf's own
/// entries only: no password hash, no other account.
#[test]
fn the_journal_holds_no_hash_and_no_other_account() {
    let hash = "$6$rounds=5000$saltsalt$3hq0VhRWlJuv0PlsfXmQkYrXlnIb0bp7dN8.Ht2sHp6V6L4C1rXQ8tEo9Wb9ABd9cT3o0vQPZzJ4b6b5JYB0n/";
    let root = root_with(&[
        (
            "passwd",
            &format!("{PASSWD}carol:x:1002:1002:Carol:/home/carol:/bin/bash\n"),
            0o644,
        ),
        (
            "shadow",
            &format!("{SHADOW}carol:{hash}:19000:0:99999:7:::\n"),
            0o640,
        ),
        ("group", &format!("{GROUP}carol:x:1002:\n"), 0o644),
        ("gshadow", &format!("{GSHADOW}carol:{hash}::\n"), 0o640),
    ]);
    // Three users, one of them (nixbld2) converged, plus the group's members.
    let p = plan(root.path(), &request()).expect("plan");
    let preview = nixconf_users::preview(root.path(), &p).expect("preview");
    let journal = apply(root.path(), &p).expect("apply");
    assert_eq!(preview, journal, "the preview is the journal");
    let json = serde_json::to_string(&journal).expect("serialize");
    for secret in ["$6$", "$y$", "hash", "carol", "alice", "daemon", "root"] {
        assert!(!json.contains(secret), "journal holds {secret}: {json}");
    }
    // Build users' own shadow lines: recorded as created, without their
    // password field.
    assert!(
        json.contains(r#""file":"etc/shadow","name":"nixbld1","line":"nixbld1::"#),
        "{json}"
    );
    // An apply of the same pool again changes nothing and records nothing.
    let again = plan(root.path(), &request()).expect("plan");
    assert!(apply(root.path(), &again).expect("apply").is_empty());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// The shared configuration (failures kept in
    /// `tests/apply.proptest-regressions`), with fewer cases: each applies
    /// to a root on disk.
    fn prop_config() -> ProptestConfig {
        ProptestConfig {
            cases: 48,
            ..common::prop_config()
        }
    }

    /// Append `name`'s lines (as `useradd` would) to every account file.
    fn add_account(root: &Path, name: &str, uid: usize, added: &mut BTreeMap<String, String>) {
        for (rel, line) in [
            (
                "etc/passwd",
                format!("{name}:x:{uid}:{uid}::/home/{name}:/bin/sh\n"),
            ),
            (
                "etc/shadow",
                format!("{name}:$6$s$h{uid}:20000:0:99999:7:::\n"),
            ),
            ("etc/group", format!("{name}:x:{uid}:\n")),
            ("etc/gshadow", format!("{name}:!::\n")),
        ] {
            let path = root.join(rel);
            let mut text = read(root, rel);
            text.push_str(&line);
            fs::write(&path, text).expect("add");
            added.entry(rel.to_owned()).or_default().push_str(&line);
        }
    }

    proptest! {
        #![proptest_config(prop_config())]
        /// Pools grown and shrunk over several applies, with accounts
        /// added between them: undoing the journals latest first leaves
        /// the start plus those accounts, byte for byte.
        #[test]
        fn a_chain_of_applies_with_accounts_added_between_undoes_to_the_start(
            counts in prop::collection::vec(0u32..7, 1..4),
            between in prop::collection::vec(prop::option::of("[a-m]{2,6}"), 3),
        ) {
            let root = standard_root();
            let start = tree(root.path());
            let mut managed: BTreeSet<String> = BTreeSet::new();
            let mut journals = Vec::new();
            let mut added: BTreeMap<String, String> = BTreeMap::new();
            let mut names: BTreeSet<String> = BTreeSet::new();
            for (k, count) in counts.iter().enumerate() {
                let req = PoolRequest::builder(Platform::Linux).count(*count).build().expect("request");
                let p = plan_with_managed(root.path(), &req, &managed).expect("plan");
                prop_assert!(!p.has_conflicts(), "{}", p);
                let j = apply(root.path(), &p).expect("apply");
                for s in &j.steps {
                    match s {
                        Step::CreateUser { name, .. } => { managed.insert(name.clone()); }
                        Step::RemoveUser { name } => { managed.remove(name); }
                        _ => {}
                    }
                }
                prop_assert!(plan_with_managed(root.path(), &req, &managed).expect("plan").is_up_to_date());
                journals.push(j);
                if let Some(Some(name)) = between.get(k) {
                    if names.insert(name.clone()) {
                        add_account(root.path(), name, 2000 + k, &mut added);
                    }
                }
            }
            for j in journals.iter().rev() {
                undo(root.path(), j).expect("undo");
            }
            let end = tree(root.path());
            prop_assert_eq!(start.keys().collect::<Vec<_>>(), end.keys().collect::<Vec<_>>());
            for (rel, (bytes, mode)) in &start {
                let mut want = bytes.clone();
                want.extend_from_slice(added.get(rel.as_str()).map_or(&b""[..], |s| s.as_bytes()));
                prop_assert_eq!(String::from_utf8_lossy(&end[rel].0), String::from_utf8_lossy(&want), "{}", rel);
                prop_assert_eq!(end[rel].1, *mode, "{} mode", rel);
            }
        }
    }

    proptest! {
        #![proptest_config(prop_config())]
        /// Whatever pool is applied and whatever accounts are added
        /// afterwards, the journal holds no hash and no other account,
        /// and undo leaves exactly the start plus the added accounts.
        #[test]
        fn undo_keeps_accounts_added_later_and_the_journal_keeps_no_secret(
            count in 0u32..6,
            later in prop::collection::btree_set("[a-m]{2,7}", 0..5),
        ) {
            let root = standard_root();
            let start = tree(root.path());
            let req = PoolRequest::builder(Platform::Linux).count(count).build().expect("request");
            let p = plan(root.path(), &req).expect("plan");
            let journal = apply(root.path(), &p).expect("apply");
            let json = serde_json::to_string(&journal).expect("json");
            for secret in ["$y$", "hash", "alice", "daemon", "root"] {
                prop_assert!(!json.contains(secret), "{}", json);
            }
            let mut added: BTreeMap<&str, String> = BTreeMap::new();
            for (i, name) in later.iter().enumerate() {
                let uid = 2000 + i;
                for (rel, line) in [
                    ("etc/passwd", format!("{name}:x:{uid}:{uid}::/home/{name}:/bin/sh\n")),
                    ("etc/shadow", format!("{name}:$6$s$h{i}:20000:0:99999:7:::\n")),
                    ("etc/group", format!("{name}:x:{uid}:\n")),
                    ("etc/gshadow", format!("{name}:!::\n")),
                ] {
                    added.entry(rel).or_default().push_str(&line);
                }
            }
            for (rel, lines) in &added {
                let path = root.path().join(rel);
                let mut text = read(root.path(), rel);
                text.push_str(lines);
                fs::write(&path, text).expect("add");
            }
            undo(root.path(), &journal).expect("undo");
            let end = tree(root.path());
            prop_assert_eq!(start.keys().collect::<Vec<_>>(), end.keys().collect::<Vec<_>>());
            for (rel, (bytes, _)) in &start {
                let mut want = bytes.clone();
                want.extend_from_slice(added.get(rel.as_str()).map_or(&b""[..], |s| s.as_bytes()));
                prop_assert_eq!(String::from_utf8_lossy(&end[rel].0), String::from_utf8_lossy(&want), "{}", rel);
            }
        }
    }
}
