//! Behaviour of plan, apply and revert on temporary roots.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use nixconf_users::{Platform, PoolRequest};

use nixconf_activation::{
    apply, plan, revert, revert_with, ActionKind, ApplyOptions, BuildUsers, DesiredDir,
    DesiredFile, DesiredSymlink, Error, Installation, Outcome, Ownership, PlanOptions,
    RevertOptions, Status, Tree,
};

const NIX_CONF: &str = "sandbox = true\nmax-jobs = auto\n";

fn typical(nix_conf: &str) -> Installation {
    Installation::new()
        .nix_state_layout(&"2.18.1".parse().unwrap())
        .root_channel("https://nixos.org/channels/nixos-23.05")
        .file(DesiredFile::new("etc/nix/nix.conf", nix_conf).restarts_daemon())
        .file(DesiredFile::new(
            "etc/nix/registry.json",
            "{\"flakes\":[],\"version\":2}",
        ))
        .file(DesiredFile::new(
            "etc/tmpfiles.d/nix-daemon.conf",
            "d /nix/var/nix/daemon-socket 0755 root root - -\n",
        ))
}

fn tree(root: &Path) -> Tree {
    Tree::capture(root).unwrap()
}

fn assert_same_tree(root: &Path, expected: &Tree) {
    let diffs = tree(root).differences(expected);
    assert!(diffs.is_empty(), "tree differs:\n{}", diffs.join("\n"));
}

fn up_to_date(root: &Path, inst: &Installation) -> bool {
    plan(root, inst, &PlanOptions::default())
        .unwrap()
        .is_up_to_date()
}

fn apply_ok(root: &Path, inst: &Installation) {
    let report = apply(root, inst, &ApplyOptions::default()).unwrap();
    assert!(report.is_success(), "{}", report.describe());
}

fn revert_ok(root: &Path) {
    let report = revert(root).unwrap();
    assert!(report.is_success(), "{}", report.describe());
}

/// A root with a pre-existing nix.conf (as a Nix installer leaves it).
fn existing_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("etc/nix")).unwrap();
    fs::write(
        root.path().join("etc/nix/nix.conf"),
        "build-users-group = nixbld\n",
    )
    .unwrap();
    fs::set_permissions(
        root.path().join("etc/nix/nix.conf"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    root
}

#[test]
fn second_apply_after_a_config_change_applies_only_the_difference() {
    let root = existing_root();
    let before = tree(root.path());
    apply_ok(root.path(), &typical(NIX_CONF));

    let changed = typical("sandbox = false\nmax-jobs = auto\n");
    let p = plan(root.path(), &changed, &PlanOptions::default()).unwrap();
    assert_eq!(
        p.describe(),
        "update file /etc/nix/nix.conf (mode 0600: the configured 0644 narrowed by the 0600 of the file it replaces, never more readable)\n\
         \x20   --- /etc/nix/nix.conf\n\
         \x20   +++ /etc/nix/nix.conf\n\
         \x20   @@ -1,2 +1,2 @@\n\
         \x20   -sandbox = true\n\
         \x20   +sandbox = false\n\
         \x20    max-jobs = auto\n\
         restart nix-daemon.service (it reads /etc/nix/nix.conf)\n\
         \n\
         2 to do, 6 up to date\n"
    );
    let report = apply(root.path(), &changed, &ApplyOptions::default()).unwrap();
    let done: Vec<&str> = report.entries().iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        done,
        [
            "update file /etc/nix/nix.conf (mode 0600: the configured 0644 narrowed by the 0600 of the file it replaces, never more readable)",
            "restart nix-daemon.service (it reads /etc/nix/nix.conf)"
        ]
    );
    assert_eq!(
        report.entries()[1].outcome,
        Outcome::Skipped("not asked to restart the daemon".to_owned())
    );
    assert_eq!(
        fs::read_to_string(root.path().join("etc/nix/nix.conf")).unwrap(),
        "sandbox = false\nmax-jobs = auto\n"
    );
    assert!(up_to_date(root.path(), &changed));

    // The original from before the first apply comes back, mode included.
    revert_ok(root.path());
    assert_same_tree(root.path(), &before);
}

#[test]
fn second_apply_changes_nothing_not_even_the_receipt() {
    let root = existing_root();
    let inst = typical(NIX_CONF);
    apply_ok(root.path(), &inst);
    let after = tree(root.path());
    let receipt = root.path().join("nix/var/nixconf/receipt.json");
    let mtime = fs::metadata(&receipt).unwrap().mtime_nsec();
    let report = apply(root.path(), &inst, &ApplyOptions::default()).unwrap();
    assert!(!report.changed_anything());
    assert_eq!(report.describe(), "nothing to do: up to date\n");
    assert_same_tree(root.path(), &after);
    assert_eq!(fs::metadata(&receipt).unwrap().mtime_nsec(), mtime);
}

#[test]
fn file_no_longer_configured_is_put_back_as_it_was() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("etc/nix")).unwrap();
    fs::write(
        root.path().join("etc/nix/machines"),
        "old-builder x86_64-linux\n",
    )
    .unwrap();
    let before = tree(root.path());
    let with = Installation::new()
        .file(DesiredFile::new("etc/nix/nix.conf", NIX_CONF))
        .file(DesiredFile::new("etc/nix/machines", "ssh://new x86_64-linux\n").restarts_daemon());
    apply_ok(root.path(), &with);
    let without = Installation::new().file(DesiredFile::new("etc/nix/nix.conf", NIX_CONF));
    let p = plan(root.path(), &without, &PlanOptions::default()).unwrap();
    assert_eq!(
        p.describe(),
        "/etc/nix/machines is no longer configured: restore the original\n\
         \x20   --- /etc/nix/machines\n\
         \x20   +++ /etc/nix/machines\n\
         \x20   @@ -1 +1 @@\n\
         \x20   -ssh://new x86_64-linux\n\
         \x20   +old-builder x86_64-linux\n\
         restart nix-daemon.service (it reads /etc/nix/machines)\n\
         \n\
         2 to do, 1 up to date\n"
    );
    apply_ok(root.path(), &without);
    assert_eq!(
        fs::read_to_string(root.path().join("etc/nix/machines")).unwrap(),
        "old-builder x86_64-linux\n"
    );
    assert!(!root
        .path()
        .join("nix/var/nixconf/backups/etc/nix/machines")
        .exists());
    assert!(up_to_date(root.path(), &without));
    revert_ok(root.path());
    assert_same_tree(root.path(), &before);
}

#[test]
fn hand_edit_is_a_conflict_and_force_overwrites_keeping_a_copy() {
    let root = existing_root();
    let before = tree(root.path());
    let inst = typical(NIX_CONF);
    apply_ok(root.path(), &inst);
    let conf = root.path().join("etc/nix/nix.conf");
    fs::write(&conf, "sandbox = true\nmax-jobs = 8\n").unwrap();

    let p = plan(root.path(), &inst, &PlanOptions::default()).unwrap();
    let action = p
        .actions()
        .iter()
        .find(|a| a.status == Status::Conflict)
        .unwrap();
    assert_eq!(
        action.summary,
        "file /etc/nix/nix.conf was edited by hand since nixconf wrote it; apply with force to overwrite it (a copy is kept)"
    );
    assert_eq!(
        action.diff.as_deref(),
        Some("--- /etc/nix/nix.conf\n+++ /etc/nix/nix.conf\n@@ -1,2 +1,2 @@\n sandbox = true\n-max-jobs = 8\n+max-jobs = auto\n")
    );

    let edited = tree(root.path());
    match apply(root.path(), &inst, &ApplyOptions::default()) {
        Err(Error::Refused { problems }) => assert_eq!(problems, vec![action.summary.as_str()]),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_same_tree(root.path(), &edited);

    let report = apply(root.path(), &inst, &ApplyOptions::default().force(true)).unwrap();
    assert_eq!(
        report.entries()[0].outcome,
        Outcome::DoneWithNote(
            "the hand-edited version is kept at /nix/var/nixconf/edited/etc/nix/nix.conf.1"
                .to_owned()
        )
    );
    assert_eq!(fs::read_to_string(&conf).unwrap(), NIX_CONF);
    let copy = root
        .path()
        .join("nix/var/nixconf/edited/etc/nix/nix.conf.1");
    assert_eq!(
        fs::read_to_string(&copy).unwrap(),
        "sandbox = true\nmax-jobs = 8\n"
    );

    // Revert restores the original, and keeps the copy of the hand edit.
    let report = revert(root.path()).unwrap();
    assert!(report.is_success(), "{}", report.describe());
    assert!(report.describe().contains(
        "skipped: copy of a hand edit /nix/var/nixconf/edited/etc/nix/nix.conf.1 (kept: remove it yourself once you no longer need it)"
    ));
    fs::remove_dir_all(root.path().join("nix")).unwrap();
    assert_same_tree(root.path(), &before);
}

#[test]
fn revert_leaves_a_hand_edited_file_reports_it_and_carries_on() {
    let root = existing_root();
    let before = tree(root.path());
    let inst = typical(NIX_CONF);
    apply_ok(root.path(), &inst);
    let conf = root.path().join("etc/nix/nix.conf");
    fs::write(&conf, "hand edit\n").unwrap();

    let report = revert(root.path()).unwrap();
    assert_eq!(
        report.failures(),
        ["revert file /etc/nix/nix.conf: /etc/nix/nix.conf was edited by hand since nixconf wrote it; left in place (revert with force to restore the original, keeping a copy)"]
    );
    // Everything else was reverted; the receipt keeps the failed record.
    assert!(!root.path().join("etc/nix/registry.json").exists());
    assert!(!root.path().join("nix/var/nix").exists());
    assert_eq!(fs::read_to_string(&conf).unwrap(), "hand edit\n");

    // Reverting again with force finishes the job.
    let report = revert_with(root.path(), &RevertOptions::default().force(true)).unwrap();
    assert!(report.is_success(), "{}", report.describe());
    assert_eq!(
        fs::read_to_string(&conf).unwrap(),
        "build-users-group = nixbld\n"
    );
    assert_eq!(fs::metadata(&conf).unwrap().mode() & 0o7777, 0o600);
    fs::remove_dir_all(root.path().join("nix")).unwrap();
    assert_same_tree(root.path(), &before);
}

#[test]
fn dry_run_changes_nothing_and_lists_what_it_would_do() {
    let root = existing_root();
    let before = tree(root.path());
    let report = apply(
        root.path(),
        &typical(NIX_CONF),
        &ApplyOptions::default().dry_run(true),
    )
    .unwrap();
    assert!(!report.changed_anything());
    assert!(report
        .describe()
        .starts_with("skipped: create directory /nix/var/nix/gcroots/per-user (mode 0755, owner root:root) (dry run)\n"));
    assert_same_tree(root.path(), &before);
}

#[test]
fn symlinked_etc_nix_out_of_the_root_is_refused_and_nothing_changes() {
    let outside = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    fs::create_dir(root.path().join("etc")).unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("etc/nix")).unwrap();
    let before = tree(root.path());
    let err = apply(root.path(), &typical(NIX_CONF), &ApplyOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "nothing was changed, because:\n  - /etc/nix/nix.conf: /etc/nix is a symlink to "
        ),
        "{text}"
    );
    assert!(
        text.contains("which does not exist under the root; refusing to follow it"),
        "{text}"
    );
    assert_same_tree(root.path(), &before);
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

/// Two build users of group `nixbld`, planned against `root`'s accounts.
fn two_build_users(root: &Path) -> BuildUsers {
    let request = PoolRequest::builder(Platform::Linux)
        .count(2)
        .build()
        .unwrap();
    BuildUsers::plan(root, &request).unwrap()
}

/// A root with the account files the shadow tools edit.
fn accounts_root() -> tempfile::TempDir {
    let root = existing_root();
    let r = root.path();
    fs::write(r.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    fs::write(r.join("etc/group"), "root:x:0:\n").unwrap();
    fs::write(r.join("etc/shadow"), "root:*:19700:0:99999:7:::\n").unwrap();
    fs::write(r.join("etc/gshadow"), "root:*::\n").unwrap();
    root
}

/// The build users are an action like the others: planned, journaled in
/// the receipt, and undone by a plain `revert`, with nothing to register.
#[test]
fn build_users_journal_is_kept_in_the_receipt_and_undone_by_revert() {
    let root = accounts_root();
    let before = tree(root.path());
    let inst = typical(NIX_CONF).build_users(two_build_users(root.path()));
    let p = plan(root.path(), &inst, &PlanOptions::default()).unwrap();
    let users = p
        .actions()
        .iter()
        .find(|a| a.kind == ActionKind::BuildUsers)
        .unwrap();
    assert!(
        users
            .summary
            .starts_with("build users: group nixbld (gid 30000): create"),
        "{}",
        users.summary
    );
    apply_ok(root.path(), &inst);
    assert!(fs::read_to_string(root.path().join("etc/passwd"))
        .unwrap()
        .contains("\nnixbld2:x:30002:30000:"));
    let receipt = fs::read_to_string(root.path().join("nix/var/nixconf/receipt.json")).unwrap();
    assert!(receipt.contains("\"action\": \"build users\""), "{receipt}");
    revert_ok(root.path());
    assert_same_tree(root.path(), &before);
}

/// A receipt journal of an action this program does not know (written by
/// another program) is reported by revert and kept in the receipt.
#[test]
fn unknown_journal_in_the_receipt_is_reported_and_kept() {
    let root = tempfile::tempdir().unwrap();
    apply_ok(root.path(), &typical(NIX_CONF));
    let receipt_path = root.path().join("nix/var/nixconf/receipt.json");
    let mut receipt: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&receipt_path).unwrap()).unwrap();
    receipt["records"].as_array_mut().unwrap().push(
        serde_json::json!({"kind": "external", "action": "users", "journal": {"appended": "x"}}),
    );
    fs::write(&receipt_path, receipt.to_string()).unwrap();
    let report = revert(root.path()).unwrap();
    assert_eq!(
        report.failures(),
        ["revert users: no way to undo 'users' is known to this program; its journal stays in the receipt"]
    );
    assert!(fs::read_to_string(&receipt_path)
        .unwrap()
        .contains("\"action\": \"users\""));
}

#[test]
fn switching_from_nix_1x_to_2x_retires_the_legacy_layout() {
    let root = tempfile::tempdir().unwrap();
    let before = tree(root.path());
    let legacy = Installation::new().nix_state_layout(&"1.5.3".parse().unwrap());
    let modern = Installation::new().nix_state_layout(&"2.18.1".parse().unwrap());
    apply_ok(root.path(), &legacy);
    assert_eq!(
        fs::metadata(root.path().join("nix/var/nix/gcroots/per-user"))
            .unwrap()
            .mode()
            & 0o7777,
        0o1777
    );
    let p = plan(root.path(), &modern, &PlanOptions::default()).unwrap();
    let text = p.describe();
    assert!(
        text.contains("/nix/var/nix/gcroots/manifests is no longer configured: remove it\n"),
        "{text}"
    );
    assert!(
        text.contains("remove directory /nix/var/nix/temproots if empty (no longer configured)\n"),
        "{text}"
    );
    assert!(
        text.contains("change directory /nix/var/nix/gcroots/per-user: mode 1777 -> 0755\n"),
        "{text}"
    );
    assert!(
        text.contains("create directory /nix/var/nix/daemon-socket (mode 0755, owner root:root)\n"),
        "{text}"
    );
    apply_ok(root.path(), &modern);
    assert!(up_to_date(root.path(), &modern));
    assert!(!root.path().join("nix/var/nix/temproots").exists());
    assert!(!root.path().join("nix/var/log").exists());
    assert_eq!(
        fs::metadata(root.path().join("nix/var/nix/gcroots/per-user"))
            .unwrap()
            .mode()
            & 0o7777,
        0o755
    );
    revert_ok(root.path());
    assert_same_tree(root.path(), &before);
}

#[test]
fn a_symlink_becoming_a_file_retires_the_symlink_first() {
    let root = tempfile::tempdir().unwrap();
    let before = tree(root.path());
    let link = Installation::new().symlink(DesiredSymlink::new(
        "etc/nix/nix.conf",
        "/etc/static/nix/nix.conf",
    ));
    apply_ok(root.path(), &link);
    let file = Installation::new().file(DesiredFile::new("etc/nix/nix.conf", NIX_CONF));
    let kinds: Vec<(ActionKind, Status)> = plan(root.path(), &file, &PlanOptions::default())
        .unwrap()
        .actions()
        .iter()
        .map(|a| (a.kind, a.status))
        .collect();
    assert_eq!(
        kinds,
        [
            (ActionKind::Retire, Status::Pending),
            (ActionKind::File, Status::Pending)
        ]
    );
    apply_ok(root.path(), &file);
    assert!(up_to_date(root.path(), &file));
    revert_ok(root.path());
    assert_same_tree(root.path(), &before);
}

#[test]
fn interrupted_update_converges_and_still_reverts_to_the_start() {
    let v1 = typical(NIX_CONF);
    // Changes nix.conf, adds machines, drops registry.json (retired).
    let v2 = Installation::new()
        .nix_state_layout(&"2.18.1".parse().unwrap())
        .root_channel("https://nixos.org/channels/nixos-23.05")
        .file(DesiredFile::new("etc/nix/nix.conf", "sandbox = false\n").restarts_daemon())
        .file(DesiredFile::new(
            "etc/tmpfiles.d/nix-daemon.conf",
            "d /nix/var/nix/daemon-socket 0755 root root - -\n",
        ))
        .file(DesiredFile::new(
            "etc/nix/machines",
            "ssh://b x86_64-linux\n",
        ));
    let reference = existing_root();
    apply_ok(reference.path(), &v1);
    apply_ok(reference.path(), &v2);
    let expected = tree(reference.path());
    for step in 1.. {
        let root = existing_root();
        let before = tree(root.path());
        apply_ok(root.path(), &v1);
        let mut failing = ApplyOptions::default();
        failing.fail_after = Some(step);
        match apply(root.path(), &v2, &failing) {
            Ok(_) => break,
            Err(Error::InjectedFailure(n)) => assert_eq!(n, step),
            Err(e) => panic!("step {step}: {e}"),
        }
        apply_ok(root.path(), &v2);
        let diffs: Vec<String> = tree(root.path())
            .differences(&expected)
            .into_iter()
            .filter(|d| !d.starts_with("/nix/var/nixconf/receipt.json"))
            .collect();
        assert!(diffs.is_empty(), "step {step}: {diffs:?}");
        assert!(up_to_date(root.path(), &v2), "step {step}");
        revert_ok(root.path());
        assert_same_tree(root.path(), &before);
    }
}

#[test]
fn directory_owner_is_enforced_and_restored() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("nix/var/nix/daemon-socket");
    fs::create_dir_all(&dir).unwrap();
    if std::os::unix::fs::chown(&dir, Some(1234), Some(1234)).is_err() {
        eprintln!("directory_owner_is_enforced_and_restored: NOT RUN: changing owners needs root");
        return;
    }
    let before = tree(root.path());
    let inst = Installation::new()
        .directory(DesiredDir::new("nix/var/nix/daemon-socket", 0o755).owned_by("root", "root"));
    let options = PlanOptions::default().ownership(Ownership::Enforce);
    let p = plan(root.path(), &inst, &options).unwrap();
    assert_eq!(
        p.describe(),
        "change directory /nix/var/nix/daemon-socket: owner 1234:1234 -> root:root\n\n1 to do, 0 up to date\n"
    );
    apply(
        root.path(),
        &inst,
        &ApplyOptions::default().plan_options(options.clone()),
    )
    .unwrap();
    assert_eq!(fs::metadata(&dir).unwrap().uid(), 0);
    assert!(plan(root.path(), &inst, &options).unwrap().is_up_to_date());
    revert_ok(root.path());
    assert_same_tree(root.path(), &before);
}

#[test]
fn unknown_owner_is_an_error_naming_the_directory() {
    let root = tempfile::tempdir().unwrap();
    let inst = Installation::new()
        .directory(DesiredDir::new("nix/var/x", 0o755).owned_by("nobody-here", "root"));
    let err = plan(
        root.path(),
        &inst,
        &PlanOptions::default().ownership(Ownership::Enforce),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "nix/var/x: owner 'nobody-here' is not in the root's /etc/passwd"
    );
}

#[test]
fn receipt_of_another_version_is_refused() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("nix/var/nixconf")).unwrap();
    fs::write(
        root.path().join("nix/var/nixconf/receipt.json"),
        "{\"version\": 7}",
    )
    .unwrap();
    let err = plan(root.path(), &typical(NIX_CONF), &PlanOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("version 7 is not the version 1 this nixconf understands; use the nixconf that wrote it"), "{err}");
}

#[test]
fn revert_without_a_receipt_says_nothing_was_applied() {
    let root = tempfile::tempdir().unwrap();
    let err = revert(root.path()).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "nix/var/nixconf/receipt.json: nixconf has not applied anything to this root"
        ),
        "{err}"
    );
}

#[test]
fn plan_json_lists_every_action_with_its_status() {
    let root = existing_root();
    let p = plan(root.path(), &typical(NIX_CONF), &PlanOptions::default()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["warnings"], serde_json::json!([]));
    assert_eq!(json["up_to_date"], false);
    let actions = json["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 8);
    assert_eq!(actions[3]["kind"], "file");
    assert_eq!(actions[3]["path"], "/etc/nix/nix.conf");
    assert_eq!(actions[3]["status"], "pending");
    assert_eq!(
        actions[3]["summary"],
        "replace file /etc/nix/nix.conf (mode 0600: the configured 0644 narrowed by the 0600 of the file it replaces, never more readable; the current one is backed up)"
    );
    assert!(actions[3]["diff"]
        .as_str()
        .unwrap()
        .starts_with("--- /etc/nix/nix.conf\n"));
    assert_eq!(actions[7]["kind"], "restart_daemon");
}

#[test]
fn only_if_absent_file_is_left_alone_when_present() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir(root.path().join("root")).unwrap();
    fs::write(root.path().join("root/.nix-channels"), "mine\n").unwrap();
    let inst = Installation::new().root_channel("https://nixos.org/channels/nixos-23.05");
    assert!(up_to_date(root.path(), &inst));
    assert_eq!(
        plan(root.path(), &inst, &PlanOptions::default())
            .unwrap()
            .actions()[0]
            .summary,
        "file /root/.nix-channels exists; left as it is"
    );
}

#[test]
fn failing_build_users_action_names_itself_and_what_was_done_reverts() {
    let root = accounts_root();
    let before = tree(root.path());
    let inst = typical(NIX_CONF).build_users(two_build_users(root.path()));
    // The accounts change after the users were planned: the users crate
    // refuses to carry out a plan made against other files.
    let passwd = root.path().join("etc/passwd");
    let edited = "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
    fs::write(&passwd, edited).unwrap();
    let err = apply(root.path(), &inst, &ApplyOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("build users: group nixbld"), "{err}");
    assert!(
        err.ends_with("(what was done so far is recorded: apply again to resume, or revert)"),
        "{err}"
    );
    // The build users run first: the files after them were not touched.
    assert_eq!(
        fs::read_to_string(root.path().join("etc/nix/nix.conf")).unwrap(),
        "build-users-group = nixbld\n"
    );
    assert!(!root.path().join("etc/nix/registry.json").exists());
    revert_ok(root.path());
    fs::write(&passwd, "root:x:0:0::/root:/bin/sh\n").unwrap();
    assert_same_tree(root.path(), &before);
}

/// The daemon-socket directory of the state layout is exactly what the
/// tmpfiles rule creates: after `systemd-tmpfiles --create` on the applied
/// root, nothing is left to do, and the other way round.
#[test]
fn state_layout_agrees_with_systemd_tmpfiles() {
    let tmpfiles = Path::new("/usr/bin/systemd-tmpfiles");
    if !tmpfiles.exists() {
        eprintln!("state_layout_agrees_with_systemd_tmpfiles: NOT RUN: systemd-tmpfiles is not installed (apt install systemd)");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let rule = Installation::new().file(DesiredFile::new(
        "etc/tmpfiles.d/nix-daemon.conf",
        "d /nix/var/nix/daemon-socket 0755 root root - -\n",
    ));
    apply_ok(root.path(), &rule);
    let status = std::process::Command::new(tmpfiles)
        .arg(format!("--root={}", root.path().display()))
        .arg("--create")
        .status()
        .unwrap();
    assert!(status.success(), "systemd-tmpfiles failed: {status}");
    let dir = DesiredDir::new("nix/var/nix/daemon-socket", 0o755).owned_by("root", "root");
    let with_dir = Installation::new()
        .file(DesiredFile::new(
            "etc/tmpfiles.d/nix-daemon.conf",
            "d /nix/var/nix/daemon-socket 0755 root root - -\n",
        ))
        .directory(dir);
    let p = plan(root.path(), &with_dir, &PlanOptions::default()).unwrap();
    assert!(p.is_up_to_date(), "{}", p.describe());
}

#[test]
fn empty_state_directory_left_by_a_killed_first_run_is_adopted() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("nix/var")).unwrap();
    let before = tree(root.path());
    // A first run killed right after making its state directory.
    fs::create_dir(root.path().join("nix/var/nixconf")).unwrap();
    apply_ok(root.path(), &typical(NIX_CONF));
    revert_ok(root.path());
    assert_same_tree(root.path(), &before);
}
