//! The reader of a configuration's option tree: the [`Evaluator`] every
//! module generation extends with its own options (`impl Evaluator` in
//! `module::nixos2013`, `module::nixos2023`, `module::nixos2026`, and in
//! the shared readers: `machines`, `registry`, `user_settings`, `own`,
//! `generation`, `module::read2026`).

use std::collections::BTreeMap;

use nixconf_format::ConfValue;

use crate::output::ModuleGeneration;
use crate::prio::Priorities;
use crate::settings::PRIO_NORMAL;
use crate::tree::Node;
use crate::typecheck::{Checker, JoinedPath};

/// Reads one configuration: its checker (which collects every problem),
/// the generation asked for and the priorities its definitions carry.
pub(crate) struct Evaluator<'c, 'a> {
    pub(crate) c: &'c mut Checker<'a>,
    /// The generation asked for from outside the configuration.
    pub(crate) generation: Option<ModuleGeneration>,
    /// Priorities and orders the configuration gave its definitions.
    pub(crate) prios: Priorities,
}

/// `Some(x)` for a present option, `None` when absent; `Err(())` for a
/// value of the wrong type (already reported).
pub(crate) type Opt<T> = Result<Option<T>, ()>;

impl Evaluator<'_, '_> {
    /// The option `parent.key` of `attrs`, read with `read`.
    pub(crate) fn opt<T>(
        &mut self,
        attrs: &BTreeMap<String, Node>,
        parent: &str,
        key: &str,
        read: impl FnOnce(&mut Checker<'_>, &str, &Node) -> Option<T>,
    ) -> Opt<T> {
        match attrs.get(key) {
            None => Ok(None),
            Some(node) => read(self.c, JoinedPath::new(parent, key).as_str(), node)
                .map(Some)
                .ok_or(()),
        }
    }

    /// The priority of the user's whole `nix.settings` definition.
    pub(crate) fn settings_prio(&self) -> u32 {
        self.prios.get("nix.settings").map_or(PRIO_NORMAL, |p| p.0)
    }
}

/// A `nix.conf` value as messages name it.
pub(crate) fn describe_conf(v: &ConfValue) -> String {
    match v {
        ConfValue::Null => "null".to_owned(),
        ConfValue::Bool(b) => format!("the boolean {b}"),
        ConfValue::Int(i) => format!("the integer {i}"),
        ConfValue::Float(f) => format!("the float {f:?}"),
        ConfValue::Str(s) => format!("the string {}", crate::tree::quote(s)),
        ConfValue::List(items) => format!("a list of {} element(s)", items.len()),
    }
}
