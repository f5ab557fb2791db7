//! A driver for `valgrind --tool=callgrind`: evaluates and renders one of
//! the benchmark inputs a given number of times. Instruction counts are
//! repeatable on a loaded machine, where wall-clock timings are not.
//!
//! ```text
//! cargo build --release -p nixconf-options --example eval_profile
//! valgrind --tool=callgrind --toggle-collect='profile::run' \
//!     target/release/examples/eval_profile typical-toml 100
//! ```
//!
//! Arguments: `typical-json`, `typical-toml` or `example-toml`, a repeat
//! count, and optionally `json` to produce the `eval --json` object
//! instead of the rendered files.

use std::hint::black_box;

use nixconf_options::{evaluate, Format};

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (input, times, json) = match args.as_slice() {
        [_, input, times] => (input.as_str(), times, false),
        [_, input, times, json] if json == "json" => (input.as_str(), times, true),
        _ => usage(),
    };
    let (text, format) = match input {
        "typical-json" => (common::TYPICAL_JSON.to_owned(), Format::Json),
        "typical-toml" => (common::TYPICAL_TOML.to_owned(), Format::Toml),
        "example-toml" => (common::example_toml(), Format::Toml),
        _ => usage(),
    };
    let times: usize = times.parse().unwrap_or_else(|_| usage());
    for _ in 0..times {
        run(&text, format, json);
    }
}

#[inline(never)]
fn run(text: &str, format: Format, json: bool) {
    match evaluate(black_box(text), format, "profile") {
        Ok(eval) if json => {
            black_box(eval.to_json().to_string());
        }
        Ok(eval) => {
            black_box(eval.files());
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

fn usage() -> ! {
    eprintln!("usage: profile typical-json|typical-toml|example-toml TIMES [json]");
    std::process::exit(2)
}
