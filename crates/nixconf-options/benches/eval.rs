//! Evaluation plus rendering of a typical configuration, in-process.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use nixconf_options::{evaluate, Format};

mod common;
use common::{example_toml, TYPICAL_JSON, TYPICAL_TOML};

fn bench(c: &mut Criterion) {
    let toml = example_toml();
    c.bench_function("eval+render typical (JSON)", |b| {
        b.iter(|| {
            let eval = evaluate(black_box(TYPICAL_JSON), Format::Json, "typical.json").unwrap();
            black_box(eval.files())
        })
    });
    c.bench_function("eval+render typical (TOML)", |b| {
        b.iter(|| {
            let eval = evaluate(black_box(TYPICAL_TOML), Format::Toml, "typical.toml").unwrap();
            black_box(eval.files())
        })
    });
    c.bench_function("eval+render example (TOML)", |b| {
        b.iter(|| {
            let eval = evaluate(black_box(&toml), Format::Toml, "nixconf.toml").unwrap();
            black_box(eval.files())
        })
    });
    let nix_1 = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/nix-1.x.toml"
    ))
    .expect("the Nix 1.x example config");
    c.bench_function("eval+render Nix 1.x example (TOML)", |b| {
        b.iter(|| {
            let eval = evaluate(black_box(&nix_1), Format::Toml, "nix-1.x.toml").unwrap();
            black_box(eval.files())
        })
    });
    c.bench_function("eval+to_json typical (JSON)", |b| {
        b.iter(|| {
            let eval = evaluate(black_box(TYPICAL_JSON), Format::Json, "typical.json").unwrap();
            black_box(eval.to_json().to_string())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
