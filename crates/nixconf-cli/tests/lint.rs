//! `nixconf lint` as a user runs it.

use std::process::Command;

fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lint(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .arg("lint")
        .args(args)
        .current_dir(workspace())
        .output()
        .unwrap()
}

/// An error-level finding exits 1; several configurations are linted in
/// one call, each finding prefixed with its file.
#[test]
fn lint_exits_1_on_errors_and_names_each_file() {
    let out = lint(&[
        "--cpus",
        "4",
        "--config",
        "fixtures/lint/clean/config.toml",
        "fixtures/lint/signatures-and-sandbox/config.toml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "fixtures/lint/signatures-and-sandbox/config.toml: error[require-sigs-off]: nix.settings.require-sigs: \
         require-sigs is off: the daemon accepts store paths from any substituter without a signature, \
         so whoever controls a cache (or the network path to a plain-http one) controls what runs here\n  \
         fix: set nix.settings.require-sigs = true\n\
         fixtures/lint/signatures-and-sandbox/config.toml: warning[sandbox-relaxed]: nix.settings.sandbox: \
         sandbox = relaxed lets derivations marked __noChroot build outside the sandbox\n  \
         fix: set nix.settings.sandbox = true\n\
         2 configurations linted: 1 error, 1 warning\n"
    );
}

/// A clean configuration exits 0; `--json` gives the findings as data.
#[test]
fn lint_json_of_a_clean_configuration() {
    let out = lint(&[
        "--cpus",
        "4",
        "--json",
        "--config",
        "fixtures/lint/clean/config.toml",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!([{"file": "fixtures/lint/clean/config.toml", "findings": []}])
    );
}

/// A configuration that does not evaluate is reported, and fails the run.
#[test]
fn lint_reports_a_configuration_that_does_not_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[nix.settings]\ncores = \"many\"\n").unwrap();
    let out = lint(&["--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!("{}: error: ", bad.display())),
        "{text}"
    );
    assert!(text.contains("`nix.settings.cores`"), "{text}");
}
