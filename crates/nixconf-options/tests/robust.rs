//! Bad input never panics: arbitrary text, and valid configurations with
//! random damage, in both formats.

use nixconf_options::{evaluate, Format};
use proptest::prelude::*;

const TOML: &str = include_str!("../../../examples/nixconf.toml");
const JSON: &str = include_str!("../../../fixtures/conformance/cases/c-0052/case.json");
const NIX_1: &str = include_str!("../../../examples/nix-1.x.toml");

/// `text` with the bytes in `range` replaced by `insert`, kept UTF-8.
fn damage(text: &str, at: usize, len: usize, insert: &str) -> String {
    let mut start = at % (text.len() + 1);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + len).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{insert}{}", &text[..start], &text[end..])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = evaluate(&text, Format::Toml, "x.toml");
        let _ = evaluate(&text, Format::Json, "x.json");
    }

    #[test]
    fn damaged_configurations_never_panic(
        at in any::<usize>(),
        len in 0usize..8,
        insert in prop::sample::select(vec!["", "\"", "[", "]", "{", "}", ",", "=", "\n", "1.5", "null", "é", "\\", "[[x]]\n"]),
    ) {
        for (text, format) in [(TOML, Format::Toml), (JSON, Format::Json), (NIX_1, Format::Toml)] {
            let damaged = damage(text, at, len, insert);
            match evaluate(&damaged, format, "x") {
                Ok(e) => { let _ = (e.to_json(), e.files()); }
                Err(e) => { let _ = (e.to_string(), e.to_json()); }
            }
        }
    }
}
