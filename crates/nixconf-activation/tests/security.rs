//! What apply and revert must never do: leave secrets readable, write
//! outside the root, or run twice at once. Some tests set the umask to
//! 000, so this file's tests must not rely on the usual 022.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use nixconf_activation::{
    apply, plan, revert, ApplyOptions, DesiredFile, Installation, PlanOptions, Tree,
};

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

fn owner(path: &Path) -> (u32, u32) {
    let m = fs::symlink_metadata(path).unwrap();
    (m.uid(), m.gid())
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// umask 000 for the whole test process: what nixconf creates must not
/// depend on it.
fn open_umask() {
    rustix::process::umask(rustix::fs::Mode::empty());
}

const SECRET_CONF: &str = "access-tokens = github.com=ghp_secret\n";

#[test]
fn state_files_are_private_and_copies_keep_owner_and_mode_under_umask_000() {
    open_umask();
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    fs::create_dir_all(r.join("etc/nix")).unwrap();
    let conf = r.join("etc/nix/nix.conf");
    fs::write(&conf, SECRET_CONF).unwrap();
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o640)).unwrap();
    if is_root() {
        std::os::unix::fs::chown(&conf, Some(1234), Some(5678)).unwrap();
    }
    let before = Tree::capture(r).unwrap();
    let inst = Installation::new().file(DesiredFile::new("etc/nix/nix.conf", "sandbox = true\n"));

    // The plan says the mode is narrowed to the replaced file's.
    let p = plan(r, &inst, &PlanOptions::default()).unwrap();
    assert!(
        p.describe().contains(
            "replace file /etc/nix/nix.conf (mode 0640: the configured 0644 narrowed by the 0640 of the file it replaces, never more readable; the current one is backed up)"
        ),
        "{}",
        p.describe()
    );
    apply(r, &inst, &ApplyOptions::default()).unwrap();
    assert_eq!(mode(&conf), 0o640);
    assert_eq!(mode(&r.join("nix/var/nixconf")), 0o700);
    assert_eq!(mode(&r.join("nix/var")), 0o755);
    assert_eq!(mode(&r.join("nix/var/nixconf/receipt.json")), 0o600);
    let backup = r.join("nix/var/nixconf/backups/etc/nix/nix.conf");
    assert_eq!(fs::read_to_string(&backup).unwrap(), SECRET_CONF);
    assert_eq!(mode(&backup), 0o640);
    for dir in ["backups", "backups/etc", "backups/etc/nix"] {
        assert_eq!(mode(&r.join("nix/var/nixconf").join(dir)), 0o700, "{dir}");
    }
    if is_root() {
        assert_eq!(owner(&conf), (1234, 5678));
        assert_eq!(owner(&backup), (1234, 5678));
    }
    assert!(plan(r, &inst, &PlanOptions::default())
        .unwrap()
        .is_up_to_date());

    // A hand edit overwritten with force: the copy keeps mode and owner.
    fs::write(&conf, "sandbox = false\n").unwrap();
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o604)).unwrap();
    apply(r, &inst, &ApplyOptions::default().force(true)).unwrap();
    let copy = r.join("nix/var/nixconf/edited/etc/nix/nix.conf.1");
    assert_eq!(mode(&copy), 0o604);
    assert_eq!(mode(&r.join("nix/var/nixconf/edited/etc")), 0o700);
    if is_root() {
        assert_eq!(owner(&copy), (1234, 5678));
    }
    assert_eq!(mode(&conf), 0o640);

    // A receipt made readable is made private again, even with nothing to do.
    let receipt = r.join("nix/var/nixconf/receipt.json");
    fs::set_permissions(&receipt, fs::Permissions::from_mode(0o644)).unwrap();
    let report = apply(r, &inst, &ApplyOptions::default()).unwrap();
    assert!(!report.changed_anything());
    assert_eq!(mode(&receipt), 0o600);

    assert!(revert(r).unwrap().is_success());
    fs::remove_dir_all(r.join("nix")).unwrap();
    let diffs = Tree::capture(r).unwrap().differences(&before);
    assert!(diffs.is_empty(), "{diffs:?}");
}

#[test]
fn managed_directories_get_their_mode_whatever_the_umask() {
    open_umask();
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let inst = Installation::new()
        .nix_state_layout(&"2.18.1".parse().unwrap())
        .file(DesiredFile::new("etc/nix/nix.conf", "sandbox = true\n"));
    apply(r, &inst, &ApplyOptions::default()).unwrap();
    assert_eq!(mode(&r.join("etc/nix")), 0o755);
    assert_eq!(mode(&r.join("etc/nix/nix.conf")), 0o644);
    assert_eq!(mode(&r.join("nix/var/nix/gcroots/per-user")), 0o755);
    assert_eq!(mode(&r.join("nix/var/nixconf")), 0o700);
    assert!(revert(r).unwrap().is_success());
    assert_eq!(fs::read_dir(r).unwrap().count(), 0);
}

/// A directory outside every root, with a file in it, that no test may
/// change.
struct Sentinel {
    dir: tempfile::TempDir,
    before: Tree,
}

impl Sentinel {
    fn new() -> Sentinel {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["nix", "backups/etc/nix", "edited/etc/nix", "var/nixconf"] {
            fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        for file in [
            "nix/nix.conf",
            "nix/f0.conf",
            "nix/f1.conf",
            "nix/f2.conf",
            "nix/f3.conf",
            "backups/etc/nix/nix.conf",
            "edited/etc/nix/nix.conf.1",
            "passwd-",
        ] {
            fs::write(dir.path().join(file), "outside\n").unwrap();
            fs::set_permissions(dir.path().join(file), fs::Permissions::from_mode(0o600)).unwrap();
        }
        let before = Tree::capture(dir.path()).unwrap();
        Sentinel { dir, before }
    }

    fn path(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }

    fn assert_untouched(&self) {
        let diffs = Tree::capture(self.dir.path())
            .unwrap()
            .differences(&self.before);
        assert!(diffs.is_empty(), "outside the root changed: {diffs:?}");
    }
}

fn conf_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("etc/nix")).unwrap();
    fs::write(root.path().join("etc/nix/nix.conf"), "sandbox = false\n").unwrap();
    root
}

fn conf() -> Installation {
    Installation::new().file(DesiredFile::new("etc/nix/nix.conf", "sandbox = true\n"))
}

#[test]
fn symlinked_state_directories_are_refused_not_followed() {
    let outside = Sentinel::new();
    for (link, target) in [
        ("nix/var/nixconf/backups", "backups"),
        ("nix/var", "var"),
        ("nix/var/nixconf", "var/nixconf"),
    ] {
        let root = conf_root();
        let r = root.path();
        let at = r.join(link);
        fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(outside.path(target), &at).unwrap();
        if link == "nix/var" {
            // A decoy inside the root where the link would lead if its
            // target were read from the root.
            fs::create_dir_all(r.join(outside.path(target).strip_prefix("/").unwrap())).unwrap();
        }
        let before = Tree::capture(r).unwrap();
        // Refused by the plan, or as soon as the receipt is looked for.
        match plan(r, &conf(), &PlanOptions::default()) {
            Ok(p) => assert!(p.describe().contains("is a symlink"), "{}", p.describe()),
            Err(e) => assert!(e.to_string().contains("symlink"), "{e}"),
        }
        let err = apply(r, &conf(), &ApplyOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("symlink"), "{link}: {err}");
        outside.assert_untouched();
        let diffs = Tree::capture(r).unwrap().differences(&before);
        assert!(diffs.is_empty(), "{link}: {diffs:?}");
    }
}

#[test]
fn symlinks_swapped_in_after_apply_are_refused_by_revert_and_force() {
    let outside = Sentinel::new();
    let root = conf_root();
    let r = root.path();
    apply(r, &conf(), &ApplyOptions::default()).unwrap();
    // Hand edit, then `edited` is a symlink out: force must not write there.
    fs::write(r.join("etc/nix/nix.conf"), "sandbox = relaxed\n").unwrap();
    std::os::unix::fs::symlink(outside.path("edited"), r.join("nix/var/nixconf/edited")).unwrap();
    let err = apply(r, &conf(), &ApplyOptions::default().force(true)).unwrap_err();
    assert!(err.to_string().contains("symlink"), "{err}");
    outside.assert_untouched();
    fs::remove_file(r.join("nix/var/nixconf/edited")).unwrap();
    fs::write(r.join("etc/nix/nix.conf"), "sandbox = true\n").unwrap();

    // The backups directory replaced by a symlink out: revert must not
    // read or delete the outside copy.
    let backups = r.join("nix/var/nixconf/backups");
    fs::rename(&backups, r.join("saved-backups")).unwrap();
    std::os::unix::fs::symlink(outside.path("backups"), &backups).unwrap();
    let err = revert(r).unwrap_err().to_string();
    assert!(
        err.contains("/nix/var/nixconf/backups is a symlink"),
        "{err}"
    );
    outside.assert_untouched();
    assert_eq!(
        fs::read_to_string(r.join("etc/nix/nix.conf")).unwrap(),
        "sandbox = true\n"
    );
    // Put back, revert completes.
    fs::remove_file(&backups).unwrap();
    fs::rename(r.join("saved-backups"), &backups).unwrap();
    assert!(revert(r).unwrap().is_success());
    assert_eq!(
        fs::read_to_string(r.join("etc/nix/nix.conf")).unwrap(),
        "sandbox = false\n"
    );
}

#[test]
fn account_files_leading_out_of_the_root_stop_the_users_action() {
    let outside = Sentinel::new();
    let root = conf_root();
    let r = root.path();
    fs::write(r.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::os::unix::fs::symlink(outside.path("passwd-"), r.join("etc/passwd-")).unwrap();
    let err = nixconf_activation::check_beneath(r, "etc/passwd-")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "{}: /etc/passwd- is a symlink to {}, an absolute path",
            r.join("etc/passwd-").display(),
            outside.path("passwd-").display()
        )),
        "{err}"
    );
    assert!(nixconf_activation::check_account_files(r).is_err());
    // A relative link staying inside the root is fine.
    std::os::unix::fs::symlink("passwd", r.join("etc/group-")).unwrap();
    nixconf_activation::check_beneath(r, "etc/group-").unwrap();

    // The build users' shadow tools would write `etc/passwd-`, following
    // the symlink from the host's `/`.
    let request = nixconf_users::PoolRequest::builder(nixconf_users::Platform::Linux)
        .count(2)
        .build()
        .unwrap();
    let users = nixconf_activation::BuildUsers::plan(r, &request).unwrap();
    let inst = conf().build_users(users);
    let p = plan(r, &inst, &PlanOptions::default()).unwrap();
    assert!(
        p.describe().contains("refused: build users: "),
        "{}",
        p.describe()
    );
    assert!(apply(r, &inst, &ApplyOptions::default()).is_err());
    outside.assert_untouched();
}

/// While apply and revert run in a loop, another thread swaps `etc/nix`
/// with a symlink to a directory outside the root
/// (`renameat2(RENAME_EXCHANGE)`), as fast as it can. Whatever apply and
/// revert manage or refuse, nothing outside may change.
#[test]
fn swapping_etc_nix_for_an_outside_symlink_never_writes_outside() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let outside = Sentinel::new();
    let root = tempfile::tempdir().unwrap();
    let r = root.path().to_path_buf();
    fs::create_dir_all(r.join("etc/nix")).unwrap();
    std::os::unix::fs::symlink(outside.path("nix"), r.join("etc/nix-swap")).unwrap();
    // Files named as the outside ones, so that a write, chmod or unlink
    // redirected outside shows.
    let inst = (0..4).fold(Installation::new(), |inst, i| {
        inst.file(DesiredFile::new(
            format!("etc/nix/f{i}.conf"),
            "sandbox = true\n",
        ))
    });
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let (a, b) = (r.join("etc/nix"), r.join("etc/nix-swap"));
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                rustix::fs::renameat_with(
                    rustix::fs::CWD,
                    &a,
                    rustix::fs::CWD,
                    &b,
                    rustix::fs::RenameFlags::EXCHANGE,
                )
                .unwrap();
                swaps += 1;
                // Slow enough for some plans to pass between two swaps
                // (with nixconf before the fix, every run of this test
                // wrote or deleted outside).
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            swaps
        })
    };
    for _ in 0..50 {
        let _ = apply(&r, &inst, &ApplyOptions::default());
        let _ = revert(&r);
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 0);
    outside.assert_untouched();
}

#[test]
fn a_held_lock_makes_apply_and_revert_wait_then_name_the_holder() {
    let root = conf_root();
    let r = root.path();
    apply(r, &conf(), &ApplyOptions::default()).unwrap();
    // Another nixconf, PID 4242, holds the lock.
    let lock_path = r.join("nix/var/nixconf/lock");
    fs::write(&lock_path, "4242\n").unwrap();
    let held = fs::File::open(&lock_path).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();

    let changed =
        Installation::new().file(DesiredFile::new("etc/nix/nix.conf", "sandbox = relaxed\n"));
    let mut options = ApplyOptions::default();
    options.lock_timeout = Some(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let err = apply(r, &changed, &options).unwrap_err().to_string();
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(
        err,
        format!(
            "{}: another nixconf (PID 4242) is applying or reverting this root; waited 0.3 s for it: try again once it has finished",
            lock_path.display()
        )
    );
    let mut revert_options = nixconf_activation::RevertOptions::default();
    revert_options.lock_timeout = Some(std::time::Duration::from_millis(100));
    let err = nixconf_activation::revert_with(r, &revert_options)
        .unwrap_err()
        .to_string();
    assert!(err.contains("another nixconf (PID 4242)"), "{err}");
    assert_eq!(
        fs::read_to_string(r.join("etc/nix/nix.conf")).unwrap(),
        "sandbox = true\n"
    );

    // Released (the holder went away): the next run takes the lock over
    // and removes the file when done.
    drop(held);
    apply(r, &changed, &ApplyOptions::default()).unwrap();
    assert!(!lock_path.exists());
    assert!(revert(r).unwrap().is_success());
    assert_eq!(
        fs::read_to_string(r.join("etc/nix/nix.conf")).unwrap(),
        "sandbox = false\n"
    );
}

/// Applies and reverts of two configurations from four threads at once,
/// in a loop: each run either completes or finds nothing to revert; the
/// receipt always parses, and a last revert gives the starting tree back
/// with no temporary left.
#[test]
fn concurrent_applies_and_reverts_never_corrupt() {
    let root = conf_root();
    let r = root.path().to_path_buf();
    let before = Tree::capture(&r).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let r = r.clone();
            std::thread::spawn(move || {
                let configs = [
                    conf(),
                    Installation::new()
                        .file(DesiredFile::new("etc/nix/nix.conf", "sandbox = relaxed\n"))
                        .file(DesiredFile::new("etc/nix/machines", "\n")),
                ];
                for i in 0..12 {
                    if (i + t) % 3 == 2 {
                        match revert(&r) {
                            Ok(report) => assert!(report.is_success(), "{}", report.describe()),
                            Err(nixconf_activation::Error::NoReceipt { .. }) => {}
                            Err(e) => panic!("revert: {e}"),
                        }
                    } else {
                        let report = apply(&r, &configs[(i + t) % 2], &ApplyOptions::default())
                            .unwrap_or_else(|e| panic!("apply: {e}"));
                        assert!(report.is_success(), "{}", report.describe());
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    match revert(&r) {
        Ok(report) => assert!(report.is_success(), "{}", report.describe()),
        Err(nixconf_activation::Error::NoReceipt { .. }) => {}
        Err(e) => panic!("revert: {e}"),
    }
    let diffs = Tree::capture(&r).unwrap().differences(&before);
    assert!(diffs.is_empty(), "{diffs:?}");
}
