//! `nix.settings`: definitions from the module, the user and the renamed
//! options, merged the way the NixOS module system merges them.
//!
//! Each key collects definitions. Only those of the highest priority count
//! (`mkDefault` and option defaults give way to plain definitions); they
//! are ordered by `mkBefore`/`mkAfter` order, otherwise in the order the
//! module system sees them (the nix-daemon module's own, then the user's,
//! then those arriving through a renamed option); then the option's type
//! merges them: lists concatenate, single values must agree.

use std::collections::BTreeMap;

use nixconf_format::ConfValue;

use crate::tree::{quote, Node, Span, Value};
use crate::typecheck::{join, Checker};

/// `mkOverride` priorities: lower wins.
pub(crate) const PRIO_NORMAL: u32 = 100;
pub(crate) const PRIO_DEFAULT: u32 = 1000;
pub(crate) const PRIO_OPTION_DEFAULT: u32 = 1500;
/// `mkOrder` values.
pub(crate) const ORDER_NORMAL: u32 = 1000;
pub(crate) const ORDER_AFTER: u32 = 1500;

/// Where a user's definition came from, for messages.
#[derive(Clone, Debug)]
pub(crate) struct Origin<'a> {
    /// The option the user wrote: its parent's path and its name, joined
    /// only when a message needs them.
    pub parent: &'static str,
    pub name: &'a str,
    pub span: Option<Span>,
}

impl Origin<'_> {
    /// The option path the user wrote.
    pub fn path(&self) -> String {
        join(self.parent, self.name)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Def<'a> {
    pub value: ConfValue,
    pub prio: u32,
    pub order: u32,
    /// `None` for the module's own definitions.
    pub origin: Option<Origin<'a>>,
}

/// The declared options of `nix.settings` and their types; every other
/// key is free-form (`semanticConfType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SettingType {
    /// `types.bool`
    Bool,
    /// `types.int`
    Int,
    /// `types.either types.int (types.enum [ "auto" ])`
    IntOrAuto,
    /// `types.either types.bool (types.enum [ "relaxed" ])`
    BoolOrRelaxed,
    /// `types.listOf types.str`
    StrList,
    /// `attrsOf (either confAtom (listOf confAtom))`'s element type.
    Freeform,
}

impl SettingType {
    pub fn of(key: &str) -> SettingType {
        match key {
            "max-jobs" => SettingType::IntOrAuto,
            "auto-optimise-store" | "require-sigs" => SettingType::Bool,
            "cores" => SettingType::Int,
            "sandbox" => SettingType::BoolOrRelaxed,
            "extra-sandbox-paths"
            | "substituters"
            | "trusted-substituters"
            | "trusted-public-keys"
            | "trusted-users"
            | "system-features"
            | "allowed-users" => SettingType::StrList,
            _ => SettingType::Freeform,
        }
    }

    fn description(self) -> &'static str {
        match self {
            SettingType::Bool => "a boolean",
            SettingType::Int => "a signed integer",
            SettingType::IntOrAuto => "a signed integer or \"auto\"",
            SettingType::BoolOrRelaxed => "a boolean or \"relaxed\"",
            SettingType::StrList => "a list of strings",
            SettingType::Freeform => {
                "a nix.conf value (null, boolean, integer, float or string) or a list of them"
            }
        }
    }

    /// Which branch of an `either` a value takes, so that definitions from
    /// different branches can be told apart; `None` when the value does
    /// not fit the type.
    fn branch(self, v: &ConfValue) -> Option<u8> {
        match (self, v) {
            (SettingType::Bool, ConfValue::Bool(_)) => Some(0),
            (SettingType::Int, ConfValue::Int(_)) => Some(0),
            (SettingType::IntOrAuto, ConfValue::Int(_)) => Some(0),
            (SettingType::IntOrAuto, ConfValue::Str(s)) if s == "auto" => Some(1),
            (SettingType::BoolOrRelaxed, ConfValue::Bool(_)) => Some(0),
            (SettingType::BoolOrRelaxed, ConfValue::Str(s)) if s == "relaxed" => Some(1),
            (SettingType::StrList, ConfValue::List(items))
                if items.iter().all(|i| matches!(i, ConfValue::Str(_))) =>
            {
                Some(0)
            }
            (SettingType::Freeform, ConfValue::List(items)) if items.iter().all(is_atom) => Some(1),
            (SettingType::Freeform, v) if is_atom(v) => Some(0),
            _ => None,
        }
    }
}

fn is_atom(v: &ConfValue) -> bool {
    !matches!(v, ConfValue::List(_))
}

/// The declared settings that have an option default.
const DECLARED_WITH_DEFAULT: &[&str] = &[
    "max-jobs",
    "auto-optimise-store",
    "cores",
    "sandbox",
    "extra-sandbox-paths",
    "trusted-substituters",
    "require-sigs",
    "allowed-users",
    // Last: the 2026 module declares it without a default.
    "trusted-users",
];

/// The option defaults of the declared settings (`mkOptionDefault`).
fn option_default(key: &str) -> Option<ConfValue> {
    let strs =
        |xs: &[&str]| ConfValue::List(xs.iter().map(|s| ConfValue::Str((*s).to_owned())).collect());
    Some(match key {
        "max-jobs" => ConfValue::Str("auto".to_owned()),
        "auto-optimise-store" => ConfValue::Bool(false),
        "cores" => ConfValue::Int(0),
        "sandbox" => ConfValue::Bool(true),
        "extra-sandbox-paths" | "trusted-substituters" => strs(&[]),
        "require-sigs" => ConfValue::Bool(true),
        "trusted-users" => strs(&["root"]),
        "allowed-users" => strs(&["*"]),
        _ => return None,
    })
}

/// Read a value written under `nix.settings` (or a renamed option) as a
/// nix.conf value. Attribute sets and nested lists have no nix.conf form.
pub(crate) fn conf_value(node: &Node) -> Option<ConfValue> {
    fn atom(node: &Node) -> Option<ConfValue> {
        Some(match &node.value {
            Value::Null => ConfValue::Null,
            Value::Bool(b) => ConfValue::Bool(*b),
            Value::Int(i) => ConfValue::Int(*i),
            Value::Float(f) => ConfValue::Float(*f),
            Value::Str(s) => ConfValue::Str(s.clone()),
            Value::List(_) | Value::Attrs(_) => return None,
        })
    }
    match &node.value {
        Value::List(items) => items
            .iter()
            .map(atom)
            .collect::<Option<Vec<_>>>()
            .map(ConfValue::List),
        _ => atom(node),
    }
}

/// Check one definition against its key's type, reporting the offending
/// list element where there is one. Returns whether it fits.
pub(crate) fn check_def(
    checker: &mut Checker<'_>,
    key: &str,
    path: &str,
    node: &Node,
) -> Option<ConfValue> {
    let ty = SettingType::of(key);
    if let (SettingType::StrList | SettingType::Freeform, Value::List(items)) = (ty, &node.value) {
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let fits = match (ty, &item.value) {
                (SettingType::StrList, Value::Str(_)) => true,
                (SettingType::StrList, _) => false,
                (_, Value::List(_) | Value::Attrs(_)) => false,
                _ => true,
            };
            if !fits {
                let expected = if ty == SettingType::StrList {
                    "a string"
                } else {
                    "a nix.conf value (null, boolean, integer, float or string)"
                };
                checker.error(
                    &format!("{path}[{i}]"),
                    Some(item),
                    format!("expected {expected}, got {}", item.describe()),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
    }
    match conf_value(node).filter(|v| ty.branch(v).is_some()) {
        Some(v) => Some(v),
        None => {
            checker.error(
                path,
                Some(node),
                format!("expected {}, got {}", ty.description(), node.describe()),
            );
            None
        }
    }
}

/// All definitions of `nix.settings`.
#[derive(Debug)]
pub(crate) struct SettingsDefs<'a> {
    /// The 2026 declarations: `trusted-users` has no default there, and
    /// `system-features` has this one (`None` when the module's own
    /// definition of it, which beats any default, is there).
    pub defaults_2026: Option<Option<ConfValue>>,
    /// Every definition with its key, in the order they were made: one
    /// vector rather than a map of vectors, as most keys have one
    /// definition and this runs for every evaluation.
    defs: Vec<(&'a str, Def<'a>)>,
}

impl Default for SettingsDefs<'_> {
    fn default() -> Self {
        SettingsDefs {
            defaults_2026: None,
            defs: Vec::with_capacity(32),
        }
    }
}

impl<'a> SettingsDefs<'a> {
    pub fn add(&mut self, key: &'a str, def: Def<'a>) {
        self.defs.push((key, def));
    }

    /// Merge every key; `with_defaults` adds the option defaults of the
    /// declared settings (the submodule's own declarations, which exist
    /// whenever `nix.settings` is evaluated).
    pub fn merge(
        mut self,
        checker: &mut Checker<'_>,
        with_defaults: bool,
    ) -> Option<BTreeMap<String, ConfValue>> {
        // Key by key; the sort is stable, so each key's definitions stay in
        // the order they were made.
        self.defs.sort_by(|a, b| a.0.cmp(b.0));
        if with_defaults {
            // An option default has the lowest priority of all: any other
            // definition discards it, so it only matters for keys nobody
            // else defines.
            let before = self.defs.len();
            let features = self.defaults_2026.take();
            let declared: &[&str] = if features.is_some() {
                &DECLARED_WITH_DEFAULT[..DECLARED_WITH_DEFAULT.len() - 1]
            } else {
                DECLARED_WITH_DEFAULT
            };
            if let Some(Some(features)) = features {
                if self.defs[..before]
                    .iter()
                    .all(|(k, _)| *k != "system-features")
                {
                    self.add(
                        "system-features",
                        Def {
                            value: features,
                            prio: PRIO_OPTION_DEFAULT,
                            order: ORDER_NORMAL,
                            origin: None,
                        },
                    );
                }
            }
            for key in declared {
                if self.defs[..before]
                    .binary_search_by(|(k, _)| k.cmp(key))
                    .is_err()
                {
                    if let Some(value) = option_default(key) {
                        self.add(
                            key,
                            Def {
                                value,
                                prio: PRIO_OPTION_DEFAULT,
                                order: ORDER_NORMAL,
                                origin: None,
                            },
                        );
                    }
                }
            }
            if self.defs.len() > before {
                self.defs.sort_by(|a, b| a.0.cmp(b.0));
            }
        }
        let mut ok = true;
        let mut out = Vec::with_capacity(self.defs.len());
        let mut defs = self.defs.into_iter().peekable();
        while let Some((key, first)) = defs.next() {
            let merged = if defs.peek().is_some_and(|(k, _)| *k == key) {
                let mut group = vec![first];
                while let Some((_, d)) = defs.next_if(|(k, _)| *k == key) {
                    group.push(d);
                }
                merge_key(checker, key, group)
            } else {
                // Nothing to choose between or merge: most keys.
                Some(first.value)
            };
            match merged {
                Some(v) => out.push((key.to_owned(), v)),
                None => ok = false,
            }
        }
        // From keys in order: the map is built in one go.
        ok.then(|| out.into_iter().collect())
    }
}

fn describe_def(d: &Def<'_>) -> String {
    let who = match &d.origin {
        Some(o) => format!("`{}`", o.path()),
        None => "the nix-daemon module".to_owned(),
    };
    let value = match &d.value {
        ConfValue::Null => "null".to_owned(),
        ConfValue::Str(s) => quote(s),
        other => other.render(),
    };
    format!("{who} sets {value}")
}

fn merge_key(checker: &mut Checker<'_>, key: &str, mut defs: Vec<Def<'_>>) -> Option<ConfValue> {
    if defs.len() == 1 {
        // Nothing to choose between or merge: most keys.
        return defs.pop().map(|d| d.value);
    }
    let top = defs.iter().map(|d| d.prio).min()?;
    let mut defs: Vec<Def<'_>> = defs.into_iter().filter(|d| d.prio == top).collect();
    defs.sort_by_key(|d| d.order);
    let ty = SettingType::of(key);
    let first_user_node = defs
        .iter()
        .find_map(|d| d.origin.as_ref().and_then(|o| o.span.clone()))
        .map(|span| Node {
            value: Value::Null,
            span: Some(span),
            key_span: None,
        });
    let conflict = |checker: &mut Checker<'_>, what: &str| {
        let list: Vec<String> = defs.iter().map(describe_def).collect();
        checker.error(
            &join("nix.settings", key),
            first_user_node.as_ref(),
            format!("{what}: {}", list.join(", ")),
        );
    };
    if defs.len() == 1 {
        return defs.pop().map(|d| d.value);
    }
    let branches: Vec<Option<u8>> = defs.iter().map(|d| ty.branch(&d.value)).collect();
    if branches.windows(2).any(|w| w[0] != w[1]) {
        // `either` falls back to `mergeOneOption` when the definitions do
        // not all take the same branch.
        conflict(
            checker,
            "defined more than once with values of different types, and it can only have one",
        );
        return None;
    }
    match &defs[0].value {
        ConfValue::List(_) => {
            let mut items = Vec::new();
            for d in defs {
                if let ConfValue::List(xs) = d.value {
                    items.extend(xs);
                }
            }
            Some(ConfValue::List(items))
        }
        ConfValue::Null => {
            if defs.iter().all(|d| d.value == ConfValue::Null) {
                Some(ConfValue::Null)
            } else {
                conflict(checker, "defined both as null and as a value");
                None
            }
        }
        first => {
            if defs.iter().any(|d| d.value == ConfValue::Null) {
                conflict(checker, "defined both as null and as a value");
                return None;
            }
            let same_kind = defs
                .iter()
                .all(|d| std::mem::discriminant(&d.value) == std::mem::discriminant(first));
            if !same_kind {
                conflict(
                    checker,
                    "defined more than once with values of different types, and it can only have one",
                );
                None
            } else if defs.iter().all(|d| &d.value == first) {
                Some(first.clone())
            } else {
                conflict(checker, "has conflicting definitions");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Source;

    fn user(value: ConfValue) -> Def<'static> {
        Def {
            value,
            prio: PRIO_NORMAL,
            order: ORDER_NORMAL,
            origin: Some(Origin {
                parent: "nix.settings",
                name: "x",
                span: None,
            }),
        }
    }

    fn module(value: ConfValue, prio: u32, order: u32) -> Def<'static> {
        Def {
            value,
            prio,
            order,
            origin: None,
        }
    }

    fn merge(key: &str, defs: Vec<Def<'_>>) -> Result<ConfValue, String> {
        let source = Source {
            name: "t",
            text: "",
        };
        let mut checker = Checker::new(&source, false);
        match merge_key(&mut checker, key, defs) {
            Some(v) => Ok(v),
            None => Err(checker.errors[0].message.clone()),
        }
    }

    fn s(x: &str) -> ConfValue {
        ConfValue::Str(x.into())
    }

    #[test]
    fn mk_after_goes_last_and_mk_default_gives_way() {
        let v = merge(
            "substituters",
            vec![
                module(ConfValue::List(vec![s("c")]), PRIO_NORMAL, ORDER_AFTER),
                user(ConfValue::List(vec![s("a"), s("b")])),
            ],
        );
        assert_eq!(v, Ok(ConfValue::List(vec![s("a"), s("b"), s("c")])));
        let v = merge(
            "system-features",
            vec![
                module(ConfValue::List(vec![s("kvm")]), PRIO_DEFAULT, ORDER_NORMAL),
                user(ConfValue::List(vec![])),
            ],
        );
        assert_eq!(v, Ok(ConfValue::List(vec![])));
    }

    #[test]
    fn null_and_value_conflict() {
        let e = merge(
            "builders",
            vec![
                module(ConfValue::Null, PRIO_NORMAL, ORDER_NORMAL),
                user(s("ssh://b")),
            ],
        )
        .unwrap_err();
        assert!(e.starts_with("defined both as null and as a value"), "{e}");
    }

    #[test]
    fn equal_definitions_agree_and_unequal_ones_conflict() {
        assert_eq!(
            merge(
                "sandbox",
                vec![user(ConfValue::Bool(true)), user(ConfValue::Bool(true))]
            ),
            Ok(ConfValue::Bool(true))
        );
        let e = merge(
            "sandbox",
            vec![user(ConfValue::Bool(true)), user(ConfValue::Bool(false))],
        )
        .unwrap_err();
        assert!(e.starts_with("has conflicting definitions"), "{e}");
        let e = merge(
            "sandbox",
            vec![user(ConfValue::Bool(false)), user(s("relaxed"))],
        )
        .unwrap_err();
        assert!(
            e.starts_with("defined more than once with values of different types"),
            "{e}"
        );
    }
}
