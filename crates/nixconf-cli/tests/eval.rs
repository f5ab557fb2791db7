//! `nixconf eval` and `nixconf render` as a user runs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nixconf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .args(args)
        .output()
        .expect("nixconf runs")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn case(name: &str) -> String {
    workspace()
        .join("fixtures/conformance/cases")
        .join(name)
        .join("case.json")
        .display()
        .to_string()
}

#[test]
fn eval_json_prints_the_reference_object() {
    let out = nixconf(&["eval", "--config", &case("c-0052"), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            workspace().join("fixtures/conformance/cases/c-0052/expected.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(got, want);
}

#[test]
fn eval_json_error_exits_1_with_the_option_path() {
    let out = nixconf(&["eval", "--config", &case("c-bad-0017"), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["error"]["option"], "nix.buildMachines[0].maxJobs");
    let message = got["error"]["message"].as_str().unwrap();
    assert!(
        message.ends_with(
            "c-bad-0017/case.json:6:20: expected a signed integer, got the string \"four\""
        ),
        "{message}"
    );
}

#[test]
fn eval_human_error_shows_file_line_column_and_caret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "nixVersion = \"2.18.1\"\n[nix]\nsetings = {}\n").unwrap();
    let out = nixconf(&["eval", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "error: {}:3:1: `nix.setings`: no such option; did you mean `nix.settings`?\n  |\n3 | setings = {{}}\n  | ^\n",
        path.display()
    );
    assert_eq!(stderr, want);
    assert!(out.stdout.is_empty());
}

#[test]
fn eval_summary_of_the_example() {
    let example = workspace().join("examples/nixconf.toml");
    let out = nixconf(&["eval", "--config", example.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(": Nix 2.18.1, enabled\n"), "{stdout}");
    assert!(stdout.contains("\n--- /etc/nix/nix.conf ---\n# WARNING: this file is generated"));
    assert!(stdout.contains("\nmax-jobs = 8\n"));
}

#[test]
fn render_refuses_an_invalid_configuration_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("root");
    let out = nixconf(&[
        "render",
        "--config",
        &case("c-bad-0004"),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`nix.settings.cores`"));
    assert!(!out_dir.exists());
}

#[test]
fn render_writes_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = nixconf(&[
        "render",
        "--config",
        &case("c-0000"),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            workspace().join("fixtures/conformance/cases/c-0000/expected.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let conf = std::fs::read_to_string(dir.path().join("etc/nix/nix.conf")).unwrap();
    assert_eq!(conf, want["nixConf"].as_str().unwrap());
    assert!(!dir.path().join("etc/nix/machines").exists());
}

#[test]
fn render_check_with_nix_refuses_a_value_nix_rejects() {
    if !Path::new("/usr/bin/nix").exists() {
        eprintln!("\n*** SKIPPED: real Nix is not installed at /usr/bin/nix; --check-with-nix NOT tested ***\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        "nixVersion = \"2.18.1\"\n[nix.settings]\nfallback = 42\n",
    )
    .unwrap();
    let out_dir = dir.path().join("root");
    let args = [
        "render",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--check-with-nix",
        "--nix",
        "/usr/bin/nix",
    ];
    let out = nixconf(&args);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: Boolean setting 'fallback' has invalid value '42'"),
        "{stderr}"
    );
    assert!(!out_dir.exists());
    // With checkAllErrors off only unknown settings fail, as in the module.
    std::fs::write(
        &config,
        "nixVersion = \"2.18.1\"\nnix.checkAllErrors = false\n[nix.settings]\nfallback = 42\n",
    )
    .unwrap();
    let out = nixconf(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_dir.join("etc/nix/nix.conf").exists());
}
