//! Priorities and order, as NixOS spells them in `nix eval --json`:
//! `{"_type": "override", "priority": N, "content": X}` (`mkOverride N`,
//! `mkForce` = 50, `mkDefault` = 1000) and `{"_type": "order", "priority":
//! N, "content": X}` (`mkOrder N`, `mkBefore` = 500, `mkAfter` = 1500), the
//! same tables in TOML; and `{ _type = "null" }`, TOML's spelling of
//! `null`.
//!
//! Before an evaluation the tree is resolved: each wrapper is replaced by
//! its content and its priority and order recorded by option path. The
//! settings merge ([`crate::settings`]) weighs a `nix.settings.<key>`
//! definition against the module's own; a definition of any other option
//! that loses to what the module defines there (its default, or its
//! `mkDefault`) is dropped, as the module system drops it.

use std::collections::BTreeMap;

use crate::settings::{ORDER_NORMAL, PRIO_DEFAULT, PRIO_NORMAL, PRIO_OPTION_DEFAULT};
use crate::tree::{Node, Value};
use crate::typecheck::{join, Checker};

/// Priority and order of the definitions that were wrapped, by option path.
pub(crate) type Priorities = BTreeMap<String, (u32, u32)>;

/// Whether any attribute set of the tree has a `_type`: most
/// configurations have none and are evaluated as they are.
pub(crate) fn has_wrappers(node: &Node) -> bool {
    match &node.value {
        Value::Attrs(a) => a.contains_key("_type") || a.values().any(has_wrappers),
        Value::List(items) => items.iter().any(has_wrappers),
        _ => false,
    }
}

/// The priority (lower wins) a definition at `path` must beat to count,
/// when the module defines that option itself only by a default; `None`
/// where the definition always counts and is merged later (the settings).
fn module_priority(path: &str) -> Option<u32> {
    let settings_key = path
        .strip_prefix("nix.settings.")
        .is_some_and(|k| !k.contains('.') || k.starts_with('"'));
    if path == "nix.settings" || settings_key || crate::renames::renamed_setting(path) {
        return None;
    }
    if path == "nix.nrBuildUsers"
        || (path.starts_with("nix.registry.") && (path.ends_with(".from") || path.ends_with(".to")))
    {
        // `mkDefault` definitions of the module.
        return Some(PRIO_DEFAULT);
    }
    Some(PRIO_OPTION_DEFAULT)
}

/// Resolve the wrappers of `node` (at `path`): `None` when one is
/// malformed (reported).
pub(crate) fn resolve(c: &mut Checker<'_>, prios: &mut Priorities, node: &Node) -> Option<Node> {
    let mut ok = true;
    let out = walk(c, prios, "", node, false, &mut ok);
    ok.then(|| out.unwrap_or_else(|| Node::new(Value::Attrs(BTreeMap::new()))))
}

/// The resolved node, or `None` when the definition is dropped.
fn walk(
    c: &mut Checker<'_>,
    prios: &mut Priorities,
    path: &str,
    node: &Node,
    in_list: bool,
    ok: &mut bool,
) -> Option<Node> {
    let (inner, prio, order) = match unwrap(c, path, node, in_list) {
        Ok(x) => x,
        Err(()) => {
            *ok = false;
            return None;
        }
    };
    if let Some(prio) = prio {
        let order = order.unwrap_or(ORDER_NORMAL);
        if module_priority(path).is_some_and(|m| prio > m) {
            // The module's own definition wins: this one is discarded.
            return None;
        }
        prios.insert(path.to_owned(), (prio, order));
    } else if let Some(order) = order {
        prios.insert(path.to_owned(), (PRIO_NORMAL, order));
    }
    let value = match &inner.value {
        Value::Attrs(attrs) => Value::Attrs(
            attrs
                .iter()
                .filter_map(|(k, v)| {
                    walk(c, prios, &join(path, k), v, false, ok).map(|n| (k.clone(), n))
                })
                .collect(),
        ),
        Value::List(items) => Value::List(
            items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| walk(c, prios, &format!("{path}[{i}]"), v, true, ok))
                .collect(),
        ),
        other => other.clone(),
    };
    Some(Node {
        value,
        span: inner.span.clone(),
        key_span: node.key_span.clone(),
    })
}

/// Peel the wrappers off one node: its content, and the priority and
/// order they gave (the outermost of each kind counts).
#[allow(clippy::type_complexity)]
fn unwrap<'n>(
    c: &mut Checker<'_>,
    path: &str,
    mut node: &'n Node,
    in_list: bool,
) -> Result<(std::borrow::Cow<'n, Node>, Option<u32>, Option<u32>), ()> {
    let (mut prio, mut order) = (None, None);
    while let Value::Attrs(attrs) = &node.value {
        let Some(kind) = attrs.get("_type") else {
            break;
        };
        let kind = match &kind.value {
            Value::Str(s) => s.as_str(),
            _ => "",
        };
        if kind == "null" {
            if attrs.len() != 1 {
                c.error(
                    path,
                    Some(node),
                    "a null is written { _type = \"null\" }, with nothing else in the table",
                );
                return Err(());
            }
            let mut null = Node::new(Value::Null);
            null.span = node.span.clone();
            return Ok((std::borrow::Cow::Owned(null), prio, order));
        }
        if kind != "override" && kind != "order" {
            c.error(
                path,
                Some(node),
                format!(
                    "unsupported _type {}: nixconf reads \"override\" (mkOverride, mkForce, \
                     mkDefault), \"order\" (mkOrder, mkBefore, mkAfter) and \"null\"",
                    attrs["_type"].describe()
                ),
            );
            return Err(());
        }
        if in_list {
            c.error(
                path,
                Some(node),
                "a list element cannot carry a priority or an order: wrap the whole list",
            );
            return Err(());
        }
        let extra = attrs
            .keys()
            .find(|k| !matches!(k.as_str(), "_type" | "priority" | "content"));
        let priority = match attrs.get("priority").map(|p| &p.value) {
            Some(Value::Int(p)) => u32::try_from(*p).ok(),
            _ => None,
        };
        let (Some(priority), Some(content), None) = (priority, attrs.get("content"), extra) else {
            c.error(
                path,
                Some(node),
                format!(
                    "a {kind} is written {{ _type = \"{kind}\", priority = N, content = VALUE }} \
                     with a non-negative integer priority"
                ),
            );
            return Err(());
        };
        // The outermost wrapper of each kind is the one that counts.
        if kind == "override" {
            prio.get_or_insert(priority);
        } else {
            order.get_or_insert(priority);
        }
        node = content;
    }
    Ok((std::borrow::Cow::Borrowed(node), prio, order))
}
