//! What an apply refuses and survives: a root without passwd, links in
//! and out of the root, a run killed at any write, its temporary files,
//! and the files' SELinux labels.

mod common;

use std::fs;
use std::path::Path;

use common::{read, request, root_with, standard_root, tree, PASSWD};
use nixconf_users::{apply, plan, undo, Error};

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
