//! The renamed options of the `nix.*` modules: old names forwarded to
//! `nix.settings` and elsewhere, and the warnings NixOS prints for them.

use std::collections::BTreeMap;

use crate::output::Warning;
use crate::tree::Node;
use crate::typecheck::join;

/// The module's `legacyConfMappings`: old `nix.*` name to `nix.settings`
/// key, in the order `mapAttrsToList` imports them (sorted by old name).
pub(crate) const LEGACY_CONF_MAPPINGS: &[(&str, &str)] = &[
    ("allowedUsers", "allowed-users"),
    ("autoOptimiseStore", "auto-optimise-store"),
    ("binaryCachePublicKeys", "trusted-public-keys"),
    ("binaryCaches", "substituters"),
    ("buildCores", "cores"),
    ("maxJobs", "max-jobs"),
    ("requireSignedBinaryCaches", "require-sigs"),
    ("sandboxPaths", "extra-sandbox-paths"),
    ("systemFeatures", "system-features"),
    ("trustedBinaryCaches", "trusted-substituters"),
    ("trustedUsers", "trusted-users"),
    ("useSandbox", "sandbox"),
];

/// Whether `path` is an old option renamed into `nix.settings`.
pub(crate) fn renamed_setting(path: &str) -> bool {
    path.strip_prefix("nix.").is_some_and(|old| {
        old == "useChroot"
            || old == "chrootDirs"
            || LEGACY_CONF_MAPPINGS.iter().any(|(from, _)| *from == old)
    })
}

/// Renames that point at another renamed option (the chained ones) or
/// elsewhere, in import order, before the legacy mappings.
const OTHER_RENAMES: &[(&str, &str)] = &[
    ("useChroot", "nix.useSandbox"),
    ("chrootDirs", "nix.sandboxPaths"),
    ("daemonIONiceLevel", "nix.daemonIOSchedPriority"),
    ("readOnlyStore", "boot.readOnlyNixStore"),
];

/// The renamed-option warnings, in the order NixOS lists them (the reverse
/// of the order the modules import their renames: in 2023 the one module's
/// own renames first; in 2026 `nix.nix`'s (the chained ones, then the
/// legacy mappings), then `nix-daemon.nix`'s).
pub(crate) fn rename_warnings(nix: &BTreeMap<String, Node>, split_modules: bool) -> Vec<Warning> {
    let defined = |name: &str| {
        nix.contains_key(name)
            || match name {
                "useSandbox" => nix.contains_key("useChroot"),
                "sandboxPaths" => nix.contains_key("chrootDirs"),
                _ => false,
            }
    };
    // Only the names of options that were set are built: this runs for
    // every configuration, and most set none.
    let (first, last) = if split_modules {
        OTHER_RENAMES.split_at(2)
    } else {
        (OTHER_RENAMES, &[][..])
    };
    let other = |list: &'static [(&'static str, &'static str)]| {
        list.iter()
            .filter(|(from, _)| defined(from))
            .map(|(from, to)| (*from, (*to).to_owned()))
    };
    let renames = other(first)
        .chain(
            LEGACY_CONF_MAPPINGS
                .iter()
                .filter(|(from, _)| defined(from))
                .map(|(from, to)| (*from, join("nix.settings", to))),
        )
        .chain(other(last));
    let mut out: Vec<Warning> = renames
        .map(|(from, to)| Warning {
            from: ["nix.", from].concat(),
            to,
        })
        .collect();
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Value;

    #[test]
    fn warnings_come_in_reverse_import_order() {
        let mut nix = BTreeMap::new();
        for k in ["useChroot", "maxJobs", "readOnlyStore"] {
            nix.insert(k.to_owned(), Node::new(Value::Bool(true)));
        }
        let w: Vec<String> = rename_warnings(&nix, false)
            .into_iter()
            .map(|w| w.from)
            .collect();
        assert_eq!(
            w,
            [
                "nix.useSandbox",
                "nix.maxJobs",
                "nix.readOnlyStore",
                "nix.useChroot"
            ]
        );
    }
}
