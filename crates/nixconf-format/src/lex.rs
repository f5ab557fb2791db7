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

/// Lines of `text` with their shapes, in one pass over the bytes: the same
/// result as [`lines`] followed by [`shape`] on each line's code (a
/// property test checks that), without scanning a line twice.
pub(crate) fn scan(text: &[u8]) -> Scan<'_> {
    Scan { text, pos: 0 }
}

/// Iterator behind [`scan`].
#[derive(Debug)]
pub(crate) struct Scan<'a> {
    text: &'a [u8],
    pos: usize,
}

/// Bit 7 of each byte of the result is set where the byte of `word` can
/// end a token: a byte `<= 0x20` (whitespace candidates) or `#`. Only the
/// lowest flagged byte is exact, which is all the callers use.
#[inline]
fn stop_bits(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let low = word.wrapping_sub(ONES * 0x21) & !word;
    let hash = word ^ (ONES * u64::from(b'#'));
    let is_hash = hash.wrapping_sub(ONES) & !hash;
    (low | is_hash) & HIGHS
}

/// Whether `b` ends a token of a line's code: whitespace (`\n` included)
/// or the `#` that starts a comment.
#[inline]
fn ends_token(b: u8) -> bool {
    is_ws(b) || b == b'#'
}

/// The end of the token of a line's code that starts at `i`.
#[inline]
fn token_end(text: &[u8], mut i: usize) -> usize {
    loop {
        // Eight bytes at a time while none of them can end the token.
        while let Some(w) = word_at(text, i) {
            let bits = stop_bits(w);
            if bits != 0 {
                i += (bits.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        match text.get(i) {
            Some(&b) if !ends_token(b) => i += 1,
            _ => return i,
        }
    }
}

/// Skip spaces, tabs and CRs (whitespace that does not end the line).
#[inline]
fn skip_blanks(text: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\r') = text.get(i) {
        i += 1;
    }
    i
}

/// Whether a line's code ends at `i` (end of text, `\n` or `#`).
#[inline]
fn code_ends(text: &[u8], i: usize) -> bool {
    matches!(text.get(i), None | Some(b'\n' | b'#'))
}

impl Scan<'_> {
    /// The line starting at `start` whose code ends at `code_end`: finds
    /// its end and moves past it.
    #[inline]
    fn finish(&mut self, start: usize, code_end: usize) -> RawLine {
        let text = self.text;
        let end = match text.get(code_end) {
            Some(b'#') => memchr(b'\n', &text[code_end..]).map_or(text.len(), |j| code_end + j),
            _ => code_end.min(text.len()),
        };
        self.pos = end + 1;
        RawLine {
            start,
            code_end,
            end,
        }
    }

    /// The rare shapes (syntax errors, includes): split the line the
    /// plain way and classify it with [`shape`].
    #[cold]
    fn slow(&mut self, start: usize) -> (RawLine, Shape) {
        let mut rest = lines(&self.text[start..]);
        let line = rest.next().unwrap_or(RawLine {
            start: 0,
            code_end: 0,
            end: 0,
        });
        let line = RawLine {
            start: start + line.start,
            code_end: start + line.code_end,
            end: start + line.end,
        };
        self.pos = line.end + 1;
        (line, shape(&self.text[line.start..line.code_end]))
    }
}

impl Iterator for Scan<'_> {
    type Item = (RawLine, Shape);

    #[inline]
    fn next(&mut self) -> Option<(RawLine, Shape)> {
        let text = self.text;
        let start = self.pos;
        if start >= text.len() {
            return None;
        }
        let n0 = skip_blanks(text, start);
        if code_ends(text, n0) {
            return Some((self.finish(start, n0), Shape::Blank));
        }
        let n1 = token_end(text, n0);
        let t1 = skip_blanks(text, n1);
        if code_ends(text, t1) {
            return Some(self.slow(start));
        }
        let name = &text[n0..n1];
        if name == b"include" || name == b"!include" {
            return Some(self.slow(start));
        }
        // The second token must be exactly `=`.
        if text[t1] != b'=' || !text.get(t1 + 1).map_or(true, |&b| ends_token(b)) {
            return Some(self.slow(start));
        }
        let v0 = skip_blanks(text, t1 + 1);
        // Walk the value's tokens; `joined` stays true while every gap
        // between two tokens is one space.
        let mut joined = true;
        let mut v1 = v0;
        let mut i = v0;
        while !code_ends(text, i) {
            i = token_end(text, i);
            v1 = i;
            if text.get(i) == Some(&b' ') && !text.get(i + 1).map_or(true, |&b| ends_token(b)) {
                i += 1;
                continue;
            }
            let next = skip_blanks(text, i);
            if code_ends(text, next) {
                i = next;
                break;
            }
            joined = false;
            i = next;
        }
        let line = self.finish(start, i);
        let shape = Shape::Setting {
            name: (n0 - start, n1 - start),
            value: (v0 - start, v1 - start),
            value_is_joined: joined,
        };
        Some((line, shape))
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

    /// The one-pass scanner agrees with splitting lines then classifying.
    fn scan_agrees(text: &[u8]) -> Result<(), proptest::test_runner::TestCaseError> {
        let plain: Vec<(RawLine, Shape)> = lines(text)
            .map(|l| (l, shape(&text[l.start..l.code_end])))
            .collect();
        let fast: Vec<(RawLine, Shape)> = scan(text).collect();
        proptest::prop_assert_eq!(fast, plain, "{:?}", String::from_utf8_lossy(text));
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5000))]

        #[test]
        fn scan_agrees_with_lines_and_shape(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(&b" "[..]), proptest::strategy::Just(&b"  "[..]),
                proptest::strategy::Just(&b"\t"[..]), proptest::strategy::Just(&b"\r"[..]),
                proptest::strategy::Just(&b"\n"[..]), proptest::strategy::Just(&b"#"[..]),
                proptest::strategy::Just(&b"="[..]), proptest::strategy::Just(&b" = "[..]),
                proptest::strategy::Just(&b"include"[..]), proptest::strategy::Just(&b"!include"[..]),
                proptest::strategy::Just(&b"max-jobs"[..]), proptest::strategy::Just(&b"a"[..]),
                proptest::strategy::Just(&b"abcdefghijklmnopq"[..]),
                proptest::strategy::Just(&b"\x0c"[..]), proptest::strategy::Just(&b"\x00"[..]),
                proptest::strategy::Just(&b"\xff"[..]), proptest::strategy::Just(&b"\xa3"[..]),
            ], 0..40)
        ) {
            scan_agrees(&pieces.concat())?;
        }

        #[test]
        fn scan_agrees_on_any_bytes(text in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            scan_agrees(&text)?;
        }
    }

    #[test]
    fn scan_examples() {
        for text in [
            &b""[..],
            b"\n",
            b"a = b",
            b"a = b\n",
            b"a = b # c\n  d = e  f\t\n#x\n\ninclude x\n",
            b"trusted-public-keys = cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY= x\n",
            b"a =#\n",
            b"a =\x0cb\n",
            b"a = b\x0c c  \r\n",
        ] {
            scan_agrees(text).unwrap();
        }
    }

    #[test]
    fn joins_like_nix() {
        assert_eq!(join_tokens(b"3\rcores = 2"), b"3 cores = 2");
        assert_eq!(join_tokens(b"\"a   b\""), b"\"a b\"");
    }
}
