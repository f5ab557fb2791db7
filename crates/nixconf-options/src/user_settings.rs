//! The user's definitions of `nix.settings`, with their priorities.

use std::collections::BTreeMap;

use crate::evaluator::Evaluator;
use crate::renames::LEGACY_CONF_MAPPINGS;
use crate::settings::{check_def, Def, Origin, SettingsDefs, ORDER_NORMAL, PRIO_NORMAL};
use crate::tree::Node;
use crate::typecheck::JoinedPath;

impl Evaluator<'_, '_> {
    /// The user's definitions of `nix.settings`: its keys, then the renamed
    /// options, each forwarding its own definitions (and those renamed
    /// into it) to the new name. Whether all fit their types.
    pub(crate) fn user_settings<'n>(
        &mut self,
        defs: &mut SettingsDefs<'n>,
        nix: &'n BTreeMap<String, Node>,
        module_defines: bool,
    ) -> bool {
        // A whole `nix.settings` of lower priority than the module's own
        // definitions of it is discarded.
        let module_wins = module_defines && self.settings_prio() > PRIO_NORMAL;
        let mut ok = true;
        if let Some(node) = nix.get("settings").filter(|_| !module_wins) {
            if let Some(attrs) = self.c.attrs("nix.settings", node) {
                for (key, value) in attrs {
                    ok &= self.user_def(defs, key, "nix.settings", key, value);
                }
            } else {
                ok = false;
            }
        }
        for (old, new) in LEGACY_CONF_MAPPINGS {
            let chained = match *old {
                "useSandbox" => Some("useChroot"),
                "sandboxPaths" => Some("chrootDirs"),
                _ => None,
            };
            for name in std::iter::once(*old).chain(chained) {
                if let Some(value) = nix.get(name) {
                    ok &= self.user_def(defs, new, "nix", name, value);
                }
            }
        }
        ok
    }

    /// The user's definition of setting `key`, written as the option
    /// `parent.name`.
    pub(crate) fn user_def<'n>(
        &mut self,
        defs: &mut SettingsDefs<'n>,
        key: &'n str,
        parent: &'static str,
        name: &'n str,
        node: &Node,
    ) -> bool {
        let path = JoinedPath::new(parent, name);
        let (prio, order) = self
            .prios
            .get(path.as_str())
            .copied()
            .unwrap_or((PRIO_NORMAL, ORDER_NORMAL));
        match check_def(self.c, key, path.as_str(), node) {
            Some(value) => {
                defs.add(
                    key,
                    Def {
                        value,
                        prio,
                        order,
                        origin: Some(Origin {
                            parent,
                            name,
                            span: node.span.clone(),
                        }),
                    },
                );
                true
            }
            None => false,
        }
    }
}
