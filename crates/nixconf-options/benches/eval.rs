//! Evaluation plus rendering of a typical configuration, in-process.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use nixconf_options::{evaluate, Format};

/// A typical configuration: a few settings, a remote builder, a registry
/// entry, a renamed option.
const TYPICAL_JSON: &str = r#"{
  "nixVersion": "2.18.1",
  "gccArch": "znver3",
  "nix": {
    "distributedBuilds": true,
    "useSandbox": true,
    "settings": {
      "max-jobs": 8,
      "cores": 4,
      "substituters": ["https://nix-community.cachix.org"],
      "trusted-public-keys": ["nix-community.cachix.org-1:mB9FSh9qf2dCimDSUo8Zy7bkq5CX+/rkCWyvRCYg3Fs="],
      "trusted-users": ["root", "@wheel"],
      "experimental-features": ["nix-command", "flakes"],
      "auto-optimise-store": true
    },
    "buildMachines": [{
      "hostName": "builder.example.org", "protocol": "ssh-ng", "sshUser": "nixbuild",
      "sshKey": "/root/.ssh/id_builder", "systems": ["x86_64-linux", "aarch64-linux"],
      "maxJobs": 4, "speedFactor": 2, "supportedFeatures": ["big-parallel", "kvm"]
    }],
    "registry": {"nixpkgs": {"to": {"type": "github", "owner": "NixOS", "repo": "nixpkgs"}}},
    "envVars": {"TMPDIR": "/var/tmp"}
  }
}"#;

/// The same configuration in TOML, as people write it (without the
/// example's comments).
const TYPICAL_TOML: &str = r#"
nixVersion = "2.18.1"
gccArch = "znver3"

[nix]
distributedBuilds = true
useSandbox = true
envVars = { TMPDIR = "/var/tmp" }

[nix.settings]
max-jobs = 8
cores = 4
substituters = ["https://nix-community.cachix.org"]
trusted-public-keys = ["nix-community.cachix.org-1:mB9FSh9qf2dCimDSUo8Zy7bkq5CX+/rkCWyvRCYg3Fs="]
trusted-users = ["root", "@wheel"]
experimental-features = ["nix-command", "flakes"]
auto-optimise-store = true

[[nix.buildMachines]]
hostName = "builder.example.org"
protocol = "ssh-ng"
sshUser = "nixbuild"
sshKey = "/root/.ssh/id_builder"
systems = ["x86_64-linux", "aarch64-linux"]
maxJobs = 4
speedFactor = 2
supportedFeatures = ["big-parallel", "kvm"]

[nix.registry.nixpkgs]
to = { type = "github", owner = "NixOS", repo = "nixpkgs" }
"#;

fn bench(c: &mut Criterion) {
    let toml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/nixconf.toml"
    ))
    .expect("the example config");
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
