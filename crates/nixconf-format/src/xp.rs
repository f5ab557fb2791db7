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
    let i = index(name)?;
    let &(_, first, last) = FEATURES.get(i)?;
    (first <= minor && minor <= last).then_some(1 << i)
}

/// The index of `name` in `FEATURES`: a `match`, which the compiler turns
/// into a switch on the length and a few comparisons (a search through
/// the table costs more and mispredicts where the lines vary).
fn index(name: &[u8]) -> Option<usize> {
    Some(match name {
        b"auto-allocate-uids" => 0,
        b"blake3-hashes" => 1,
        b"ca-derivations" => 2,
        b"cgroups" => 3,
        b"configurable-impure-env" => 4,
        b"daemon-trust-override" => 5,
        b"discard-references" => 6,
        b"dynamic-derivations" => 7,
        b"external-builders" => 8,
        b"fetch-closure" => 9,
        b"fetch-tree" => 10,
        b"flakes" => 11,
        b"git-hashing" => 12,
        b"impure-derivations" => 13,
        b"local-overlay-store" => 14,
        b"mounted-ssh-store" => 15,
        b"nix-command" => 16,
        b"no-url-literals" => 17,
        b"parse-toml-timestamps" => 18,
        b"pipe-operators" => 19,
        b"read-only-local-store" => 20,
        b"recursive-nix" => 21,
        b"repl-flake" => 22,
        b"verified-fetches" => 23,
        _ => return None,
    })
}

/// From 2.19, enabling `flakes` also enables `fetch-tree`.
pub(crate) fn implied_by(name: &[u8], minor: u8) -> Option<&'static str> {
    (name == b"flakes" && minor >= 19).then_some("fetch-tree")
}

#[cfg(test)]
mod tests {
    #[test]
    fn index_matches_the_table() {
        for (i, &(name, _, _)) in super::FEATURES.iter().enumerate() {
            assert_eq!(super::index(name.as_bytes()), Some(i), "{name}");
        }
        assert_eq!(super::index(b"flake"), None);
        assert_eq!(super::index(b""), None);
    }

    #[test]
    fn features_fit_a_u32_set() {
        assert!(super::FEATURES.len() <= 32);
    }
}
