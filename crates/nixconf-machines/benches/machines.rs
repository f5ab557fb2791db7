//! Parse throughput (target: at least 500 MB/s) and a 100,000-machine
//! file end to end (target: under 0.2 s), for the newest and the 2.8
//! splitting algorithm.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nixconf_format::NixVersion;
use nixconf_machines::{lint, parse, Located};

/// A machines file of `n` lines as the NixOS module writes them, with
/// varied hosts, systems, features and host keys.
fn module_file(n: usize) -> String {
    let systems = [
        "x86_64-linux",
        "aarch64-linux,x86_64-linux",
        "aarch64-darwin,x86_64-darwin",
        "riscv64-linux",
    ];
    let features = ["-", "kvm", "big-parallel,kvm,nixos-test", "benchmark"];
    let mut s = String::with_capacity(n * 110);
    for i in 0..n {
        s.push_str(&format!(
            "ssh://nix@builder{i}.example.org {} /etc/nix/builder_ed25519 {} {} {} - {}\n",
            systems[i % 4],
            i % 64 + 1,
            i % 9 + 1,
            features[i % 4],
            if i % 2 == 0 {
                "c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUJ0"
            } else {
                "-"
            },
        ));
    }
    s
}

fn throughput(c: &mut Criterion) {
    let text = module_file(10_000);
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(text.len() as u64));
    for v in ["2.35.2", "2.8.0"] {
        let version: NixVersion = v.parse().unwrap();
        g.bench_with_input(BenchmarkId::new("module-file-10k", v), &text, |b, t| {
            b.iter(|| parse(black_box(t), "machines", &version).unwrap())
        });
    }
    g.finish();
}

fn hundred_thousand(c: &mut Criterion) {
    let text = module_file(100_000);
    let version: NixVersion = "2.35.2".parse().unwrap();
    let mut g = c.benchmark_group("100k-machines");
    g.sample_size(10);
    g.bench_function("parse", |b| {
        b.iter(|| parse(black_box(&text), "machines", &version).unwrap())
    });
    let file = parse(&text, "machines", &version).unwrap();
    g.bench_function("render", |b| {
        b.iter(|| black_box(&file).render(&version).unwrap())
    });
    let located: Vec<Located> = file
        .machines()
        .enumerate()
        .map(|(i, m)| Located {
            file: "machines".into(),
            line: i + 1,
            machine: m.clone(),
        })
        .collect();
    g.bench_function("lint", |b| b.iter(|| lint(black_box(&located), &version)));
    g.bench_function("parse+render", |b| {
        b.iter(|| {
            parse(black_box(&text), "machines", &version)
                .unwrap()
                .render(&version)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, throughput, hundred_thousand);
criterion_main!(benches);
