//! Round-trip laws of the document, on any input.

use nixconf_format::{Document, LineKind};
use proptest::prelude::*;

/// Bytes biased towards what matters to the grammar.
fn conf_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"=".to_vec()),
        Just(b"#".to_vec()),
        Just(b"include".to_vec()),
        Just(b"!include".to_vec()),
        Just(b"max-jobs".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"\x0c".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..4),
        "[a-z0-9./-]{1,6}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn render_of_parse_is_identity(text in conf_bytes()) {
        prop_assert_eq!(Document::parse(&text).render(), text);
    }

    #[test]
    fn arbitrary_bytes_round_trip(text in proptest::collection::vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(Document::parse(&text).render(), text);
    }

    #[test]
    fn editing_one_setting_changes_only_its_line(text in conf_bytes(), value in "[a-z0-9:/ ]{0,12}") {
        let mut doc = Document::parse(&text);
        let Some(index) = doc.lines().iter().position(|l| matches!(l.kind, LineKind::Setting { .. })) else {
            return Ok(());
        };
        let value = value.trim().to_owned();
        doc.set_value(index, &value).unwrap();
        let rendered = doc.render();
        let reparsed = Document::parse(&rendered);
        prop_assert_eq!(reparsed.lines().len(), doc.lines().len());
        for (i, (old, new)) in doc.lines().iter().zip(reparsed.lines()).enumerate() {
            if i == index {
                let LineKind::Setting { value: v, name } = &new.kind else {
                    return Err(TestCaseError::fail("edited line is no longer a setting"));
                };
                let LineKind::Setting { name: old_name, .. } = &old.kind else { unreachable!() };
                prop_assert_eq!(reparsed.slice(name), doc.slice(old_name));
                let joined: Vec<&str> = value.split_whitespace().collect();
                let got: Vec<&[u8]> = reparsed.slice(v).split(|b| b" \t\r".contains(b)).filter(|t| !t.is_empty()).collect();
                prop_assert_eq!(got, joined.iter().map(|s| s.as_bytes()).collect::<Vec<_>>());
            } else {
                prop_assert_eq!(reparsed.slice(&new.span), doc.slice(&old.span));
            }
        }
    }
}
