//! The reader of the 2026 option tables ([`super::options2026`]): an
//! attribute set read against its table, each value against its type.

use std::collections::BTreeMap;

use super::options2026::{defaults, Group, ReadGroup, Spec, Ty, Val};
use crate::evaluator::Evaluator;
use crate::tree::{Node, Value};
use crate::typecheck::{Checker, JoinedPath};

impl Evaluator<'_, '_> {
    /// Read the attribute set at `path` (absent: every default) against
    /// its table. `None` when something did not fit (reported).
    pub(crate) fn read_group(
        &mut self,
        parent: &BTreeMap<String, Node>,
        parent_path: &str,
        key: &str,
        specs: &'static [Spec],
    ) -> Option<ReadGroup> {
        let empty = BTreeMap::new();
        let path = JoinedPath::new(parent_path, key);
        let path = path.as_str();
        let attrs = match parent.get(key) {
            Some(node) => self.c.attrs(path, node)?,
            None => match defaults(specs) {
                Some(d) => return Some(ReadGroup::Borrowed(d)),
                None => &empty,
            },
        };
        let before = self.c.errors.len();
        if attrs.keys().any(|k| specs.iter().all(|s| s.name != k)) {
            let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
            self.c.known_keys(path, attrs, &names);
        }
        let mut out = Group(Vec::with_capacity(specs.len()));
        for spec in specs {
            let value = match attrs.get(spec.name) {
                None => Some((spec.default)()),
                Some(node) => read_value(
                    self.c,
                    JoinedPath::new(path, spec.name).as_str(),
                    node,
                    spec.ty,
                ),
            };
            if let Some(v) = value {
                out.insert(spec.name, v);
            }
        }
        (self.c.errors.len() == before).then_some(ReadGroup::Owned(out))
    }
}

fn single_line(c: &mut Checker<'_>, path: &str, node: &Node) -> Option<String> {
    match &node.value {
        Value::Str(s) => {
            let body = s.strip_suffix('\n').unwrap_or(s);
            if body.contains(['\n', '\r']) {
                c.error(
                    path,
                    Some(node),
                    format!(
                        "expected a single-line string (a final newline is allowed), got {}",
                        node.describe()
                    ),
                );
                None
            } else {
                Some(body.to_owned())
            }
        }
        _ => {
            c.error(
                path,
                Some(node),
                format!("expected a single-line string, got {}", node.describe()),
            );
            None
        }
    }
}

fn read_value(c: &mut Checker<'_>, path: &str, node: &Node, ty: Ty) -> Option<Val> {
    match ty {
        Ty::Bool => c.bool(path, node).map(Val::Bool),
        Ty::SingleLine => single_line(c, path, node).map(Val::Str),
        Ty::StrList => c.str_list(path, node).map(Val::List),
        Ty::Enum(choices) => match &node.value {
            Value::Str(s) if choices.contains(&s.as_str()) => Some(Val::Str(s.clone())),
            _ => {
                let list: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
                c.error(
                    path,
                    Some(node),
                    format!(
                        "expected one of {}, got {}",
                        list.join(", "),
                        node.describe()
                    ),
                );
                None
            }
        },
        Ty::Dates => match &node.value {
            Value::List(_) => c.str_list(path, node).map(Val::List),
            Value::Str(s) if !s.strip_suffix('\n').unwrap_or(s).contains(['\n', '\r']) => {
                single_line(c, path, node).map(|s| Val::List(vec![s]))
            }
            _ => {
                c.error(
                    path,
                    Some(node),
                    format!(
                        "expected a single-line string or a list of strings, got {}",
                        node.describe()
                    ),
                );
                None
            }
        },
        Ty::SingleLineList | Ty::Ports => {
            let Value::List(items) = &node.value else {
                c.error(
                    path,
                    Some(node),
                    format!("expected a list, got {}", node.describe()),
                );
                return None;
            };
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for (i, item) in items.iter().enumerate() {
                let at = format!("{path}[{i}]");
                let v = match (&item.value, ty) {
                    (Value::Int(p), Ty::Ports) if (0..=65535).contains(p) => Some(p.to_string()),
                    (Value::Str(_), _) => single_line(c, &at, item),
                    _ => {
                        let expected = if matches!(ty, Ty::Ports) {
                            "a port (0 to 65535) or a single-line string"
                        } else {
                            "a single-line string"
                        };
                        c.error(
                            &at,
                            Some(item),
                            format!("expected {expected}, got {}", item.describe()),
                        );
                        None
                    }
                };
                match v {
                    Some(v) => out.push(v),
                    None => ok = false,
                }
            }
            ok.then_some(Val::List(out))
        }
    }
}
