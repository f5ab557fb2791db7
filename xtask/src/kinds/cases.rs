//! `conformance/cases`: the NixOS nix-daemon module evaluated by real Nix.
//! Each case's `case.json` is evaluated in-process and compared with
//! `expected.json` key by key; an error case by its option path.

use std::path::Path;

use serde_json::Value;

pub fn check(dir: &Path, _update: bool) -> Result<(), String> {
    let read = |name: &str| -> Result<Value, String> {
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let expected = read("expected.json")?;
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
    if let Some(err) = expected.get("error") {
        let want = err.get("option").and_then(Value::as_str).unwrap_or("");
        return match got {
            Ok(_) => Err(format!(
                "expected an error about `{want}`, but the configuration evaluated"
            )),
            Err(e) => match e.option_errors().first() {
                Some(first) if first.option == want => Ok(()),
                _ => Err(format!(
                    "expected an error about `{want}`, got: {}",
                    e.to_string().replace('\n', " | ")
                )),
            },
        };
    }
    let got =
        got.map_err(|e| format!("unexpected error: {}", e.to_string().replace('\n', " | ")))?;
    let got = got.to_json();
    let (Value::Object(want), Value::Object(have)) = (expected, &got) else {
        return Err("expected.json is not an object".to_owned());
    };
    let mut diffs = Vec::new();
    for (key, want_value) in want {
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
        if !want.contains_key(key) {
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
