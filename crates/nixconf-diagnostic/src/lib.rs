//! One diagnostic type for every nixconf crate, and its one renderer.
//!
//! A [`Diagnostic`] is a problem (error or warning), optionally the option
//! path it is about, optionally where in a file ([`Span`]), and optionally
//! how to fix it. Every crate reports its problems as diagnostics and the
//! command line prints them with [`Diagnostic::render`], rustc-style:
//!
//! ```
//! use nixconf_diagnostic::{Diagnostic, Span};
//!
//! let text = "[nix.settings]\ncores = 2.0\n";
//! let d = Diagnostic::error("expected an integer, got a float")
//!     .with_option("nix.settings.cores")
//!     .with_span(Span::from_offset("c.toml", text, 23, 3))
//!     .with_help("write `cores = 2`");
//! assert_eq!(
//!     d.render(),
//!     "error: `nix.settings.cores`: expected an integer, got a float\n \
//!      --> c.toml:2:9\n  \
//!        |\n\
//!      2 | cores = 2.0\n  \
//!        |         ^^^\n  \
//!        = help: write `cores = 2`\n"
//! );
//! assert_eq!(
//!     d.to_string(),
//!     "c.toml:2:9: `nix.settings.cores`: expected an integer, got a float"
//! );
//! ```
//!
//! Columns count characters (Unicode scalar values), as editors and rustc
//! do; the renderer lines carets up by display width, so tabs (shown as
//! four spaces) and wide characters keep the caret under the span.
//! [`edit_distance`] and [`closest`] give the "did you mean" help.
#![deny(missing_docs)]

mod suggest;

use std::fmt;

pub use suggest::{closest, edit_distance};

/// How bad a [`Diagnostic`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The input is refused.
    Error,
    /// The input is accepted, but probably not as meant.
    Warning,
    /// Something worth knowing.
    Note,
}

impl Severity {
    /// `error`, `warning` or `note`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in a file: `file:line:col`, the span's length and the line's text
/// (for the caret).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file, as messages name it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters; 0 for a whole line that is not
    /// quoted ([`Span::line`]).
    pub column: usize,
    /// Length in characters (at least 1; a span past the line's end is cut
    /// there).
    pub len: usize,
    /// The line, without its `\n` or `\r\n`.
    pub line_text: String,
}

impl Span {
    /// The span of `len` bytes at byte `offset` of `text`, the contents of
    /// `file`. Offsets inside a character are moved back to its start; a
    /// span running past the end of its line stops there.
    pub fn from_offset(file: impl Into<String>, text: &str, offset: usize, len: usize) -> Span {
        let offset = floor_boundary(text, offset.min(text.len()));
        let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let raw = &text[line_start..line_end];
        let line_text = raw.strip_suffix('\r').unwrap_or(raw);
        let end = floor_boundary(text, (offset + len).min(line_start + line_text.len()));
        let end = end.max(offset);
        Span {
            file: file.into(),
            line: text[..line_start].matches('\n').count() + 1,
            column: text[line_start..offset].chars().count() + 1,
            len: text[offset..end].chars().count().max(1),
            line_text: line_text.to_owned(),
        }
    }

    /// A whole line of `file`, not quoted: for files whose lines must not
    /// be shown (an account file's line may hold a password hash).
    /// Prints as `file:line`; [`Diagnostic::render`] shows no snippet.
    pub fn line(file: impl Into<String>, line: usize) -> Span {
        Span {
            file: file.into(),
            line,
            column: 0,
            len: 0,
            line_text: String::new(),
        }
    }

    /// The span at 1-based `line` and `column` (characters) of `text`,
    /// `len` characters long.
    pub fn from_line_column(
        file: impl Into<String>,
        text: &str,
        line: usize,
        column: usize,
        len: usize,
    ) -> Span {
        let raw = text.split('\n').nth(line.saturating_sub(1)).unwrap_or("");
        let line_text = raw.strip_suffix('\r').unwrap_or(raw);
        Span {
            file: file.into(),
            line: line.max(1),
            column: column.max(1),
            len: len.max(1),
            line_text: line_text.to_owned(),
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column == 0 {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            write!(f, "{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One problem: what, about which option, where, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// Error, warning or note.
    pub severity: Severity,
    /// What is wrong, lowercase, without a final period.
    pub message: String,
    /// The option path it is about (`nix.buildMachines[0].maxJobs`), when
    /// it is about one.
    pub option: Option<String>,
    /// Where, when the input has positions.
    pub span: Option<Span>,
    /// How to fix it, when there is an obvious fix.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic of `severity` saying `message`.
    pub fn new(severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity,
            message: message.into(),
            option: None,
            span: None,
            help: None,
        }
    }

    /// An error saying `message`.
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, message)
    }

    /// A warning saying `message`.
    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, message)
    }

    /// This diagnostic, about the option at `path`.
    #[must_use]
    pub fn with_option(mut self, path: impl Into<String>) -> Diagnostic {
        self.option = Some(path.into());
        self
    }

    /// This diagnostic, located at `span`.
    #[must_use]
    pub fn with_span(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }

    /// This diagnostic, located at `span` when there is one.
    #[must_use]
    pub fn with_span_opt(mut self, span: Option<Span>) -> Diagnostic {
        self.span = span;
        self
    }

    /// This diagnostic, with `help`.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// The headline: `` `option`: message `` or the message alone.
    pub fn headline(&self) -> String {
        match &self.option {
            Some(o) if !o.is_empty() => format!("`{o}`: {}", self.message),
            _ => self.message.clone(),
        }
    }

    /// The diagnostic as rustc prints one, ending in a newline:
    ///
    /// ```text
    /// error: `nix.settings.cores`: expected an integer, got a float
    ///  --> c.toml:2:9
    ///   |
    /// 2 | cores = 2.0
    ///   |         ^^^
    ///   = help: write `cores = 2`
    /// ```
    ///
    /// Without a span, only the first line and the help.
    pub fn render(&self) -> String {
        let mut out = format!("{}: {}\n", self.severity, self.headline());
        let pad = match &self.span {
            Some(span) if span.column == 0 => {
                out.push_str(&format!(" --> {span}\n"));
                " ".to_owned()
            }
            Some(span) => {
                let number = span.line.to_string();
                let pad = " ".repeat(number.len());
                let (shown, lead, width) = caret_line(span);
                out.push_str(&format!("{pad}--> {span}\n"));
                out.push_str(&format!("{pad} |\n"));
                out.push_str(&format!("{number} | {shown}\n"));
                out.push_str(&format!(
                    "{pad} | {}{}\n",
                    " ".repeat(lead),
                    "^".repeat(width)
                ));
                pad
            }
            None => " ".to_owned(),
        };
        if let Some(help) = &self.help {
            out.push_str(&format!("{pad} = help: {help}\n"));
        }
        out
    }
}

/// The line as shown (tabs as four spaces, other control characters as
/// spaces), the caret's indentation and its width, in display columns.
fn caret_line(span: &Span) -> (String, usize, usize) {
    let mut shown = String::with_capacity(span.line_text.len());
    let (mut lead, mut width) = (0, 0);
    let first = span.column.saturating_sub(1);
    let last = first + span.len.max(1);
    for (i, c) in span.line_text.chars().enumerate() {
        let w = match c {
            '\t' => {
                shown.push_str("    ");
                4
            }
            c if c.is_control() => {
                shown.push(' ');
                1
            }
            c => {
                shown.push(c);
                unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)
            }
        };
        if i < first {
            lead += w;
        } else if i < last {
            width += w;
        }
    }
    (shown, lead, width.max(1))
}

impl fmt::Display for Diagnostic {
    /// One line: `file:line:col: `option`: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(span) = &self.span {
            write!(f, "{span}: ")?;
        }
        f.write_str(&self.headline())
    }
}

impl std::error::Error for Diagnostic {}

#[cfg(test)]
mod tests {
    use super::*;

    fn caret(text: &str, offset: usize, len: usize) -> String {
        let d = Diagnostic::error("bad").with_span(Span::from_offset("f", text, offset, len));
        d.render().lines().skip(3).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn tabs_show_as_four_spaces_and_move_the_caret() {
        assert_eq!(
            caret("\tcores = x\n", 9, 1),
            "1 |     cores = x\n  |             ^"
        );
        assert_eq!(caret("a\tb\n", 1, 1), "1 | a    b\n  |  ^^^^");
    }

    #[test]
    fn crlf_is_not_part_of_the_line() {
        let span = Span::from_offset("f", "a = 1\r\nbad\r\n", 7, 10);
        assert_eq!(span.line, 2);
        assert_eq!(span.column, 1);
        assert_eq!(span.len, 3);
        assert_eq!(span.line_text, "bad");
    }

    #[test]
    fn wide_characters_take_two_columns() {
        // "名前 = " is seven display columns before `x`.
        let text = "名前 = x\n";
        let at = text.find('x').unwrap();
        let span = Span::from_offset("f", text, at, 1);
        assert_eq!(span.column, 6);
        assert_eq!(caret(text, at, 1), "1 | 名前 = x\n  |        ^");
        assert_eq!(caret(text, 0, 3), "1 | 名前 = x\n  | ^^");
    }

    #[test]
    fn last_line_without_newline() {
        let text = "a = 1\nb = ";
        let span = Span::from_offset("f", text, 10, 5);
        assert_eq!((span.line, span.column, span.len), (2, 5, 1));
        assert_eq!(span.line_text, "b = ");
        assert_eq!(caret(text, 10, 5), "2 | b = \n  |     ^");
    }

    #[test]
    fn offsets_inside_a_character_move_back() {
        let span = Span::from_offset("f", "é=1", 1, 1);
        assert_eq!((span.column, span.len), (1, 1));
    }

    #[test]
    fn unquoted_lines() {
        let d = Diagnostic::warning("malformed line (kept unchanged)")
            .with_span(Span::line("etc/shadow", 4));
        assert_eq!(
            d.render(),
            "warning: malformed line (kept unchanged)\n --> etc/shadow:4\n"
        );
        assert_eq!(
            d.to_string(),
            "etc/shadow:4: malformed line (kept unchanged)"
        );
    }

    #[test]
    fn without_span_or_option() {
        let d = Diagnostic::warning("no nix found").with_help("install nix-bin");
        assert_eq!(
            d.render(),
            "warning: no nix found\n  = help: install nix-bin\n"
        );
        assert_eq!(d.to_string(), "no nix found");
    }

    #[test]
    fn gutter_grows_with_the_line_number() {
        let text = "\n".repeat(11) + "x = y\n";
        let d = Diagnostic::error("bad").with_span(Span::from_offset("f", &text, 15, 1));
        assert_eq!(
            d.render(),
            "error: bad\n  --> f:12:5\n   |\n12 | x = y\n   |     ^\n"
        );
    }
}
