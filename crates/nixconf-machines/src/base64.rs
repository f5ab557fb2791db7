//! The host-key column: Nix's character check, and a real decode for the
//! lint that asks whether the key is an SSH public key.

/// Nix ≥ 2.4 (`base64Decode`): every character before the first `=` must
/// be in the base64 alphabet. Returns the first offending character.
pub(crate) fn first_bad_char(s: &str) -> Option<char> {
    let i = s.bytes().position(|b| !BASE64_ALPHABET[b as usize])?;
    if s.as_bytes()[i] == b'=' {
        return None;
    }
    // Every byte before `i` is ASCII, so `i` starts a character.
    s.get(i..).and_then(|rest| rest.chars().next())
}

/// The base64 alphabet (`=` is not in it, so the search stops there).
const BASE64_ALPHABET: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
        c += 1;
    }
    t
};

/// A strict standard base64 decode (padding optional), or `None`.
pub(crate) fn decode(s: &str) -> Option<Vec<u8>> {
    let body = s.trim_end_matches('=');
    if s.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in body.bytes() {
        let d = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(d);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_corpus_key() {
        let d = decode("c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUJ0").unwrap();
        assert_eq!(d, b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBt");
        assert_eq!(decode("Zm9v").unwrap(), b"foo");
        assert_eq!(decode("Zm8=").unwrap(), b"fo");
        assert_eq!(decode("Zg==").unwrap(), b"f");
        assert_eq!(decode("Z"), None);
        assert_eq!(decode("Zm9v_"), None);
    }

    #[test]
    fn nix_checks_only_before_the_first_equals() {
        assert_eq!(first_bad_char("Zm9="), None);
        assert_eq!(first_bad_char("Zm=9_"), None);
        assert_eq!(first_bad_char("ab_c"), Some('_'));
    }
}
