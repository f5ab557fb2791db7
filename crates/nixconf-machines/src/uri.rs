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
    let keep = if version.is_at_least("2.4pre") {
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
    if keep {
        uri.to_owned()
    } else {
        format!("ssh://{uri}")
    }
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
    let mut sb = scheme.bytes();
    if !sb.next().is_some_and(|b| b.is_ascii_lowercase())
        || !sb.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+.-".contains(&b))
    {
        return false;
    }
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
    all_chars(hier, |c| is_pchar(c) || c == b'/') || is_authority_form(hier)
}

fn is_authority_form(hier: &str) -> bool {
    let Some(rest) = hier.strip_prefix("//") else {
        return false;
    };
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

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~".contains(&c)
}

fn is_subdelim(c: u8) -> bool {
    b"!$&'\"()*+,;=".contains(&c)
}

fn is_pchar(c: u8) -> bool {
    is_unreserved(c) || is_subdelim(c) || c == b':' || c == b'@'
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
}
