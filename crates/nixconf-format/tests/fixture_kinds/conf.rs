//! nix.conf fixtures: `input/` is a `NIX_CONF_DIR`, `expected.json` what
//! `nixconf conf show --json` prints for it.
//!
//! - `conformance/conf` (vendored, Nix 2.8.0 offline): compared by the
//!   corpus rules: touched settings equal, the set of `unknown setting`
//!   warnings equal, and for an error every quoted fragment of Nix's
//!   message present in ours ("cycle" for include cycles).
//! - `conf` (ours): the whole JSON must be equal; an optional
//!   `nix-version` file picks the version (default 2.8.0).
//!
//! Run by `cargo test -p nixconf-format --test fixtures` and by `cargo xtask
//! test-fixtures`, which includes this file.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::Path;

use nixconf_fixtures::Kind;
use nixconf_format::{show_json, Network, NixVersion};
use serde_json::Value;

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(dir: &Path, version: &str) -> Result<Value, String> {
    let version: NixVersion = version.parse().map_err(|e| format!("{e}"))?;
    Ok(show_json(&dir.join("input"), &version, Network::Offline).0)
}

/// `fixtures/conformance/conf`.
pub const CONFORMANCE_KIND: Kind = Kind {
    dir: "conformance/conf",
    vendored: true,
    check: check_conformance,
    pending: None,
};

/// `fixtures/conf`.
pub const KIND: Kind = Kind {
    dir: "conf",
    vendored: false,
    check,
    pending: None,
};

/// The vendored corpus, by its comparison rules.
pub fn check_conformance(dir: &Path, _update: bool) -> Result<(), String> {
    let expected = read_json(&dir.join("expected.json"))?;
    let got = run(dir, "2.8.0")?;
    if let Some(want) = expected.get("error").and_then(Value::as_str) {
        let Some(ours) = got.get("error").and_then(Value::as_str) else {
            return Err(format!("expected error {want:?}, got {got}"));
        };
        let mut fragments: Vec<String> = want
            .split('\'')
            .skip(1)
            .step_by(2)
            .map(|f| format!("'{f}'"))
            .collect();
        if want.contains("cycle") {
            fragments.push("cycle".to_owned());
        }
        for f in fragments {
            if !ours.contains(&f) {
                return Err(format!("error lacks {f}: expected {want:?}, got {ours:?}"));
            }
        }
        return Ok(());
    }
    if let Some(err) = got.get("error") {
        return Err(format!("unexpected error {err}"));
    }
    let (want, ours) = (&expected["settings"], &got["settings"]);
    if want != ours {
        let (Some(w), Some(o)) = (want.as_object(), ours.as_object()) else {
            return Err(format!("settings: expected {want}, got {ours}"));
        };
        let keys: BTreeSet<&String> = w.keys().chain(o.keys()).collect();
        for k in keys {
            if w.get(k) != o.get(k) {
                return Err(format!(
                    "setting {k}: expected {}, got {}",
                    w.get(k).map_or("nothing".to_owned(), Value::to_string),
                    o.get(k).map_or("nothing".to_owned(), Value::to_string)
                ));
            }
        }
    }
    let unknown = |v: &Value| -> BTreeSet<String> {
        v["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|w| w.starts_with("warning: unknown setting "))
            .map(str::to_owned)
            .collect()
    };
    let (w, o) = (unknown(&expected), unknown(&got));
    if w != o {
        return Err(format!(
            "unknown-setting warnings: expected {w:?}, got {o:?}"
        ));
    }
    Ok(())
}

/// Our own fixtures: exact JSON.
pub fn check(dir: &Path, update: bool) -> Result<(), String> {
    let version = std::fs::read_to_string(dir.join("nix-version"))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|_| "2.8.0".to_owned());
    let got = run(dir, &version)?;
    let path = dir.join("expected.json");
    if update {
        let text = serde_json::to_string_pretty(&got).map_err(|e| e.to_string())? + "\n";
        return std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()));
    }
    let expected = read_json(&path)?;
    if expected != got {
        return Err(format!("expected {expected}, got {got}"));
    }
    Ok(())
}
