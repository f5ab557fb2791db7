//! A fleet's worth of host configurations, linted in parallel: the figure
//! behind "10,000 configurations in under 1 s on 2 cores" (evaluation
//! included, as `nixconf lint --config` does it).

use criterion::{criterion_group, criterion_main, Criterion};
use rayon::prelude::*;

use nixconf_lint::{lint_config, Host};
use nixconf_options::{evaluate, Format};

/// Host `i` of a fleet: a few shapes of configuration, every value varied.
fn host(i: usize) -> String {
    let jobs = 1 + i % 16;
    let mut text = format!(
        "nixVersion = \"2.{}.{}\"\n\n[nix]\nnrBuildUsers = {}\n\n[nix.settings]\nmax-jobs = {jobs}\ncores = {}\n\
         trusted-users = [\"root\", \"@wheel\"{}]\nsubstituters = [\"https://cache{}.example.org\"]\n\
         trusted-public-keys = [\"cache{}.example.org-1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"]\n",
        18 + i % 6,
        i % 4,
        8 + i % 40,
        i % 8,
        if i % 7 == 0 { ", \"deploy\"" } else { "" },
        i % 100,
        i % 100,
    );
    if i % 3 == 0 {
        text.push_str(&format!(
            "\n[[nix.buildMachines]]\nhostName = \"builder{}.example.org\"\nsystems = [\"x86_64-linux\", \"aarch64-linux\"]\nmaxJobs = {jobs}\nsupportedFeatures = [\"kvm\", \"big-parallel\"]\n",
            i % 50
        ));
        text.insert_str(
            text.find("\n[nix.settings]").unwrap_or(0),
            "\ndistributedBuilds = true",
        );
    }
    text
}

fn fleet(c: &mut Criterion) {
    let configs: Vec<String> = (0..10_000).map(host).collect();
    let host_facts = Host {
        cpus: 8,
        uid_min: 1000,
    };
    let mut group = c.benchmark_group("fleet");
    group.sample_size(10);
    group.bench_function("10000 configurations", |b| {
        b.iter(|| {
            let findings: usize = configs
                .par_iter()
                .map(|text| {
                    let eval =
                        evaluate(text, Format::Toml, "host.toml").expect("the fleet evaluates");
                    lint_config(&eval, &host_facts).len()
                })
                .sum();
            assert!(findings > 0);
            findings
        })
    });
    group.finish();
}

criterion_group!(benches, fleet);
criterion_main!(benches);
