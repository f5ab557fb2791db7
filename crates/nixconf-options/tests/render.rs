//! Rendering to a root directory, and the nix-daemon drop-in as systemd
//! reads it.

use std::path::Path;
use std::process::Command;

use nixconf_options::{evaluate_file, render_into, Error, Format, DROP_IN_PATH};

mod common;
use common::eval_2023;

fn example() -> nixconf_options::Evaluation {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/nixconf.toml");
    evaluate_file(&path).expect("the shipped example evaluates")
}

fn tree(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn render_writes_every_file_and_nothing_else() {
    let eval = example();
    let root = tempfile::tempdir().unwrap();
    let written = render_into(&eval, root.path()).unwrap();
    assert_eq!(written.len(), 7);
    assert_eq!(
        tree(root.path()),
        [
            "etc/nix/machines",
            "etc/nix/nix.conf",
            "etc/nix/registry.json",
            "etc/profile.d/nixconf.sh",
            "etc/systemd/system/nix-daemon.service.d/nixconf.conf",
            "etc/tmpfiles.d/nix-daemon.conf",
            "root/.nix-channels",
        ]
    );
    for file in eval.files() {
        let on_disk = std::fs::read_to_string(root.path().join(&file.path)).unwrap();
        assert_eq!(on_disk, file.contents, "{}", file.path);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(root.path().join(&file.path))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o644, "{}", file.path);
    }
}

#[test]
fn an_existing_channel_subscription_is_left_alone() {
    let eval = example();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("root")).unwrap();
    std::fs::write(root.path().join("root/.nix-channels"), "mine\n").unwrap();
    let written = render_into(&eval, root.path()).unwrap();
    assert_eq!(written.len(), 6);
    let kept = std::fs::read_to_string(root.path().join("root/.nix-channels")).unwrap();
    assert_eq!(kept, "mine\n");
}

#[test]
fn failed_assertions_write_nothing() {
    let config = r#"
nixVersion = "2.18.1"
[[nix.buildMachines]]
hostName = "nosystem"
"#;
    let eval = eval_2023(config, Format::Toml, "c.toml").unwrap();
    assert_eq!(eval.failed_assertions.len(), 1);
    let root = tempfile::tempdir().unwrap();
    let err = render_into(&eval, root.path()).unwrap_err();
    assert!(matches!(err, Error::FailedAssertions(_)), "{err}");
    assert!(tree(root.path()).is_empty());
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
}

#[test]
fn a_disabled_nix_renders_nothing() {
    let eval = eval_2023(
        "nixVersion = \"2.18.1\"\nnix.enable = false\n",
        Format::Toml,
        "c.toml",
    )
    .unwrap();
    assert!(eval.files().is_empty());
}

#[test]
fn drop_in_environment_is_quoted_for_systemd() {
    let config = r#"
nixVersion = "2.18.1"
[nix.envVars]
ODD = "a \"quoted\" 100% \\ value"
"#;
    let eval = eval_2023(config, Format::Toml, "c.toml").unwrap();
    let drop_in = eval.drop_in();
    assert!(
        drop_in.contains("Environment=\"ODD=a \\\"quoted\\\" 100%% \\\\ value\"\n"),
        "{drop_in}"
    );
}

/// `systemd-analyze verify` on a minimal nix-daemon.service plus `drop_in`:
/// systemd must accept every line of it. (verify exits 0 even when it
/// ignores a line, so its complaints about the files are what counts:
/// "nixconf.conf:3: Invalid syntax, ignoring".) `false` when
/// systemd-analyze is not installed, said loudly.
fn systemd_verifies(drop_in: &str) -> bool {
    let Ok(out) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!(
            "\n*** SKIPPED: systemd-analyze is not installed (apt-get install systemd); \
             the nix-daemon drop-in was NOT verified ***\n"
        );
        return false;
    };
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let units = dir.path().join("units");
    std::fs::create_dir_all(units.join("nix-daemon.service.d")).unwrap();
    std::fs::write(
        units.join("nix-daemon.service"),
        "[Unit]\nDescription=Nix Daemon\n\n[Service]\nExecStart=/bin/true\n",
    )
    .unwrap();
    let drop_in_name = Path::new(DROP_IN_PATH).file_name().unwrap();
    std::fs::write(
        units.join("nix-daemon.service.d").join(drop_in_name),
        drop_in,
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(units.join("nix-daemon.service"))
        .env("SYSTEMD_UNIT_PATH", format!("{}:", units.display()))
        .env("SYSTEMD_LOG_LEVEL", "warning")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let relevant: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("nix-daemon") || l.contains("nixconf.conf"))
        .collect();
    assert!(
        out.status.success() && relevant.is_empty(),
        "systemd-analyze verify: {} {stderr}",
        out.status
    );
    true
}

#[test]
fn systemd_accepts_the_drop_in() {
    let config = r#"
nixVersion = "2.18.1"
nix.daemonCPUSchedPolicy = "idle"
nix.daemonIOSchedClass = "idle"
nix.daemonIOSchedPriority = 7
[nix.envVars]
ODD = "a \"quoted\" 100% \\ value $HOME"
[networking.proxy.envVars]
https_proxy = "http://proxy:3128"
"#;
    let eval = eval_2023(config, Format::Toml, "c.toml").unwrap();
    systemd_verifies(&eval.drop_in());
}

#[test]
fn systemd_accepts_the_nix_1_drop_in() {
    let config = r#"
nixVersion = "1.11.16"
[nix]
daemonNiceLevel = -20
daemonIONiceLevel = 7
proxy = "http://proxy:3128"
distributedBuilds = true
manualNixMachines = true
"#;
    let eval = nixconf_options::evaluate(config, Format::Toml, "c.toml").unwrap();
    let drop_in = eval.drop_in();
    assert!(drop_in.contains("\nNice=-20\nIOSchedulingPriority=7\nLimitNOFILE=4096\n"));
    systemd_verifies(&drop_in);
}

#[test]
fn render_into_a_new_directory_appears_whole_in_one_rename() {
    let eval = example();
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("out");
    let written = render_into(&eval, &out).unwrap();
    assert_eq!(written.len(), 7);
    assert_eq!(tree(&out).len(), 7);
    // Nothing but the directory itself beside it: no staging left.
    let beside: Vec<_> = std::fs::read_dir(parent.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["out"]);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&out).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o755);
}

#[test]
fn a_failure_half_way_puts_back_what_was_already_replaced() {
    let eval = example();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc/nix")).unwrap();
    std::fs::write(root.path().join("etc/nix/nix.conf"), "old\n").unwrap();
    // A file where a directory must go: the drop-in cannot be written.
    std::fs::write(root.path().join("etc/systemd"), "in the way\n").unwrap();
    let before = tree(root.path());
    let err = render_into(&eval, root.path()).unwrap_err();
    assert!(matches!(err, Error::Write { .. }), "{err}");
    assert_eq!(tree(root.path()), before);
    assert_eq!(
        std::fs::read_to_string(root.path().join("etc/nix/nix.conf")).unwrap(),
        "old\n"
    );
    assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);

    // A non-empty directory where a file goes, late in the list: refused
    // before any file is renamed into place.
    std::fs::remove_file(root.path().join("etc/systemd")).unwrap();
    std::fs::create_dir_all(root.path().join("etc/tmpfiles.d/nix-daemon.conf/x")).unwrap();
    let before = tree(root.path());
    let err = render_into(&eval, root.path()).unwrap_err().to_string();
    assert!(err.contains("a directory is in the way"), "{err}");
    assert_eq!(tree(root.path()), before);
    assert_eq!(
        std::fs::read_to_string(root.path().join("etc/nix/nix.conf")).unwrap(),
        "old\n"
    );
}

#[test]
fn a_symlink_leading_out_of_the_output_directory_is_refused() {
    let eval = example();
    let outside = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("keep"), "x").unwrap();
    std::os::unix::fs::symlink(outside.path(), root.path().join("etc")).unwrap();
    let err = render_into(&eval, root.path()).unwrap_err().to_string();
    assert!(err.contains("outside the output directory"), "{err}");
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_eq!(tree(root.path()), ["keep"]);
}
