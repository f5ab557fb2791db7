//! Any bytes, read as a machines file by any Nix generation: parsing
//! never panics, whatever parses renders, the rendering reads back the
//! same, and linting and eligibility never panic.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use nixconf_format::NixVersion;
use nixconf_machines::{eligibility, lint, parse, Item, Located};

const VERSIONS: [&str; 10] = [
    "1.11.16", "2.3.16", "2.8.0", "2.19.0", "2.20.0", "2.23.0", "2.24.7", "2.24.9", "2.24.15",
    "2.29.0",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(version) = VERSIONS[usize::from(selector) % VERSIONS.len()].parse::<NixVersion>() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let Ok(file) = parse(&text, "fuzz", &version) else {
        return;
    };
    let rendered = file.render(&version).expect("a parsed file renders");
    let again = parse(&rendered, "fuzz", &version).expect("a rendered file parses");
    let strip = |items: &[Item]| -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Machine { machine, comment, .. } => format!("{:?} {comment:?}", machine.to_spec()),
                Item::Include { path, comment, .. } => format!("@{path} {comment:?}"),
                Item::Comment { text, .. } => format!("#{text}"),
                Item::Blank { .. } => String::new(),
            })
            .collect()
    };
    assert_eq!(strip(&again.items), strip(&file.items), "{rendered:?}");
    // `expand` would read files named in the input: build its result here.
    let located: Vec<Located> = file
        .machines()
        .map(|m| Located {
            file: "fuzz".into(),
            line: 1,
            machine: m.clone(),
        })
        .collect();
    let _ = lint(&located, &version);
    let features: BTreeSet<String> = ["kvm".to_owned()].into();
    for l in &located {
        let view = l.machine.nix_view(&version, "x86_64-linux");
        let _ = eligibility(&view, "x86_64-linux", &features);
    }
});
