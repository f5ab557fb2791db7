//! What changes between Nix generations, decided once per version.

use nixconf_format::NixVersion;

/// How the host-key column's base64 error reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base64Style {
    /// Before 2.4: no check at all.
    Unchecked,
    /// 2.4–2.24.6: wrapped in `bad machine specification: … is not valid
    /// base64 string: error: invalid character in Base64 string: ''`.
    Wrapped,
    /// 2.24.7: the same with ` in '<key>'` after the inner message.
    WrappedWithKey,
    /// ≥ 2.24.8: the inner error itself, with a `while parsing` trace.
    Traced,
}

/// The behaviour of one Nix version.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    /// Nix 1.x: `build-remote.pl`'s Perl reader.
    pub perl: bool,
    /// Nix 2.0–2.3: `std::stoull`, the old store-URI rule, no checks.
    pub early: bool,
    /// 2.24.15, ≥ 2.28.2: split lines first, `#` ends the line, trim entries.
    pub per_line: bool,
    /// ≥ 2.20: the speed factor is a float; systems are a set.
    pub float_speed: bool,
    /// ≥ 2.23: the store URI is parsed as a `StoreReference`.
    pub store_reference: bool,
    pub base64: Base64Style,
}

impl Rules {
    pub fn for_version(v: &NixVersion) -> Rules {
        let perl = !v.is_at_least("2.0pre");
        let modern = v.is_at_least("2.4pre");
        let (_, minor, patch) = v.triple();
        let per_line = v.is_at_least("2.28.2") || (minor == 24 && patch >= 15 && v.triple().0 == 2);
        let base64 = if !modern {
            Base64Style::Unchecked
        } else if v.is_at_least("2.24.8") {
            Base64Style::Traced
        } else if v.is_at_least("2.24.7") {
            Base64Style::WrappedWithKey
        } else {
            Base64Style::Wrapped
        };
        Rules {
            perl,
            early: !perl && !modern,
            per_line,
            float_speed: v.is_at_least("2.20pre"),
            store_reference: v.is_at_least("2.23pre"),
            base64,
        }
    }

    /// The placeholder for an empty column: `-` from Nix 2.0, an empty
    /// field (two separators in a row) for `build-remote.pl`.
    pub fn placeholder(&self) -> &'static str {
        if self.perl {
            ""
        } else {
            "-"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Rules {
        Rules::for_version(&s.parse().unwrap())
    }

    #[test]
    fn splitting_fix_versions() {
        for old in ["2.0", "2.8.0", "2.24.14", "2.25.0", "2.27.1", "2.28.1"] {
            assert!(!r(old).per_line, "{old}");
        }
        for new in ["2.24.15", "2.28.2", "2.29.0", "2.35.2", "3.0"] {
            assert!(r(new).per_line, "{new}");
        }
    }

    #[test]
    fn generations() {
        assert!(r("1.11.16").perl);
        assert!(r("2.3.16").early && !r("2.3.16").perl);
        assert!(!r("2.4").early);
        assert!(!r("2.19.7").float_speed && r("2.20.0").float_speed);
        assert_eq!(r("2.24.6").base64, Base64Style::Wrapped);
        assert_eq!(r("2.24.7").base64, Base64Style::WrappedWithKey);
        assert_eq!(r("2.24.8").base64, Base64Style::Traced);
        assert_eq!(r("2.3").base64, Base64Style::Unchecked);
    }
}
