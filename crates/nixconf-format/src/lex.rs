//! The hot path: Nix's line grammar over bytes, hand-tuned.
//!
//! `grammar.rs` states the same grammar with nom, one function per rule;
//! property tests check that the two agree on every input. This version
//! exists because the evaluator runs it on every line of every file and
//! must stay well above 1 GB/s.

use memchr::{memchr, memchr2};

/// Nix's `tokenizeString` separators: space, tab, CR, LF. Not `\f`, `\v`,
/// NBSP or a BOM.
#[inline]
pub(crate) fn is_ws(b: u8) -> bool {
    // Bits 9, 10, 13 and 32 of the mask: tab, LF, CR, space.
    b <= b' ' && (WS_MASK >> b) & 1 == 1
}

const WS_MASK: u64 = (1 << 9) | (1 << 10) | (1 << 13) | (1 << 32);

/// Whether any byte of the 8-byte word is `<= 0x20` (a possible
/// whitespace byte); bytes `>= 0x80` never count.
#[inline]
fn has_low_byte(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    (word.wrapping_sub(ONES * 0x21) & !word & HIGHS) != 0
}

#[inline]
fn word_at(code: &[u8], i: usize) -> Option<u64> {
    code.get(i..i + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map(u64::from_le_bytes)
}

/// One physical line of a nix.conf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawLine {
    /// Offset of the line's first byte in the file.
    pub start: usize,
    /// End of the line's content before any `#` (exclusive).
    pub code_end: usize,
    /// End of the line, excluding its `\n` (exclusive).
    pub end: usize,
}

/// Iterate over the lines of `text` as Nix splits them: on `\n` only, the
/// last line needing no terminator, no line at all for an empty text.
pub(crate) fn lines(text: &[u8]) -> Lines<'_> {
    Lines { text, pos: 0 }
}

/// Iterator behind [`lines`].
#[derive(Debug)]
pub(crate) struct Lines<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Iterator for Lines<'_> {
    type Item = RawLine;

    #[inline]
    fn next(&mut self) -> Option<RawLine> {
        let start = self.pos;
        let rest = self.text.get(start..)?;
        if rest.is_empty() {
            return None;
        }
        let (code_end, end) = match memchr2(b'\n', b'#', rest) {
            Some(i) if rest[i] == b'\n' => (start + i, start + i),
            Some(i) => {
                let nl = memchr(b'\n', &rest[i..]).map_or(rest.len(), |j| i + j);
                (start + i, start + nl)
            }
            None => (start + rest.len(), start + rest.len()),
        };
        self.pos = end + 1;
        Some(RawLine {
            start,
            code_end,
            end,
        })
    }
}

/// What a line's code (the part before `#`) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No tokens: blank, or a comment only.
    Blank,
    /// `include PATH` or `!include PATH`; offsets are relative to the line.
    Include {
        ignore_missing: bool,
        path: (usize, usize),
    },
    /// `NAME = VALUE...`; `value` spans from the first value token to the
    /// end of the last (empty when there is none), and `value_is_joined`
    /// says whether that span already equals the tokens joined by single
    /// spaces.
    Setting {
        name: (usize, usize),
        value: (usize, usize),
        value_is_joined: bool,
    },
    /// A line Nix rejects; `at` is where the problem is (for carets).
    Invalid { why: Invalid, at: usize },
}

/// Why a line is a syntax error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Invalid {
    /// Only one token.
    OneToken,
    /// `include`/`!include` without exactly one path.
    IncludeArity,
    /// The second token is not `=`.
    NoEquals,
}

#[inline]
fn skip_ws(code: &[u8], mut i: usize) -> usize {
    while i < code.len() && is_ws(code[i]) {
        i += 1;
    }
    i
}

#[inline]
fn skip_token(code: &[u8], mut i: usize) -> usize {
    // Eight bytes at a time while none of them can be whitespace.
    while let Some(word) = word_at(code, i) {
        if has_low_byte(word) {
            break;
        }
        i += 8;
    }
    while i < code.len() && !is_ws(code[i]) {
        i += 1;
    }
    i
}

/// Classify a line's code (bytes before `#`, without the `\n`).
#[inline]
pub(crate) fn shape(code: &[u8]) -> Shape {
    let n0 = skip_ws(code, 0);
    if n0 == code.len() {
        return Shape::Blank;
    }
    let n1 = skip_token(code, n0);
    let t1 = skip_ws(code, n1);
    if t1 == code.len() {
        return Shape::Invalid {
            why: Invalid::OneToken,
            at: n0,
        };
    }
    let t1_end = skip_token(code, t1);
    let name = &code[n0..n1];
    let is_include = name == b"include";
    if is_include || name == b"!include" {
        let after = skip_ws(code, t1_end);
        if after != code.len() {
            return Shape::Invalid {
                why: Invalid::IncludeArity,
                at: after,
            };
        }
        return Shape::Include {
            ignore_missing: !is_include,
            path: (t1, t1_end),
        };
    }
    if &code[t1..t1_end] != b"=" {
        return Shape::Invalid {
            why: Invalid::NoEquals,
            at: t1,
        };
    }
    let v0 = skip_ws(code, t1_end);
    let (v1, value_is_joined) = scan_value(code, v0);
    Shape::Setting {
        name: (n0, n1),
        value: (v0, v1),
        value_is_joined,
    }
}

/// From `v0` (a token start or the end): the end of the last token, and
/// whether the tokens in between are separated by exactly one space each.
#[inline]
fn scan_value(code: &[u8], v0: usize) -> (usize, bool) {
    let mut joined = true;
    let mut i = v0;
    loop {
        i = skip_token(code, i);
        let next = skip_ws(code, i);
        if next == code.len() {
            return (i, joined);
        }
        if next != i + 1 || code[i] != b' ' {
            joined = false;
        }
        i = next;
    }
}

/// The tokens of `v` joined by single spaces, as Nix builds a value.
pub(crate) fn join_tokens(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    for tok in tokens(v) {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(tok);
    }
    out
}

/// The whitespace-separated tokens of `v`.
pub(crate) fn tokens(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&b| is_ws(b)).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &[u8]) -> Vec<(Vec<u8>, Shape)> {
        lines(text)
            .map(|l| {
                let code = &text[l.start..l.code_end];
                (code.to_vec(), shape(code))
            })
            .collect()
    }

    #[test]
    fn splits_lines_like_nix() {
        assert!(all(b"").is_empty());
        assert_eq!(all(b"\n").len(), 1);
        assert_eq!(all(b"a = 1\nb = 2").len(), 2);
        assert_eq!(all(b"a = 1\nb = 2\n").len(), 2);
        // CR alone does not end a line.
        assert_eq!(all(b"a = 1\rb = 2").len(), 1);
    }

    #[test]
    fn comment_cuts_anywhere() {
        let l = all(b"bash-prompt = a#b # c\n");
        assert_eq!(l[0].0, b"bash-prompt = a");
    }

    #[test]
    fn shapes() {
        assert_eq!(shape(b"  \t\r"), Shape::Blank);
        assert!(matches!(
            shape(b"cores 7"),
            Shape::Invalid {
                why: Invalid::NoEquals,
                at: 6
            }
        ));
        assert!(matches!(
            shape(b"cores"),
            Shape::Invalid {
                why: Invalid::OneToken,
                ..
            }
        ));
        assert!(matches!(
            shape(b"include a b"),
            Shape::Invalid {
                why: Invalid::IncludeArity,
                ..
            }
        ));
        assert!(matches!(
            shape(b"include = x"),
            Shape::Invalid {
                why: Invalid::IncludeArity,
                ..
            }
        ));
        assert_eq!(
            shape(b"!include  x.conf "),
            Shape::Include {
                ignore_missing: true,
                path: (10, 16)
            }
        );
        assert_eq!(
            shape(b"a = = b"),
            Shape::Setting {
                name: (0, 1),
                value: (4, 7),
                value_is_joined: true
            }
        );
        assert_eq!(
            shape(b"a =\t"),
            Shape::Setting {
                name: (0, 1),
                value: (4, 4),
                value_is_joined: true
            }
        );
        assert!(matches!(
            shape(b"a = x  y"),
            Shape::Setting {
                value_is_joined: false,
                ..
            }
        ));
        // `\f` is not whitespace: one token.
        assert!(matches!(
            shape(b"max-jobs = 4\x0ccores"),
            Shape::Setting {
                value_is_joined: true,
                ..
            }
        ));
    }

    #[test]
    fn joins_like_nix() {
        assert_eq!(join_tokens(b"3\rcores = 2"), b"3 cores = 2");
        assert_eq!(join_tokens(b"\"a   b\""), b"\"a b\"");
    }
}
