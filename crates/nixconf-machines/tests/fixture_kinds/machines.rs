//! `fixtures/machines/<case>/`: a machines file read by one Nix version.
//!
//! A case holds `case.json` (`{"nixVersion": "2.8.0"}`), the input file
//! `machines` (plus any files it references with `@`, relative to the
//! case directory, which stands in for Nix's working directory), and
//! `expected.json`: either `{"errors": [...]}` (every error as displayed,
//! with Nix's own texts) or what Nix sees (`machines`, each with its file
//! and line, `missing` references), the file rendered back (`render`) and
//! the lints (`lints`). Machines whose systems column is `-` get
//! `x86_64-linux`.
//!
//! Run by `cargo test -p nixconf-machines --test fixtures` and by `cargo xtask
//! test-fixtures`, which includes this file.
#![allow(dead_code)]

use std::path::Path;

use nixconf_fixtures::Kind;
use nixconf_format::NixVersion;
use nixconf_machines::{expand, lint, parse};
use serde_json::{json, Value};

/// `fixtures/machines`.
pub const KIND: Kind = Kind {
    dir: "machines",
    vendored: false,
    check,
    pending: None,
};

pub fn check(dir: &Path, update: bool) -> Result<(), String> {
    let case: Value = read_json(&dir.join("case.json"))?;
    let version: NixVersion = case["nixVersion"]
        .as_str()
        .ok_or("case.json: nixVersion missing")?
        .parse()
        .map_err(|e| format!("case.json: {e}"))?;
    let bytes = std::fs::read(dir.join("machines")).map_err(|e| format!("machines: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let got = outcome(&text, &version, dir);
    let expected_path = dir.join("expected.json");
    if update {
        let mut s = serde_json::to_string_pretty(&got).map_err(|e| e.to_string())?;
        s.push('\n');
        return std::fs::write(&expected_path, s).map_err(|e| format!("expected.json: {e}"));
    }
    let expected = read_json(&expected_path)?;
    compare(&expected, &got)
}

fn outcome(text: &str, version: &NixVersion, dir: &Path) -> Value {
    let errors = |e: nixconf_machines::Error| json!({"errors": e.as_list().iter().map(ToString::to_string).collect::<Vec<_>>()});
    let file = match parse(text, "machines", version) {
        Ok(f) => f,
        Err(e) => return errors(e),
    };
    let expanded = match expand(&file, "machines", version, dir) {
        Ok(x) => x,
        Err(e) => return errors(e),
    };
    let machines: Vec<Value> = expanded
        .machines
        .iter()
        .map(|l| {
            let mut v = json!(l.machine.nix_view(version, "x86_64-linux"));
            if let Some(o) = v.as_object_mut() {
                o.insert("at".into(), json!(format!("{}:{}", l.file, l.line)));
            }
            v
        })
        .collect();
    let missing: Vec<String> = expanded
        .missing
        .iter()
        .map(|m| format!("{}:{}: {}", m.file, m.line, m.path))
        .collect();
    let render = match file.render(version) {
        Ok(s) => json!(s),
        Err(e) => json!({"error": e.to_string()}),
    };
    let lints: Vec<String> = lint(&expanded.machines, version)
        .iter()
        .map(ToString::to_string)
        .collect();
    json!({"machines": machines, "missing": missing, "render": render, "lints": lints})
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The first difference, naming the key, the expected and the actual value.
fn compare(expected: &Value, got: &Value) -> Result<(), String> {
    let (Some(e), Some(g)) = (expected.as_object(), got.as_object()) else {
        return Err(format!("expected {expected}, got {got}"));
    };
    for key in e.keys().chain(g.keys()) {
        let (ev, gv) = (e.get(key), g.get(key));
        if ev != gv {
            let show = |v: Option<&Value>| v.map_or("(absent)".to_owned(), Value::to_string);
            return Err(format!(
                "key {key}: expected {}, got {}",
                show(ev),
                show(gv)
            ));
        }
    }
    Ok(())
}
