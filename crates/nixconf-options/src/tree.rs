//! The configuration as read from TOML or JSON: one value tree, with the
//! byte span of each value where the format gives one (TOML does; for JSON
//! only syntax errors carry a position).

use std::collections::BTreeMap;
use std::ops::Range;

use crate::error::Error;

/// A value of the option tree, before any option type is applied.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Node>),
    /// Attribute sets iterate in byte order of their names, as Nix's do.
    Attrs(BTreeMap<String, Node>),
}

/// Where something was written: a byte range of the configuration text.
/// 32-bit offsets keep [`Node`] small, which matters because a tree is
/// built for every evaluation (its attribute sets' nodes then fit the
/// allocator's fast size classes); a file past 4 GiB gets no positions.
pub(crate) type Span = Range<u32>;

/// The [`Span`] of a byte range, if its offsets fit.
pub(crate) fn to_span(range: Range<usize>) -> Option<Span> {
    Some(u32::try_from(range.start).ok()?..u32::try_from(range.end).ok()?)
}

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub span: Option<Span>,
    /// Where the key naming this value was written, for a member of an
    /// attribute set (TOML only).
    pub key_span: Option<Span>,
}

impl Node {
    pub fn new(value: Value) -> Self {
        Node {
            value,
            span: None,
            key_span: None,
        }
    }

    /// What kind of value this is, for messages: "the string \"x\"".
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => format!("the boolean {b}"),
            Value::Int(i) => format!("the integer {i}"),
            Value::Float(f) => format!("the float {}", float_literal(*f)),
            Value::Str(s) => format!("the string {}", quote(s)),
            Value::List(items) => format!("a list of {} element(s)", items.len()),
            Value::Attrs(attrs) => format!("an attribute set with {} key(s)", attrs.len()),
        }
    }
}

/// A float as a reader would write it: `2.0`, not `2`.
fn float_literal(f: f64) -> String {
    let s = format!("{f:?}");
    if s.contains(['.', 'e', 'E']) || !f.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}

/// A string quoted for a message, JSON-style.
pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// The text of a configuration file and its name, for turning byte spans
/// into `file:line:col`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// Where the byte range `span` is: `file:line:col` (columns in
    /// characters), its length and the line's text for a caret.
    pub fn locate(&self, span: &Span) -> nixconf_diagnostic::Span {
        let start = span.start as usize;
        let len = (span.end as usize).saturating_sub(start);
        nixconf_diagnostic::Span::from_offset(self.name, self.text, start, len)
    }

    /// The place of byte offset `at`, one character long.
    pub fn locate_at(&self, at: usize) -> nixconf_diagnostic::Span {
        nixconf_diagnostic::Span::from_offset(self.name, self.text, at, 1)
    }
}

/// Which syntax a configuration is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// TOML: the format people write. No null: an omitted key means the
    /// option's default.
    Toml,
    /// JSON: for example what `nix eval --json` prints for a NixOS
    /// configuration's `config.nix`.
    Json,
}

impl Format {
    /// The format a file name asks for, by extension (`.toml`, `.json`).
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "toml" => Some(Format::Toml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Parse `text` into a value tree.
pub(crate) fn parse(source: &Source<'_>, format: Format) -> Result<Node, Error> {
    // A UTF-8 byte-order mark is not part of either syntax; editors on some
    // systems write one anyway.
    let (text, offset) = match source.text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, '\u{feff}'.len_utf8()),
        None => (source.text, 0),
    };
    match format {
        Format::Toml => parse_toml(source, text, offset),
        Format::Json => parse_json(source, text),
    }
}

fn parse_toml(source: &Source<'_>, text: &str, offset: usize) -> Result<Node, Error> {
    let doc = toml_edit::ImDocument::parse(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start) + offset;
        Error::Syntax {
            span: source.locate_at(at),
            message: e.message().trim_end().to_owned(),
        }
    })?;
    let mut conv = TomlConverter { source, offset };
    conv.table(doc.as_table())
}

struct TomlConverter<'a> {
    source: &'a Source<'a>,
    offset: usize,
}

impl TomlConverter<'_> {
    fn span(&self, span: Option<Range<usize>>) -> Option<Span> {
        span.and_then(|s| to_span(s.start + self.offset..s.end + self.offset))
    }

    fn table(&mut self, table: &toml_edit::Table) -> Result<Node, Error> {
        let mut attrs = BTreeMap::new();
        for (key, item) in table.iter() {
            let mut node = self.item(item)?;
            node.key_span = self.span(table.key(key).and_then(toml_edit::Key::span));
            attrs.insert(key.to_owned(), node);
        }
        Ok(Node {
            value: Value::Attrs(attrs),
            span: self.span(table.span()),
            key_span: None,
        })
    }

    fn item(&mut self, item: &toml_edit::Item) -> Result<Node, Error> {
        match item {
            toml_edit::Item::None => Ok(Node::new(Value::Null)),
            toml_edit::Item::Value(v) => self.value(v),
            toml_edit::Item::Table(t) => self.table(t),
            toml_edit::Item::ArrayOfTables(a) => {
                let mut items = Vec::with_capacity(a.len());
                for t in a.iter() {
                    items.push(self.table(t)?);
                }
                Ok(Node {
                    value: Value::List(items),
                    span: self.span(a.span()),
                    key_span: None,
                })
            }
        }
    }

    fn value(&mut self, v: &toml_edit::Value) -> Result<Node, Error> {
        let span = self.span(v.span());
        let value =
            match v {
                toml_edit::Value::String(s) => Value::Str(s.value().clone()),
                toml_edit::Value::Integer(i) => Value::Int(*i.value()),
                toml_edit::Value::Float(f) => {
                    let f = *f.value();
                    if !f.is_finite() {
                        return Err(self.refuse(span, "Nix has no infinite or NaN floats"));
                    }
                    Value::Float(f)
                }
                toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
                toml_edit::Value::Datetime(_) => return Err(self.refuse(
                    span,
                    "TOML dates and times have no NixOS counterpart; write the value as a string",
                )),
                toml_edit::Value::Array(a) => {
                    let mut items = Vec::with_capacity(a.len());
                    for v in a.iter() {
                        items.push(self.value(v)?);
                    }
                    Value::List(items)
                }
                toml_edit::Value::InlineTable(t) => {
                    let mut attrs = BTreeMap::new();
                    for (key, v) in t.iter() {
                        attrs.insert(key.to_owned(), self.value(v)?);
                    }
                    Value::Attrs(attrs)
                }
            };
        Ok(Node {
            value,
            span,
            key_span: None,
        })
    }

    fn refuse(&self, span: Option<Span>, message: &str) -> Error {
        Error::Syntax {
            span: self.source.locate_at(span.map_or(0, |s| s.start as usize)),
            message: message.to_owned(),
        }
    }
}

fn parse_json(source: &Source<'_>, text: &str) -> Result<Node, Error> {
    let node: JsonNode = serde_json::from_str(text).map_err(|e| Error::Syntax {
        // serde_json counts lines from 1 and columns from 1 (0 at the very
        // start of a line, e.g. for an unexpected end of input).
        span: nixconf_diagnostic::Span::from_line_column(
            source.name,
            source.text,
            e.line().max(1),
            e.column().max(1),
            1,
        ),
        message: json_message(&e),
    })?;
    Ok(node.0)
}

/// serde_json's message without its own " at line L column C" suffix.
fn json_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

/// A value tree read straight from JSON. The int/float distinction comes
/// from the JSON text: `2` is an integer, `2.0` and `2e0` are floats, as
/// Nix's `builtins.fromJSON` reads them. A repeated key keeps its last
/// value.
struct JsonNode(Node);

impl<'de> serde::Deserialize<'de> for JsonNode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = JsonNode;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<JsonNode, E> {
        Ok(JsonNode(Node::new(Value::Null)))
    }

    fn visit_bool<E>(self, b: bool) -> Result<JsonNode, E> {
        Ok(JsonNode(Node::new(Value::Bool(b))))
    }

    fn visit_i64<E>(self, i: i64) -> Result<JsonNode, E> {
        Ok(JsonNode(Node::new(Value::Int(i))))
    }

    fn visit_u64<E: serde::de::Error>(self, u: u64) -> Result<JsonNode, E> {
        match i64::try_from(u) {
            Ok(i) => Ok(JsonNode(Node::new(Value::Int(i)))),
            Err(_) => Err(E::custom(format!(
                "the integer {u} does not fit in Nix's 64-bit signed integers"
            ))),
        }
    }

    fn visit_f64<E>(self, f: f64) -> Result<JsonNode, E> {
        Ok(JsonNode(Node::new(Value::Float(f))))
    }

    fn visit_str<E>(self, s: &str) -> Result<JsonNode, E> {
        Ok(JsonNode(Node::new(Value::Str(s.to_owned()))))
    }

    fn visit_string<E>(self, s: String) -> Result<JsonNode, E> {
        Ok(JsonNode(Node::new(Value::Str(s))))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<JsonNode, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(JsonNode(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(JsonNode(Node::new(Value::List(items))))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<JsonNode, A::Error> {
        let mut attrs = BTreeMap::new();
        while let Some((key, JsonNode(value))) = map.next_entry::<String, JsonNode>()? {
            attrs.insert(key, value);
        }
        Ok(JsonNode(Node::new(Value::Attrs(attrs))))
    }
}

/// Give the nodes of a tree read from JSON the spans of their values and
/// keys in `text`, which serde_json has already accepted: a second, cheap
/// walk over the text alongside the tree, done only when there are errors
/// to locate (serde_json itself reports positions only for syntax errors).
pub(crate) fn locate_json(text: &str, root: &mut Node) {
    let bytes = text.as_bytes();
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut pos = skip_ws(bytes, start);
    annotate(text, bytes, &mut pos, Some(root));
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while bytes
        .get(pos)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        pos += 1;
    }
    pos
}

/// The end of the string starting at `pos` (on its opening quote).
fn string_end(bytes: &[u8], pos: usize) -> usize {
    let mut i = pos + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Walk the value at `pos`, recording spans into `node` (when the tree
/// has one there), and leave `pos` after it.
fn annotate(text: &str, bytes: &[u8], pos: &mut usize, node: Option<&mut Node>) {
    let start = *pos;
    match bytes.get(start) {
        Some(b'{') => {
            let mut attrs = match node {
                Some(Node {
                    value: Value::Attrs(a),
                    span,
                    ..
                }) => {
                    *span = to_span(start..start + 1);
                    Some(a)
                }
                _ => None,
            };
            *pos = skip_ws(bytes, start + 1);
            while bytes.get(*pos) == Some(&b'"') {
                let key_start = *pos;
                let key_end = string_end(bytes, key_start);
                let raw = &text[key_start..key_end];
                let key = if raw.contains('\\') {
                    serde_json::from_str::<String>(raw).unwrap_or_default()
                } else {
                    raw[1..raw.len() - 1].to_owned()
                };
                *pos = skip_ws(bytes, key_end);
                *pos = skip_ws(bytes, *pos + 1); // the colon
                let child = attrs.as_deref_mut().and_then(|a| a.get_mut(&key));
                match child {
                    Some(child) => {
                        child.key_span = to_span(key_start..key_end);
                        annotate(text, bytes, pos, Some(child));
                    }
                    None => annotate(text, bytes, pos, None),
                }
                *pos = skip_ws(bytes, *pos);
                if bytes.get(*pos) == Some(&b',') {
                    *pos = skip_ws(bytes, *pos + 1);
                }
            }
            *pos += 1; // the closing brace
        }
        Some(b'[') => {
            let mut items = match node {
                Some(Node {
                    value: Value::List(items),
                    span,
                    ..
                }) => {
                    *span = to_span(start..start + 1);
                    Some(items)
                }
                _ => None,
            };
            *pos = skip_ws(bytes, start + 1);
            let mut index = 0;
            while bytes.get(*pos).is_some_and(|b| *b != b']') {
                let child = items.as_deref_mut().and_then(|i| i.get_mut(index));
                annotate(text, bytes, pos, child);
                index += 1;
                *pos = skip_ws(bytes, *pos);
                if bytes.get(*pos) == Some(&b',') {
                    *pos = skip_ws(bytes, *pos + 1);
                }
            }
            *pos += 1; // the closing bracket
        }
        Some(b'"') => {
            *pos = string_end(bytes, start);
            if let Some(n) = node {
                n.span = to_span(start..*pos);
            }
        }
        Some(_) => {
            while bytes
                .get(*pos)
                .is_some_and(|b| !matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
            {
                *pos += 1;
            }
            if let Some(n) = node {
                n.span = to_span(start..*pos);
            }
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source<'_> {
        Source { name: "t", text }
    }

    /// The text a span covers.
    fn at(text: &str, span: Option<Span>) -> &str {
        let span = span.unwrap();
        &text[span.start as usize..span.end as usize]
    }

    #[test]
    fn json_keeps_int_and_float_apart() {
        let n = parse(&source(r#"{"a": 2, "b": 2.0, "c": 1e3}"#), Format::Json).unwrap();
        let Value::Attrs(a) = n.value else { panic!() };
        assert_eq!(a["a"].value, Value::Int(2));
        assert_eq!(a["b"].value, Value::Float(2.0));
        assert_eq!(a["c"].value, Value::Float(1000.0));
    }

    #[test]
    fn toml_values_carry_spans() {
        let text = "[nix.settings]\ncores = 2.0\n";
        let n = parse(&source(text), Format::Toml).unwrap();
        let Value::Attrs(top) = n.value else { panic!() };
        let Value::Attrs(nix) = &top["nix"].value else {
            panic!()
        };
        let Value::Attrs(s) = &nix["settings"].value else {
            panic!()
        };
        assert_eq!(at(text, s["cores"].span.clone()), "2.0");
        let loc = source(text).locate(&s["cores"].span.clone().unwrap());
        assert_eq!((loc.line, loc.column), (2, 9));
        assert_eq!(loc.line_text, "cores = 2.0");
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse(&source("{\n  \"nix\": [1,,]\n}"), Format::Json).unwrap_err();
        let Error::Syntax { span: location, .. } = err else {
            panic!()
        };
        assert_eq!((location.line, location.column), (2, 13));
        let err = parse(&source("a = 1\nb = = 2\n"), Format::Toml).unwrap_err();
        let Error::Syntax { span: location, .. } = err else {
            panic!()
        };
        assert_eq!(location.line, 2);
    }

    #[test]
    fn a_bom_is_skipped_and_spans_stay_right() {
        let text = "\u{feff}x = 1\n";
        let n = parse(&source(text), Format::Toml).unwrap();
        let Value::Attrs(top) = n.value else { panic!() };
        assert_eq!(at(text, top["x"].span.clone()), "1");
    }

    #[test]
    fn json_values_and_keys_get_spans_when_located() {
        let text = "{\n  \"nix\": {\"a\\u0062\": [1, {\"c\": 2.0}], \"d\": \"x,]\"}\n}";
        let mut n = parse(&source(text), Format::Json).unwrap();
        locate_json(text, &mut n);
        let Value::Attrs(top) = &n.value else {
            panic!()
        };
        let Value::Attrs(nix) = &top["nix"].value else {
            panic!()
        };
        assert_eq!(at(text, nix["ab"].key_span.clone()), "\"a\\u0062\"");
        let Value::List(items) = &nix["ab"].value else {
            panic!()
        };
        let Value::Attrs(c) = &items[1].value else {
            panic!()
        };
        assert_eq!(at(text, c["c"].span.clone()), "2.0");
        assert_eq!(at(text, nix["d"].span.clone()), "\"x,]\"");
        let loc = source(text).locate(&c["c"].span.clone().unwrap());
        assert_eq!((loc.line, loc.column), (2, 32));
    }

    #[test]
    fn huge_json_integers_are_refused() {
        assert!(parse(&source("{\"a\": 18446744073709551615}"), Format::Json).is_err());
    }
}
