//! Properties over the vendored conformance corpus: TOML and JSON spellings
//! of one configuration evaluate the same, and real Nix reads every
//! rendered nix.conf without an error.

use std::path::{Path, PathBuf};

use nixconf_options::{Evaluation, Format};
use proptest::prelude::*;
use serde_json::Value as Json;

mod common;
use common::eval_2023;

fn corpus() -> Vec<(String, Json)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/conformance/cases");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the vendored corpus is present")
        .map(|e| e.expect("readable corpus entry").path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 440, "corpus has {} cases", cases.len());
    cases
        .into_iter()
        .map(|d| {
            let text = std::fs::read_to_string(d.join("case.json")).expect("case.json");
            let name = d.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                serde_json::from_str(&text).expect("case.json is JSON"),
            )
        })
        .collect()
}

fn has_null(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Array(items) => items.iter().any(has_null),
        Json::Object(map) => map.values().any(has_null),
        _ => false,
    }
}

/// The TOML spelling of a JSON configuration without nulls.
fn to_toml(v: &Json) -> String {
    fn value(v: &Json) -> toml_edit::Value {
        match v {
            Json::Bool(b) => (*b).into(),
            Json::Number(n) => match n.as_i64() {
                Some(i) => i.into(),
                None => n.as_f64().expect("finite").into(),
            },
            Json::String(s) => s.as_str().into(),
            Json::Array(items) => toml_edit::Value::Array(items.iter().map(value).collect()),
            Json::Object(map) => {
                let mut t = toml_edit::InlineTable::new();
                for (k, v) in map {
                    t.insert(k, value(v));
                }
                toml_edit::Value::InlineTable(t)
            }
            Json::Null => unreachable!("cases with null are skipped"),
        }
    }
    let mut doc = toml_edit::DocumentMut::new();
    for (k, v) in v.as_object().expect("case is an object") {
        doc.insert(k, toml_edit::Item::Value(value(v)));
    }
    doc.to_string()
}

fn paths(r: &Result<Evaluation, nixconf_options::Error>) -> Vec<String> {
    match r {
        Ok(_) => Vec::new(),
        Err(e) => e
            .option_errors()
            .iter()
            .map(|e| e.option.clone().unwrap_or_default())
            .collect(),
    }
}

fn same_result(json: &Json) -> Result<(), String> {
    let j = eval_2023(&json.to_string(), Format::Json, "case.json");
    let toml = to_toml(json);
    let t = eval_2023(&toml, Format::Toml, "case.toml");
    match (&j, &t) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(_), Err(_)) if paths(&j) == paths(&t) => Ok(()),
        _ => Err(format!("JSON gave {j:?}\nTOML ({toml}) gave {t:?}")),
    }
}

#[test]
fn toml_and_json_spellings_of_every_corpus_case_agree() {
    let mut checked = 0;
    for (name, case) in corpus() {
        if has_null(&case) {
            continue;
        }
        if let Err(e) = same_result(&case) {
            panic!("{name}: {e}");
        }
        checked += 1;
    }
    assert!(checked > 200, "only {checked} cases without null");
}

fn atom() -> impl Strategy<Value = Json> {
    prop_oneof![
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        (-1e6f64..1e6).prop_map(Json::from),
        "[ -~]{0,12}".prop_map(Json::from),
    ]
}

fn setting() -> impl Strategy<Value = Json> {
    prop_oneof![
        atom(),
        prop::collection::vec(atom(), 0..4).prop_map(Json::from)
    ]
}

proptest! {
    /// Random free-form settings (and a few typed ones, which may be
    /// refused) evaluate the same whichever syntax spells them.
    #[test]
    fn toml_and_json_spellings_agree(
        settings in prop::collection::btree_map("[a-z=A-Z-]{1,10}", setting(), 0..6),
        cores in prop::option::of(setting()),
        version in prop::sample::select(vec!["2.2", "2.3.16", "2.4", "2.18.1"]),
    ) {
        let mut s: serde_json::Map<String, Json> = settings.into_iter().collect();
        if let Some(c) = cores {
            s.insert("cores".into(), c);
        }
        let case = serde_json::json!({ "nixVersion": version, "nix": { "settings": s } });
        prop_assert!(same_result(&case).is_ok(), "{}", same_result(&case).unwrap_err());
    }
}

/// Real Nix reads every rendered nix.conf. The file itself is always
/// well-formed; where Nix stops, it is on a value the case deliberately
/// gives a typed setting (`fallback = 42`), exactly the value we rendered,
/// and the module's checkConfig step then refuses the file as NixOS would.
#[test]
fn real_nix_reads_every_rendered_nix_conf() {
    let nix = Path::new("/usr/bin/nix");
    if !nix.exists() {
        eprintln!(
            "\n*** SKIPPED: real Nix is not installed at /usr/bin/nix (apt-get install nix-bin); \
             the rendered nix.conf files were NOT checked with real Nix ***\n"
        );
        return;
    }
    let cases = corpus();
    // One `nix show-config` per case: spread them over a few threads.
    let outcomes: Vec<bool> = std::thread::scope(|scope| {
        let workers: Vec<_> = cases
            .chunks(cases.len().div_ceil(4))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|(name, case)| check_case(nix, name, case))
                        .collect::<Vec<bool>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    let clean = outcomes.iter().filter(|c| **c).count();
    let refused = outcomes.len() - clean;
    eprintln!("real Nix: {clean} rendered nix.conf files read cleanly, {refused} stopped on a deliberately bad value");
    assert!(
        clean > 100 && clean + refused > 350,
        "{clean} clean, {refused} refused"
    );
}

/// Check one case with real Nix: `Some(true)` when Nix read its nix.conf
/// cleanly, `Some(false)` when it stopped on a bad value (checked to be
/// the user's), `None` when the case renders no nix.conf.
fn check_case(nix: &Path, name: &str, case: &Json) -> Option<bool> {
    let Ok(eval) = eval_2023(&case.to_string(), Format::Json, "case.json") else {
        return None;
    };
    let Some(settings) = &eval.settings else {
        return None;
    };
    let findings =
        nixconf_options::check_with_nix(&eval, nix).unwrap_or_else(|e| panic!("{name}: {e}"));
    let errors: Vec<&str> = findings
        .iter()
        .filter(|f| f.severity == nixconf_options::CheckSeverity::Error)
        .map(|f| f.message.as_str())
        .collect();
    if errors.is_empty() {
        return Some(true);
    }
    for e in &errors {
        let rest = e
            .strip_prefix("error: Boolean setting '")
            .or_else(|| e.strip_prefix("error: setting '"))
            .unwrap_or_else(|| panic!("{name}: real Nix failed on the file itself: {e}"));
        let (key, value) = rest
            .split_once("' has invalid value '")
            .unwrap_or_else(|| panic!("{name}: unexpected error from Nix: {e}"));
        let value = value.strip_suffix('\'').expect("quoted value");
        let ours = settings
            .get(key)
            .unwrap_or_else(|| panic!("{name}: Nix complains about {key}, which we did not write"));
        // nix.conf has no quoting: Nix cuts a line at `#` and splits
        // the rest at whitespace, whatever the module wrote.
        let rendered = ours.render();
        let uncommented = rendered.split('#').next().unwrap_or("");
        let words: Vec<&str> = uncommented.split_whitespace().collect();
        assert_eq!(words.join(" "), value, "{name}: {key}");
    }
    let verdict = nixconf_options::check_config(&eval, &findings);
    assert_eq!(
        verdict.is_err(),
        eval.check_config && eval.check_all_errors,
        "{name}: checkConfig verdict on {errors:?}"
    );
    Some(false)
}
