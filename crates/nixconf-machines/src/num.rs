//! Numbers as each Nix generation reads them from a machines column.
//!
//! Nix 1.x (`build-remote.pl`) applies Perl's `int()`; Nix 2.0–2.3 call
//! `std::stoull` and truncate to `unsigned int`; Nix 2.4 and later use
//! `string2Int<unsigned int>` (boost `lexical_cast`) and, from 2.20, the
//! speed factor is a `float` read with `lexical_cast<float>`.

/// `string2Int<unsigned int>` (Nix ≥ 2.4): an optional `+`, then decimal
/// digits only; a leading `-` and anything out of range are refused.
pub(crate) fn string2int_u32(s: &str) -> Option<u32> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `std::stoull` truncated to `unsigned int` (Nix 2.0–2.3): leading C
/// whitespace and a sign are accepted, trailing junk is ignored, a
/// negative value wraps. `None` where `stoull` throws (no digits, or out of
/// the range of `unsigned long long`).
pub(crate) fn stoull_u32(s: &str) -> Option<u32> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let len = t.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 {
        return None;
    }
    let value: u64 = t[..len].parse().ok()?;
    let value = if negative {
        value.wrapping_neg()
    } else {
        value
    };
    // The result is stored in an `unsigned int`: keep the low 32 bits.
    Some(value as u32)
}

/// Perl's `int()` of a string (Nix 1.x): the leading decimal number,
/// truncated toward zero; a string that does not start with one is 0.
/// Negative results are read as 0: `build-remote.pl` then never starts a
/// job on the machine, exactly as with 0.
pub(crate) fn perl_int_u32(s: &str) -> u32 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let b = t.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut end = i;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        end = i;
    }
    if end == int_start || (end == int_start + 1 && b.get(int_start) == Some(&b'.')) {
        return 0;
    }
    if matches!(b.get(end), Some(b'e' | b'E')) {
        let mut j = end + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_start = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j > exp_start {
            end = j;
        }
    }
    match t[..end].parse::<f64>() {
        Ok(v) if v >= 1.0 => {
            if v >= f64::from(u32::MAX) {
                u32::MAX
            } else {
                v.trunc() as u32
            }
        }
        _ => 0,
    }
}

/// `lexical_cast<float>` (Nix ≥ 2.20): an optional sign, then a decimal
/// number with an optional fraction and exponent, or `inf`, `infinity` or
/// `nan` in any case. A finite number too large for a float is refused.
pub(crate) fn lexical_cast_f32(s: &str) -> Option<f32> {
    // The usual case, a small whole number: converting the exact integer
    // rounds the same way as reading the decimal text.
    if !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u32>().ok().map(|n| n as f32);
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if ["inf", "infinity", "nan"]
        .iter()
        .any(|w| unsigned.eq_ignore_ascii_case(w))
    {
        return s.to_ascii_lowercase().parse().ok();
    }
    let b = unsigned.as_bytes();
    let mut i = 0;
    let mut digits = 0;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
        digits += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let v: f32 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string2int_is_strict() {
        assert_eq!(string2int_u32("+3"), Some(3));
        assert_eq!(string2int_u32("010"), Some(10));
        assert_eq!(string2int_u32("4294967295"), Some(u32::MAX));
        for bad in ["", "+", "-1", "-0", "1.5", "0x10", "8x", "4294967296"] {
            assert_eq!(string2int_u32(bad), None, "{bad}");
        }
    }

    #[test]
    fn stoull_accepts_junk_and_wraps() {
        assert_eq!(stoull_u32("8x"), Some(8));
        assert_eq!(stoull_u32("\x0b+7"), Some(7));
        assert_eq!(stoull_u32("-1"), Some(u32::MAX));
        assert_eq!(stoull_u32("4294967297"), Some(1));
        assert_eq!(stoull_u32("x8"), None);
        assert_eq!(stoull_u32("-"), None);
        assert_eq!(stoull_u32("99999999999999999999"), None);
    }

    #[test]
    fn perl_int_takes_the_leading_number() {
        assert_eq!(perl_int_u32("8x"), 8);
        assert_eq!(perl_int_u32(""), 0);
        assert_eq!(perl_int_u32("abc"), 0);
        assert_eq!(perl_int_u32("2.9"), 2);
        assert_eq!(perl_int_u32("1e3"), 1000);
        assert_eq!(perl_int_u32(".5"), 0);
        assert_eq!(perl_int_u32("-3"), 0);
    }

    #[test]
    fn lexical_cast_float_grammar() {
        assert_eq!(lexical_cast_f32("2.5"), Some(2.5));
        assert_eq!(lexical_cast_f32(".5"), Some(0.5));
        assert_eq!(lexical_cast_f32("5."), Some(5.0));
        assert_eq!(lexical_cast_f32("-1e2"), Some(-100.0));
        assert_eq!(lexical_cast_f32("INF"), Some(f32::INFINITY));
        assert!(lexical_cast_f32("nan").is_some_and(f32::is_nan));
        for bad in ["", ".", "e5", "1e", "1.5x", "0x1p3", "1e40", "--1"] {
            assert_eq!(lexical_cast_f32(bad), None, "{bad}");
        }
    }
}
