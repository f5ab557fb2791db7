//! The conformance corpora through the real `nixconf eval` binary, as the
//! external runners call it: `--json --nixos` for the 2026 corpus (its
//! generation is the default), `--generation 2023 --nixos` for the 2023
//! one. A sample of each (every seventh case), compared as the runners
//! compare: the listed keys as JSON, warnings by kind and names, failed
//! assertions by kind, an error by its option path and exit status 1.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The corpus checker of nixconf-options' fixtures: its compared keys and
/// its comparison, which takes the binary's JSON as well.
#[path = "../../nixconf-options/tests/fixture_kinds/cases.rs"]
mod cases;

use cases::{compare_json, ErrorJson, COMPARED_2026};

/// Run one case; `Err` says what differs. An error must also exit 1, a
/// result 0.
fn run_case(dir: &Path, extra: &[&str], keys: Option<&[&str]>) -> Result<(), String> {
    let config = dir.join("case.json");
    let out = Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .args(["eval", "--config", config.to_str().unwrap(), "--json"])
        .args(extra)
        .output()
        .expect("nixconf runs");
    let got: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let expected_status = if want.get("error").is_some() { 1 } else { 0 };
    if out.status.code() != Some(expected_status) {
        return Err(format!(
            "expected exit status {expected_status}, got {:?}: {got}",
            out.status.code()
        ));
    }
    let got = if got.get("error").is_some() {
        Err(ErrorJson(got.clone(), got.to_string()))
    } else {
        Ok(got)
    };
    compare_json(&want, got, keys)
}

fn sample(corpus: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(workspace().join("fixtures/conformance").join(corpus))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
    dirs.sort();
    dirs.into_iter().step_by(7).collect()
}

fn pending_2026() -> Vec<String> {
    std::fs::read_to_string(workspace().join("fixtures/conformance/cases-2026.pending"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_2026_corpus_through_the_binary() {
    let pending = pending_2026();
    let mut failures = Vec::new();
    let mut ran = 0;
    for dir in sample("cases-2026") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if pending.contains(&name) {
            continue;
        }
        ran += 1;
        if let Err(e) = run_case(&dir, &["--nixos"], Some(&COMPARED_2026)) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran > 0, "no 2026 case ran");
}

#[test]
fn the_2023_corpus_through_the_binary() {
    let mut failures = Vec::new();
    let cases = sample("cases");
    assert!(cases.len() > 50);
    for dir in cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if let Err(e) = run_case(&dir, &["--generation", "2023", "--nixos"], None) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_2023_case_differs_under_the_2026_modules() {
    // The generation flag is not ignored: the same 2023 case read by the
    // 2026 modules no longer matches its 2023 reference (extra-* last,
    // no LimitNOFILE).
    let dir = workspace().join("fixtures/conformance/cases/c-0000");
    assert!(run_case(&dir, &["--generation", "2023"], None).is_ok());
    assert!(run_case(&dir, &["--generation", "2026"], None).is_err());
}
