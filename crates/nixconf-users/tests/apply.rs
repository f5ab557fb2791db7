//! Apply to a temporary root, read the files back, undo, and compare with
//! the start byte for byte.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use nixconf_users::{
    apply, plan, plan_with_managed, undo, Error, LintKind, Platform, PoolRequest, Step,
};

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
# a comment the tools must keep\n\
this line is malformed\n\
nixbld2:x:30002:30000:Nix build user 2:/var/empty:/bin/bash\n\
alice:x:1000:1000:Alice:/home/alice:/bin/bash\n";
const SHADOW: &str = "root:*:19000:0:99999:7:::\n\
daemon:*:19000:0:99999:7:::\n\
nixbld2:!:19000::::::\n\
alice:$y$hash:19000:0:99999:7:::\n";
const GROUP: &str = "root:x:0:\ndaemon:x:1:\nnixbld:x:30000:\nalice:x:1000:\n";
const GSHADOW: &str = "root:*::\ndaemon:*::\nnixbld:!::\nalice:!::\n";

fn root_with(files: &[(&str, &str, u32)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::create_dir_all(dir.path().join("etc")).expect("etc");
    for (name, text, mode) in files {
        let path = dir.path().join("etc").join(name);
        fs::write(&path, text).expect("write fixture file");
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(*mode)).expect("chmod");
    }
    dir
}

fn standard_root() -> tempfile::TempDir {
    root_with(&[
        ("passwd", PASSWD, 0o644),
        ("shadow", SHADOW, 0o640),
        ("group", GROUP, 0o644),
        ("gshadow", GSHADOW, 0o640),
    ])
}

/// Every file under `root` with its bytes and mode.
fn tree(root: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("under root")
                    .display()
                    .to_string();
                let meta = fs::metadata(&p).expect("metadata");
                out.insert(rel, (fs::read(&p).expect("read"), meta.mode() & 0o7777));
            }
        }
    }
    out
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).expect("read back")
}

fn request() -> PoolRequest {
    PoolRequest::builder(Platform::Linux)
        .count(3)
        .build()
        .expect("request")
}

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

/// A root where nixconf created `nixbld1..4`: `nixbld4` is also in `kvm`
/// (as a member and, in gshadow, an administrator) and owns subordinate
/// ids; `nixbld9` was never ours. The last passwd line has no newline.
fn shrinking_root() -> tempfile::TempDir {
    root_with(&[
        (
            "passwd",
            "root:x:0:0:root:/root:/bin/bash\n\
             nixbld1:x:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n\
             nixbld2:x:30002:30000:Nix build user 2:/var/empty:/sbin/nologin\n\
             nixbld9:x:30009:30000:Nix build user 9:/var/empty:/sbin/nologin\n\
             nixbld3:x:30003:30000:Nix build user 3:/var/empty:/sbin/nologin\n\
             nixbld4:x:30004:30000:Nix build user 4:/var/empty:/sbin/nologin",
            0o644,
        ),
        (
            "shadow",
            "root:*:19000:0:99999:7:::\nnixbld1:!:19000::::::\nnixbld2:!:19000::::::\n\
             nixbld9:!:19000::::::\nnixbld3:!:19000::::::\nnixbld4:!:19000::::::\n",
            0o640,
        ),
        (
            "group",
            "root:x:0:\nkvm:x:104:nixbld4,nixbld3\n\
             nixbld:x:30000:nixbld1,nixbld2,nixbld3,nixbld4,nixbld9\n",
            0o644,
        ),
        (
            "gshadow",
            "root:*::\nkvm:!:nixbld4:nixbld4,nixbld3\n\
             nixbld:!::nixbld1,nixbld2,nixbld3,nixbld4,nixbld9\n",
            0o640,
        ),
        (
            "subuid",
            "nixbld4:100000:65536\nalice:165536:65536\n",
            0o644,
        ),
        (
            "subgid",
            "alice:165536:65536\nnixbld4:100000:65536\n",
            0o644,
        ),
    ])
}

fn managed(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
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

fn tool(name: &str) -> Option<std::path::PathBuf> {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

/// `pwck -r -R ROOT` and `grpck -r -R ROOT` (the real shadow tools, when
/// installed) find nothing to say. Homes and shells exist in the root
/// so only the account files are judged.
fn assert_shadow_tools_clean(root: &Path) {
    let (Some(pwck), Some(grpck)) = (tool("pwck"), tool("grpck")) else {
        eprintln!("*** pwck/grpck not installed (the `passwd` package): not checked ***");
        return;
    };
    for d in ["root", "var/empty", "home/alice", "usr/sbin", "sbin", "bin"] {
        fs::create_dir_all(root.join(d)).expect("dir");
    }
    for sh in ["bin/bash", "bin/sh", "sbin/nologin", "usr/sbin/nologin"] {
        fs::write(root.join(sh), "").expect("shell");
    }
    for t in [pwck, grpck] {
        let out = std::process::Command::new(&t)
            .arg("-r")
            .arg("-R")
            .arg(root)
            .output()
            .expect("run");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let complaints: Vec<&str> = text
            .lines()
            .filter(|l| !l.ends_with("no changes") && !l.contains("/home/alice"))
            .collect();
        assert!(complaints.is_empty(), "{} complains:\n{text}", t.display());
    }
}

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

#[test]
fn a_root_without_passwd_is_refused_not_given_one_without_root() {
    let root = root_with(&[("group", "root:x:0:\n", 0o644)]);
    let start = tree(root.path());
    let p = plan(root.path(), &request()).expect("plan");
    let canonical = fs::canonicalize(root.path()).expect("canonical");
    for e in [
        apply(root.path(), &p).unwrap_err(),
        nixconf_users::preview(root.path(), &p).unwrap_err(),
    ] {
        assert_eq!(
            e.to_string(),
            format!(
                "{}/etc/passwd: no such file; is this a Linux root?",
                canonical.display()
            )
        );
    }
    assert_eq!(tree(root.path()), start);
}

#[test]
fn account_files_that_are_symlinks_are_refused() {
    let root = standard_root();
    let outside = tempfile::tempdir().expect("outside");
    let target = outside.path().join("passwd-");
    fs::write(&target, "sentinel\n").expect("sentinel");
    std::os::unix::fs::symlink(&target, root.path().join("etc/passwd-")).expect("link");
    let p = plan(root.path(), &request()).expect("plan");
    // The backup a rewrite makes is checked before anything is written.
    let e = apply(root.path(), &p).unwrap_err();
    assert!(
        e.to_string().ends_with("/etc/passwd- is a symbolic link; nixconf edits account files only in place (replace the link with the file it points to)"),
        "{e}"
    );
    assert!(fs::symlink_metadata(root.path().join("etc/passwd-"))
        .expect("link")
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&target).expect("read"), "sentinel\n");
    assert_eq!(read(root.path(), "etc/passwd"), PASSWD);
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

mod properties {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{FileFailurePersistence, RngAlgorithm, RngSeed};

    /// As in `tests/plan.rs`: a fixed seed unless `PROPTEST_RNG_SEED`
    /// names another, failures kept in `tests/apply.proptest-regressions`.
    fn prop_config() -> ProptestConfig {
        let seed = std::env::var("PROPTEST_RNG_SEED")
            .ok()
            .map_or(0x6e69_7862_6c64, |s| {
                s.trim()
                    .parse()
                    .expect("PROPTEST_RNG_SEED must be a number")
            });
        ProptestConfig {
            cases: 48,
            failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
                "proptest-regressions",
            ))),
            rng_algorithm: RngAlgorithm::ChaCha,
            rng_seed: RngSeed::Fixed(seed),
            ..ProptestConfig::default()
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

/// A run killed at any durable point of the apply (after any number of
/// the `-` backups and file replacements, which are each atomic) leaves
/// a root that a fresh plan does not call up to date, that the next
/// apply converges from, and that the preview recorded before the run
/// undoes byte for byte.
#[test]
fn a_kill_at_every_write_converges_and_the_recorded_preview_undoes_it() {
    let req = request();
    let probe = standard_root();
    let p = plan(probe.path(), &req).expect("plan");
    apply(probe.path(), &p).expect("apply");
    let done = tree(probe.path());
    // The order apply writes in: each file's backup, then the file.
    let mut writes: Vec<String> = Vec::new();
    for f in ["etc/gshadow", "etc/group", "etc/shadow", "etc/passwd"] {
        writes.push(format!("{f}-"));
        writes.push(f.to_owned());
    }
    for k in 0..=writes.len() {
        let root = standard_root();
        let start = tree(root.path());
        let p = plan(root.path(), &req).expect("plan");
        let intent = nixconf_users::preview(root.path(), &p).expect("preview");
        for w in &writes[..k] {
            let path = root.path().join(w);
            fs::write(&path, &done[w].0).expect("partial write");
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(done[w].1)).expect("mode");
        }
        let after_kill = tree(root.path());
        let again = plan(root.path(), &req).expect("plan after kill");
        let files_written = writes[..k].iter().filter(|w| !w.ends_with('-')).count();
        assert_eq!(
            again.is_up_to_date(),
            files_written == 4,
            "killed after {k} writes: {again}"
        );
        // Revert of the recorded intent gives the start back.
        undo(root.path(), &intent).expect("undo the intent");
        assert_eq!(
            tree(root.path()),
            start,
            "undo after a kill after {k} writes"
        );
        // Apply from the killed state converges.
        for (rel, (bytes, _)) in &after_kill {
            fs::write(root.path().join(rel), bytes).expect("back to the killed state");
        }
        let again = plan(root.path(), &req).expect("plan");
        let journal = apply(root.path(), &again).expect("converge");
        assert!(plan(root.path(), &req).expect("plan").is_up_to_date());
        for rel in ["etc/passwd", "etc/shadow", "etc/group", "etc/gshadow"] {
            assert_eq!(
                read(root.path(), rel),
                String::from_utf8_lossy(&done[rel].0),
                "{rel} after converging from a kill after {k} writes"
            );
        }
        // And both journals together undo it all (latest first).
        undo(root.path(), &journal).expect("undo the converging apply");
        undo(root.path(), &intent).expect("undo the intent");
        assert_eq!(
            tree(root.path()),
            start,
            "after undoing both (kill after {k})"
        );
    }
}

/// A run killed while writing leaves `FILE.nixconf-new` beside the file:
/// the next apply or undo removes it.
#[test]
fn temporary_files_of_a_killed_run_are_removed() {
    let root = standard_root();
    let start = tree(root.path());
    let p = plan(root.path(), &request()).expect("plan");
    let leftover = root.path().join("etc/passwd.nixconf-new");
    let backup_leftover = root.path().join("etc/gshadow-.nixconf-new");
    fs::write(&leftover, "half a passwd").expect("leftover");
    fs::write(&backup_leftover, "half a backup").expect("leftover");
    let journal = apply(root.path(), &p).expect("apply");
    assert!(!leftover.exists() && !backup_leftover.exists());
    fs::write(&leftover, "half a passwd").expect("leftover");
    undo(root.path(), &journal).expect("undo");
    assert!(!leftover.exists());
    assert_eq!(tree(root.path()), start);
}

/// The rewritten files and their backups keep the original's SELinux
/// label (where the file system lets a label be set at all).
#[test]
fn selinux_labels_are_kept() {
    let root = standard_root();
    let shadow = root.path().join("etc/shadow");
    let label = b"system_u:object_r:shadow_t:s0\0";
    if xattr_set(&shadow, label).is_err() {
        eprintln!("*** cannot set security.selinux here: not checked ***");
        return;
    }
    let p = plan(root.path(), &request()).expect("plan");
    let journal = apply(root.path(), &p).expect("apply");
    for f in ["etc/shadow", "etc/shadow-"] {
        assert_eq!(
            xattr_get(&root.path().join(f)).as_deref(),
            Some(&label[..]),
            "{f}"
        );
    }
    undo(root.path(), &journal).expect("undo");
    assert_eq!(xattr_get(&shadow).as_deref(), Some(&label[..]));
}

fn xattr_set(path: &Path, value: &[u8]) -> std::io::Result<()> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import os,sys; os.setxattr(sys.argv[1], 'security.selinux', bytes.fromhex(sys.argv[2]))",
        ])
        .arg(path)
        .arg(value.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other("setxattr failed"))
    }
}

fn xattr_get(path: &Path) -> Option<Vec<u8>> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import os,sys; print(os.getxattr(sys.argv[1], 'security.selinux').hex())",
        ])
        .arg(path)
        .output()
        .ok()?;
    let hex = String::from_utf8(out.stdout).ok()?;
    let hex = hex.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `etc` a link out of the root, or an account file a link: refused,
/// and nothing outside is read into the journal or written.
#[test]
fn links_out_of_the_root_are_refused_and_nothing_outside_changes() {
    let outside = standard_root();
    let before_outside = tree(outside.path());
    let root = tempfile::tempdir().expect("root");
    std::os::unix::fs::symlink(outside.path().join("etc"), root.path().join("etc")).expect("link");
    let p = plan(root.path(), &request()).expect("plan follows the link: it only reads");
    for e in [
        apply(root.path(), &p).unwrap_err(),
        nixconf_users::preview(root.path(), &p).unwrap_err(),
    ] {
        assert!(matches!(e, Error::Symlink { .. }), "{e:?}");
    }
    assert_eq!(tree(outside.path()), before_outside);

    let root = standard_root();
    fs::remove_file(root.path().join("etc/shadow")).expect("rm");
    std::os::unix::fs::symlink(
        outside.path().join("etc/shadow"),
        root.path().join("etc/shadow"),
    )
    .expect("link");
    let p = plan(root.path(), &request()).expect("plan");
    let e = apply(root.path(), &p).unwrap_err();
    assert!(e.to_string().ends_with("/etc/shadow is a symbolic link; nixconf edits account files only in place (replace the link with the file it points to)"), "{e}");
    assert_eq!(tree(outside.path()), before_outside);
}

/// Another process swaps `etc` for a link out of the root, again and
/// again, while apply and undo run: whatever they manage or refuse,
/// nothing outside the root ever changes.
#[test]
fn a_swap_race_on_etc_never_touches_anything_outside() {
    let outside = standard_root();
    let before_outside = tree(outside.path());
    let root = standard_root();
    let etc = root.path().join("etc");
    let real = root.path().join("etc.real");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (etc, real, target) = (etc.clone(), real.clone(), outside.path().join("etc"));
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if fs::rename(&etc, &real).is_ok() {
                    let _ = std::os::unix::fs::symlink(&target, &etc);
                    std::thread::yield_now();
                    let _ = fs::remove_file(&etc);
                    let _ = fs::rename(&real, &etc);
                }
                std::thread::yield_now();
            }
        })
    };
    let mut applied = 0;
    for _ in 0..200 {
        let Ok(p) = plan(root.path(), &request()) else {
            continue;
        };
        if let Ok(j) = apply(root.path(), &p) {
            applied += 1;
            let _ = undo(root.path(), &j);
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    swapper.join().expect("swapper");
    assert_eq!(tree(outside.path()), before_outside, "{applied} applies");
}
