//! `nix.registry`: the flake registry entries and `/etc/nix/registry.json`.

use std::collections::BTreeMap;

use crate::evaluator::Evaluator;
use crate::output::{RefValue, RegistryEntry};
use crate::tree::{Node, Value};
use crate::typecheck::join;

impl Evaluator<'_, '_> {
    pub(crate) fn registry(
        &mut self,
        nix: &BTreeMap<String, Node>,
        enabled: bool,
        rev_count: bool,
    ) -> Option<Vec<RegistryEntry>> {
        let Some(node) = nix.get("registry") else {
            return Some(Vec::new());
        };
        let attrs = self.c.attrs("nix.registry", node)?;
        let before = self.c.errors.len();
        let mut out = Vec::with_capacity(attrs.len());
        for (name, entry) in attrs {
            let path = join("nix.registry", name);
            if let Some(e) = self.registry_entry(&path, name, entry, enabled, rev_count) {
                out.push(e);
            }
        }
        (self.c.errors.len() == before).then_some(out)
    }

    fn registry_entry(
        &mut self,
        path: &str,
        name: &str,
        node: &Node,
        enabled: bool,
        rev_count: bool,
    ) -> Option<RegistryEntry> {
        let attrs = self.c.attrs(path, node)?;
        self.c
            .known_keys(path, attrs, &["from", "to", "flake", "exact"]);
        let exact = self
            .opt(attrs, path, "exact", |c, p, n| c.bool(p, n))
            .ok()
            .flatten()
            .unwrap_or(true);
        let from = match attrs.get("from") {
            Some(n) => self.reference(&join(path, "from"), n)?,
            None => BTreeMap::from([
                ("id".to_owned(), RefValue::Str(name.to_owned())),
                ("type".to_owned(), RefValue::Str("indirect".to_owned())),
            ]),
        };
        let flake = match attrs.get("flake") {
            Some(n) if n.value != Value::Null => Some((n, self.c.attrs(&join(path, "flake"), n)?)),
            _ => None,
        };
        let to = match (attrs.get("to"), flake) {
            (Some(n), _) => self.reference(&join(path, "to"), n)?,
            (None, Some((flake_node, flake))) => {
                self.reference_from_flake(path, flake_node, flake, rev_count)?
            }
            (None, None) => {
                // Only the registry file reads `to`, and only an enabled
                // module writes that file.
                if enabled {
                    self.c.error(
                        &join(path, "to"),
                        Some(node),
                        "used but not defined: give `to` (a flake reference) or `flake`",
                    );
                }
                return None;
            }
        };
        Some(RegistryEntry {
            name: name.to_owned(),
            exact,
            from,
            to,
        })
    }

    /// `to`'s default from `flake`: a path reference to the flake's
    /// `outPath`, keeping its lock attributes.
    fn reference_from_flake(
        &mut self,
        path: &str,
        flake_node: &Node,
        flake: &BTreeMap<String, Node>,
        rev_count: bool,
    ) -> Option<BTreeMap<String, RefValue>> {
        let Some(out_path) = flake.get("outPath") else {
            self.c.error(
                &join(path, "flake"),
                Some(flake_node),
                "the flake has no `outPath`, which `to` is made from",
            );
            return None;
        };
        let mut to = BTreeMap::new();
        to.insert("type".to_owned(), RefValue::Str("path".to_owned()));
        let to_path = join(path, "to");
        let mut ok = true;
        let mut put = |s: &mut Self, key: &str, node: &Node| match ref_value(node) {
            Some(v) => {
                to.insert(key.to_owned(), v);
            }
            None => {
                s.c.error(
                    &join(&to_path, key),
                    Some(node),
                    format!(
                        "expected a string, integer or boolean (copied from the flake), got {}",
                        node.describe()
                    ),
                );
                ok = false;
            }
        };
        put(self, "path", out_path);
        // The 2026 module no longer copies `revCount`.
        let keys: &[&str] = if rev_count {
            &["lastModified", "narHash", "rev", "revCount"]
        } else {
            &["lastModified", "narHash", "rev"]
        };
        for key in keys {
            if let Some(n) = flake.get(*key) {
                put(self, key, n);
            }
        }
        ok.then_some(to)
    }

    /// A flake reference: `attrsOf (oneOf [ str int bool path package ])`.
    fn reference(&mut self, path: &str, node: &Node) -> Option<BTreeMap<String, RefValue>> {
        let attrs = self.c.attrs(path, node)?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, value) in attrs {
            match ref_value(value) {
                Some(v) => {
                    out.insert(key.clone(), v);
                }
                None => {
                    self.c.error(
                        &join(path, key),
                        Some(value),
                        format!(
                            "expected a string, integer or boolean, got {}",
                            value.describe()
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

fn ref_value(node: &Node) -> Option<RefValue> {
    match &node.value {
        Value::Str(s) => Some(RefValue::Str(s.clone())),
        Value::Int(i) => Some(RefValue::Int(*i)),
        Value::Bool(b) => Some(RefValue::Bool(*b)),
        _ => None,
    }
}
