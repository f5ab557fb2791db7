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
