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
    c.bench_function("eval+to_json typical (JSON)", |b| {
        b.iter(|| {
            let eval = evaluate(black_box(TYPICAL_JSON), Format::Json, "typical.json").unwrap();
            black_box(eval.to_json().to_string())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
