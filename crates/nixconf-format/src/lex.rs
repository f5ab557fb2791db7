//! The hot path: Nix's line grammar over bytes, hand-tuned.
//!
//! `grammar.rs` states the same grammar with nom, one function per rule;
//! property tests check that the two agree on every input. This version
//! exists because the evaluator runs it on every line of every file and
//! must stay well above 1 GB/s.

use memchr::{memchr, memchr2};
use wide::u8x16;

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
/// result as [`lines`] followed by [`shape`] on each line's code (property
/// tests check that), without scanning a line twice.
///
/// The text is classified a chunk at a time into bitmaps, 16 bytes per
/// SIMD step (SSE2 on x86-64, NEON, or plain code elsewhere): one bit per
/// byte for "ends a line's code" (`\n`, `#`), "blank" (space, tab, CR)
/// and "blank other than a space". A line whose code fits in 64 bytes is
/// then split with a few bit operations on a 64-bit window of each bitmap
/// starting at the line, with no loop over its bytes; longer lines and
/// the rare shapes (includes, syntax errors) take [`shape`].
#[cfg(test)]
pub(crate) fn scan(text: &[u8]) -> Scan<'_> {
    scan_from(text, 0)
}

/// `scan` from `start`, the first byte of a line.
pub(crate) fn scan_from(text: &[u8], start: usize) -> Scan<'_> {
    Scan {
        text,
        pos: start,
        base: 0,
        limit: 0,
        masks: Masks {
            stop: [0; CHUNK_WORDS],
            blank: [0; CHUNK_WORDS],
            odd: [0; CHUNK_WORDS],
            nl: [0; CHUNK_WORDS],
        },
    }
}

/// 64-byte blocks classified per chunk (2 KiB: the bitmaps stay in L1).
const CHUNK_WORDS: usize = 32;

/// Bitmaps of a chunk: bit `i` of word `k` is byte `base + 64 k + i`.
#[derive(Debug)]
struct Masks {
    /// `\n` or `#`: where a line's code ends. Past the end of the text
    /// every bit is set (the end of the text ends a line).
    stop: [u64; CHUNK_WORDS],
    /// Space, tab or CR: what separates tokens within a line.
    blank: [u64; CHUNK_WORDS],
    /// Tab or CR: blanks that keep a value from being already joined.
    odd: [u64; CHUNK_WORDS],
    /// `\n`: where a line ends (set past the end of the text, like
    /// `stop`).
    nl: [u64; CHUNK_WORDS],
}

/// Iterator behind `scan` and [`scan_from`].
#[derive(Debug)]
pub(crate) struct Scan<'a> {
    text: &'a [u8],
    pos: usize,
    /// Offset in `text` of the chunk that `masks` describe.
    base: usize,
    /// Lines starting before this offset have the 64 bytes from their
    /// start inside the chunk (or past the end of the text).
    limit: usize,
    masks: Masks,
}

/// The bitmaps of 64 bytes: `(stop, blank, odd, nl)` as [`Masks`] has
/// them.
#[inline]
fn classify(block: &[u8; 64]) -> (u64, u64, u64, u64) {
    let (nl, hash) = (u8x16::splat(b'\n'), u8x16::splat(b'#'));
    let (space, tab, cr) = (u8x16::splat(b' '), u8x16::splat(b'\t'), u8x16::splat(b'\r'));
    let (mut stop, mut blank, mut odd, mut lf) = (0u64, 0u64, 0u64, 0u64);
    for i in 0..4 {
        let mut lane = [0u8; 16];
        lane.copy_from_slice(&block[16 * i..16 * i + 16]);
        let v = u8x16::new(lane);
        let n = v.cmp_eq(nl);
        let s = n | v.cmp_eq(hash);
        let o = v.cmp_eq(tab) | v.cmp_eq(cr);
        let b = o | v.cmp_eq(space);
        // `move_mask` fills the low 16 bits only.
        let bits = |m: u8x16| u64::from(m.move_mask() as u16) << (16 * i);
        stop |= bits(s);
        blank |= bits(b);
        odd |= bits(o);
        lf |= bits(n);
    }
    (stop, blank, odd, lf)
}

/// The 64 bits of `words` from bit `s` of word `k` on (`s < 64`; word
/// `k + 1` must exist).
#[inline(always)]
fn window(words: &[u64; CHUNK_WORDS], k: usize, s: usize) -> u64 {
    // `refill` keeps `k + 1 < CHUNK_WORDS`; the modulo (a mask) only
    // spares the bounds checks.
    let lo = words[k % CHUNK_WORDS];
    let hi = words[(k + 1) % CHUNK_WORDS];
    // `(hi << 1) << (63 - s)` is `hi << (64 - s)`, and 0 for `s == 0`,
    // with no branch.
    (lo >> s) | ((hi << 1) << (63 - s))
}

/// Whether `text[start..end]` is `include` or `!include`, without a
/// branch on the name's length (names of 7 and 8 bytes are common) or
/// on its bytes but the first.
#[inline(always)]
fn is_include(text: &[u8], start: usize, end: usize) -> bool {
    // Few setting names start with `i` or `!`: one predictable branch
    // skips the rest for most lines.
    if !matches!(text.get(start), Some(b'i' | b'!')) {
        return false;
    }
    let len = end - start;
    let word = match text.get(start..start + 8) {
        Some(w) => u64::from_le_bytes(w.try_into().unwrap_or([0; 8])),
        None => {
            let name = text.get(start..end).unwrap_or_default();
            return name == b"include" || name == b"!include";
        }
    };
    let seven = word & 0x00FF_FFFF_FFFF_FFFF;
    (len == 7) & (seven == u64::from_le_bytes(*b"include\0"))
        | (len == 8) & (word == u64::from_le_bytes(*b"!include"))
}

/// Bits `from..64` of a word (`from < 64`).
#[inline(always)]
fn from_bit(from: u32) -> u64 {
    u64::MAX << from
}

impl Scan<'_> {
    /// Classify the chunk starting at `base`.
    #[cold]
    #[inline(never)]
    fn refill(&mut self, base: usize) {
        let text = self.text;
        self.base = base;
        let blocks = (text.len() - base).div_ceil(64);
        let n = blocks.min(CHUNK_WORDS);
        for k in 0..n {
            let at = base + 64 * k;
            let (stop, blank, odd, nl) = match text.get(at..at + 64) {
                Some(full) => classify(full.try_into().unwrap_or(&[b'\n'; 64])),
                None => {
                    // The last, partial block: what follows the text acts
                    // as a line end.
                    let mut padded = [b'\n'; 64];
                    let rest = &text[at.min(text.len())..];
                    padded[..rest.len()].copy_from_slice(rest);
                    classify(&padded)
                }
            };
            self.masks.stop[k] = stop;
            self.masks.blank[k] = blank;
            self.masks.odd[k] = odd;
            self.masks.nl[k] = nl;
        }
        if n < CHUNK_WORDS {
            // The text ends in this chunk: one more word past its end, so
            // every window of a line in the chunk is defined.
            self.masks.stop[n] = u64::MAX;
            self.masks.blank[n] = 0;
            self.masks.odd[n] = 0;
            self.masks.nl[n] = u64::MAX;
            self.limit = text.len();
        } else {
            self.limit = base + 64 * (CHUNK_WORDS - 1);
        }
    }

    /// The end of the line that goes on at `from`: its first `\n` from
    /// there, or the end of the text.
    #[cold]
    fn line_end(&self, from: usize) -> usize {
        let text = self.text;
        let from = from.min(text.len());
        memchr(b'\n', &text[from..]).map_or(text.len(), |j| from + j)
    }

    /// A line whose code is longer than the window from its start: a
    /// setting whose name and `=` are in that window takes the windows
    /// from its value on; anything else goes to [`Scan::slow`].
    #[inline(never)]
    fn long(&mut self, p: usize) -> (RawLine, Shape) {
        let text = self.text;
        let rel = p - self.base;
        let (k, s) = (rel / 64, rel % 64);
        let blank_w = window(&self.masks.blank, k, s);
        // No `\n` or `#` in the window: all of it is code.
        let nonblank = !blank_w;
        if nonblank == 0 {
            return self.slow(p);
        }
        let n0 = nonblank.trailing_zeros();
        let n1 = (blank_w & from_bit(n0)).trailing_zeros();
        if n1 >= 62 {
            return self.slow(p);
        }
        let after_name = nonblank & from_bit(n1);
        let t1 = after_name.trailing_zeros();
        if t1 >= 62
            || is_include(text, p + n0 as usize, p + n1 as usize)
            || text.get(p + t1 as usize) != Some(&b'=')
            || blank_w & (1 << (t1 + 1)) == 0
        {
            return self.slow(p);
        }
        let after_eq = nonblank & from_bit(t1 + 1);
        if after_eq == 0 {
            return self.slow(p);
        }
        let v0 = p + after_eq.trailing_zeros() as usize;
        let Some((c, v1, value_is_joined)) = self.long_value(v0) else {
            return self.slow(p);
        };
        let end = if text.get(c) == Some(&b'#') {
            self.line_end(c)
        } else {
            c
        };
        self.pos = end + 1;
        let line = RawLine {
            start: p,
            code_end: c,
            end,
        };
        let shape = Shape::Setting {
            name: (n0 as usize, n1 as usize),
            value: (v0 - p, v1 - p),
            value_is_joined,
        };
        (line, shape)
    }

    /// From `v0`, the first byte of a value: where the line's code ends,
    /// the end of the value's last token, and whether its blanks are
    /// single spaces. `None` when the value runs past the chunk.
    #[inline]
    fn long_value(&self, v0: usize) -> Option<(usize, usize, bool)> {
        let mut q = v0;
        let mut v1 = v0;
        // The first byte (from `v0`) that keeps the value from being
        // joined: the first of two adjacent blanks, or a tab or CR.
        let mut first_bad = usize::MAX;
        let mut carry = 0u64;
        loop {
            if q >= self.limit {
                return None;
            }
            let rel = q - self.base;
            let (k, s) = (rel / 64, rel % 64);
            let stop_w = window(&self.masks.stop, k, s);
            let code = stop_w.wrapping_sub(1) & !stop_w;
            let blanks = window(&self.masks.blank, k, s) & code;
            let nonblank = !blanks & code;
            if nonblank != 0 {
                v1 = q + 64 - nonblank.leading_zeros() as usize;
            }
            if first_bad == usize::MAX {
                let odd = window(&self.masks.odd, k, s);
                let bad = (blanks & (blanks >> 1)) | (blanks & odd);
                if carry & blanks & 1 != 0 {
                    first_bad = q - 1;
                } else if bad != 0 {
                    first_bad = q + bad.trailing_zeros() as usize;
                }
            }
            if stop_w != 0 {
                let c = q + stop_w.trailing_zeros() as usize;
                return Some((c.min(self.text.len()), v1, first_bad >= v1));
            }
            carry = blanks >> 63;
            q += 64;
        }
    }

    /// The rare shapes (syntax errors, includes) and lines whose code is
    /// longer than the window: split the line the plain way and classify
    /// it with [`shape`].
    #[cold]
    #[inline(never)]
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

    // Inlined into the evaluator's loop, the line and its shape stay in
    // registers.
    #[inline(always)]
    fn next(&mut self) -> Option<(RawLine, Shape)> {
        let text = self.text;
        let p = self.pos;
        if p >= text.len() {
            return None;
        }
        if p >= self.limit {
            self.refill(p);
        }
        let rel = p - self.base;
        let (k, s) = (rel / 64, rel % 64);
        let stop_w = window(&self.masks.stop, k, s);
        if stop_w == 0 {
            return Some(self.long(p));
        }
        // Offsets from here on are from the line's start, all below 64.
        let c = stop_w.trailing_zeros();
        let blank_w = window(&self.masks.blank, k, s);
        let code = !from_bit(c);
        let nonblank = !blank_w & code;
        // The line ends at its first `\n` whether or not a comment comes
        // first: no branch on that.
        let nl_w = window(&self.masks.nl, k, s);
        let end = if nl_w != 0 {
            (p + nl_w.trailing_zeros() as usize).min(text.len())
        } else {
            self.line_end(p + 64)
        };
        let line = RawLine {
            start: p,
            code_end: (p + c as usize).min(text.len()),
            end,
        };
        if nonblank == 0 {
            self.pos = end + 1;
            return Some((line, Shape::Blank));
        }
        let n0 = nonblank.trailing_zeros();
        let sep = blank_w | stop_w;
        // `n1 <= c`: the code ends at `c`.
        let n1 = (sep & from_bit(n0)).trailing_zeros();
        let after_name = nonblank & from_bit(n1);
        if after_name == 0 || is_include(text, p + n0 as usize, p + n1 as usize) {
            return Some(self.slow(p));
        }
        // The second token must be exactly `=`: a `=` followed by a
        // separator (`t1 + 1 <= c < 64`).
        let t1 = after_name.trailing_zeros();
        if text.get(p + t1 as usize) != Some(&b'=') || sep & (1 << (t1 + 1)) == 0 {
            return Some(self.slow(p));
        }
        let after_eq = nonblank & from_bit(t1 + 1);
        let (v0, v1) = if after_eq == 0 {
            (c, c)
        } else {
            (after_eq.trailing_zeros(), 64 - nonblank.leading_zeros())
        };
        // The value is already joined when its blanks are single spaces.
        let inner = blank_w & !from_bit(v1) & from_bit(v0);
        let odd = window(&self.masks.odd, k, s);
        let value_is_joined = (inner & (inner >> 1)) | (odd & inner) == 0;
        self.pos = end + 1;
        let shape = Shape::Setting {
            name: (n0 as usize, n1 as usize),
            value: (v0 as usize, v1 as usize),
            value_is_joined,
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
    use proptest::strategy::Strategy;

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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Files of several 2 KiB chunks, lines of any length (tokens
        /// and blank runs up to 150 bytes, so lines cross 64-byte
        /// blocks, windows and chunk ends), CRLF, BOMs, form feeds.
        #[test]
        fn scan_agrees_across_blocks_and_chunks(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                4 => proptest::strategy::Just(b"max-jobs = 4\n".to_vec()),
                4 => proptest::strategy::Just(b"substituters = https://a/ https://b/\n".to_vec()),
                2 => proptest::strategy::Just(b"a = b\r\n".to_vec()),
                2 => proptest::strategy::Just(b"# comment # more\n".to_vec()),
                1 => proptest::strategy::Just(b"\xef\xbb\xbfcores = 2\n".to_vec()),
                1 => proptest::strategy::Just(b"include x.conf\n".to_vec()),
                1 => proptest::strategy::Just(b"sandbox\x0c= true\n".to_vec()),
                3 => proptest::collection::vec(proptest::prop_oneof![
                    proptest::strategy::Just(b' '), proptest::strategy::Just(b'\t'),
                    proptest::strategy::Just(b'\r'), proptest::strategy::Just(b'='),
                    proptest::strategy::Just(b'#'), proptest::strategy::Just(b'x'),
                ], 0..8),
                2 => (1..150usize, proptest::prop_oneof![
                    proptest::strategy::Just(b'a'), proptest::strategy::Just(b' '),
                    proptest::strategy::Just(b'#'), proptest::strategy::Just(b'\t'),
                ]).prop_map(|(n, b)| vec![b; n]),
                1 => proptest::strategy::Just(b"\n".to_vec()),
            ], 0..400)
        ) {
            scan_agrees(&pieces.concat())?;
        }
    }

    /// Every offset of a line relative to the 64-byte blocks and the
    /// chunk ends, with every shape the window handles and some it does
    /// not (values ending exactly at a block edge, lines of 63 to 65
    /// bytes).
    #[test]
    fn scan_agrees_at_every_offset() {
        let lines: &[&[u8]] = &[
            b"a = b",
            b"keep-outputs = true # keep build-time dependencies for direnv",
            b"trusted-users  =  root\t@wheel   alice # irregular spacing",
            b"x = 0123456789012345678901234567890123456789012345678901234",
            b"x = 01234567890123456789012345678901234567890123456789012345",
            b"x = 012345678901234567890123456789012345678901234567890123456",
            b"# a comment of exactly sixty-four bytes, give or take some more!",
            b"   ",
            b"",
            b"=",
            b"a =",
            b"trusted-public-keys = cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY= nix-community.cachix.org-1:mB9FSh9qf2dCimDSUo8Zy7bkq5CX+/rkCWyvRCYg3Fs=",
            b"substituters = https://cache.nixos.org/ https://nix-community.cachix.org # and a comment",
            b"x = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  b c\td e   ",
            b"x = a                                                                b",
            b"x = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b",
            b"include aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            b"                                                                    x = y",
        ];
        for line in lines {
            for pad in 0..130 {
                let mut text = vec![b'\n'; pad];
                while text.len() < 4200 {
                    text.extend_from_slice(line);
                    text.push(b'\n');
                }
                scan_agrees(&text).unwrap();
                text.pop();
                scan_agrees(&text).unwrap();
            }
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
