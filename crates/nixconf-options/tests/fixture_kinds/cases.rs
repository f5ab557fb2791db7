//! `conformance/cases` and `conformance/cases-2026`: the NixOS `nix.*`
//! modules of 2023 and of 2026 evaluated by real Nix. Each case's
//! `case.json` is evaluated in-process and compared with `expected.json`
//! key by key; an error case by its option path.
//!
//! Run by `cargo test -p nixconf-options --test fixtures` and by `cargo xtask
//! test-fixtures`, which includes this file.
#![allow(dead_code)]

use std::path::Path;

use nixconf_fixtures::Kind;
use serde_json::Value;

/// `fixtures/conformance/cases`.
pub const KIND: Kind = Kind {
    dir: "conformance/cases",
    vendored: true,
    check,
    pending: None,
};

/// `fixtures/conformance/cases-2026`.
pub const KIND_2026: Kind = Kind {
    dir: "conformance/cases-2026",
    vendored: true,
    check: check_2026,
    pending: Some(PENDING_2026),
};

/// The 2026 cases not passing yet, under `fixtures/`.
pub const PENDING_2026: &str = "conformance/cases-2026.pending";

/// The keys of `expected.json` the 2026 corpus compares (its README's
/// "Keys compared"); `packages`, `nixConfCheck`, `boot` and `hiddenUsers`
/// are NixOS-internal.
pub const COMPARED_2026: [&str; 17] = [
    "nixConf",
    "machines",
    "registry",
    "nrBuildUsers",
    "users",
    "groups",
    "settings",
    "serviceConfig",
    "serviceEnvironment",
    "sessionVariables",
    "tmpfiles",
    "units",
    "channel",
    "sshServe",
    "firewall",
    "warnings",
    "failedAssertions",
];

fn read(dir: &Path, name: &str) -> Result<Value, String> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A 2026 case, evaluated with the default generation (as the external
/// runner's `nixconf eval --config case.json --json --nixos` does).
pub fn check_2026(dir: &Path, _update: bool) -> Result<(), String> {
    let expected = read(dir, "expected.json")?;
    let got = nixconf_options::evaluate_file(&dir.join("case.json"));
    compare_keys(
        &expected,
        got.as_ref().map(|e| e.to_json()),
        Some(&COMPARED_2026),
    )
}

pub fn check(dir: &Path, _update: bool) -> Result<(), String> {
    let expected = read(dir, "expected.json")?;
    // The 2023 corpus: the module generation is named, as the external
    // runners do with `--generation 2023`.
    let got = nixconf_options::evaluate_file_with(
        &dir.join("case.json"),
        nixconf_options::EvalOptions {
            generation: Some(nixconf_options::ModuleGeneration::Nixos2023),
        },
    );
    compare(&expected, got)
}

/// Compare an evaluation with the reference result.
pub fn compare(
    expected: &Value,
    got: Result<nixconf_options::Evaluation, nixconf_options::Error>,
) -> Result<(), String> {
    compare_keys(expected, got.as_ref().map(|e| e.to_json()), None)
}

/// Compare an evaluation's JSON with the reference result: the `keys`
/// given, or every key of either side.
pub fn compare_keys(
    expected: &Value,
    got: Result<Value, &nixconf_options::Error>,
    keys: Option<&[&str]>,
) -> Result<(), String> {
    let got = got.map_err(|e| ErrorJson(e.to_json(), e.to_string()));
    compare_json(expected, got, keys)
}

/// An error's JSON form and its text.
pub struct ErrorJson(pub Value, pub String);

/// Compare JSON results (from the library or from the `nixconf` binary).
pub fn compare_json(
    expected: &Value,
    got: Result<Value, ErrorJson>,
    keys: Option<&[&str]>,
) -> Result<(), String> {
    if let Some(err) = expected.get("error") {
        let want = err.get("option").and_then(Value::as_str).unwrap_or("");
        return match got {
            Ok(_) => Err(format!(
                "expected an error about `{want}`, but the configuration evaluated"
            )),
            Err(ErrorJson(json, text)) => {
                match json.pointer("/error/option").and_then(Value::as_str) {
                    Some(option) if option == want => Ok(()),
                    _ => Err(format!(
                        "expected an error about `{want}`, got: {}",
                        text.replace('\n', " | ")
                    )),
                }
            }
        };
    }
    let got = got
        .map_err(|ErrorJson(_, text)| format!("unexpected error: {}", text.replace('\n', " | ")))?;
    let (Value::Object(want), Value::Object(have)) = (expected, &got) else {
        return Err("expected.json is not an object".to_owned());
    };
    let mut diffs = Vec::new();
    let compared: Vec<(&String, &Value)> = match keys {
        None => want.iter().collect(),
        Some(keys) => want
            .iter()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .collect(),
    };
    if let Some(keys) = keys {
        for key in keys {
            if !want.contains_key(*key) {
                diffs.push(format!("key `{key}`: missing from expected.json"));
            }
        }
    }
    for (key, want_value) in compared {
        let have_value = have.get(key).unwrap_or(&Value::Null);
        let same = match key.as_str() {
            "warnings" => {
                kinds_and_names(want_value, &["kind", "from", "to"])
                    == kinds_and_names(have_value, &["kind", "from", "to"])
            }
            "failedAssertions" => {
                kinds_and_names(want_value, &["kind"]) == kinds_and_names(have_value, &["kind"])
            }
            _ => want_value == have_value,
        };
        if !same {
            diffs.push(format!(
                "key `{key}`: expected {want_value}, got {have_value}"
            ));
        }
    }
    for key in have.keys() {
        if keys.is_none() && !want.contains_key(key) {
            diffs.push(format!("key `{key}`: not in expected.json"));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("\n"))
    }
}

/// The listed fields of every element, for comparing warnings and failed
/// assertions by kind and option names.
fn kinds_and_names(v: &Value, fields: &[&str]) -> Vec<Vec<Value>> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    fields
                        .iter()
                        .map(|f| i.get(*f).cloned().unwrap_or(Value::Null))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default()
}
