//! Machines files and `builders` strings: split into entries, read each
//! entry, and write the document back.

use nixconf_diagnostic::Span;
use nixconf_format::NixVersion;
use serde::{Deserialize, Serialize};

use crate::base64;
use crate::error::{EntryError, EntryErrorKind};
use crate::machine::{Machine, MachineBuilder, SpeedFactor};
use crate::num;
use crate::rules::{Base64Style, Rules};
use crate::uri;
use crate::Error;

/// One entry of a machines file, with the line it is on (1-based; 0 for
/// entries that did not come from a file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum Item {
    /// A machine line.
    Machine {
        /// Line number.
        #[serde(default)]
        line: usize,
        /// The machine.
        machine: Machine,
        /// A comment after it, without the `#`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// An `@path` reference to another machines file.
    Include {
        /// Line number.
        #[serde(default)]
        line: usize,
        /// The path as Nix reads it (trimmed); relative paths are relative
        /// to the working directory of the process that reads the file.
        path: String,
        /// A comment after it, without the `#`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// A comment on a line of its own, without the `#`.
    Comment {
        /// Line number.
        #[serde(default)]
        line: usize,
        /// The text after `#`.
        text: String,
    },
    /// An empty line.
    Blank {
        /// Line number.
        #[serde(default)]
        line: usize,
    },
}

impl Item {
    /// The line the item is on.
    pub fn line(&self) -> usize {
        match self {
            Item::Machine { line, .. }
            | Item::Include { line, .. }
            | Item::Comment { line, .. }
            | Item::Blank { line } => *line,
        }
    }
}

/// A machines file (or `builders` string) as written: every machine,
/// reference, comment and blank line in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachinesFile {
    /// The entries, in order.
    pub items: Vec<Item>,
    /// Whether the text ended with a newline.
    #[serde(default = "default_true")]
    pub final_newline: bool,
}

fn default_true() -> bool {
    true
}

impl MachinesFile {
    /// The machines written in this file (not those of `@` references).
    pub fn machines(&self) -> impl Iterator<Item = &Machine> {
        self.items.iter().filter_map(|i| match i {
            Item::Machine { machine, .. } => Some(machine),
            _ => None,
        })
    }

    /// The text of this file for the target Nix: one entry per line, `-`
    /// for empty columns (an empty field for Nix 1.x), comments kept. A
    /// file read with the same version renders back byte for byte when it
    /// was written canonically (one entry per line, single spaces).
    ///
    /// ```
    /// use nixconf_machines::parse;
    /// let v = "2.24.9".parse().unwrap();
    /// let text = "# builders\nssh://nix@b x86_64-linux - 4 1 kvm - -\n\n@/etc/nix/more\n";
    /// assert_eq!(parse(text, "machines", &v).unwrap().render(&v).unwrap(), text);
    /// ```
    pub fn render(&self, version: &NixVersion) -> Result<String, Error> {
        let rules = Rules::for_version(version);
        let mut out = String::with_capacity(self.items.len() * 64);
        let mut errors = Vec::new();
        for (index, item) in self.items.iter().enumerate() {
            if let Err(e) = render_item(item, index, &rules, &mut out) {
                errors.push(e);
            }
        }
        if let Some(e) = Error::from_list(errors) {
            return Err(e);
        }
        // A last blank line needs its newline to exist at all.
        let last_is_blank = matches!(self.items.last(), Some(Item::Blank { .. }));
        if !self.final_newline && !last_is_blank && out.ends_with('\n') {
            out.pop();
        }
        Ok(out)
    }
}

fn render_item(item: &Item, index: usize, rules: &Rules, out: &mut String) -> Result<(), Error> {
    let what = |field: &str| format!("item {} ({field})", index + 1);
    let check_comment = |c: &str| -> Result<(), Error> {
        if c.contains('\n') {
            return Err(Error::Render {
                what: what("comment"),
                reason: "a comment cannot contain a newline".into(),
            });
        }
        if !rules.perl && !rules.per_line && c.contains(';') {
            return Err(Error::Render {
                what: what("comment"),
                reason: "before Nix 2.24.15/2.28.2 a ';' ends a comment and starts a new entry; \
                         remove it"
                    .into(),
            });
        }
        Ok(())
    };
    match item {
        Item::Machine {
            machine, comment, ..
        } => {
            if let Some(c) = comment {
                check_comment(c)?;
            }
            let line = if rules.perl && !machine.is_perl() {
                machine.legacy_line().map_err(|reason| Error::Render {
                    what: what("machine"),
                    reason,
                })?
            } else {
                machine.line_for(rules)
            };
            if !rules.perl && (machine.is_perl() || machine.store_uri().starts_with('@')) {
                if let Some(i) = (0..machine.columns()).find(|&i| {
                    machine
                        .column(i)
                        .is_some_and(|c| c.contains(';') || c.contains('#'))
                }) {
                    return Err(Error::Render {
                        what: what(&format!("column #{i}")),
                        reason: "Nix 2 splits entries at ';' and ends them at '#'".into(),
                    });
                }
                if machine.store_uri().starts_with('@') {
                    if rules.per_line {
                        return Err(Error::Render {
                            what: what("column #0"),
                            reason: "a store URI starting with '@' reads as a file reference"
                                .into(),
                        });
                    }
                    // Before the splitting fix only an '@' at offset 0 is a
                    // file reference; a space keeps this a machine.
                    out.push(' ');
                }
            }
            out.push_str(&line);
            if let Some(c) = comment {
                // For build-remote.pl a space before '#' would be one more
                // (empty) column separator.
                out.push_str(if rules.perl { "#" } else { " #" });
                out.push_str(c);
            }
        }
        Item::Include { path, comment, .. } => {
            if rules.perl {
                return Err(Error::Render {
                    what: what("include"),
                    reason: "Nix 1.x has no '@file' references; copy the machines in".into(),
                });
            }
            let trimmed = path.trim_matches([' ', '\t', '\n', '\r']);
            // An empty path is fine: Nix reads it as a file that does not
            // exist, and skips it.
            if trimmed != path || path.contains(['#', ';']) {
                return Err(Error::Render {
                    what: what("include"),
                    reason: format!(
                        "'{path}' cannot be written as a reference (surrounding whitespace, \
                         '#' or ';')"
                    ),
                });
            }
            if let Some(c) = comment {
                check_comment(c)?;
            }
            out.push('@');
            out.push_str(path);
            if let Some(c) = comment {
                out.push_str(" #");
                out.push_str(c);
            }
        }
        Item::Comment { text, .. } => {
            if text.contains('\n') {
                return Err(Error::Render {
                    what: what("comment"),
                    reason: "a comment cannot contain a newline".into(),
                });
            }
            out.push('#');
            out.push_str(text);
        }
        Item::Blank { .. } => {}
    }
    out.push('\n');
    Ok(())
}

/// Read a machines file or `builders` string exactly as the target Nix
/// does, keeping what was written. `source` names it in messages.
///
/// Every refused entry is reported (Nix stops at the first), each with
/// Nix's own message for the version.
///
/// ```
/// use nixconf_machines::parse;
/// let v = "2.8.0".parse().unwrap();
/// let file = parse("b x # comment; c y\n", "builders", &v).unwrap();
/// // Before 2.24.15/2.28.2 a comment ends at the next ';'.
/// assert_eq!(file.machines().count(), 2);
/// let v = "2.29.0".parse().unwrap();
/// assert_eq!(parse("b x # comment; c y\n", "builders", &v).unwrap().machines().count(), 1);
/// ```
pub fn parse(text: &str, source: &str, version: &NixVersion) -> Result<MachinesFile, Error> {
    let rules = Rules::for_version(version);
    let mut p = Parser {
        text,
        double_space: memchr::memmem::Finder::new(b"  "),
        version,
        source,
        rules,
        items: Vec::with_capacity(text.len() / 48 + 1),
        errors: Vec::new(),
    };
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut line = 0;
    while start < bytes.len() {
        line += 1;
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        p.line(start, end, line);
        start = end + 1;
    }
    if let Some(e) = Error::from_list(p.errors) {
        return Err(e);
    }
    Ok(MachinesFile {
        items: p.items,
        final_newline: text.is_empty() || text.ends_with('\n'),
    })
}

struct Parser<'a> {
    text: &'a str,
    double_space: memchr::memmem::Finder<'static>,
    version: &'a NixVersion,
    source: &'a str,
    rules: Rules,
    items: Vec<Item>,
    errors: Vec<Error>,
}

/// Nix's `trim`: strip `" \n\r\t"` at both ends.
fn trim(s: &str) -> &str {
    trim_end(trim_start(s))
}

fn trim_start(s: &str) -> &str {
    let n = s.bytes().take_while(|&b| is_trim_byte(b)).count();
    s.get(n..).unwrap_or("")
}

fn trim_end(s: &str) -> &str {
    let n = s.bytes().rev().take_while(|&b| is_trim_byte(b)).count();
    s.get(..s.len() - n).unwrap_or("")
}

fn is_trim_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Parser<'a> {
    fn line(&mut self, start: usize, end: usize, line: usize) {
        if self.rules.perl {
            self.perl_line(start, end, line);
        } else if self.rules.per_line {
            self.per_line(start, end, line);
        } else {
            self.split_line(start, end, line);
        }
    }

    /// Nix 2.0–2.28.1: the text is split at `\n` and `;` alike; each piece
    /// is cut at its first `#` (so a comment ends at the next `;`), and an
    /// `@` only counts at the very start of a piece.
    fn split_line(&mut self, start: usize, end: usize, line: usize) {
        let before = self.items.len();
        let errors_before = self.errors.len();
        let mut s = start;
        while s <= end {
            let e = memchr::memchr(b';', &self.text.as_bytes()[s..end]).map_or(end, |i| s + i);
            if e > s {
                let piece = &self.text[s..e];
                let (cut, comment) = match memchr::memchr(b'#', piece.as_bytes()) {
                    Some(h) => (&piece[..h], Some(&piece[h + 1..])),
                    None => (piece, None),
                };
                let comment = comment.map(str::to_owned);
                if cut.is_empty() {
                    if let Some(text) = comment {
                        self.items.push(Item::Comment { line, text });
                    }
                } else if let Some(path) = cut.strip_prefix('@') {
                    self.items.push(Item::Include {
                        line,
                        path: trim(path).to_owned(),
                        comment,
                    });
                } else if let Some(machine) = self.entry(cut, s, start, line) {
                    self.items.push(Item::Machine {
                        line,
                        machine,
                        comment,
                    });
                }
            }
            s = e + 1;
        }
        // Nothing but separators (or nothing at all): keep the line.
        if self.items.len() == before && self.errors.len() == errors_before {
            self.items.push(Item::Blank { line });
        }
    }

    /// 2.24.15 and ≥ 2.28.2: `#` ends the line, then `;` separates trimmed
    /// entries; blank entries are skipped.
    fn per_line(&mut self, start: usize, end: usize, line: usize) {
        let raw = &self.text[start..end];
        let (content, comment) = match memchr::memchr(b'#', raw.as_bytes()) {
            Some(h) => (&raw[..h], Some(&raw[h + 1..])),
            None => (raw, None),
        };
        let mut last = None;
        let mut entries = 0;
        let mut piece_start = start;
        let pieces = memchr::memchr_iter(b';', content.as_bytes())
            .map(Some)
            .chain([None]);
        for sep in pieces {
            let piece_end = sep.map_or(start + content.len(), |i| start + i);
            let piece = &self.text[piece_start..piece_end];
            let lead = piece.len() - trim_start(piece).len();
            let entry_start = piece_start + lead;
            piece_start = piece_end + 1;
            let entry = trim(piece);
            if entry.is_empty() {
                continue;
            }
            entries += 1;
            if let Some(path) = entry.strip_prefix('@') {
                self.items.push(Item::Include {
                    line,
                    path: trim(path).to_owned(),
                    comment: None,
                });
                last = Some(self.items.len() - 1);
            } else if let Some(machine) = self.entry(entry, entry_start, start, line) {
                self.items.push(Item::Machine {
                    line,
                    machine,
                    comment: None,
                });
                last = Some(self.items.len() - 1);
            } else {
                last = None;
            }
        }
        let comment = comment.map(str::to_owned);
        match (last, comment) {
            (Some(i), Some(c)) => {
                if let Some(Item::Machine { comment, .. } | Item::Include { comment, .. }) =
                    self.items.get_mut(i)
                {
                    *comment = Some(c);
                }
            }
            (None, Some(text)) if entries == 0 => self.items.push(Item::Comment { line, text }),
            (None, None) if entries == 0 => self.items.push(Item::Blank { line }),
            _ => {}
        }
    }

    /// Nix 1.x's `build-remote.pl`: `#` to the end of the line is a
    /// comment, blank lines are skipped, and columns are separated by
    /// single whitespace characters (so two in a row make an empty column).
    fn perl_line(&mut self, start: usize, end: usize, line: usize) {
        let raw = &self.text[start..end];
        let (content, comment) = match memchr::memchr(b'#', raw.as_bytes()) {
            Some(h) => (&raw[..h], Some(&raw[h + 1..])),
            None => (raw, None),
        };
        let perl_ws = |c: char| matches!(c, ' ' | '\t' | '\r' | '\x0b' | '\x0c');
        if content.chars().all(perl_ws) {
            self.items.push(match comment {
                Some(text) if content.is_empty() => Item::Comment {
                    line,
                    text: text.to_owned(),
                },
                _ => Item::Blank { line },
            });
            return;
        }
        let mut fields: Vec<&str> = content.split(perl_ws).collect();
        // Perl's split drops trailing empty fields; keep their count so
        // that the line is written back with the same separators.
        let written = fields.len();
        while fields.last().is_some_and(|f| f.is_empty()) {
            fields.pop();
        }
        let mut b = MachineBuilder::with_capacity(content.len());
        for i in 0..written {
            b.push(fields.get(i).copied().unwrap_or(""));
        }
        let nonempty = |i: usize| fields.get(i).filter(|f| !f.is_empty());
        let max_jobs = nonempty(3).map(|f| num::perl_int_u32(f));
        let speed = nonempty(4).map(|f| SpeedFactor::Int(num::perl_int_u32(f)));
        self.items.push(Item::Machine {
            line,
            machine: b.finish(max_jobs, speed, true),
            comment: comment.map(str::to_owned),
        });
    }

    /// Where `entry` (at byte `at` of the line starting at byte
    /// `line_start`) is, in characters, for messages.
    #[cold]
    fn span(&self, entry: &str, at: usize, line_start: usize, line: usize) -> Span {
        let rest = &self.text[line_start..];
        let raw = &rest[..rest.find('\n').unwrap_or(rest.len())];
        Span {
            file: self.source.to_owned(),
            line,
            column: self.text[line_start..at].chars().count() + 1,
            len: entry.trim_end().chars().count().max(1),
            line_text: raw.strip_suffix('\r').unwrap_or(raw).to_owned(),
        }
    }

    /// One machine entry of Nix 2.x. `entry` is the text as Nix quotes it
    /// in messages, starting at byte `at`.
    fn entry(&mut self, entry: &str, at: usize, line_start: usize, line: usize) -> Option<Machine> {
        let bytes = entry.as_bytes();
        let canonical = !entry.is_empty()
            && bytes.first() != Some(&b' ')
            && bytes.last() != Some(&b' ')
            && memchr::memchr2(b'\t', b'\r', bytes).is_none()
            && self.double_space.find(bytes).is_none();
        let b = if canonical {
            MachineBuilder::from_canonical(entry)
        } else {
            // An entry never holds '\n' (entries are cut at line ends), so
            // its separators are ' ', '\t' and '\r'.
            let mut b = MachineBuilder::with_capacity(entry.len());
            let mut start = 0;
            for sep in memchr::memchr3_iter(b' ', b'\t', b'\r', bytes) {
                if sep > start {
                    b.push(&entry[start..sep]);
                }
                start = sep + 1;
            }
            if start < entry.len() {
                b.push(&entry[start..]);
            }
            b
        };
        let rules = self.rules;
        let fail =
            |kind: EntryErrorKind, message: String, trace: Option<String>, help: Option<String>| {
                Error::Entry(Box::new(EntryError {
                    location: self.span(entry, at, line_start, line),
                    span: at..at + entry.len(),
                    entry: entry.to_owned(),
                    kind,
                    message,
                    trace,
                    help,
                }))
            };
        let placeholder = "-";
        let is_set = |b: &MachineBuilder, i: usize| b.column(i).is_some_and(|c| c != placeholder);
        if b.len() == 0 {
            let e = if rules.early {
                fail(
                    EntryErrorKind::BlankEntry,
                    format!("bad machine specification '{entry}'"),
                    None,
                    Some(blank_help()),
                )
            } else {
                fail(
                    EntryErrorKind::MissingStoreUri,
                    format!("bad machine specification: store URL was not found at the first column of a row: '{entry}'"),
                    None,
                    Some(blank_help()),
                )
            };
            self.errors.push(e);
            return None;
        }
        if !rules.early && !is_set(&b, 0) {
            self.errors.push(fail(
                EntryErrorKind::MissingStoreUri,
                format!("bad machine specification: store URL was not found at the first column of a row: '{entry}'"),
                None,
                Some("an entry starts with the store URI of the machine, such as ssh://nix@builder".into()),
            ));
            return None;
        }
        let unsigned = |col: usize, text: &str| -> Result<u32, Error> {
            if rules.early {
                num::stoull_u32(text).ok_or_else(|| {
                    fail(
                        EntryErrorKind::Stoull,
                        "stoull".into(),
                        None,
                        Some(number_help(col, text, false)),
                    )
                })
            } else {
                num::string2int_u32(text).ok_or_else(|| {
                    fail(
                        EntryErrorKind::NotUnsigned,
                        format!("bad machine specification: failed to convert column #{col} in a row: '{entry}' to 'unsigned int'"),
                        None,
                        Some(number_help(col, text, !rules.float_speed)),
                    )
                })
            }
        };
        let max_jobs = match b.column(3).filter(|_| is_set(&b, 3)) {
            Some(t) => match unsigned(3, t) {
                Ok(n) => Some(n),
                Err(e) => {
                    self.errors.push(e);
                    return None;
                }
            },
            None => None,
        };
        let speed = match b.column(4).filter(|_| is_set(&b, 4)) {
            Some(t) if rules.float_speed => match num::lexical_cast_f32(t) {
                Some(f) => Some(SpeedFactor::Float(f)),
                None => {
                    self.errors.push(fail(
                        EntryErrorKind::NotFloat,
                        format!("bad machine specification: failed to convert column #4 in a row: '{entry}' to 'float'"),
                        None,
                        Some(number_help(4, t, false)),
                    ));
                    return None;
                }
            },
            Some(t) => match unsigned(4, t) {
                Ok(n) => Some(SpeedFactor::Int(n)),
                Err(e) => {
                    self.errors.push(e);
                    return None;
                }
            },
            None => None,
        };
        if let Some(key) = b.column(7).filter(|_| is_set(&b, 7)) {
            if rules.base64 != Base64Style::Unchecked && base64::first_bad_char(key).is_some() {
                let inner = "invalid character in Base64 string: ''";
                let help = Some(
                    "the host key is the base64 of the host's public key line, for example \
                     `base64 -w0 /etc/ssh/ssh_host_ed25519_key.pub`"
                        .to_owned(),
                );
                let e = match rules.base64 {
                    Base64Style::WrappedWithKey => fail(
                        EntryErrorKind::InvalidBase64,
                        format!("bad machine specification: a column #7 in a row: '{entry}' is not valid base64 string: error: {inner} in '{key}'"),
                        None,
                        help,
                    ),
                    Base64Style::Traced => fail(
                        EntryErrorKind::InvalidBase64,
                        inner.to_owned(),
                        Some(format!("while parsing machine specification at a column #7 in a row: '{entry}'")),
                        help,
                    ),
                    _ => fail(
                        EntryErrorKind::InvalidBase64,
                        format!("bad machine specification: a column #7 in a row: '{entry}' is not valid base64 string: error: {inner}"),
                        None,
                        help,
                    ),
                };
                self.errors.push(e);
                return None;
            }
        }
        if rules.store_reference {
            let col0 = b.column(0).unwrap_or_default();
            if !uri::is_column0_store_reference(col0) {
                let normalised = uri::normalise(col0, self.version);
                self.errors.push(fail(
                    EntryErrorKind::BadStoreReference,
                    format!("Cannot parse Nix store '{normalised}'"),
                    None,
                    Some("write a store URL such as ssh://nix@builder or ssh-ng://builder".into()),
                ));
                return None;
            }
        }
        if rules.float_speed && speed.is_some_and(|s| s.as_f32() < 0.0) {
            self.errors.push(fail(
                EntryErrorKind::NegativeSpeedFactor,
                "speed factor must be >= 0".into(),
                None,
                Some("use a speed factor of 0 or more (0 means 1)".into()),
            ));
            return None;
        }
        Some(b.finish(max_jobs, speed, false))
    }
}

fn blank_help() -> String {
    "remove the whitespace-only entry: Nix before 2.24.15/2.28.2 refuses it (an indented comment \
     or a space after ';' makes one)"
        .into()
}

fn number_help(col: usize, text: &str, float_is_too_new: bool) -> String {
    if text.starts_with('-') {
        return format!("column #{col} cannot be negative");
    }
    if col == 4 && float_is_too_new && num::lexical_cast_f32(text).is_some() {
        return format!(
            "the speed factor '{text}' is a float, which Nix reads only from 2.20; write a whole number"
        );
    }
    format!(
        "column #{col} must be a whole number; an empty column is written '-' (leaving it out shifts every later column)"
    )
}
