//! Typed reading of option values: each helper checks one option type of
//! the module and records a precise error when the value does not fit.

use std::collections::BTreeMap;

use nixconf_diagnostic::{closest, Diagnostic};

use crate::error::option_error;
use crate::tree::{quote, Node, Source, Value};

/// Collects every problem found while reading the option tree.
pub(crate) struct Checker<'a> {
    source: &'a Source<'a>,
    /// Whether spans can be turned into `file:line:col` (TOML).
    positions: bool,
    pub errors: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    pub fn new(source: &'a Source<'a>, positions: bool) -> Self {
        Checker {
            source,
            positions,
            errors: Vec::new(),
        }
    }

    /// Whether the configuration's text contains `needle` anywhere.
    pub fn text_mentions(&self, needle: &str) -> bool {
        memchr::memmem::find(self.source.text.as_bytes(), needle.as_bytes()).is_some()
    }

    /// Record an error about the option at `path`, written at `node`.
    pub fn error(&mut self, path: &str, node: Option<&Node>, message: impl Into<String>) {
        let span = node
            .and_then(|n| n.span.as_ref())
            .filter(|_| self.positions)
            .map(|s| self.source.locate(s));
        self.errors.push(option_error(path, message, span));
    }

    fn mismatch(&mut self, path: &str, node: &Node, expected: &str) {
        let message = format!("expected {expected}, got {}", node.describe());
        self.error(path, Some(node), message);
    }

    /// Refuse every key of `attrs` not in `known`, suggesting the closest
    /// known name.
    pub fn known_keys(&mut self, path: &str, attrs: &BTreeMap<String, Node>, known: &[&str]) {
        self.known_keys_besides(path, attrs, known, &[]);
    }

    /// [`Checker::known_keys`], leaving alone the keys in `handled` (refused
    /// elsewhere with their own message, and never suggested).
    pub fn known_keys_besides(
        &mut self,
        path: &str,
        attrs: &BTreeMap<String, Node>,
        known: &[&str],
        handled: &[&str],
    ) {
        for (key, node) in attrs {
            if !known.contains(&key.as_str()) && !handled.contains(&key.as_str()) {
                let full = join(path, key);
                let hint = match closest(key, known.iter().copied()) {
                    Some(c) => format!("; did you mean `{}`?", join(path, c)),
                    None => String::new(),
                };
                // Point at the misspelt key rather than its value.
                let at = Node {
                    value: Value::Null,
                    span: node.key_span.clone().or_else(|| node.span.clone()),
                    key_span: None,
                };
                self.error(&full, Some(&at), format!("no such option{hint}"));
            }
        }
    }

    pub fn attrs<'n>(&mut self, path: &str, node: &'n Node) -> Option<&'n BTreeMap<String, Node>> {
        match &node.value {
            Value::Attrs(a) => Some(a),
            _ => {
                self.mismatch(path, node, "an attribute set");
                None
            }
        }
    }

    pub fn bool(&mut self, path: &str, node: &Node) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.mismatch(path, node, "a boolean");
                None
            }
        }
    }

    pub fn int(&mut self, path: &str, node: &Node) -> Option<i64> {
        match node.value {
            Value::Int(i) => Some(i),
            _ => {
                self.mismatch(path, node, "a signed integer");
                None
            }
        }
    }

    pub fn str(&mut self, path: &str, node: &Node) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            _ => {
                self.mismatch(path, node, "a string");
                None
            }
        }
    }

    /// `types.nullOr types.str`.
    pub fn nullable_str(&mut self, path: &str, node: &Node) -> Option<Option<String>> {
        match &node.value {
            Value::Null => Some(None),
            Value::Str(s) => Some(Some(s.clone())),
            _ => {
                self.mismatch(path, node, "null or a string");
                None
            }
        }
    }

    /// `types.enum`: one of the listed strings (or null when `None` is
    /// listed).
    pub fn one_of(
        &mut self,
        path: &str,
        node: &Node,
        allowed: &[Option<&str>],
    ) -> Option<Option<String>> {
        let found = match &node.value {
            Value::Null => allowed.contains(&None).then_some(None),
            Value::Str(s) => allowed.contains(&Some(s.as_str())).then(|| Some(s.clone())),
            _ => None,
        };
        if found.is_none() {
            let names: Vec<String> = allowed
                .iter()
                .map(|a| a.map_or_else(|| "null".to_owned(), quote))
                .collect();
            self.mismatch(path, node, &format!("one of {}", names.join(", ")));
        }
        found
    }

    /// `types.listOf types.str`: element errors name the element.
    pub fn str_list(&mut self, path: &str, node: &Node) -> Option<Vec<String>> {
        let Value::List(items) = &node.value else {
            self.mismatch(path, node, "a list of strings");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match &item.value {
                Value::Str(s) => out.push(s.clone()),
                _ => {
                    self.mismatch(&format!("{path}[{i}]"), item, "a string");
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// `types.attrs` whose values end up in an environment: strings only.
    pub fn env_vars(&mut self, path: &str, node: &Node) -> Option<BTreeMap<String, String>> {
        let attrs = self.attrs(path, node)?;
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (name, value) in attrs {
            if name.is_empty() || name.contains(['=', '\0', '\n']) {
                self.error(
                    &join(path, name),
                    Some(value),
                    format!(
                        "{} cannot be an environment variable name (empty, or with `=`, a newline or NUL)",
                        quote(name)
                    ),
                );
                ok = false;
                continue;
            }
            match &value.value {
                Value::Str(s) if !s.contains('\0') => {
                    out.insert(name.clone(), s.clone());
                }
                _ => {
                    self.mismatch(
                        &join(path, name),
                        value,
                        "a string (the value goes into an environment)",
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

/// `path.key`, quoting the key the way Nix shows attribute names that are
/// not plain identifiers.
pub(crate) fn join(path: &str, key: &str) -> String {
    // Built by hand: this runs for every option read, and `format!` is
    // measurably slower here.
    let mut out = String::with_capacity(path.len() + key.len() + 3);
    out.push_str(path);
    if !path.is_empty() {
        out.push('.');
    }
    if is_plain(key) {
        out.push_str(key);
    } else {
        out.push_str(&quote(key));
    }
    out
}

/// Whether Nix shows `key` in an option path without quotes.
fn is_plain(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'\''))
        && !key.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '\'')
}

/// [`join`] for a path that is read only when something is wrong with the
/// option: a short one stays on the stack, so reading a valid option
/// allocates nothing for its name.
pub(crate) enum JoinedPath {
    Inline { bytes: [u8; 64], len: usize },
    Heap(String),
}

impl JoinedPath {
    pub fn new(path: &str, key: &str) -> Self {
        let len = path.len() + usize::from(!path.is_empty()) + key.len();
        if len > 64 || !is_plain(key) {
            return JoinedPath::Heap(join(path, key));
        }
        let mut bytes = [0; 64];
        let (head, tail) = bytes.split_at_mut(path.len());
        head.copy_from_slice(path.as_bytes());
        let tail = match tail.split_first_mut() {
            Some((dot, rest)) if !path.is_empty() => {
                *dot = b'.';
                rest
            }
            _ => tail,
        };
        if let Some(dest) = tail.get_mut(..key.len()) {
            dest.copy_from_slice(key.as_bytes());
        }
        JoinedPath::Inline { bytes, len }
    }

    pub fn as_str(&self) -> &str {
        match self {
            // Whole UTF-8 strings and a dot: always valid.
            JoinedPath::Inline { bytes, len } => {
                std::str::from_utf8(bytes.get(..*len).unwrap_or_default()).unwrap_or_default()
            }
            JoinedPath::Heap(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{join, JoinedPath};

    #[test]
    fn joined_paths_on_the_stack_read_as_joined_ones() {
        let long = "k".repeat(70);
        for (path, key) in [
            ("", "nix"),
            ("nix", "settings"),
            ("nix.settings", "max-jobs"),
            ("nix.settings", "weird=key"),
            ("nix.registry", "é"),
            ("nix", long.as_str()),
            ("n", &long[..62]),
            ("n", &long[..63]),
        ] {
            assert_eq!(JoinedPath::new(path, key).as_str(), join(path, key));
        }
    }

    #[test]
    fn paths_quote_odd_names() {
        assert_eq!(join("nix.settings", "max-jobs"), "nix.settings.max-jobs");
        assert_eq!(
            join("nix.settings", "weird=key"),
            "nix.settings.\"weird=key\""
        );
        assert_eq!(join("", "nix"), "nix");
    }
}
