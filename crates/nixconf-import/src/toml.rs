//! Just enough of a TOML writer for a commented configuration.

use std::fmt::Write as _;

/// A value of the written configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A list of strings.
    List(Vec<String>),
}

impl Value {
    /// The value in TOML.
    pub(crate) fn to_toml(&self) -> String {
        match self {
            Value::Str(s) => string(s),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(|s| string(s)).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
}

/// A TOML basic string.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A key: bare where TOML allows, quoted otherwise.
pub(crate) fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        k.to_owned()
    } else {
        string(k)
    }
}

/// A multi-line string: a literal `'''` block where the text allows it.
pub(crate) fn multiline(text: &str) -> String {
    if !text.contains("'''")
        && !text.contains('\r')
        && text
            .chars()
            .all(|c| c == '\n' || c == '\t' || (c as u32) >= 0x20)
    {
        format!("'''\n{text}'''")
    } else {
        string(text)
    }
}

/// Comment lines: `# ` before each line of `text`.
pub(crate) fn comment(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "#\n".to_owned()
            } else {
                format!("# {l}\n")
            }
        })
        .collect()
}
