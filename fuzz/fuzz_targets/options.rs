//! Any bytes, read as an option-tree configuration in TOML (through the
//! quick reader, falling back to toml_edit) or JSON: evaluation never
//! panics, and whatever evaluates renders its files.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nixconf_options::{evaluate, Format};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let format = if selector & 1 == 0 {
        Format::Toml
    } else {
        Format::Json
    };
    let text = String::from_utf8_lossy(rest);
    if let Ok(eval) = evaluate(&text, format, "fuzz") {
        let _ = eval.files();
        let _ = eval.to_json();
    }
});
