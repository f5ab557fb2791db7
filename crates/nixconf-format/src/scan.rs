//! The hot path's one-pass scanner: the lines of a text with their shapes,
//! classified with SIMD bitmaps (see [`scan`]). It gives what
//! `lex::lines` followed by `lex::shape` gives (property tests check
//! that), without reading a line twice.

use memchr::memchr;
use wide::u8x16;

use crate::lex::{lines, shape, RawLine, Shape};

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
pub(crate) fn scan(text: &[u8]) -> Scan<'_> {
    Scan {
        text,
        pos: 0,
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

/// Iterator behind [`scan`].
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

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::strategy::Strategy;

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
}
