//! Nix's experimental features, per version.
//!
//! Read from `src/libutil/experimental-features.{hh,cc}` at each minor tag
//! 2.5 to 2.35 (2.4 took any string). Only the names matter here:
//! `nix show-config` prints the enabled set sorted by name.

/// `(name, first minor, last minor)`.
/// At most 32 (a `u32` holds the enabled set).
const FEATURES: &[(&str, u8, u8)] = &[
    ("auto-allocate-uids", 12, 35),
    ("blake3-hashes", 27, 35),
    ("ca-derivations", 5, 35),
    ("cgroups", 12, 35),
    ("configurable-impure-env", 19, 35),
    ("daemon-trust-override", 16, 35),
    ("discard-references", 14, 17),
    ("dynamic-derivations", 16, 35),
    ("external-builders", 32, 35),
    ("fetch-closure", 8, 35),
    ("fetch-tree", 19, 35),
    ("flakes", 5, 35),
    ("git-hashing", 19, 35),
    ("impure-derivations", 8, 35),
    ("local-overlay-store", 22, 35),
    ("mounted-ssh-store", 20, 35),
    ("nix-command", 5, 35),
    ("no-url-literals", 5, 33),
    ("parse-toml-timestamps", 17, 35),
    ("pipe-operators", 24, 35),
    ("read-only-local-store", 17, 35),
    ("recursive-nix", 5, 35),
    ("repl-flake", 10, 21),
    ("verified-fetches", 19, 35),
];

/// Whether 2.`minor` knows the feature `name`.
pub(crate) fn is_known(name: &[u8], minor: u8) -> bool {
    bit(name, minor).is_some()
}

/// The bit of feature `name` in a set of enabled features for 2.`minor`,
/// if that version knows it.
pub(crate) fn bit(name: &[u8], minor: u8) -> Option<u32> {
    FEATURES
        .iter()
        .position(|&(n, first, last)| n.as_bytes() == name && first <= minor && minor <= last)
        .map(|i| 1 << i)
}

/// From 2.19, enabling `flakes` also enables `fetch-tree`.
pub(crate) fn implied_by(name: &[u8], minor: u8) -> Option<&'static str> {
    (name == b"flakes" && minor >= 19).then_some("fetch-tree")
}

#[cfg(test)]
mod tests {
    #[test]
    fn features_fit_a_u32_set() {
        assert!(super::FEATURES.len() <= 32);
    }
}
