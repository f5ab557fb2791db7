//! Column 0: the store URI, normalised as each Nix generation does, and
//! (from 2.23) checked the way `StoreReference::parse` checks it.

use nixconf_format::NixVersion;

/// The store URI Nix connects to for what column 0 says.
///
/// Nix 2.0–2.3 keep the text when it contains `://` or starts with
/// `local`, `remote`, `auto` or `/`; later versions when it contains `://`
/// or `/`, is exactly `auto`, `daemon` or `local`, or starts with
/// `auto?`, `daemon?`, `local?` or `?`. Everything else gets `ssh://`.
pub(crate) fn normalise(uri: &str, version: &NixVersion) -> String {
    if gets_ssh_prefix(uri, version.is_at_least("2.4pre")) {
        format!("ssh://{uri}")
    } else {
        uri.to_owned()
    }
}

/// Whether Nix prefixes `uri` with `ssh://` (`modern`: Nix ≥ 2.4).
pub(crate) fn gets_ssh_prefix(uri: &str, modern: bool) -> bool {
    let keep = if modern {
        uri.contains("://")
            || uri.contains('/')
            || matches!(uri, "auto" | "daemon" | "local")
            || ["auto?", "daemon?", "local?", "?"]
                .iter()
                .any(|p| uri.starts_with(p))
    } else {
        uri.contains("://")
            || ["local", "remote", "auto", "/"]
                .iter()
                .any(|p| uri.starts_with(p))
    };
    !keep
}

/// [`is_store_reference`] of column 0 after normalisation for Nix ≥ 2.23,
/// without building the normalised string.
pub(crate) fn is_column0_store_reference(uri: &str) -> bool {
    if let Some(ok) = plain_column0_verdict(uri) {
        return ok;
    }
    if gets_ssh_prefix(uri, true) {
        // "ssh:" then "//" + uri: a URL exactly when `uri` is a valid
        // authority-and-path (or path) with its query and fragment.
        is_url_rest(uri, true)
    } else {
        is_store_reference(uri)
    }
}

/// The verdict for the usual column 0, made of URL path characters only
/// (no `%`, `?`, `#` or brackets), in one pass; `None` for the rest.
fn plain_column0_verdict(uri: &str) -> Option<bool> {
    let bytes = uri.as_bytes();
    // One table lookup per byte, no branch: path characters and '/'.
    let plain = bytes
        .iter()
        .fold(true, |ok, &c| ok & (CLASSES[c as usize] != 0 || c == b'/'));
    if !plain {
        return None;
    }
    // Without a colon it is a host (prefixed with ssh://), a path or a
    // special word: all accepted.
    let Some(colon) = memchr::memchr(b':', bytes) else {
        return Some(true);
    };
    let slash = memchr::memchr(b'/', bytes).is_some();
    // A colon without `/` is a host with a port: prefixed, accepted.
    if !slash {
        return Some(true);
    }
    let scheme_sep = memchr::memmem::find(bytes, b"://").is_some();
    if is_scheme(&uri[..colon]) {
        return Some(true);
    }
    // Not a URL: a path is still a local store, `x://` is nothing.
    Some(!scheme_sep)
}

fn is_scheme(scheme: &str) -> bool {
    let mut sb = scheme.bytes();
    sb.next().is_some_and(|b| b.is_ascii_lowercase())
        && sb.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+.-".contains(&b))
}

/// Whether Nix ≥ 2.23 accepts a normalised store URI: a URL of the grammar
/// of `parseURL`, or one of the special words or a path.
pub(crate) fn is_store_reference(uri: &str) -> bool {
    if is_url(uri) {
        return true;
    }
    let base = uri.split_once('?').map_or(uri, |(b, _)| b);
    matches!(base, "" | "auto" | "daemon" | "local")
        || (!base.contains("://") && base.contains('/'))
}

/// `scheme ":" ( "//" authority abs-path | "/"? path ) ( "?" query )? ( "#" fragment )?`
/// with the character classes of Nix's `url-parts.hh`.
fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    is_scheme(scheme) && is_url_rest(rest, false)
}

/// What follows `scheme:`; with `slashes`, a `//` that is not in `rest`.
fn is_url_rest(rest: &str, slashes: bool) -> bool {
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (rest, None),
    };
    if let Some(f) = fragment {
        if !all_chars(f, |c| is_pchar(c) || b"/? \"^".contains(&c)) {
            return false;
        }
    }
    let (hier, query) = match before_fragment.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (before_fragment, None),
    };
    if let Some(q) = query {
        if !all_chars(q, |c| is_pchar(c) || b"/? \"".contains(&c)) {
            return false;
        }
    }
    // The path alternative accepts every character the authority form
    // does except brackets, so try it first and fall back to an authority
    // (which is where IPv6 literals live).
    if all_chars(hier, |c| is_pchar(c) || c == b'/') {
        return true;
    }
    if slashes {
        is_authority_and_path(hier)
    } else {
        hier.strip_prefix("//").is_some_and(is_authority_and_path)
    }
}

fn is_authority_and_path(rest: &str) -> bool {
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    if !all_chars(path, |c| is_pchar(c) || c == b'/') {
        return false;
    }
    let host_port = match authority.rfind('@') {
        Some(i) => {
            if !all_chars(&authority[..i], |c| {
                is_unreserved(c) || is_subdelim(c) || c == b':'
            }) {
                return false;
            }
            &authority[i + 1..]
        }
        None => authority,
    };
    let (host, port) = match host_port.strip_prefix('[') {
        Some(inner) => match inner.split_once(']') {
            Some((addr, after)) => {
                let addr = addr.split_once('%').map_or(addr, |(a, _)| a);
                if addr.is_empty() || !addr.bytes().all(|c| c.is_ascii_hexdigit() || c == b':') {
                    return false;
                }
                ("", after)
            }
            None => return false,
        },
        None => match host_port.rfind(':') {
            Some(i) if host_port[i + 1..].bytes().all(|c| c.is_ascii_digit()) => {
                (&host_port[..i], &host_port[i..])
            }
            _ => (host_port, ""),
        },
    };
    all_chars(host, |c| is_unreserved(c) || is_subdelim(c))
        && (port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit())))
}

/// Every byte matches, with `%XX` escapes allowed anywhere.
fn all_chars(s: &str, ok: impl Fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            {
                i += 3;
                continue;
            }
            return false;
        }
        if !ok(b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// Character classes as bit masks in one table, built at compile time.
const UNRESERVED: u8 = 1;
const SUBDELIM: u8 = 2;
const PCHAR_EXTRA: u8 = 4;

const CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let subdelims = b"!$&'\"()*+,;=";
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_' || b == b'~' {
            t[c] |= UNRESERVED;
        }
        let mut k = 0;
        while k < subdelims.len() {
            if subdelims[k] == b {
                t[c] |= SUBDELIM;
            }
            k += 1;
        }
        if b == b':' || b == b'@' {
            t[c] |= PCHAR_EXTRA;
        }
        c += 1;
    }
    t
};

fn is_unreserved(c: u8) -> bool {
    CLASSES[c as usize] & UNRESERVED != 0
}

fn is_subdelim(c: u8) -> bool {
    CLASSES[c as usize] & SUBDELIM != 0
}

fn is_pchar(c: u8) -> bool {
    CLASSES[c as usize] != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> NixVersion {
        s.parse().unwrap()
    }

    #[test]
    fn schemeless_hosts_get_ssh() {
        assert_eq!(normalise("nix@host", &v("2.8.0")), "ssh://nix@host");
        assert_eq!(normalise("user@h:2222", &v("2.8.0")), "ssh://user@h:2222");
        assert_eq!(normalise("ssh-ng://h", &v("2.8.0")), "ssh-ng://h");
        assert_eq!(normalise("local?root=/x", &v("2.8.0")), "local?root=/x");
        assert_eq!(normalise("@/f", &v("2.8.0")), "@/f");
        assert_eq!(normalise("localhost", &v("2.8.0")), "ssh://localhost");
    }

    #[test]
    fn before_2_4_local_remote_auto_prefixes_are_kept() {
        let old = v("2.3.16");
        assert_eq!(normalise("localhost", &old), "localhost");
        assert_eq!(normalise("remote-builder", &old), "remote-builder");
        assert_eq!(normalise("automation1", &old), "automation1");
        assert_eq!(normalise("-", &old), "ssh://-");
        assert_eq!(normalise("daemon", &old), "ssh://daemon");
    }

    #[test]
    fn store_references() {
        for ok in [
            "ssh://nix@host",
            "ssh://[fe80::1]",
            "ssh-ng://nix@[fe80::1]:22/x",
            "ssh://user@h:2222",
            "local?root=/x",
            "auto",
            "daemon",
            "./store",
            "ssh://h?compress=true",
        ] {
            assert!(is_store_reference(ok), "{ok}");
        }
        for bad in [
            "ssh://a|b",
            "Ssh://host",
            "ssh://h<x>",
            "ssh://h%zz",
            "\u{feff}ssh://h",
            "ssh://[zz]",
        ] {
            assert!(!is_store_reference(bad), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_fast_verdict_agrees_with_the_grammar(uri in "[a-zA-Z0-9:/@.?#%\\[\\]|-]{0,16}") {
            let slow = if gets_ssh_prefix(&uri, true) {
                is_store_reference(&format!("ssh://{uri}"))
            } else {
                is_store_reference(&uri)
            };
            proptest::prop_assert_eq!(is_column0_store_reference(&uri), slow);
        }
    }
}
