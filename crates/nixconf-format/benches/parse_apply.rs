//! Parse plus apply (Nix's semantics, the settings map) of nix.conf text.
//!
//! - `large/*`: a 10 MB nix.conf (a typical file repeated), per target
//!   version; throughput in bytes.
//! - `typical/*`: one typical 20-line nix.conf.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use nixconf_format::{show_with, MemSource, Network, ShowOptions};

const TYPICAL: &str = "\
# /etc/nix/nix.conf
build-users-group = nixbld
max-jobs = 8
cores = 0
sandbox = true
substituters = https://cache.nixos.org/ https://nix-community.cachix.org
trusted-public-keys = cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY= nix-community.cachix.org-1:mB9FSh9qf2dCimDSUo8Zy7bkq5CX+/rkCWyvRCYg3Fs=
trusted-users = root @wheel
auto-optimise-store = true
keep-outputs = true
keep-derivations = true
experimental-features = nix-command flakes

# Garbage collection
min-free = 1073741824
max-free = 4294967296
connect-timeout = 5
extra-sandbox-paths = /bin/sh=/nix/store/abc-busybox/bin/busybox
narinfo-cache-negative-ttl = 3600
require-sigs = true
";

fn options(version: &str) -> ShowOptions {
    ShowOptions {
        version: version.parse().expect("version"),
        network: Network::Offline,
    }
}

fn bench(c: &mut Criterion) {
    let mut large = String::with_capacity(10 << 20);
    while large.len() < 10 << 20 {
        large.push_str(TYPICAL);
    }
    let mut files = MemSource::new();
    files.insert("/etc/nix/nix.conf", large.as_bytes());
    let mut group = c.benchmark_group("large");
    group.throughput(Throughput::Bytes(large.len() as u64));
    group.sample_size(20);
    for version in ["2.8.0", "2.15.0", "2.19.0", "2.35.0"] {
        let options = options(version);
        group.bench_function(version, |b| {
            b.iter(|| show_with(&files, black_box("/etc/nix".as_ref()), &options).expect("applies"))
        });
    }
    group.finish();

    let mut small = MemSource::new();
    small.insert("/etc/nix/nix.conf", TYPICAL.as_bytes());
    let mut group = c.benchmark_group("typical");
    for version in ["2.8.0", "2.35.0"] {
        let options = options(version);
        group.bench_function(version, |b| {
            b.iter(|| show_with(&small, black_box("/etc/nix".as_ref()), &options).expect("applies"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
