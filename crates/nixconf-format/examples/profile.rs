//! A driver for `valgrind --tool=callgrind` and peak-memory measurements
//! (`/usr/bin/time -v`): applies the benchmark inputs a given number of
//! times.
//!
//! ```text
//! cargo build --release -p nixconf-format --example profile
//! valgrind --tool=callgrind --toggle-collect='nixconf_format::eval::apply_with*' \
//!     target/release/examples/profile large 2.35.0 1
//! ```
//!
//! Arguments: `large` (the bench's 10 MiB input) or `typical`, a Nix
//! version, a repeat count, and optionally `show` to also print every
//! value (`show_with` instead of `apply_with`). `profile write FILE`
//! writes the 10 MiB input to FILE instead (for whole-process
//! measurements of `nixconf conf show` against `nix show-config`; see the
//! bench's docs).

use nixconf_format::{apply_with, show_with, MemSource, Network, ShowOptions};

#[path = "../benches/common/mod.rs"]
mod common;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let [_, write, file] = args.as_slice() {
        if write == "write" {
            if let Err(e) = std::fs::write(file, common::large(10 << 20)) {
                eprintln!("{file}: {e}");
                std::process::exit(1);
            }
            return;
        }
    }
    let (input, version, times, show) = match args.as_slice() {
        [_, input, version, times] => (input.as_str(), version, times, false),
        [_, input, version, times, show] if show == "show" => {
            (input.as_str(), version, times, true)
        }
        _ => {
            eprintln!("usage: profile large|typical VERSION TIMES [show]");
            std::process::exit(2);
        }
    };
    let text = match input {
        "large" => common::large(10 << 20),
        _ => common::TYPICAL.to_owned(),
    };
    let times: usize = times.parse().unwrap_or(1);
    let options = ShowOptions {
        version: version.parse().unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        }),
        network: Network::Offline,
    };
    let mut files = MemSource::new();
    files.insert("/etc/nix/nix.conf", text);
    let mut settings = 0;
    for _ in 0..times {
        let dir = "/etc/nix".as_ref();
        let result = if show {
            show_with(&files, dir, &options).map(|e| e.settings.len())
        } else {
            apply_with(&files, dir, &options).map(|s| s.len())
        };
        match result {
            Ok(n) => settings += n,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
    println!("{settings} settings");
}
