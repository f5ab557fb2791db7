//! A fast reader for the TOML people write, straight into the value tree
//! and without spans.
//!
//! toml_edit keeps every byte of the document (spans, decor, raw
//! representations) and spends about as long on that as the whole
//! evaluation takes. Positions are only needed for error messages, so a
//! valid configuration is read here, and the toml_edit reader runs only
//! when something must be located (or when this reader gives up).
//!
//! The rule that keeps the two readers from ever disagreeing: this one
//! returns `None` on anything it is not certain about, not only on
//! errors. It reads TOML 1.0 as toml_edit 0.22 does for the usual forms
//! (bare and quoted keys, dotted keys within one table, `[table]` and
//! `[[array]]` headers, the four string forms, decimal integers and
//! floats, booleans, arrays, inline tables without dotted keys) and
//! leaves everything else to toml_edit: dates and times, hex, octal and
//! binary integers, `inf`/`nan`, a carriage return inside a string, a
//! header that reopens or extends a table in one of TOML's less usual
//! ways, and every syntax or duplicate-key error. A test compares the
//! two readers on generated documents.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;
use std::ops::Range;

use crate::tree::{Node, Span, Value};

/// Nesting deeper than this (arrays, inline tables, dotted keys) is left
/// to toml_edit, which refuses it past its own, larger limit.
const MAX_DEPTH: usize = 32;

/// Read `text` (without a byte-order mark) into a value tree, or `None`
/// when toml_edit must read it.
pub(crate) fn parse(text: &str) -> Option<Node> {
    let mut p = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        keys: Vec::new(),
    };
    let mut root = Kind::Header.table();
    // The path of the table the current section's keys go into, and a
    // number telling sections apart (dotted keys extend only tables made
    // by dotted keys of their own section).
    let mut current: Vec<String> = Vec::new();
    let mut section = 0u32;
    loop {
        p.skip_ws();
        match p.peek() {
            None => break,
            Some(b'\n') => p.pos += 1,
            Some(b'\r') => p.newline()?,
            Some(b'#') => {
                p.comment()?;
                p.line_end()?;
            }
            Some(b'[') => {
                section += 1;
                current = p.header(&mut root)?;
                p.line_end()?;
            }
            Some(_) => {
                p.keyval(&mut root, &current, section)?;
                p.line_end()?;
            }
        }
    }
    unmark(&mut root);
    Some(root)
}

/// How a table or array of the tree being read was made, which decides
/// what later lines may add to it. While reading, it rides in the node's
/// `span` (no spans are kept on this path); [`unmark`] clears it. A node
/// without a mark is a finished value: a scalar, an inline table or an
/// array written with `[...]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A table made by a header, or as the parent of one.
    Header,
    /// An array of tables, made by `[[...]]` headers.
    Tables,
    /// A table made by dotted keys in the given section.
    Dotted(u32),
}

impl Kind {
    fn mark(self) -> Option<Span> {
        Some(match self {
            Kind::Header => 0..0,
            Kind::Tables => 1..1,
            Kind::Dotted(section) => 2..section,
        })
    }

    fn of(node: &Node) -> Option<Kind> {
        match node.span {
            Some(Range { start: 0, .. }) => Some(Kind::Header),
            Some(Range { start: 1, .. }) => Some(Kind::Tables),
            Some(Range { start: 2, end }) => Some(Kind::Dotted(end)),
            _ => None,
        }
    }

    fn table(self) -> Node {
        Node {
            value: Value::Attrs(BTreeMap::new()),
            span: self.mark(),
            key_span: None,
        }
    }
}

/// Clear the marks of [`Kind`] (only marked nodes have marked children).
fn unmark(node: &mut Node) {
    if node.span.take().is_none() {
        return;
    }
    match &mut node.value {
        Value::Attrs(attrs) => attrs.values_mut().for_each(unmark),
        Value::List(items) => items.iter_mut().for_each(unmark),
        _ => {}
    }
}

/// The entries of a table node.
fn entries(node: &mut Node) -> Option<&mut BTreeMap<String, Node>> {
    match &mut node.value {
        Value::Attrs(attrs) => Some(attrs),
        _ => None,
    }
}

/// Where a header's path goes on from `node`: into a table made by
/// headers, or into the last table of an array of tables.
fn header_step(node: &mut Node) -> Option<&mut Node> {
    match Kind::of(node)? {
        Kind::Header => Some(node),
        Kind::Tables => match &mut node.value {
            Value::List(items) => items.last_mut(),
            _ => None,
        },
        Kind::Dotted(_) => None,
    }
}

/// The table at `path` as headers reach it.
fn header_table<'t>(mut table: &'t mut Node, path: &[String]) -> Option<&'t mut Node> {
    for key in path {
        table = header_step(entries(table)?.get_mut(key)?)?;
    }
    Some(table)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// The keys of the key or header being read (reused between lines).
    keys: Vec<String>,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// A newline: LF or CRLF.
    fn newline(&mut self) -> Option<()> {
        if self.peek() == Some(b'\r') {
            self.pos += 1;
        }
        self.eat(b'\n')
    }

    /// `# ...` up to (not including) the end of the line; control
    /// characters other than tab are not allowed in comments.
    fn comment(&mut self) -> Option<()> {
        self.eat(b'#')?;
        let rest = self.bytes.get(self.pos..)?;
        let mut body = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
        // The CR of a CRLF ends the line (`newline` reads it); any other
        // CR is refused below.
        if let Some(b) = body.strip_suffix(b"\r") {
            body = b;
        }
        // Without an early exit, so that it compiles to vector code.
        let allowed = body
            .iter()
            .fold(true, |ok, &b| ok & (b == b'\t' || (b >= 0x20 && b != 0x7f)));
        self.pos += body.len();
        allowed.then_some(())
    }

    /// What may follow a key/value pair or a header: spaces, a comment,
    /// then the end of the line or of the file.
    fn line_end(&mut self) -> Option<()> {
        self.skip_ws();
        if self.peek() == Some(b'#') {
            self.comment()?;
        }
        match self.peek() {
            None => Some(()),
            _ => self.newline(),
        }
    }

    /// Spaces, newlines and comments, as allowed between array elements.
    fn skip_ws_comments_newlines(&mut self) -> Option<()> {
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'#') => {
                    self.comment()?;
                    self.newline()?;
                }
                Some(b'\n' | b'\r') => self.newline()?,
                _ => return Some(()),
            }
        }
    }

    /// `[a.b]` or `[[a.b]]`; returns the path of the table the section's
    /// keys go into.
    fn header(&mut self, root: &mut Node) -> Option<Vec<String>> {
        self.eat(b'[')?;
        let array = self.eat(b'[').is_some();
        self.key_path()?;
        self.eat(b']')?;
        if array {
            self.eat(b']')?;
        }
        let mut path = std::mem::take(&mut self.keys);
        let last = path.pop()?;
        let mut table = root;
        for key in &path {
            let attrs = entries(table)?;
            if !attrs.contains_key(key) {
                attrs.insert(key.clone(), Kind::Header.table());
            }
            table = header_step(attrs.get_mut(key)?)?;
        }
        let attrs = entries(table)?;
        match (attrs.get_mut(&last), array) {
            (None, false) => {
                attrs.insert(last.clone(), Kind::Header.table());
            }
            (None, true) => {
                let tables = Node {
                    value: Value::List(vec![Kind::Header.table()]),
                    span: Kind::Tables.mark(),
                    key_span: None,
                };
                attrs.insert(last.clone(), tables);
            }
            (Some(node), true) if Kind::of(node) == Some(Kind::Tables) => match &mut node.value {
                Value::List(items) => items.push(Kind::Header.table()),
                _ => return None,
            },
            // Reopening a table (allowed in TOML only for one that a
            // deeper header created) and every duplicate: toml_edit's.
            (Some(_), _) => return None,
        }
        path.push(last);
        Some(path)
    }

    /// `a.b.c = value`, in the table at `current`.
    fn keyval(&mut self, root: &mut Node, current: &[String], section: u32) -> Option<()> {
        self.key_path()?;
        self.eat(b'=')?;
        self.skip_ws();
        // An inline table in the value reads keys of its own.
        let mut keys = std::mem::take(&mut self.keys);
        let value = self.value(0)?;
        let mut table = header_table(root, current)?;
        let mut parts = keys.drain(..);
        let last = parts.next_back()?;
        for key in parts.by_ref() {
            let node = entries(table)?
                .entry(key)
                .or_insert_with(|| Kind::Dotted(section).table());
            if Kind::of(node) != Some(Kind::Dotted(section)) {
                return None;
            }
            table = node;
        }
        drop(parts);
        self.keys = keys;
        match entries(table)?.entry(last) {
            Entry::Vacant(e) => {
                e.insert(value);
                Some(())
            }
            Entry::Occupied(_) => None,
        }
    }

    /// A possibly dotted key with the spaces around its parts, into
    /// `self.keys`.
    fn key_path(&mut self) -> Option<()> {
        self.keys.clear();
        loop {
            self.skip_ws();
            let key = self.simple_key()?;
            self.keys.push(key);
            if self.keys.len() > MAX_DEPTH {
                return None;
            }
            self.skip_ws();
            if self.eat(b'.').is_none() {
                return Some(());
            }
        }
    }

    /// A bare key (`A-Za-z0-9_-`), or a basic or literal string.
    fn simple_key(&mut self) -> Option<String> {
        match self.peek()? {
            b'"' => self.basic_string(),
            b'\'' => self.literal_string(),
            _ => {
                let start = self.pos;
                while matches!(
                    self.peek(),
                    Some(b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_')
                ) {
                    self.pos += 1;
                }
                (self.pos > start).then(|| self.text[start..self.pos].to_owned())
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let value = match self.peek()? {
            b'"' if self.bytes[self.pos..].starts_with(b"\"\"\"") => {
                Value::Str(self.ml_basic_string()?)
            }
            b'"' => Value::Str(self.basic_string()?),
            b'\'' if self.bytes[self.pos..].starts_with(b"'''") => {
                Value::Str(self.ml_literal_string()?)
            }
            b'\'' => Value::Str(self.literal_string()?),
            b'[' => self.array(depth + 1)?,
            b'{' => self.inline_table(depth + 1)?,
            b't' => self.word("true", Value::Bool(true))?,
            b'f' => self.word("false", Value::Bool(false))?,
            b'+' | b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        };
        Some(Node::new(value))
    }

    fn word(&mut self, word: &str, value: Value) -> Option<Value> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Some(value)
        } else {
            None
        }
    }

    /// Digits with single underscores between them.
    fn digits(&mut self) -> Option<()> {
        if !self.peek()?.is_ascii_digit() {
            return None;
        }
        loop {
            match self.peek() {
                Some(b'0'..=b'9') => self.pos += 1,
                Some(b'_') => {
                    self.pos += 1;
                    if !self.peek()?.is_ascii_digit() {
                        return None;
                    }
                }
                _ => return Some(()),
            }
        }
    }

    /// A decimal integer or float. Whatever follows (checked by the
    /// caller) must end the value, which leaves dates, times and other
    /// bases to toml_edit: `1979-05-27` stops at `-`, `0x1f` at `x`.
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        if self.peek() == Some(b'0') {
            self.pos += 1;
        } else {
            self.digits()?;
        }
        let mut float = false;
        if self.eat(b'.').is_some() {
            self.digits()?;
            float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits()?;
            float = true;
        }
        let raw = &self.text[start..self.pos];
        let cleaned;
        let digits = if raw.contains('_') {
            cleaned = raw.replace('_', "");
            cleaned.as_str()
        } else {
            raw
        };
        if float {
            let f: f64 = digits.parse().ok()?;
            f.is_finite().then_some(Value::Float(f))
        } else {
            digits.parse().ok().map(Value::Int)
        }
    }

    /// `"..."` on one line, with escapes.
    fn basic_string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    let s = self.text[start..self.pos].to_owned();
                    self.pos += 1;
                    return Some(s);
                }
                b'\\' => break,
                b'\t' | 0x20..=0x7e | 0x80.. => self.pos += 1,
                _ => return None,
            }
        }
        let mut out = self.text[start..self.pos].to_owned();
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => out.push(self.escape()?),
                b'\t' | 0x20..=0x7e | 0x80.. => self.plain_run(&mut out, false),
                _ => return None,
            }
        }
    }

    /// Copy the run of characters at the reader that need no attention
    /// (no quote, backslash or control character; newlines too when
    /// `newlines`).
    fn plain_run(&mut self, out: &mut String, newlines: bool) {
        let start = self.pos;
        while let Some(b) = self.peek() {
            match b {
                b'"' | b'\\' => break,
                b'\n' if newlines => self.pos += 1,
                b'\t' | 0x20..=0x7e | 0x80.. => self.pos += 1,
                _ => break,
            }
        }
        out.push_str(&self.text[start..self.pos]);
    }

    /// One escape sequence, the reader on its backslash.
    fn escape(&mut self) -> Option<char> {
        self.eat(b'\\')?;
        let c = match self.peek()? {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'"' => '"',
            b'\\' => '\\',
            b'u' => return self.hex_escape(4),
            b'U' => return self.hex_escape(8),
            _ => return None,
        };
        self.pos += 1;
        Some(c)
    }

    fn hex_escape(&mut self, len: usize) -> Option<char> {
        let hex = self.bytes.get(self.pos + 1..self.pos + 1 + len)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let code = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
        self.pos += 1 + len;
        char::from_u32(code)
    }

    /// `"""..."""`: a newline right after the opening quotes is dropped; a
    /// backslash at the end of a line drops the line break and the
    /// whitespace after it.
    fn ml_basic_string(&mut self) -> Option<String> {
        self.pos += 3;
        if self.peek() == Some(b'\n') {
            self.pos += 1;
        }
        let mut out = String::new();
        loop {
            match self.peek()? {
                b'"' => {
                    let quotes = self.bytes[self.pos..]
                        .iter()
                        .take_while(|&&b| b == b'"')
                        .count();
                    match quotes {
                        1 | 2 => {
                            out.push_str(&self.text[self.pos..self.pos + quotes]);
                            self.pos += quotes;
                        }
                        3 => {
                            self.pos += 3;
                            return Some(out);
                        }
                        // Quotes right before the closing ones belong to
                        // the string: rare, toml_edit's to read.
                        _ => return None,
                    }
                }
                b'\\' if matches!(self.bytes.get(self.pos + 1), Some(b' ' | b'\t' | b'\n')) => {
                    self.pos += 1;
                    self.skip_ws();
                    self.eat(b'\n')?;
                    while matches!(self.peek(), Some(b' ' | b'\t' | b'\n')) {
                        self.pos += 1;
                    }
                }
                b'\\' => out.push(self.escape()?),
                b'\t' | b'\n' | 0x20..=0x7e | 0x80.. => self.plain_run(&mut out, true),
                // Control characters, and carriage returns (toml_edit
                // turns CRLF into LF here; it reads such strings itself).
                _ => return None,
            }
        }
    }

    /// `'...'` on one line, no escapes.
    fn literal_string(&mut self) -> Option<String> {
        self.eat(b'\'')?;
        let start = self.pos;
        loop {
            match self.peek()? {
                b'\'' => {
                    let s = self.text[start..self.pos].to_owned();
                    self.pos += 1;
                    return Some(s);
                }
                b'\t' | 0x20..=0x7e | 0x80.. => self.pos += 1,
                _ => return None,
            }
        }
    }

    /// `'''...'''`: a newline right after the opening quotes is dropped.
    fn ml_literal_string(&mut self) -> Option<String> {
        self.pos += 3;
        if self.peek() == Some(b'\n') {
            self.pos += 1;
        }
        let start = self.pos;
        loop {
            match self.peek()? {
                b'\'' => {
                    let quotes = self.bytes[self.pos..]
                        .iter()
                        .take_while(|&&b| b == b'\'')
                        .count();
                    match quotes {
                        1 | 2 => self.pos += quotes,
                        3 => {
                            let s = self.text[start..self.pos].to_owned();
                            self.pos += 3;
                            return Some(s);
                        }
                        _ => return None,
                    }
                }
                b'\t' | b'\n' | 0x20..=0x7e | 0x80.. => self.pos += 1,
                _ => return None,
            }
        }
    }

    /// `[a, b, ...]`, with newlines and comments between elements and an
    /// optional trailing comma.
    fn array(&mut self, depth: usize) -> Option<Value> {
        self.eat(b'[')?;
        let mut items = Vec::new();
        loop {
            self.skip_ws_comments_newlines()?;
            if self.eat(b']').is_some() {
                return Some(Value::List(items));
            }
            items.push(self.value(depth)?);
            self.skip_ws_comments_newlines()?;
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(Value::List(items));
                }
                _ => return None,
            }
        }
    }

    /// `{ a = 1, b = 2 }` on one line, no trailing comma.
    fn inline_table(&mut self, depth: usize) -> Option<Value> {
        self.eat(b'{')?;
        let mut attrs = BTreeMap::new();
        self.skip_ws();
        if self.eat(b'}').is_some() {
            return Some(Value::Attrs(attrs));
        }
        loop {
            self.key_path()?;
            // Dotted keys inside inline tables follow their own rules
            // in toml_edit; rare enough to leave to it.
            if self.keys.len() != 1 {
                return None;
            }
            let key = self.keys.pop()?;
            self.eat(b'=')?;
            self.skip_ws();
            let value = self.value(depth)?;
            if attrs.insert(key, value).is_some() {
                return None;
            }
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(Value::Attrs(attrs));
                }
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::parse;
    use crate::tree::{self, Format, Node, Source, Value};

    /// The tree toml_edit gives, without its spans.
    fn full(text: &str) -> Option<Node> {
        fn strip(node: &mut Node) {
            node.span = None;
            node.key_span = None;
            match &mut node.value {
                Value::List(items) => items.iter_mut().for_each(strip),
                Value::Attrs(attrs) => attrs.values_mut().for_each(strip),
                _ => {}
            }
        }
        let source = Source { name: "t", text };
        let mut node = tree::parse(&source, Format::Toml).ok()?;
        strip(&mut node);
        Some(node)
    }

    /// Whatever the quick reader accepts, toml_edit accepts and reads the
    /// same.
    fn agrees(text: &str) -> Result<(), String> {
        match parse(text) {
            None => Ok(()),
            Some(quick) => match full(text) {
                Some(f) if f == quick => Ok(()),
                Some(f) => Err(format!("{text:?}: quick {quick:?}, toml_edit {f:?}")),
                None => Err(format!(
                    "{text:?}: quick reader accepts what toml_edit refuses"
                )),
            },
        }
    }

    #[test]
    fn reads_the_usual_forms_as_toml_edit_does() {
        let example = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/nixconf.toml"
        ))
        .unwrap();
        let docs = [
            example.as_str(),
            "",
            "\n\n# only a comment\n",
            "a = 1",
            "a = 1\r\nb = 2\r\n",
            "  a=1 # c\n\tb\t=\t'x'\n",
            "a.b.c = 1\na.b.d = 2\na.e = 3\n",
            "\"quoted key\" = 1\n'lit.key' = 2\n\"\" = 3\n\"a\".\"b\" = 4\n",
            "1234 = 5\n-_ = 6\n",
            "[a]\nx = 1\n[a.b]\ny = 2\n[c . d]\nz = 3\n",
            "[a.b]\n[a.c]\n",
            "[[m]]\nh = 1\n[m.sub]\nk = 1\n[[m]]\nh = 2\n[m.sub]\nk = 2\n",
            "[[a.b]]\n[[a.b]]\nc.d = 1\n",
            "i = [0, -0, +0, 7, -17, +99, 1_000, 9223372036854775807, -9223372036854775808]",
            "f = [0.0, -0.0, 1.5, -2.25, 1e5, 1E-5, 2.5e+3, 1_0.0_1, 0e0, 6.626e-34, -1e300]",
            "b = [true, false]",
            r#"s = ["", "a\tb", "\b\f\n\r\t\"\\", "\u00e9\U0001F600", "é ü", "it's"]"#,
            "l = ['', 'C:\\path', 'say \"hi\"']",
            "m = \"\"\"\nline one\nline \"two\" \"\"three\"\"\n\"\"\"\n",
            "m = \"\"\"no newline\\\n   \n    joined \\\n  here\"\"\"",
            "m = \"\"\"\\t\\u0041\"\"\"",
            "m = '''\nraw \\n 'q' ''q''\n'''",
            "e = []\ne2 = [ ]\ne3 = [\n]\ne4 = [ # c\n]\n",
            "a = [1, [2, [3]], 'x', {a = 1},]\n",
            "a = [\n  1, # one\n  2\n  , 3\n]\n",
            "t = {}\nu = { a = 1, b = 'x', c = [1, 2], d = { e = true } }\n",
            "t = { a = [\n1,\n2\n] }\n",
            "a = true#c\nb = 1#c\n",
            "# é ü \t tab\r\na = 1 # crlf\r\n# at the end",
        ];
        for doc in docs {
            assert!(parse(doc).is_some(), "quick reader gave up on {doc:?}");
            agrees(doc).unwrap();
        }
    }

    #[test]
    fn leaves_errors_and_rare_forms_to_toml_edit() {
        let docs = [
            "a = 1\na = 2",
            "a = 1 2",
            "a =",
            "= 1",
            "a = 1\r",
            "a = 01",
            "a = 1__0",
            "a = 1_",
            "a = _1",
            "a = 1.",
            "a = .5",
            "a = 0x1f",
            "a = 0o7",
            "a = 0b1",
            "a = 1e400",
            "a = -1e400",
            "a = inf",
            "a = nan",
            "a = 99999999999999999999",
            "a = 1979-05-27",
            "a = 07:32:00",
            "a = 1979-05-27T07:32:00Z",
            "a = truex",
            "a = \"\\x\"",
            "a = \"\\u12\"",
            "a = \"\\uD800\"",
            "a = \"tab\u{1}\"",
            "a = \"unterminated",
            "a = 'multi\nline'",
            "a = \"\"\"crlf\r\nline\"\"\"",
            "a = \"\"\"four\"\"\"\"",
            "a = '''four''''",
            "a = \"\"\"bad \\ escape\"\"\"",
            "a = [1,,2]",
            "a = [,]",
            "a = [1 2]",
            "a = {a = 1,}",
            "a = {a = 1\n}",
            "a = {a.b = 1}",
            "a = {a = 1, a = 2}",
            "# \u{7f}\n",
            "[a]\n[a]\n",
            "[a.b]\n[a]\n",
            "a.b = 1\n[a]\n",
            "a.b = 1\n[a.c]\n",
            "a = {}\n[a.b]\n",
            "a = []\n[[a]]\n",
            "[a]\n[[a]]\n",
            "[[a]]\n[a]\n",
            "a = 1\na.b = 2\n",
            "a.b = 1\na = 2\n",
            "[ [a]]\n",
            "[[a] ]\n",
            "[]\n",
            "[a] x\n",
            "a = 1 # \u{0}\n",
            "# a\rb\n",
            "# cr at the end\r",
            "a = 1 # \u{7f}",
        ];
        for doc in docs {
            assert!(parse(doc).is_none(), "quick reader accepted {doc:?}");
        }
    }

    /// One of `good` mostly, sometimes one of `odd`.
    fn pick(good: &[&'static str], odd: &[&'static str]) -> BoxedStrategy<&'static str> {
        prop_oneof![
            6 => prop::sample::select(good.to_vec()),
            1 => prop::sample::select(odd.to_vec()),
        ]
        .boxed()
    }

    #[test]
    fn errors_in_a_quickly_read_file_keep_their_positions() {
        let text = "nixVersion = \"2.18.1\"\n[nix.settings]\ncores = \"four\"\n";
        assert!(parse(text).is_some());
        let err = crate::evaluate(text, Format::Toml, "c.toml").unwrap_err();
        let errors = err.option_errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].option, "nix.settings.cores");
        let location = errors[0].location.as_ref().unwrap();
        assert_eq!((location.line, location.column), (3, 9));
        assert_eq!(location.line_text, "cores = \"four\"");
    }

    fn fragment() -> impl Strategy<Value = String> {
        let key = pick(
            &[
                "a",
                "b",
                "c",
                "d",
                "e",
                "f",
                "g",
                "h",
                "a.b",
                "b.c",
                "a.b.c",
                "e.f",
                r#""a""#,
                "'b'",
                "a . c",
                r#""\u0061""#,
            ],
            &[
                r#""""#, "1", "-", r#""a.b""#, r#"a."b""#, "a..b", ".a", "a b", "é",
            ],
        );
        let value = pick(
            &[
                "1",
                "-0",
                "+5",
                "1_000",
                "1.5",
                "1e5",
                "-2.5E-3",
                "true",
                "false",
                r#""s""#,
                r#""a\tb""#,
                r#""\u00e9""#,
                "'lit'",
                "\"\"\"\nml\"\"\"",
                "'''\nml'''",
                "\"\"\"a\\\n   b\"\"\"",
                "[]",
                "[1,2,]",
                "[ 1 , [2] ]",
                "[\n1, # c\n2\n]",
                "{}",
                "{ a = 1 }",
                "{ a = {}, b = [] }",
                r#""é""#,
                "'''a''b'''",
                r#""""q""x""""#,
            ],
            &[
                "1__0",
                "01",
                "0x1f",
                "1.",
                ".5",
                "1e400",
                "-1e400",
                "inf",
                "nan",
                "truex",
                r#""\x""#,
                r#""""q"""""#,
                "{a=1,}",
                "{ a.b = 1 }",
                "{a=1, a=2}",
                "1979-05-27",
                "12:30:00",
                "\"\r\"",
                "[1,,2]",
                "'''\r\n'''",
                "\"\"\"\\ \n\"\"\"",
            ],
        );
        let sep = pick(&[" = ", "=", "\t=  ", " ="], &[" ", "=="]);
        let trailing = pick(
            &["", " # comment", "#", "\t"],
            &[" x", "\r", " ]", " #\u{1}"],
        );
        let header = pick(
            &[
                "[a]",
                "[a.b]",
                "[[a]]",
                "[[a.b]]",
                "[ a . b ]",
                r#"["a".b]"#,
                "[b]",
                "[a.c]",
                "[[c]]",
                "[c.d]",
                "[b.c.d]",
                "[[b.c]]",
                "[d]",
                "[[d.e]]",
            ],
            &["[a]x", "[[a] ]", "[ [a]]", "[]", "[a", "[[a]"],
        );
        prop_oneof![
            6 => (key, sep, value, trailing.clone())
                .prop_map(|(k, s, v, t)| format!("{k}{s}{v}{t}")),
            2 => (header, trailing).prop_map(|(h, t)| format!("{h}{t}")),
            1 => Just("# note".to_owned()),
            1 => Just("  ".to_owned()),
        ]
    }

    fn document() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(fragment(), 0..10),
            prop::sample::select(vec!["\n", "\r\n", "\n\n"]),
        )
            .prop_map(|(lines, nl)| lines.join(nl))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn agrees_with_toml_edit_on_generated_documents(doc in document()) {
            agrees(&doc).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn agrees_with_toml_edit_on_damaged_examples(
            at in 0usize..2000,
            len in 0usize..4,
            insert in prop::sample::select(vec![
                "", "\n", "\r", "\"", "'", "[", "]", "{", "}", ",", ".", "=", "#", "\\", "_", "0",
                "e", " ", "\t", "\"\"\"", "'''", "\u{1}", "[[",
            ]),
        ) {
            let example = include_str!("../../../examples/nixconf.toml");
            let mut at = at % (example.len() + 1);
            while !example.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + len).min(example.len());
            while !example.is_char_boundary(end) {
                end += 1;
            }
            let doc = format!("{}{insert}{}", &example[..at], &example[end..]);
            agrees(&doc).map_err(TestCaseError::fail)?;
        }
    }
}
