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
    let out = nixconf(&[
        "eval",
        "--config",
        &case("c-0052"),
        "--json",
        "--generation",
        "2023",
    ]);
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
    let out = nixconf(&[
        "eval",
        "--config",
        &case("c-bad-0017"),
        "--json",
        "--generation",
        "2023",
    ]);
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
        "error: `nix.setings`: no such option; did you mean `nix.settings`?\n --> {}:3:1\n  |\n3 | setings = {{}}\n  | ^^^^^^^\n",
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
    assert!(
        stdout.contains("\ntimer: nix-gc at weekly (randomized delay 45min;"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\ntimer: nix-optimise at 03:45 (randomized delay 1800;"),
        "{stdout}"
    );
}

#[test]
fn render_refuses_an_invalid_configuration_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("root");
    let out = nixconf(&[
        "render",
        "--config",
        &case("c-bad-0004"),
        "--generation",
        "2023",
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
        "--generation",
        "2023",
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

/// Render `config` (TOML text) into a fresh directory.
fn render_toml(config: &str) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(&path, config).unwrap();
    let out_dir = dir.path().join("root");
    let out = nixconf(&[
        "render",
        "--config",
        path.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    (out, dir)
}

#[test]
fn render_checks_nix_conf_against_the_target_versions_schema() {
    // An unknown setting fails the render, as the module's checkPhase does
    // (the 2026 modules: extra-* settings last, so this is line 12).
    let (out, dir) =
        render_toml("nixVersion = \"2.8.0\"\n[nix.settings]\nsubstituter = [\"https://x\"]\n");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: the generated nix.conf fails its check (nix.checkConfig):\n\
         warning: unknown setting 'substituter' (nix.conf line 12)\n"
    );
    assert!(!dir.path().join("root").exists());

    // A value the target Nix refuses fails it with checkAllErrors (default).
    let (out, _dir) = render_toml("nixVersion = \"2.8.0\"\n[nix.settings]\nfallback = 42\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("error: Boolean setting 'fallback' has invalid value '42' (nix.conf line 8)"));

    // A setting that only exists from 2.12 is unknown to 2.8, known to 2.12.
    let (out, _dir) = render_toml("nixVersion = \"2.8.0\"\n[nix.settings]\nuse-cgroups = true\n");
    assert_eq!(out.status.code(), Some(1));
    let (out, dir) = render_toml("nixVersion = \"2.12.0\"\n[nix.settings]\nuse-cgroups = true\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("root/etc/nix/nix.conf").exists());

    // With checkConfig off nothing is checked.
    let (out, _dir) = render_toml(
        "nixVersion = \"2.8.0\"\nnix.checkConfig = false\n[nix.settings]\nsubstituter = [\"x\"]\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn render_says_when_the_schema_does_not_know_the_version() {
    let (out, _dir) =
        render_toml("nixVersion = \"2.99.0\"\n[nix.settings]\nsubstituter = [\"x\"]\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(
        "note: the settings schema does not cover Nix 2.99.0; nix.conf was not checked against it"
    ));
}

#[test]
fn nix_1_configurations_get_the_2013_module() {
    let example = workspace().join("examples/nix-1.x.toml");
    let out = nixconf(&["eval", "--config", example.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(": Nix 1.11.16 (the 2013 NixOS module, for Nix 1.x), enabled\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\n--- /etc/nix.machines ---\nnix@builder.example.org x86_64-linux,i686-linux /root/.ssh/id_builder 8 2 kvm \n"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("root");
    let out = nixconf(&[
        "render",
        "--config",
        example.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_dir.join("etc/nix.machines").is_file());
    assert!(!out_dir.join("etc/nix/machines").exists());
    assert!(!out_dir.join("etc/tmpfiles.d").exists());
}

#[test]
fn render_check_with_nix_reads_a_nix_1_nix_conf() {
    if !Path::new("/usr/bin/nix").exists() {
        eprintln!("\n*** SKIPPED: real Nix is not installed at /usr/bin/nix; --check-with-nix NOT tested for Nix 1.x ***\n");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
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
    std::fs::write(
        &config,
        "nixVersion = \"1.11.16\"\n[nix]\nuseChroot = true\nmaxJobs = 2\n",
    )
    .unwrap();
    let out = nixconf(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        &config,
        "nixVersion = \"1.11.16\"\n[nix]\nextraOptions = \"no-such-setting = 1\\n\"\n",
    )
    .unwrap();
    std::fs::remove_dir_all(&out_dir).unwrap();
    let out = nixconf(&args);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: /usr/bin/nix does not read the generated nix.conf cleanly (asked by --check-with-nix; \
         the 2013 module had no nix.checkConfig):\nwarning: unknown setting 'no-such-setting'\n"
    );
    assert!(!out_dir.exists());
}
