//! A lossless nix.conf document: every line kept, with byte spans.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::grammar::{parse_line, Syntax};
use crate::lex;

/// What one line of a nix.conf is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// Nothing but whitespace.
    Blank,
    /// Whitespace and a `#` comment.
    Comment,
    /// `include PATH` or `!include PATH` (maybe followed by a comment).
    Include {
        /// `!include`: a missing file is skipped.
        ignore_missing: bool,
        /// The path token, as a span of the whole text.
        path: Range<usize>,
    },
    /// `NAME = VALUE` (maybe followed by a comment).
    Setting {
        /// The name token.
        name: Range<usize>,
        /// From the first to the end of the last value token (empty, at
        /// the end of the code, when there is no value).
        value: Range<usize>,
    },
    /// A line Nix rejects with a syntax error.
    Invalid,
}

/// One line: its span in the text (without the `\n`) and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line's bytes, without its terminating `\n`.
    pub span: Range<usize>,
    /// Where the `#` comment starts, if the line has one.
    pub comment: Option<usize>,
    /// What the line is.
    pub kind: LineKind,
}

/// A parsed nix.conf that renders back byte for byte.
///
/// ```
/// use nixconf_format::Document;
/// let text = b"# my nix.conf\nmax-jobs  =  4   # four\n\ncores = 2";
/// let mut doc = Document::parse(text);
/// assert_eq!(doc.render(), text);
/// let line = doc.find_setting("max-jobs").unwrap();
/// doc.set_value(line, "8").unwrap();
/// assert_eq!(doc.render(), b"# my nix.conf\nmax-jobs  =  8   # four\n\ncores = 2");
/// ```
#[derive(Clone, Debug)]
pub struct Document<'a> {
    text: &'a [u8],
    lines: Vec<Line>,
    edits: BTreeMap<usize, Vec<u8>>,
}

/// Why an edit was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The line index does not name a setting line.
    #[error("line {0} is not a setting")]
    NotASetting(usize),
    /// The value would not survive Nix's tokenizer unchanged.
    #[error("value {0:?} cannot be written to nix.conf: it contains '#' or a line break")]
    BadValue(String),
}

impl<'a> Document<'a> {
    /// Parse `text`. Never fails: a line Nix rejects is kept as
    /// [`LineKind::Invalid`].
    pub fn parse(text: &'a [u8]) -> Self {
        let lines = lex::lines(text)
            .map(|raw| {
                let code = &text[raw.start..raw.code_end];
                let at = |r: (usize, usize)| raw.start + r.0..raw.start + r.1;
                let kind = match parse_line(code) {
                    Syntax::Blank if raw.code_end < raw.end => LineKind::Comment,
                    Syntax::Blank => LineKind::Blank,
                    Syntax::Include {
                        ignore_missing,
                        path,
                    } => LineKind::Include {
                        ignore_missing,
                        path: at(path),
                    },
                    Syntax::Setting { name, value } => LineKind::Setting {
                        name: at(name),
                        value: at(value),
                    },
                    Syntax::Invalid => LineKind::Invalid,
                };
                Line {
                    span: raw.start..raw.end,
                    comment: (raw.code_end < raw.end).then_some(raw.code_end),
                    kind,
                }
            })
            .collect();
        Document {
            text,
            lines,
            edits: BTreeMap::new(),
        }
    }

    /// The lines, in order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The text of a span of the original input.
    pub fn slice(&self, span: &Range<usize>) -> &'a [u8] {
        self.text.get(span.clone()).unwrap_or_default()
    }

    /// Index of the last line setting `name` (spelled exactly so).
    pub fn find_setting(&self, name: &str) -> Option<usize> {
        self.lines.iter().rposition(|l| match &l.kind {
            LineKind::Setting { name: n, .. } => self.slice(n) == name.as_bytes(),
            _ => false,
        })
    }

    /// Replace the value of setting line `index`, keeping everything
    /// else on the line (spacing, comment) and every other line.
    pub fn set_value(&mut self, index: usize, value: &str) -> Result<(), EditError> {
        if value.contains(['#', '\n']) {
            return Err(EditError::BadValue(value.to_owned()));
        }
        let line = self.lines.get(index).ok_or(EditError::NotASetting(index))?;
        let LineKind::Setting { value: span, .. } = &line.kind else {
            return Err(EditError::NotASetting(index));
        };
        let mut out = self.text[line.span.start..span.start].to_vec();
        // A value written where there was none needs a separating space.
        if span.is_empty() && !value.is_empty() && !out.last().is_some_and(|&b| lex::is_ws(b)) {
            out.push(b' ');
        }
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(&self.text[span.end..line.span.end]);
        self.edits.insert(index, out);
        Ok(())
    }

    /// The document as text: the input itself when nothing was edited.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len());
        let mut pos = 0;
        for (&index, replacement) in &self.edits {
            let span = &self.lines[index].span;
            out.extend_from_slice(&self.text[pos..span.start]);
            out.extend_from_slice(replacement);
            pos = span.end;
        }
        out.extend_from_slice(&self.text[pos..]);
        out
    }
}
