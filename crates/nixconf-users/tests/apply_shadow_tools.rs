//! The files an apply writes are what the shadow tools write and accept:
//! `useradd --prefix`'s lines, `pwck` and `grpck` clean, a killed run's
//! missing shadow line repaired, and a pool of thousands in one batch.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::{assert_shadow_tools_clean, read, root_with, standard_root, tool, tree};
use nixconf_users::{apply, plan, plan_with_managed, undo, Platform, PoolRequest, Step};

/// A run killed after writing passwd but not shadow left `nixbld1`
/// without its shadow line and out of gshadow's member list: the plan is
/// not up to date, and its apply makes pwck and grpck clean.
#[test]
fn a_user_without_its_shadow_line_is_pending_and_apply_repairs_it() {
    let root = root_with(&[
        (
            "passwd",
            "root:x:0:0:root:/root:/bin/bash\nnixbld1:x:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n",
            0o644,
        ),
        ("shadow", "root:*:19000:0:99999:7:::\n", 0o640),
        ("group", "root:x:0:\nnixbld:x:30000:nixbld1\n", 0o644),
        ("gshadow", "root:*::\nnixbld:!::\n", 0o640),
    ]);
    let start = tree(root.path());
    let req = PoolRequest::builder(Platform::Linux)
        .count(1)
        .build()
        .expect("request");
    let p = plan(root.path(), &req).expect("plan");
    assert_eq!(
        p.steps,
        vec![
            Step::RepairShadow {
                name: "nixbld1".into()
            },
            Step::RepairGshadow {
                name: "nixbld".into(),
                members: vec!["nixbld1".into()]
            }
        ],
        "{p}"
    );
    assert!(!p.is_up_to_date());
    assert_eq!(
        p.to_string(),
        "group nixbld (gid 30000): up to date\n\
         user nixbld1 (uid 30001): up to date\n\
         repair: add the etc/shadow entry user nixbld1 lacks\n\
         repair: list nixbld1 in group nixbld's etc/gshadow entry\n\
         2 step(s) to apply\n"
    );
    let journal = apply(root.path(), &p).expect("apply");
    assert!(plan(root.path(), &req).expect("plan").is_up_to_date());
    assert!(read(root.path(), "etc/gshadow").ends_with("nixbld:!::nixbld1\n"));
    undo(root.path(), &journal).expect("undo");
    assert_eq!(tree(root.path()), start);
    let journal = apply(root.path(), &p).expect("apply");
    assert_shadow_tools_clean(root.path());
    drop(journal);

    // The group's gshadow entry missing altogether.
    let root = root_with(&[
        ("passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644),
        ("shadow", "root:*:19000:0:99999:7:::\n", 0o640),
        ("group", "root:x:0:\nnixbld:x:30000:\n", 0o644),
        ("gshadow", "root:*::\n", 0o640),
    ]);
    let p = plan(root.path(), &req).expect("plan");
    apply(root.path(), &p).expect("apply");
    assert_eq!(
        read(root.path(), "etc/gshadow"),
        "root:*::\nnixbld:!::nixbld1\n"
    );
    assert!(plan(root.path(), &req).expect("plan").is_up_to_date());
    assert_shadow_tools_clean(root.path());
}

/// What the batch writes is what `groupadd` and `useradd --prefix` write,
/// line for line (and for one user, their `-` backups too).
#[test]
fn the_files_match_what_useradd_writes() {
    let (Some(groupadd), Some(useradd)) = (tool("groupadd"), tool("useradd")) else {
        eprintln!("*** groupadd/useradd not installed (the `passwd` package): not compared ***");
        return;
    };
    for count in [1u32, 3] {
        let ours = standard_root();
        let theirs = standard_root();
        // nixbld2 of the standard root has the wrong shell: leave it out.
        for r in [&ours, &theirs] {
            let p = r.path().join("etc/passwd");
            let text = read(r.path(), "etc/passwd").replace(
                "nixbld2:x:30002:30000:Nix build user 2:/var/empty:/bin/bash\n",
                "",
            );
            fs::write(&p, text).expect("write");
            let s = r.path().join("etc/shadow");
            fs::write(
                &s,
                read(r.path(), "etc/shadow").replace("nixbld2:!:19000::::::\n", ""),
            )
            .expect("write");
        }
        let run = |cmd: &Path, args: Vec<String>| {
            let out = std::process::Command::new(cmd)
                .arg("--prefix")
                .arg(theirs.path())
                .args(&args)
                .output()
                .expect("run");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let req = PoolRequest::builder(Platform::Linux)
            .count(count)
            .build()
            .expect("request");
        let p = plan(ours.path(), &req).expect("plan");
        apply(ours.path(), &p).expect("apply");
        // The group exists (gid 30000) in the standard root.
        let _ = &groupadd;
        for i in 1..=count {
            run(
                &useradd,
                [
                    "--uid",
                    &(30000 + i).to_string(),
                    "--gid",
                    "30000",
                    "--groups",
                    "30000",
                    "--no-user-group",
                    "--system",
                    "--no-create-home",
                    "--home-dir",
                    "/var/empty",
                    "--shell",
                    "/sbin/nologin",
                    "--comment",
                    &format!("Nix build user {i}"),
                    "--password",
                    "!",
                    &format!("nixbld{i}"),
                ]
                .map(str::to_owned)
                .to_vec(),
            );
        }
        let mut files = vec!["etc/passwd", "etc/shadow", "etc/group", "etc/gshadow"];
        if count == 1 {
            files.extend(["etc/passwd-", "etc/shadow-", "etc/group-", "etc/gshadow-"]);
        }
        for f in files {
            assert_eq!(
                read(ours.path(), f),
                read(theirs.path(), f),
                "{f} ({count} users)"
            );
        }
        let (a, b) = (tree(ours.path()), tree(theirs.path()));
        for (k, (_, mode)) in &b {
            assert_eq!(
                a.get(k).map(|v| v.1),
                Some(*mode),
                "{k}: mode ({count} users)"
            );
        }
    }
}

/// A large pool is one batch: 5,000 users (one `useradd` process each
/// took 221 s for 2,000) apply, re-plan and undo in seconds even
/// unoptimised, and the files are pwck/grpck clean.
#[test]
fn five_thousand_users_apply_and_undo_in_one_batch() {
    let root = standard_root();
    let start = tree(root.path());
    let req = PoolRequest::builder(Platform::Linux)
        .count(5000)
        .build()
        .expect("request");
    let t = std::time::Instant::now();
    let p = plan(root.path(), &req).expect("plan");
    let journal = apply(root.path(), &p).expect("apply");
    assert!(plan(root.path(), &req).expect("plan").is_up_to_date());
    let elapsed = t.elapsed();
    assert_eq!(read(root.path(), "etc/passwd").lines().count(), 6 + 4999);
    assert!(
        elapsed < std::time::Duration::from_secs(60),
        "5,000 users took {elapsed:?}"
    );
    let shrink = PoolRequest::builder(Platform::Linux)
        .count(2)
        .build()
        .expect("request");
    let ours: BTreeSet<String> = (1..=5000).map(|i| format!("nixbld{i}")).collect();
    let p2 = plan_with_managed(root.path(), &shrink, &ours).expect("plan");
    let j2 = apply(root.path(), &p2).expect("shrink");
    undo(root.path(), &j2).expect("undo shrink");
    undo(root.path(), &journal).expect("undo");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(120),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(tree(root.path()), start);
}
