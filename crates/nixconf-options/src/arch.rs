//! The `gcc.arch` values a host can build for: nixpkgs'
//! `lib.systems.architectures.inferiors` as it stood in 2023, the era of
//! the module this crate reproduces. (Later nixpkgs added the generic
//! `x86-64-v*` levels and `nehalem` to these chains; the reference results
//! show they were not there yet.)

/// The architectures inferior to `arch`, nearest first; empty for an
/// architecture the table does not know (the module's `or [ ]`).
pub fn inferiors(arch: &str) -> &'static [&'static str] {
    // Each chain is the architecture's direct inferior followed by that
    // one's chain, written out.
    const SKYLAKE: &[&str] = &[
        "broadwell",
        "haswell",
        "ivybridge",
        "sandybridge",
        "westmere",
    ];
    match arch {
        "sandybridge" => &["westmere"],
        "ivybridge" => &["sandybridge", "westmere"],
        "haswell" => &["ivybridge", "sandybridge", "westmere"],
        "broadwell" => &["haswell", "ivybridge", "sandybridge", "westmere"],
        "skylake" => SKYLAKE,
        "skylake-avx512" => &[
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        "cannonlake" => &[
            "skylake-avx512",
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        "icelake-client" => &[
            "cannonlake",
            "skylake-avx512",
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        "icelake-server" => &[
            "icelake-client",
            "cannonlake",
            "skylake-avx512",
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        "cascadelake" => &[
            "cannonlake",
            "skylake-avx512",
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        "cooperlake" => &[
            "cascadelake",
            "cannonlake",
            "skylake-avx512",
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        "tigerlake" => &[
            "icelake-server",
            "icelake-client",
            "cannonlake",
            "skylake-avx512",
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        "znver1" => &[
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        "znver2" => &[
            "znver1",
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        "znver3" => &[
            "znver2",
            "znver1",
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        "znver4" => &[
            "znver3",
            "znver2",
            "znver1",
            "skylake",
            "broadwell",
            "haswell",
            "ivybridge",
            "sandybridge",
            "westmere",
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::inferiors;

    #[test]
    fn every_chain_is_its_head_followed_by_the_heads_chain() {
        for arch in [
            "sandybridge",
            "ivybridge",
            "haswell",
            "broadwell",
            "skylake",
            "skylake-avx512",
            "cannonlake",
            "icelake-client",
            "icelake-server",
            "cascadelake",
            "cooperlake",
            "tigerlake",
            "znver1",
            "znver2",
            "znver3",
            "znver4",
        ] {
            let chain = inferiors(arch);
            let (head, rest) = chain.split_first().unwrap();
            assert_eq!(rest, inferiors(head), "{arch}");
        }
    }

    #[test]
    fn unknown_and_generic_arches_have_none() {
        assert!(inferiors("x86-64-v3").is_empty());
        assert!(inferiors("armv8-a").is_empty());
        assert!(inferiors("westmere").is_empty());
        assert!(inferiors("no-such-cpu").is_empty());
    }
}
