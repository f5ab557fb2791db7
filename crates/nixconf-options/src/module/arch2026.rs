//! `lib.systems.architectures.inferiors` of the 2026 nixpkgs lib
//! (nix-community/nixpkgs.lib @ de42d442): the `gcc.arch` values a host
//! can also build for. Since 2023 the generic `x86-64-v*` levels,
//! `nehalem`, newer Intel/AMD/ARM and LoongArch entries joined the table.
//!
//! Each entry is written as the library writes it: its direct inferiors
//! (`heads`), followed by the chains of the entries named in `from`, with
//! duplicates dropped where the library applies `lib.unique`.

/// One row: `name = heads ++ inferiors.from[0] ++ ...`, `unique` or not.
struct Row {
    name: &'static str,
    heads: &'static [&'static str],
    from: &'static [&'static str],
    unique: bool,
}

const fn row(name: &'static str, heads: &'static [&'static str]) -> Row {
    // The common form `[ "x" ] ++ inferiors.x`.
    Row {
        name,
        heads,
        from: heads,
        unique: false,
    }
}

const fn leaf(name: &'static str, heads: &'static [&'static str]) -> Row {
    Row {
        name,
        heads,
        from: &[],
        unique: false,
    }
}

const fn uniq(name: &'static str, heads: &'static [&'static str]) -> Row {
    // `lib.unique ([ a b ] ++ inferiors.a ++ inferiors.b)`, and
    // `withInferiors`.
    Row {
        name,
        heads,
        from: heads,
        unique: true,
    }
}

const TABLE: &[Row] = &[
    leaf("default", &[]),
    leaf("x86-64", &[]),
    leaf("x86-64-v2", &["x86-64"]),
    row("x86-64-v3", &["x86-64-v2"]),
    row("x86-64-v4", &["x86-64-v3"]),
    row("nehalem", &["x86-64-v2"]),
    row("westmere", &["nehalem"]),
    row("sandybridge", &["westmere"]),
    row("ivybridge", &["sandybridge"]),
    uniq("haswell", &["ivybridge", "x86-64-v3"]),
    row("broadwell", &["haswell"]),
    row("skylake", &["broadwell"]),
    uniq("skylake-avx512", &["skylake", "x86-64-v4"]),
    row("cannonlake", &["skylake-avx512"]),
    row("icelake-client", &["cannonlake"]),
    row("icelake-server", &["icelake-client"]),
    row("cascadelake", &["cannonlake"]),
    row("cooperlake", &["cascadelake"]),
    row("tigerlake", &["icelake-server"]),
    row("sapphirerapids", &["tigerlake"]),
    row("emeraldrapids", &["sapphirerapids"]),
    row("rocketlake", &["x86-64-v4"]),
    row("alderlake", &["skylake"]),
    row("sierraforest", &["alderlake"]),
    leaf("btver1", &["x86-64"]),
    row("btver2", &["x86-64-v2"]),
    row("bdver1", &["x86-64-v2"]),
    row("bdver2", &["x86-64-v2"]),
    row("bdver3", &["x86-64-v2"]),
    row("bdver4", &["x86-64-v3"]),
    row("znver1", &["skylake"]),
    row("znver2", &["znver1"]),
    row("znver3", &["znver2"]),
    uniq("znver4", &["znver3", "x86-64-v4"]),
    row("znver5", &["znver4"]),
    leaf("armv8-a", &[]),
    leaf("armv8.1-a", &["armv8-a"]),
    row("armv8.2-a", &["armv8.1-a"]),
    row("armv8.3-a", &["armv8.2-a"]),
    row("armv8.4-a", &["armv8.3-a"]),
    row("armv8.5-a", &["armv8.4-a"]),
    row("armv8.6-a", &["armv8.5-a"]),
    row("armv8.7-a", &["armv8.6-a"]),
    row("armv8.8-a", &["armv8.7-a"]),
    row("armv8.9-a", &["armv8.8-a"]),
    row("armv9-a", &["armv8.5-a"]),
    Row {
        name: "armv9.1-a",
        heads: &["armv9-a", "armv8.6-a"],
        from: &["armv8.6-a"],
        unique: false,
    },
    uniq("armv9.2-a", &["armv9.1-a", "armv8.7-a"]),
    uniq("armv9.3-a", &["armv9.2-a", "armv8.8-a"]),
    row("armv9.4-a", &["armv9.3-a"]),
    leaf("cortex-a53", &["armv8-a"]),
    leaf("cortex-a72", &["armv8-a"]),
    Row {
        name: "cortex-a55",
        heads: &["armv8.2-a", "cortex-a53", "cortex-a72"],
        from: &["armv8.2-a"],
        unique: false,
    },
    Row {
        name: "cortex-a76",
        heads: &["armv8.2-a", "cortex-a53", "cortex-a72"],
        from: &["armv8.2-a"],
        unique: false,
    },
    uniq("ampere1", &["armv8.6-a", "cortex-a55", "cortex-a76"]),
    row("ampere1a", &["ampere1"]),
    row("ampere1b", &["ampere1a"]),
    leaf("loongarch64", &[]),
    leaf("la64v1.0", &["loongarch64"]),
    row("la464", &["la64v1.0"]),
    row("la64v1.1", &["la64v1.0"]),
    uniq("la664", &["la464", "la64v1.1"]),
    leaf("armv5te", &[]),
    leaf("armv6", &[]),
    leaf("armv7-a", &[]),
    leaf("mips32", &[]),
    leaf("loongson2f", &[]),
];

/// The architectures inferior to `arch`, in the library's order; empty
/// for one the table does not know (the module's `or [ ]`). The chains are
/// computed once.
pub(crate) fn inferiors(arch: &str) -> &'static [&'static str] {
    static CHAINS: std::sync::OnceLock<Vec<Vec<&'static str>>> = std::sync::OnceLock::new();
    let chains = CHAINS.get_or_init(|| TABLE.iter().map(|r| chain(r.name)).collect());
    TABLE
        .iter()
        .position(|r| r.name == arch)
        .map_or(&[], |i| &chains[i])
}

/// One architecture's chain, from the table.
fn chain(arch: &str) -> Vec<&'static str> {
    let Some(row) = TABLE.iter().find(|r| r.name == arch) else {
        return Vec::new();
    };
    let mut out: Vec<&'static str> = row.heads.to_vec();
    for from in row.from {
        out.extend(chain(from));
    }
    if row.unique {
        let mut seen = Vec::with_capacity(out.len());
        out.retain(|a| {
            let new = !seen.contains(a);
            seen.push(*a);
            new
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::inferiors;

    #[test]
    fn skylake_now_reaches_the_generic_levels() {
        assert_eq!(
            inferiors("skylake"),
            [
                "broadwell",
                "haswell",
                "ivybridge",
                "x86-64-v3",
                "sandybridge",
                "westmere",
                "nehalem",
                "x86-64-v2",
                "x86-64"
            ]
        );
    }

    #[test]
    fn unknown_arches_have_none_and_no_chain_repeats() {
        assert!(inferiors("no-such-cpu").is_empty());
        assert!(inferiors("x86-64").is_empty());
        for row in super::TABLE {
            let chain = inferiors(row.name);
            let mut sorted = chain.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), chain.len(), "{}", row.name);
        }
    }
}
