//! nixconf's development tasks, run as `cargo xtask <task>`.
//!
//! - `test-fixtures`: run every fixture directory under `fixtures/` in
//!   parallel; one line per failure, then `N passed, M failed`.
//!   `UPDATE_EXPECT=1` rewrites the expected outputs of the project's own
//!   fixtures (never those of the vendored reference corpora).
//! - `codegen [--check]`: regenerate the nix.conf settings schema from
//!   `reference/*.tsv` (`--check` fails when the committed file is stale).
//! - `layout`: no circles between the modules of a crate, no hand-written
//!   source file over 800 lines.
//! - `ansible`: the Ansible collection's end-to-end test alone.
//! - `daemon`: the end-to-end test on the real nix-daemon alone
//!   (`xtask/e2e/debian-daemon.sh`: Debian's packages taken over, in a
//!   private mount namespace).
//! - `ci`: everything CI checks: formatting, the layout rules, clippy, unit and integration
//!   tests (every fixture kind runs under `cargo test`), docs, the Ansible
//!   collection's test (`contrib/ansible/tests/run.sh`), the real
//!   nix-daemon test, then a build of the `cargo fuzz` targets.

mod codegen;
mod kinds;
mod layout;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str);
    let result = match task {
        Some("test-fixtures") => run_fixtures(args.get(1).map(String::as_str)),
        Some("codegen") => codegen::run(
            &workspace_root(),
            args.get(1).is_some_and(|a| a == "--check"),
        ),
        Some("layout") => layout::run(&workspace_root()),
        Some("ansible") => ansible_test(),
        Some("daemon") => daemon_test(),
        Some("ci") => ci(),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n\
                 tasks:\n  \
                 test-fixtures [FILTER]  run every fixture under fixtures/ (UPDATE_EXPECT=1 rewrites our own)\n  \
                 codegen [--check]       regenerate the nix.conf settings schema from reference/*.tsv\n  \
                 layout                  no module circles, no hand-written source file over 800 lines\n  \
                 ansible                 the Ansible collection's test, contrib/ansible/tests/run.sh\n  \
                 daemon                  the end-to-end test on the real nix-daemon, xtask/e2e/debian-daemon.sh\n  \
                 ci                      formatting, layout, clippy, tests (fixtures included), docs, Ansible, daemon, fuzz build: what .ci/run runs"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::from(1)
        }
    }
}

/// The workspace root: the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo {} failed ({status})", args.join(" ")))
    }
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"], &[])?;
    layout::run(&workspace_root())?;
    cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    cargo(&["test", "--workspace"], &[])?;
    cargo(
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    ansible_test()?;
    daemon_test()?;
    fuzz_build()
}

/// The debug `nixconf` binary, built.
fn nixconf_binary() -> Result<PathBuf, String> {
    cargo(&["build", "-p", "nixconf-cli"], &[])?;
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|t| root.join(t))
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("debug").join("nixconf"))
}

/// Run a test script of the repository with the debug `nixconf` binary.
fn run_script(script: &str) -> Result<(), String> {
    let binary = nixconf_binary()?;
    let root = workspace_root();
    let script = root.join(script);
    eprintln!("xtask: {} {}", script.display(), binary.display());
    let status = Command::new("bash")
        .arg(&script)
        .arg(&binary)
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", script.display()))
    }
}

/// The end-to-end test on the real nix-daemon (Debian's packages, a
/// private mount namespace): `xtask/e2e/debian-daemon.sh`. It skips
/// loudly where it cannot run (not root, no unshare), and fails under CI
/// when the packages it needs are missing.
fn daemon_test() -> Result<(), String> {
    run_script("xtask/e2e/debian-daemon.sh")
}

/// Run the Ansible collection's end-to-end test,
/// `contrib/ansible/tests/run.sh`, with the debug `nixconf` binary.
/// Without ansible-playbook this fails under CI (`CI` set) and is skipped
/// loudly elsewhere.
fn ansible_test() -> Result<(), String> {
    let have = Command::new("ansible-playbook")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        let message = "SKIPPED: ansible-playbook not installed, so the Ansible collection was NOT \
                       tested (install it with `python3 -m pip install ansible-core`)";
        if std::env::var_os("CI").is_some() {
            return Err(message.to_owned());
        }
        eprintln!("\n*** xtask: {message} ***\n");
        return Ok(());
    }
    run_script("contrib/ansible/tests/run.sh")
}

/// Build every `cargo fuzz` target (they assert that no input panics).
/// cargo-fuzz needs nightly flags; `RUSTC_BOOTSTRAP=1` lets the stable
/// toolchain accept them. Without cargo-fuzz this fails under CI (`CI`
/// set) and says so loudly elsewhere.
fn fuzz_build() -> Result<(), String> {
    let have = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        let message = "cargo-fuzz is not installed, so the fuzz targets were NOT built \
                       (install it with `cargo install cargo-fuzz`)";
        if std::env::var_os("CI").is_some() {
            return Err(message.to_owned());
        }
        eprintln!("\n*** xtask: {message} ***\n");
        return Ok(());
    }
    cargo(
        &["fuzz", "build", "--fuzz-dir", "fuzz"],
        &[("RUSTC_BOOTSTRAP", "1")],
    )
}

/// Every fixture kind's cases, in parallel (`cargo xtask test-fixtures`).
fn run_fixtures(filter: Option<&str>) -> Result<(), String> {
    let kinds: Vec<&kinds::Kind> = kinds::KINDS.iter().collect();
    nixconf_fixtures::run(&workspace_root().join("fixtures"), &kinds, filter)
}
