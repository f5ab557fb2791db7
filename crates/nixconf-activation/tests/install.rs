//! A whole configuration, build users included, through plan, apply and
//! revert; killed after every step; and the generated units checked by
//! the real systemd tools.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use nixconf_activation::{
    apply, parse_config, plan, revert, ApplyOptions, Error, Installation, PlanOptions, Tree,
};
use nixconf_options::Format;

const CONFIG: &str = r#"
generation = "2023"
nixVersion = "2.18.1"

[nix]
nrBuildUsers = 3

[nix.settings]
max-jobs = 3
trusted-users = ["root", "@sudo"]

[[nix.buildMachines]]
hostName = "builder.example.org"
system = "aarch64-linux"
maxJobs = 2

[users]
adoptExistingGroup = true
"#;

/// A Debian-like root: accounts, /root, a hand-written nix.conf.
fn debian_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    fs::create_dir_all(r.join("etc/nix")).unwrap();
    fs::create_dir(r.join("root")).unwrap();
    fs::set_permissions(r.join("root"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(
        r.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n",
    )
    .unwrap();
    fs::write(r.join("etc/group"), "root:x:0:\nalice:x:1000:\n").unwrap();
    fs::write(
        r.join("etc/shadow"),
        "root:*:19700:0:99999:7:::\nalice:!:19700:0:99999:7:::\n",
    )
    .unwrap();
    fs::write(r.join("etc/gshadow"), "root:*::\nalice:!::\n").unwrap();
    fs::write(r.join("etc/nix/nix.conf"), "build-users-group = nixbld\n").unwrap();
    root
}

fn installation(root: &Path) -> Installation {
    parse_config(CONFIG, Format::Toml, "config.toml")
        .unwrap()
        .installation(root)
        .unwrap()
}

fn without_receipt(diffs: Vec<String>) -> Vec<String> {
    diffs
        .into_iter()
        .filter(|d| !d.starts_with("/nix/var/nixconf/receipt.json"))
        .collect()
}

#[test]
fn killed_after_every_step_a_whole_installation_converges_and_reverts() {
    let reference = debian_root();
    let before = Tree::capture(reference.path()).unwrap();
    apply(
        reference.path(),
        &installation(reference.path()),
        &ApplyOptions::default(),
    )
    .unwrap();
    let after = Tree::capture(reference.path()).unwrap();
    assert!(fs::read_to_string(reference.path().join("etc/passwd"))
        .unwrap()
        .contains("nixbld3:x:30003:30000:Nix build user 3:"));

    let mut interrupted = 0;
    for step in 1.. {
        assert!(step < 500, "apply never finished under failure injection");
        let resumed = debian_root();
        let reverted = debian_root();
        let mut failing = ApplyOptions::default();
        failing.fail_after = Some(step);
        match apply(resumed.path(), &installation(resumed.path()), &failing) {
            Ok(_) => break,
            Err(Error::InjectedFailure(n)) => assert_eq!(n, step),
            Err(e) => panic!("step {step}: {e}"),
        }
        interrupted += 1;
        let _ = apply(reverted.path(), &installation(reverted.path()), &failing);

        // Applying again converges on what an uninterrupted apply makes.
        apply(
            resumed.path(),
            &installation(resumed.path()),
            &ApplyOptions::default(),
        )
        .unwrap_or_else(|e| panic!("resuming after step {step}: {e}"));
        let diffs = without_receipt(Tree::capture(resumed.path()).unwrap().differences(&after));
        assert!(diffs.is_empty(), "step {step}: {diffs:?}");
        let p = plan(
            resumed.path(),
            &installation(resumed.path()),
            &PlanOptions::default(),
        )
        .unwrap();
        assert!(p.is_up_to_date(), "step {step}:\n{}", p.describe());

        for (root, what) in [(&resumed, "resumed"), (&reverted, "interrupted")] {
            let report = revert(root.path()).unwrap();
            assert!(
                report.is_success(),
                "{what} at {step}: {:?}",
                report.failures()
            );
            let diffs = Tree::capture(root.path()).unwrap().differences(&before);
            assert!(diffs.is_empty(), "{what} at step {step}: {diffs:?}");
        }
    }
    // Receipt writes, directories, the backup, files, and the users'
    // intent and journal: many places to be killed at.
    assert!(interrupted > 20, "only {interrupted} steps");
}

#[test]
fn a_uid_clash_blocks_the_whole_apply_with_the_users_crate_fix() {
    let root = debian_root();
    let passwd = root.path().join("etc/passwd");
    let mut text = fs::read_to_string(&passwd).unwrap();
    text.push_str("postgres:x:30002:30002::/var/lib/postgresql:/bin/bash\n");
    fs::write(&passwd, text).unwrap();
    let before = Tree::capture(root.path()).unwrap();
    let inst = installation(root.path());
    let p = plan(root.path(), &inst, &PlanOptions::default()).unwrap();
    assert_eq!(
        p.problems(false),
        ["build users: uid 30002 for build user nixbld2 is held by account postgres (etc/passwd:3); \
          fix: set ids.uids.nixbld = 30002: uids 30003-30005 are free (`nixconf users free-range --count 3` finds such a base)"]
    );
    let err = apply(root.path(), &inst, &ApplyOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Refused { .. }), "{err}");
    assert!(Tree::capture(root.path())
        .unwrap()
        .differences(&before)
        .is_empty());
}

#[test]
fn the_socket_enablement_points_at_the_distribution_unit_when_there_is_one() {
    let root = debian_root();
    let unit = "etc/systemd/system/sockets.target.wants/nix-daemon.socket";
    let target = |root: &Path| {
        let p = plan(root, &installation(root), &PlanOptions::default()).unwrap();
        p.actions()
            .iter()
            .find(|a| a.path.as_deref() == Some(&format!("/{unit}")))
            .map(|a| a.summary.clone())
            .unwrap()
    };
    assert_eq!(
        target(root.path()),
        format!("create symlink /{unit} -> /nix/var/nix/profiles/default/lib/systemd/system/nix-daemon.socket")
    );
    fs::create_dir_all(root.path().join("usr/lib/systemd/system")).unwrap();
    fs::write(
        root.path().join("usr/lib/systemd/system/nix-daemon.socket"),
        "",
    )
    .unwrap();
    assert_eq!(
        target(root.path()),
        format!("create symlink /{unit} -> /usr/lib/systemd/system/nix-daemon.socket")
    );
    std::os::unix::fs::symlink("usr/lib", root.path().join("lib")).unwrap();
    assert_eq!(
        target(root.path()),
        format!("create symlink /{unit} -> /lib/systemd/system/nix-daemon.socket")
    );
}

fn tool(name: &str) -> Option<std::path::PathBuf> {
    ["/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

/// The generated drop-in, on top of Debian's nix-daemon.service, passes
/// `systemd-analyze verify`.
#[test]
fn generated_drop_in_passes_systemd_analyze_verify() {
    let Some(analyze) = tool("systemd-analyze") else {
        eprintln!("generated_drop_in_passes_systemd_analyze_verify: NOT RUN: systemd-analyze is not installed (apt install systemd)");
        return;
    };
    let root = debian_root();
    apply(
        root.path(),
        &installation(root.path()),
        &ApplyOptions::default(),
    )
    .unwrap();
    let units = tempfile::tempdir().unwrap();
    // The unit as Debian's nix-bin ships it, with an ExecStart that
    // exists here so that verify checks the unit and not the install.
    fs::write(
        units.path().join("nix-daemon.service"),
        "[Unit]\nDescription=Nix Daemon\nRequiresMountsFor=/nix/store\n\n[Service]\nExecStart=@/bin/true nix-daemon --daemon\nKillMode=process\n\n[Install]\nWantedBy=multi-user.target\n",
    )
    .unwrap();
    let drop_in_dir = units.path().join("nix-daemon.service.d");
    fs::create_dir(&drop_in_dir).unwrap();
    fs::copy(
        root.path().join(nixconf_options::DROP_IN_PATH),
        drop_in_dir.join("nixconf.conf"),
    )
    .unwrap();
    let out = Command::new(&analyze)
        .arg("verify")
        .arg(units.path().join("nix-daemon.service"))
        .env("SYSTEMD_UNIT_PATH", format!("{}:", units.path().display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{stderr}"
    );
    assert!(
        !stderr.contains("nixconf.conf"),
        "warnings about the drop-in:\n{stderr}"
    );
    // It read our drop-in: a broken line in it is reported.
    fs::write(
        drop_in_dir.join("nixconf.conf"),
        "[Service]\nLimitNOFILE=lots\n",
    )
    .unwrap();
    let out = Command::new(&analyze)
        .arg("verify")
        .arg(units.path().join("nix-daemon.service"))
        .env("SYSTEMD_UNIT_PATH", format!("{}:", units.path().display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nixconf.conf:2: Failed to parse resource value"),
        "{stderr}"
    );
}

/// `systemd-tmpfiles --root=DIR --create` with the generated rule makes
/// the daemon-socket directory.
#[test]
fn generated_tmpfiles_rule_creates_the_socket_directory() {
    let Some(tmpfiles) = tool("systemd-tmpfiles") else {
        eprintln!("generated_tmpfiles_rule_creates_the_socket_directory: NOT RUN: systemd-tmpfiles is not installed (apt install systemd)");
        return;
    };
    let config = parse_config(CONFIG, Format::Toml, "config.toml").unwrap();
    let rendered = config
        .evaluation
        .files()
        .into_iter()
        .find(|f| f.path == "etc/tmpfiles.d/nix-daemon.conf")
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("etc/tmpfiles.d")).unwrap();
    fs::write(root.path().join(&rendered.path), &rendered.contents).unwrap();
    let status = Command::new(&tmpfiles)
        .arg(format!("--root={}", root.path().display()))
        .arg("--create")
        .arg(root.path().join(&rendered.path))
        .status()
        .unwrap();
    assert!(status.success(), "systemd-tmpfiles failed: {status}");
    let meta = fs::metadata(root.path().join("nix/var/nix/daemon-socket")).unwrap();
    assert!(meta.is_dir());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o755);
}

/// A distribution's daemon socket directory (Debian's `0770
/// root:nix-users`) is who may use the daemon: nixconf keeps it as it is,
/// and its tmpfiles rules go beside the package's file instead of
/// replacing it (a file of the same name in /etc would).
#[test]
fn the_distribution_socket_directory_and_tmpfiles_stay() {
    let root = debian_root();
    let r = root.path();
    let socket = r.join("nix/var/nix/daemon-socket");
    fs::create_dir_all(&socket).unwrap();
    fs::set_permissions(&socket, fs::Permissions::from_mode(0o770)).unwrap();
    let p = plan(r, &installation(r), &PlanOptions::default()).unwrap();
    let summary = |path: &str| {
        p.actions()
            .iter()
            .find(|a| a.path.as_deref() == Some(path))
            .map(|a| (a.status, a.summary.clone()))
    };
    let (status, text) = summary("/nix/var/nix/daemon-socket").unwrap();
    assert_eq!(status, nixconf_activation::Status::Done);
    assert!(text.contains("kept as it is: mode 0770"), "{text}");
    assert!(summary("/etc/tmpfiles.d/nix-daemon.conf").is_some());

    fs::create_dir_all(r.join("usr/lib/tmpfiles.d")).unwrap();
    fs::write(
        r.join("usr/lib/tmpfiles.d/nix-daemon.conf"),
        "d /nix/var/nix/daemon-socket 770 root nix-users\n",
    )
    .unwrap();
    let p = plan(r, &installation(r), &PlanOptions::default()).unwrap();
    let paths: Vec<&str> = p
        .actions()
        .iter()
        .filter_map(|a| a.path.as_deref())
        .collect();
    assert!(paths.contains(&"/etc/tmpfiles.d/nixconf.conf"), "{paths:?}");
    assert!(
        !paths.contains(&"/etc/tmpfiles.d/nix-daemon.conf"),
        "{paths:?}"
    );
    apply(r, &installation(r), &ApplyOptions::default()).unwrap();
    let mode = fs::metadata(&socket).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o770);
}
