//! The benchmark inputs, shared by the criterion bench and the profiling
//! example.

/// A typical configuration: a few settings, a remote builder, a registry
/// entry, a renamed option.
pub const TYPICAL_JSON: &str = r#"{
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
pub const TYPICAL_TOML: &str = r#"
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

/// The annotated example configuration shipped in the repository.
pub fn example_toml() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/nixconf.toml"
    ))
    .expect("the example config")
}
