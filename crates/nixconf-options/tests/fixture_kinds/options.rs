//! `options`: our own configurations in the NixOS option tree, TOML or
//! JSON (`config.toml` or `config.json`), with `expected.json` beside
//! them: the evaluation's JSON object, or every error with its option
//! path and message (`file:line:col` included where the format gives it).
//!
//! Run by `cargo test -p nixconf-options --test fixtures` and by `cargo xtask
//! test-fixtures`, which includes this file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use nixconf_fixtures::Kind;
use serde_json::{json, Value};

/// `fixtures/options`.
pub const KIND: Kind = Kind {
    dir: "options",
    vendored: false,
    check,
    pending: None,
};

pub fn check(dir: &Path, update: bool) -> Result<(), String> {
    let config = ["config.toml", "config.json"]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.exists())
        .ok_or("no config.toml or config.json")?;
    let got = result(&config);
    let expected_path = dir.join("expected.json");
    if update {
        let mut text = serde_json::to_string_pretty(&got).map_err(|e| e.to_string())?;
        text.push('\n');
        return std::fs::write(&expected_path, text)
            .map_err(|e| format!("{}: {e}", expected_path.display()));
    }
    let text = std::fs::read_to_string(&expected_path)
        .map_err(|e| format!("{}: {e}", expected_path.display()))?;
    let want: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", expected_path.display()))?;
    if want == got {
        return Ok(());
    }
    let (Value::Object(w), Value::Object(g)) = (&want, &got) else {
        return Err(format!("expected {want}, got {got}"));
    };
    let mut keys: Vec<&String> = w.keys().chain(g.keys()).collect();
    keys.sort();
    keys.dedup();
    let diffs: Vec<String> = keys
        .into_iter()
        .filter(|k| w.get(*k) != g.get(*k))
        .map(|k| {
            format!(
                "key `{k}`: expected {}, got {}",
                w.get(k).unwrap_or(&Value::Null),
                g.get(k).unwrap_or(&Value::Null)
            )
        })
        .collect();
    Err(diffs.join("\n"))
}

/// The evaluation as JSON, or `{"errors": [{"option", "message"}]}` with
/// the file name made relative so that the expected output does not depend
/// on where the repository lives.
fn result(config: &PathBuf) -> Value {
    let name = config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = match std::fs::read_to_string(config) {
        Ok(t) => t,
        Err(e) => return json!({ "errors": [{ "option": "", "message": e.to_string() }] }),
    };
    let format = if name.ends_with(".json") {
        nixconf_options::Format::Json
    } else {
        nixconf_options::Format::Toml
    };
    match nixconf_options::evaluate(&text, format, &name) {
        Ok(eval) => eval.to_json(),
        Err(e) => {
            let errors: Vec<Value> = if e.option_errors().is_empty() {
                vec![json!({ "option": "", "message": e.to_string() })]
            } else {
                e.option_errors()
                    .iter()
                    .map(|o| json!({ "option": o.option, "message": o.to_string() }))
                    .collect()
            };
            json!({ "errors": errors })
        }
    }
}
