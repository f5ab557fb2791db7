//! Parse plus apply (Nix's semantics, the settings map) of nix.conf text.
//!
//! - `large/VERSION`: [`apply_with`] on a 10 MiB nix.conf drawn from a
//!   weighted pool of realistic lines (see `common/mod.rs`); throughput in
//!   bytes, on one thread.
//! - `typical/VERSION`: [`apply_with`] on a typical 20-line nix.conf.
//! - `large-show/VERSION`, `typical-show/VERSION`: [`show_with`], which
//!   also prints every value the way `nix show-config` does into a
//!   `BTreeMap<String, String>` (what `nixconf conf show` needs).
//!
//! The targets are whole-process figures, which these benches track the
//! library's share of: `nixconf conf show --conf-dir DIR --nix-version V`
//! on the 10 MiB file in at most 0.2x the time of real `nix
//! --extra-experimental-features nix-command show-config` with
//! `NIX_CONF_DIR=DIR` (empty `HOME`, `NIX_USER_CONF_FILES=`) on the same
//! file, measured side by side with `hyperfine` on release builds
//! (`cargo run --release -p nixconf-format --example profile -- write
//! DIR/nix.conf` writes the file). Measured on Nix 2.8: 37 ms against
//! 233 ms (0.16x). Without `--nix-version`, `nixconf` first runs `nix
//! --version` (about 33 ms), which the library cannot save: 73 ms.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use nixconf_format::{apply_with, show_with, MemSource, Network, ShowOptions};

mod common;

fn options(version: &str) -> ShowOptions {
    ShowOptions {
        version: version.parse().expect("version"),
        network: Network::Offline,
    }
}

fn bench(c: &mut Criterion) {
    let dir = "/etc/nix".as_ref();
    let large = common::large(10 << 20);
    let mut files = MemSource::new();
    files.insert("/etc/nix/nix.conf", large.as_bytes());
    let mut group = c.benchmark_group("large");
    group.throughput(Throughput::Bytes(large.len() as u64));
    group.sample_size(20);
    for version in ["2.8.0", "2.15.0", "2.19.0", "2.35.0"] {
        let options = options(version);
        let effective = show_with(&files, dir, &options).expect("applies");
        assert!(effective.warnings.is_empty(), "{:?}", effective.warnings);
        group.bench_function(version, |b| {
            b.iter(|| apply_with(&files, black_box(dir), &options).expect("applies"))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("large-show");
    group.throughput(Throughput::Bytes(large.len() as u64));
    group.sample_size(20);
    for version in ["2.8.0", "2.35.0"] {
        let options = options(version);
        group.bench_function(version, |b| {
            b.iter(|| show_with(&files, black_box(dir), &options).expect("applies"))
        });
    }
    group.finish();

    let mut small = MemSource::new();
    small.insert("/etc/nix/nix.conf", common::TYPICAL.as_bytes());
    for (name, show) in [("typical", false), ("typical-show", true)] {
        let mut group = c.benchmark_group(name);
        for version in ["2.8.0", "2.35.0"] {
            let options = options(version);
            group.bench_function(version, |b| {
                b.iter(|| {
                    if show {
                        show_with(&small, black_box(dir), &options).map(|e| e.settings.len())
                    } else {
                        apply_with(&small, black_box(dir), &options).map(|s| s.len())
                    }
                    .expect("applies")
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
