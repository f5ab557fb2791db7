//! The top-level keys of a configuration, declared once: which module
//! generations have each (`since`, `until`) and, for a key later than
//! 2013, why the 2013 module has no use for it. nixconf's own key
//! (`users`) is marked as not in NixOS module, as nix-darwin marks its
//! own options.

use crate::output::ModuleGeneration::{self, Nixos2013, Nixos2023, Nixos2026};

/// One top-level key.
#[derive(Debug)]
pub(crate) struct TopKey {
    pub name: &'static str,
    /// The first generation that has it.
    pub since: ModuleGeneration,
    /// The last generation that has it (`None`: still there).
    pub until: Option<ModuleGeneration>,
    /// For a key later than 2013: why the 2013 module has no use for it.
    pub not_in_2013: Option<&'static str>,
}

const fn key(name: &'static str, since: ModuleGeneration) -> TopKey {
    TopKey {
        name,
        since,
        until: None,
        not_in_2013: None,
    }
}

const fn later(name: &'static str, not_in_2013: &'static str) -> TopKey {
    TopKey {
        name,
        since: Nixos2023,
        until: None,
        not_in_2013: Some(not_in_2013),
    }
}

/// Every top-level key, in the order unknown keys are matched against
/// (the first of equally close names is suggested).
pub(crate) const TOP_KEYS: &[TopKey] = &[
    key("generation", Nixos2013),
    key("nixVersion", Nixos2013),
    key("nixPname", Nixos2026),
    later(
        "gccArch",
        "it only adds gccarch-* system features, and the 2013 module set no system \
         features: remove it",
    ),
    key("caBundle", Nixos2026),
    key("nix", Nixos2013),
    key("ids", Nixos2013),
    // Not in NixOS module: nixconf's own build-user options (crate::own).
    key("users", Nixos2013),
    later(
        "system",
        "system.defaultChannel is root's channel subscription, which the 2013 \
         nix-daemon module did not write: remove it",
    ),
    later(
        "networking",
        "for networking.proxy.envVars, give the proxy with nix.proxy, the 2013 \
         module's option",
    ),
    later(
        "boot",
        "for boot.readOnlyNixStore, use nix.readOnlyStore, the 2013 module's option",
    ),
];

fn rank(g: ModuleGeneration) -> u8 {
    match g {
        Nixos2013 => 0,
        Nixos2023 => 1,
        Nixos2026 => 2,
    }
}

impl TopKey {
    /// Whether generation `g` has this key.
    pub(crate) fn in_generation(&self, g: ModuleGeneration) -> bool {
        rank(self.since) <= rank(g) && self.until.map_or(true, |u| rank(g) <= rank(u))
    }
}

/// The top-level keys generation `g` has, in [`TOP_KEYS`] order.
pub(crate) fn top_keys(g: ModuleGeneration) -> Vec<&'static str> {
    TOP_KEYS
        .iter()
        .filter(|k| k.in_generation(g))
        .map(|k| k.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_generation_has_its_keys_in_order() {
        assert_eq!(
            top_keys(Nixos2013),
            ["generation", "nixVersion", "nix", "ids", "users"]
        );
        assert_eq!(
            top_keys(Nixos2023),
            [
                "generation",
                "nixVersion",
                "gccArch",
                "nix",
                "ids",
                "users",
                "system",
                "networking",
                "boot"
            ]
        );
        assert_eq!(top_keys(Nixos2026).len(), 11);
    }
}
