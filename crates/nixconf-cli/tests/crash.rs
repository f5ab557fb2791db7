//! A kill at every durable step of `nixconf apply` and `nixconf revert`
//! (the `NIXCONF_FAILPOINT=N` hook aborts the process right before its
//! Nth write, rename, chmod, chown, mkdir, unlink or spawn), then the
//! same command again: apply converges (`plan` says up to date), revert
//! gives the starting tree back byte for byte, and no temporary is left.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use nixconf_activation::Tree;

const CONFIG: &str = "nixVersion = \"2.18.1\"\n[nix]\nnrBuildUsers = 2\n[nix.settings]\nmax-jobs = 2\naccess-tokens = \"github.com=secret\"\n";

fn nixconf(args: &[&str], failpoint: Option<usize>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nixconf"));
    cmd.args(args).stdin(Stdio::null());
    if let Some(n) = failpoint {
        cmd.env("NIXCONF_FAILPOINT", n.to_string());
    }
    cmd.output().expect("nixconf runs")
}

fn killed(out: &Output) -> bool {
    out.status.signal() == Some(6)
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A root with accounts and a private nix.conf to replace.
fn setup(dir: &Path) -> (String, String) {
    let root = dir.join("root");
    fs::create_dir_all(root.join("etc/nix")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    fs::write(
        root.join("etc/nix/nix.conf"),
        "access-tokens = github.com=old\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(
        root.join("etc/nix/nix.conf"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let config = dir.join("config.toml");
    fs::write(&config, CONFIG).unwrap();
    (root.display().to_string(), config.display().to_string())
}

fn temporaries(root: &Path) -> Vec<String> {
    Tree::capture(root)
        .unwrap()
        .entries()
        .keys()
        .filter(|p| p.contains("nixconf-tmp") || p.ends_with("/nix/var/nixconf/lock"))
        .cloned()
        .collect()
}

fn assert_back_to(root: &str, before: &Tree, when: &str) {
    let diffs = Tree::capture(Path::new(root)).unwrap().differences(before);
    assert!(diffs.is_empty(), "{when}: {diffs:?}");
}

#[test]
fn a_kill_at_every_step_of_apply_then_apply_converges_and_revert_restores() {
    for n in 1.. {
        let dir = tempfile::tempdir().unwrap();
        let (root, config) = setup(dir.path());
        let before = Tree::capture(Path::new(&root)).unwrap();
        let apply = ["apply", "--config", &config, "--root", &root, "--yes"];
        let out = nixconf(&apply, Some(n));
        if !killed(&out) {
            ok(&out, "apply never reaching the failpoint");
            assert!(n > 10, "only {n} durable steps?");
            break;
        }
        assert!(n < 500, "apply never finished");
        ok(
            &nixconf(&apply, None),
            &format!("apply after a kill at {n}"),
        );
        let plan = nixconf(&["plan", "--config", &config, "--root", &root], None);
        assert_eq!(
            String::from_utf8_lossy(&plan.stdout),
            "up to date\n",
            "kill at {n}"
        );
        assert_eq!(
            temporaries(Path::new(&root)),
            Vec::<String>::new(),
            "kill at {n}"
        );
        ok(
            &nixconf(&["revert", "--root", &root], None),
            &format!("revert, kill at {n}"),
        );
        assert_back_to(
            &root,
            &before,
            &format!("apply killed at {n}, applied, reverted"),
        );
    }
}

#[test]
fn a_kill_at_every_step_of_revert_then_revert_restores() {
    for n in 1.. {
        let dir = tempfile::tempdir().unwrap();
        let (root, config) = setup(dir.path());
        let before = Tree::capture(Path::new(&root)).unwrap();
        ok(
            &nixconf(
                &["apply", "--config", &config, "--root", &root, "--yes"],
                None,
            ),
            "apply",
        );
        let out = nixconf(&["revert", "--root", &root], Some(n));
        if !killed(&out) {
            ok(&out, "revert never reaching the failpoint");
            assert!(n > 5, "only {n} durable steps?");
            break;
        }
        assert!(n < 500, "revert never finished");
        let again = nixconf(&["revert", "--root", &root], None);
        let text = String::from_utf8_lossy(&again.stderr);
        // Killed after the receipt went: nothing is left to revert, and
        // the temporaries are gone all the same.
        if !text.contains("no receipt at") {
            ok(&again, &format!("revert after a kill at {n}"));
        }
        assert_back_to(
            &root,
            &before,
            &format!("revert killed at {n}, reverted again"),
        );
    }
}
