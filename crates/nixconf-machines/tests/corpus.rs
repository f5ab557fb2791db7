//! Every `machines` text of the vendored conformance corpus parses with
//! its case's Nix version and renders back byte for byte.

use std::path::Path;

use nixconf_format::NixVersion;
use nixconf_machines::parse;

#[test]
fn every_corpus_machines_text_round_trips() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/conformance/cases");
    let mut checked = 0;
    let mut dirs: Vec<_> = std::fs::read_dir(&cases)
        .expect("the vendored corpus is in fixtures/conformance/cases")
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let Some(text) = expected.get("machines").and_then(|m| m.as_str()) else {
            continue;
        };
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        let version: NixVersion = case["nixVersion"].as_str().unwrap().parse().unwrap();
        let name = dir.display().to_string();
        let file = parse(text, &name, &version).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(file.render(&version).unwrap(), text, "{name}");
        // Through JSON, as `nixconf machines parse --json` / `render` do.
        let json = serde_json::to_string(&file).unwrap();
        let back: nixconf_machines::MachinesFile = serde_json::from_str(&json).unwrap();
        assert_eq!(back.render(&version).unwrap(), text, "{name} via JSON");
        checked += 1;
    }
    assert_eq!(checked, 139, "the corpus has 139 machines texts");
}
