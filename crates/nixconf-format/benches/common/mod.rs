//! Inputs shared by the criterion bench and the profiling example.

/// A typical 20-line nix.conf.
pub const TYPICAL: &str = "\
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

/// Lines a large nix.conf is drawn from, with weights: comments and
/// commented-out settings, blank lines, typical settings (some indented,
/// some with a trailing comment or irregular spacing), `extra-` lines and
/// old alias names. Every name is known to Nix 2.8 through 2.35.
const POOL: &[(u32, &str)] = &[
    (6, ""),
    (3, "# WARNING: this file is generated from the nix.* options in"),
    (3, "# your NixOS configuration, typically /etc/nixos/configuration.nix."),
    (2, "#"),
    (2, "# Binary caches"),
    (2, "#substituters = https://cache.nixos.org/ https://example.cachix.org"),
    (2, "## Garbage collection: keep at least 1 GiB free."),
    (2, "build-users-group = nixbld"),
    (2, "max-jobs = 8"),
    (2, "cores = 0"),
    (2, "sandbox = true"),
    (2, "substituters = https://cache.nixos.org/ https://nix-community.cachix.org"),
    (2, "trusted-public-keys = cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY= nix-community.cachix.org-1:mB9FSh9qf2dCimDSUo8Zy7bkq5CX+/rkCWyvRCYg3Fs="),
    (2, "trusted-users = root @wheel"),
    (2, "allowed-users = *"),
    (2, "auto-optimise-store = true"),
    (2, "keep-outputs = true # keep build-time dependencies for direnv"),
    (2, "keep-derivations = true"),
    (2, "experimental-features = nix-command flakes"),
    (2, "min-free = 1073741824"),
    (2, "max-free = 4294967296"),
    (2, "connect-timeout = 5"),
    (2, "narinfo-cache-negative-ttl = 3600"),
    (2, "require-sigs = true"),
    (2, "fallback = true"),
    (2, "log-lines = 25"),
    (2, "http-connections = 50"),
    (2, "warn-dirty = false"),
    (2, "builders-use-substitutes = true"),
    (2, "system-features = nixos-test benchmark big-parallel kvm"),
    (2, "max-silent-time = 3600"),
    (2, "accept-flake-config = false"),
    (1, "  keep-going = true"),
    (1, "\tsandbox-fallback = false"),
    (1, "trusted-users  =  root\t@wheel   alice # irregular spacing"),
    (1, "builders = ssh://builder@example.org x86_64-linux /etc/nix/id 4 1 kvm,big-parallel"),
    (1, "extra-substituters = https://cache.example.org/"),
    (1, "extra-trusted-public-keys = cache.example.org-1:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCdE="),
    (1, "extra-sandbox-paths = /bin/sh=/nix/store/abc-busybox/bin/busybox"),
    (1, "extra-experimental-features = ca-derivations"),
    (1, "extra-trusted-users = bob"),
    (1, "extra-platforms = aarch64-linux i686-linux"),
    (1, "build-max-jobs = 4 # the pre-2.0 name"),
    (1, "binary-caches = https://cache.nixos.org/"),
    (1, "gc-keep-outputs = true"),
    (1, "build-cores = 2"),
    (1, "build-use-sandbox = true"),
    (1, "env-keep-derivations = true"),
];

/// About `size` bytes of nix.conf, lines drawn from a weighted pool by a
/// fixed-seed generator (so branch patterns are not periodic).
pub fn large(size: usize) -> String {
    let total: u32 = POOL.iter().map(|(w, _)| w).sum();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = String::with_capacity(size + 256);
    while out.len() < size {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let mut pick = (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as u32 % total;
        for (weight, line) in POOL {
            if pick < *weight {
                out.push_str(line);
                out.push('\n');
                break;
            }
            pick -= weight;
        }
    }
    out
}
