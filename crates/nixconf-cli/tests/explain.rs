//! `nixconf explain` over `fixtures/explain/<case>/`: `args` (the setting
//! and flags), then either `config.toml` (explained with `--config`) or
//! `before/` (a live installation, explained with `--root`), and
//! `explain.txt`, the expected output (the root written as `ROOT`).
//! `UPDATE_EXPECT=1` rewrites `explain.txt`.

use std::path::Path;
use std::process::Command;

#[test]
fn explain_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/explain");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 9, "explain fixtures are missing");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let args = std::fs::read_to_string(case.join("args")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nixconf"));
        cmd.arg("explain")
            .args(args.split_whitespace())
            .env_remove("NIX_CONFIG");
        let config = case.join("config.toml");
        let root = case.join("before");
        if config.exists() {
            cmd.arg("--config").arg("config.toml").current_dir(case);
        } else {
            cmd.arg("--root").arg(&root);
        }
        let out = cmd.output().unwrap();
        let mut got = String::from_utf8_lossy(&out.stdout).into_owned();
        got.push_str(&String::from_utf8_lossy(&out.stderr));
        let got = got.replace(&root.display().to_string(), "ROOT");
        let expected_path = case.join("explain.txt");
        if update {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
