//! Parsing a setting's value by its type, with Nix's error texts, and
//! printing the result the way `nix show-config` does.

use std::collections::BTreeMap;

use crate::lex::tokens;
use crate::schema::{Def, IntKind, Ty};
use crate::xp;

/// A parsed value, kept as close to the input as possible: most values
/// are a span of a loaded file, so applying a setting allocates nothing.
#[derive(Clone, Debug)]
pub(crate) enum Val {
    /// `files[file][start..end]`.
    Span { file: u32, start: u32, end: u32 },
    /// A value Nix normalised (whitespace joined, path canonicalised).
    Owned(Box<[u8]>),
    /// A number or a boolean (0/1).
    Num(i128),
    /// A default from the schema.
    Static(&'static str),
    /// An optional setting set to `""`.
    Unset,
}

impl Val {
    pub(crate) fn bytes<'a>(&'a self, files: &'a [std::rc::Rc<Vec<u8>>]) -> &'a [u8] {
        match self {
            Val::Span { file, start, end } => files
                .get(*file as usize)
                .and_then(|f| f.get(*start as usize..*end as usize))
                .unwrap_or_default(),
            Val::Owned(b) => b,
            Val::Static(s) => s.as_bytes(),
            Val::Num(_) | Val::Unset => b"",
        }
    }
}

/// What parsing a value produced.
pub(crate) enum Parsed {
    /// Store the raw value (the caller knows its span).
    Raw,
    /// Store this instead.
    Val(Val),
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parse `v` as setting `def` of type `ty` in 2.`minor`; `warn` receives
/// the warnings Nix prints while parsing.
pub(crate) fn parse(
    def: &Def,
    ty: Ty,
    v: &[u8],
    minor: u8,
    warn: &mut dyn FnMut(String),
) -> Result<Parsed, String> {
    let name = def.name;
    let invalid_int = || format!("setting '{name}' has invalid value '{}'", lossy(v));
    match ty {
        Ty::Bool | Ty::DeprecatedWarn => {
            let b = match v {
                b"true" | b"yes" | b"1" => true,
                b"false" | b"no" | b"0" => false,
                _ => {
                    return Err(format!(
                        "Boolean setting '{name}' has invalid value '{}'",
                        lossy(v)
                    ))
                }
            };
            if ty == Ty::DeprecatedWarn {
                warn(format!(
                    "'{name}' is deprecated, use 'lint-short-path-literals = warn' instead"
                ));
            }
            Ok(Parsed::Val(Val::Num(i128::from(b))))
        }
        Ty::Int(kind) => parse_int(v, kind, minor, minor >= 23)
            .map(|n| Parsed::Val(Val::Num(n)))
            .ok_or_else(invalid_int),
        Ty::MaxJobs => {
            if v == b"auto" {
                // The answer does not change while nixconf runs.
                static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
                let n = *CPUS.get_or_init(online_cpus);
                return Ok(Parsed::Val(Val::Num(n.max(1) as i128)));
            }
            parse_int(v, IntKind::U32, minor, false)
                .map(|n| Parsed::Val(Val::Num(n)))
                .ok_or_else(|| {
                    format!("configuration setting '{name}' should be 'auto' or an integer")
                })
        }
        Ty::Sandbox => match v {
            b"true" | b"false" | b"relaxed" => Ok(Parsed::Raw),
            _ => Err(format!("option '{name}' has invalid value '{}'", lossy(v))),
        },
        Ty::EvalProfiler => match v {
            b"disabled" | b"flamegraph" => Ok(Parsed::Raw),
            _ => Err(format!("option '{name}' has invalid value '{}'", lossy(v))),
        },
        Ty::Diagnose => match v {
            b"ignore" | b"warn" | b"fatal" => Ok(Parsed::Raw),
            _ => Err(format!(
                "option '{name}' has invalid value '{}' (expected 'ignore', 'warn', or 'fatal')",
                lossy(v)
            )),
        },
        Ty::ExternalBuilders => match serde_json::from_slice::<serde_json::Value>(v) {
            Ok(_) => Ok(Parsed::Raw),
            Err(e) => Err(format!("parsing setting '{name}': {e}")),
        },
        Ty::CanonPath | Ty::OptionalCanonPath => {
            if v.is_empty() {
                return Ok(Parsed::Val(if ty == Ty::CanonPath {
                    Val::Owned(Box::default())
                } else {
                    Val::Unset
                }));
            }
            if v[0] != b'/' {
                return Err(format!("not an absolute path: '{}'", lossy(v)));
            }
            Ok(Parsed::Val(Val::Owned(canon_path(v).into())))
        }
        Ty::AbsolutePath | Ty::OptionalAbsolutePath => {
            if v.is_empty() {
                if ty == Ty::OptionalAbsolutePath {
                    return Ok(Parsed::Val(Val::Unset));
                }
                return Err(format!(
                    "setting '{name}' is a path and paths cannot be empty"
                ));
            }
            if v[0] != b'/' {
                return Err(format!("not an absolute path: \"{}\"", lossy(v)));
            }
            Ok(Parsed::Val(Val::Owned(canon_path(v).into())))
        }
        Ty::NonEmptyPath => {
            if v.is_empty() {
                return Err(format!(
                    "setting '{name}' is a path and paths cannot be empty"
                ));
            }
            Ok(Parsed::Raw)
        }
        Ty::OptionalStr => Ok(if v.is_empty() {
            Parsed::Val(Val::Unset)
        } else {
            Parsed::Raw
        }),
        Ty::XpFeatures => {
            // Nix tokenizes into a sorted set and warns in that order; the
            // common all-known case needs no allocation.
            if tokens(v).all(|f| xp::is_known(f, minor)) {
                return Ok(Parsed::Raw);
            }
            let mut set: Vec<&[u8]> = tokens(v).collect();
            set.sort_unstable();
            set.dedup();
            for f in set {
                if xp::is_known(f, minor) {
                    continue;
                }
                if f == b"no-url-literals" && minor >= 34 {
                    warn(format!("experimental feature '{}' has been stabilized and renamed; use 'lint-url-literals = fatal' setting instead", lossy(f)));
                } else {
                    warn(format!("unknown experimental feature '{}'", lossy(f)));
                }
            }
            Ok(Parsed::Raw)
        }
        Ty::Str
        | Ty::Strings
        | Ty::StringSet
        | Ty::StringMap
        | Ty::PathSet
        | Ty::PluginFiles
        | Ty::PathsInChroot
        | Ty::StoreRef
        | Ty::StoreRefList
        | Ty::StoreRefSet => Ok(Parsed::Raw),
    }
}

/// The common case of [`parse_int`], the same in every version: up to 18
/// ASCII digits, nothing else (no sign, no unit, no whitespace). `None`
/// when `s` is not such a value or is out of range; [`parse_int`] then
/// decides.
#[inline]
pub(crate) fn parse_plain_digits(s: &[u8], kind: IntKind) -> Option<i128> {
    parse_plain_digits_at(s, 0, s.len(), kind)
}

/// [`parse_plain_digits`] of `text[start..end]`; the bytes before `start`
/// let it load whole words without copying.
#[inline(always)]
pub(crate) fn parse_plain_digits_at(
    text: &[u8],
    start: usize,
    end: usize,
    kind: IntKind,
) -> Option<i128> {
    // Eight digits at a time, with no loop over the bytes (the number of
    // digits varies from line to line; a loop's exit would mispredict).
    let len = end.checked_sub(start)?;
    let n = match len {
        1..=8 => digits8(text, end, len)?,
        9..=16 => digits8(text, end - 8, len - 8)? * 100_000_000 + digits8(text, end, 8)?,
        17..=18 => {
            let hi = digits8(text, end - 16, len - 16)? * 100_000_000;
            (hi + digits8(text, end - 8, 8)?) * 100_000_000 + digits8(text, end, 8)?
        }
        _ => return None,
    };
    let max = match kind {
        IntKind::U32 => u64::from(u32::MAX),
        IntKind::U64 => u64::MAX,
        IntKind::I64 => i64::MAX as u64,
    };
    (n <= max).then_some(i128::from(n))
}

/// The value of the `len` (1 to 8) ASCII digits ending at `end`; `None`
/// if any of those bytes is not one.
#[inline(always)]
fn digits8(text: &[u8], end: usize, len: usize) -> Option<u64> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    // The word ending at `end`, little-endian: the digits are its high
    // `len` bytes, the first (most significant) digit lowest.
    let word = match end.checked_sub(8).and_then(|at| text.get(at..end)) {
        Some(w) => u64::from_le_bytes(w.try_into().unwrap_or([0; 8])),
        None => {
            let mut bytes = [b'0'; 8];
            let digits = text.get(end.checked_sub(len)?..end)?;
            bytes[8 - len..].copy_from_slice(digits);
            u64::from_le_bytes(bytes)
        }
    };
    // The bytes before the digits become leading zeros.
    let before = !(u64::MAX << (8 * (8 - len)));
    let w = (word & !before) | ((LOW * u64::from(b'0')) & before);
    // Every byte in 0x30..=0x39: high nibble 3, and adding 6 does not
    // leave it (no byte can carry once the first test holds).
    if w & (LOW * 0xF0) != LOW * 0x30 || w.wrapping_add(LOW * 0x06) & (LOW * 0xF0) != LOW * 0x30 {
        return None;
    }
    let d = w - LOW * 0x30;
    // Pairs, then quads, then all eight: each step multiplies the more
    // significant (lower) half and adds the other.
    let d = (d * 10 + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    let d = (d * 100 + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
    let d = (d * 10_000 + (d >> 32)) & 0xFFFF_FFFF;
    Some(d)
}
/// Nix's integer parsing for one setting, by version:
/// - ≤2.5: `istringstream >>` (leading `\v`/`\f` skipped, a sign allowed,
///   the whole string consumed);
/// - 2.6+: `boost::lexical_cast` (an optional sign, then digits only);
/// - both refuse a leading `-` for unsigned types and out-of-range values;
/// - 2.23+ (`units`): an optional last letter `K`/`M`/`G`/`T` (any case)
///   multiplies by 2^10/20/30/40, without overflow checks.
pub(crate) fn parse_int(s: &[u8], kind: IntKind, minor: u8, units: bool) -> Option<i128> {
    let (min, max): (i128, i128) = match kind {
        IntKind::U32 => (0, i128::from(u32::MAX)),
        IntKind::U64 => (0, i128::from(u64::MAX)),
        IntKind::I64 => (i128::from(i64::MIN), i128::from(i64::MAX)),
    };
    let mut digits = s;
    let mut multiplier: u64 = 1;
    if units {
        if let Some(&last) = s.last() {
            if last.is_ascii_alphabetic() {
                multiplier = match last.to_ascii_uppercase() {
                    b'K' => 1 << 10,
                    b'M' => 1 << 20,
                    b'G' => 1 << 30,
                    b'T' => 1 << 40,
                    _ => return None,
                };
                digits = &s[..s.len() - 1];
            }
        }
    }
    if min == 0 && digits.first() == Some(&b'-') {
        return None;
    }
    if minor <= 5 {
        while let Some((&b, rest)) = digits.split_first() {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
                digits = rest;
            } else {
                break;
            }
        }
    }
    let (negative, body) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, digits),
    };
    if body.is_empty() || !body.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut magnitude: u64 = 0;
    for &d in body {
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(d - b'0'))?;
    }
    let n = if negative {
        -i128::from(magnitude)
    } else {
        i128::from(magnitude)
    };
    if n < min || n > max {
        return None;
    }
    if multiplier == 1 {
        return Some(n);
    }
    // `*n * multiplier` is computed in 64 bits and converted back to the
    // setting's type, wrapping.
    let product = (n as u64).wrapping_mul(multiplier);
    Some(match kind {
        IntKind::U32 => i128::from(product as u32),
        IntKind::U64 => i128::from(product),
        IntKind::I64 => i128::from(product as i64),
    })
}

/// Nix's `canonPath` without symlink resolution: drop `.` and empty
/// components, apply `..` lexically, no trailing slash; `/` stays `/`.
pub(crate) fn canon_path(p: &[u8]) -> Vec<u8> {
    if is_canon_path(p) {
        return p.to_vec();
    }
    canon_path_by_parts(p)
}

/// [`canon_path`] the long way, for any path.
fn canon_path_by_parts(p: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in p.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return b"/".to_vec();
    }
    let mut out = Vec::with_capacity(p.len());
    for c in parts {
        out.push(b'/');
        out.extend_from_slice(c);
    }
    out
}

/// Whether [`canon_path`] gives `p` back as it is: absolute, and no
/// empty, `.` or `..` component (so no `//` and no trailing `/`), or `/`.
pub(crate) fn is_canon_path(p: &[u8]) -> bool {
    match p.strip_prefix(b"/") {
        Some(b"") => true,
        Some(rest) => rest
            .split(|&b| b == b'/')
            .all(|c| !matches!(c, b"" | b"." | b"..")),
        None => false,
    }
}

/// The value `nix show-config` prints for a setting whose assignments
/// since the last plain `=` are `vals` (oldest first).
pub(crate) fn print(
    ty: Ty,
    first: &Val,
    more: &[Val],
    files: &[std::rc::Rc<Vec<u8>>],
    minor: u8,
) -> String {
    let last = Some(more.last().unwrap_or(first));
    let vals = || std::iter::once(first).chain(more);
    let all_tokens = || vals().flat_map(|v| tokens(v.bytes(files)));
    let out: Vec<u8> = match ty {
        Ty::Bool | Ty::DeprecatedWarn => match last {
            Some(Val::Num(0)) => b"false".to_vec(),
            _ => b"true".to_vec(),
        },
        Ty::Int(_) | Ty::MaxJobs => match last {
            Some(Val::Num(n)) => n.to_string().into_bytes(),
            _ => Vec::new(),
        },
        Ty::Strings | Ty::PluginFiles | Ty::StoreRefList => {
            all_tokens().collect::<Vec<_>>().join(&b' ')
        }
        Ty::XpFeatures => {
            let mut set: Vec<&[u8]> = Vec::new();
            for f in all_tokens().filter(|f| xp::is_known(f, minor)) {
                set.push(f);
                if let Some(implied) = xp::implied_by(f, minor) {
                    set.push(implied.as_bytes());
                }
            }
            set.sort_unstable();
            set.dedup();
            set.join(&b' ')
        }
        Ty::StringSet | Ty::PathSet | Ty::StoreRefSet => {
            let mut set: Vec<&[u8]> = all_tokens().collect();
            set.sort_unstable();
            set.dedup();
            set.join(&b' ')
        }
        Ty::StringMap => {
            let mut map: BTreeMap<&[u8], &[u8]> = BTreeMap::new();
            for tok in all_tokens() {
                if let Some(eq) = tok.iter().position(|&b| b == b'=') {
                    map.entry(&tok[..eq]).or_insert(&tok[eq + 1..]);
                }
            }
            let pairs: Vec<Vec<u8>> = map.iter().map(|(k, v)| [*k, b"=", *v].concat()).collect();
            let joined = pairs.join(&b' ');
            // From 2.19 the map is folded with `l + " " + r` from "",
            // which leaves a leading space.
            if minor >= 19 && !joined.is_empty() {
                [b" ".as_slice(), &joined].concat()
            } else {
                joined
            }
        }
        Ty::PathsInChroot => {
            let mut map: BTreeMap<Vec<u8>, (Vec<u8>, bool)> = BTreeMap::new();
            for v in vals() {
                let mut one: BTreeMap<Vec<u8>, (Vec<u8>, bool)> = BTreeMap::new();
                let mut toks: Vec<&[u8]> = tokens(v.bytes(files)).collect();
                toks.sort_unstable();
                toks.dedup();
                for tok in toks {
                    let (tok, optional) = match tok.strip_suffix(b"?") {
                        Some(t) => (t, true),
                        None => (tok, false),
                    };
                    let (inside, outside) = match tok.iter().position(|&b| b == b'=') {
                        Some(eq) => (&tok[..eq], &tok[eq + 1..]),
                        None => (tok, tok),
                    };
                    one.insert(inside.to_vec(), (outside.to_vec(), optional));
                }
                for (k, v) in one {
                    map.entry(k).or_insert(v);
                }
            }
            let items: Vec<Vec<u8>> = map
                .into_iter()
                .map(|(inside, (outside, optional))| {
                    let mut s = inside.clone();
                    if inside != outside {
                        s.push(b'=');
                        s.extend_from_slice(&outside);
                    }
                    if optional {
                        s.push(b'?');
                    }
                    s
                })
                .collect();
            items.join(&b' ')
        }
        Ty::Str
        | Ty::CanonPath
        | Ty::OptionalCanonPath
        | Ty::OptionalStr
        | Ty::AbsolutePath
        | Ty::OptionalAbsolutePath
        | Ty::NonEmptyPath
        | Ty::Sandbox
        | Ty::EvalProfiler
        | Ty::Diagnose
        | Ty::ExternalBuilders
        | Ty::StoreRef => last.map(|v| v.bytes(files).to_vec()).unwrap_or_default(),
    };
    String::from_utf8(out).unwrap_or_else(|e| lossy(e.as_bytes()))
}

/// The number of online CPUs, as Nix's `max-jobs = auto` counts them:
/// `std::thread::hardware_concurrency()`, which glibc answers from
/// `/sys/devices/system/cpu/online` (then `/proc/stat`). Unlike
/// `available_parallelism`, a CPU-affinity mask (`taskset`) or a cgroup
/// quota does not lower it.
pub fn online_cpus() -> usize {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|list| count_cpu_list(&list))
        .or_else(|| {
            let stat = std::fs::read_to_string("/proc/stat").ok()?;
            let n = stat
                .lines()
                .filter(|l| {
                    l.strip_prefix("cpu")
                        .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                })
                .count();
            (n > 0).then_some(n)
        })
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Count the CPUs of a kernel CPU list such as `0-3,8,10-11`; `None` when
/// it is not one.
fn count_cpu_list(list: &str) -> Option<usize> {
    let mut n = 0usize;
    for part in list.trim().split(',') {
        let (lo, hi) = match part.split_once('-') {
            Some((lo, hi)) => (lo.parse::<usize>().ok()?, hi.parse::<usize>().ok()?),
            None => {
                let one = part.parse::<usize>().ok()?;
                (one, one)
            }
        };
        n += hi.checked_sub(lo)? + 1;
    }
    (n > 0).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    #[test]
    fn cpu_lists_count_as_the_kernel_writes_them() {
        assert_eq!(count_cpu_list("0\n"), Some(1));
        assert_eq!(count_cpu_list("0-1\n"), Some(2));
        assert_eq!(count_cpu_list("0-3,8,10-11\n"), Some(7));
        assert_eq!(count_cpu_list(""), None);
        assert_eq!(count_cpu_list("3-1"), None);
        assert_eq!(count_cpu_list("x"), None);
    }

    /// [`parse_plain_digits`] one byte at a time.
    fn plain_digits_by_byte(s: &[u8], kind: IntKind) -> Option<i128> {
        if s.is_empty() || s.len() > 18 || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = s.iter().fold(0u64, |n, &b| n * 10 + u64::from(b - b'0'));
        let max = match kind {
            IntKind::U32 => u64::from(u32::MAX),
            IntKind::U64 => u64::MAX,
            IntKind::I64 => i64::MAX as u64,
        };
        (n <= max).then_some(i128::from(n))
    }

    proptest::proptest! {
        #[test]
        fn plain_digits_agree_with_bytewise(
            s in proptest::prop_oneof![
                "[0-9]{0,20}",
                "[0-9/:+ -]{0,20}",
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20)
                    .prop_map(|v| String::from_utf8_lossy(&v).into_owned()),
            ]
        ) {
            for kind in [IntKind::U32, IntKind::U64, IntKind::I64] {
                proptest::prop_assert_eq!(
                    parse_plain_digits(s.as_bytes(), kind),
                    plain_digits_by_byte(s.as_bytes(), kind),
                    "{:?}", s
                );
            }
        }
    }

    proptest::proptest! {
        /// The shortcut for paths that are already canonical changes
        /// nothing.
        #[test]
        fn canon_path_shortcut_agrees(p in "[/a.]{0,12}") {
            proptest::prop_assert_eq!(canon_path(p.as_bytes()), canon_path_by_parts(p.as_bytes()));
        }
    }

    #[test]
    fn plain_digits_at_the_edges() {
        for (s, kind, n) in [
            ("0", IntKind::U32, Some(0)),
            ("00000000", IntKind::U32, Some(0)),
            ("99999999", IntKind::U32, Some(99_999_999)),
            ("4294967295", IntKind::U32, Some(4_294_967_295)),
            ("4294967296", IntKind::U32, None),
            (
                "123456789012345678",
                IntKind::U64,
                Some(123_456_789_012_345_678),
            ),
            (
                "999999999999999999",
                IntKind::I64,
                Some(999_999_999_999_999_999),
            ),
            ("1234567890123456789", IntKind::U64, None),
            ("12345678:", IntKind::U64, None),
            ("/1", IntKind::U64, None),
        ] {
            assert_eq!(parse_plain_digits(s.as_bytes(), kind), n, "{s}");
        }
    }

    #[test]
    fn integers_by_version() {
        let u32_ = |s: &str, minor| parse_int(s.as_bytes(), IntKind::U32, minor, minor >= 23);
        assert_eq!(u32_("+3", 8), Some(3));
        assert_eq!(u32_("010", 8), Some(10));
        for bad in [
            "0x10",
            "1.5",
            "-1",
            "1K",
            "",
            "99999999999999999999",
            " 1",
            "1 2",
        ] {
            assert_eq!(u32_(bad, 8), None, "{bad:?}");
        }
        assert_eq!(u32_("4294967295", 8), Some(4294967295));
        assert_eq!(u32_("4294967296", 8), None);
        assert_eq!(u32_("1K", 23), Some(1024));
        assert_eq!(u32_("2g", 23), Some(2 << 30));
        assert_eq!(u32_("4G", 23), Some(0), "wraps in 32 bits");
        assert_eq!(u32_("1x", 23), None);
        assert_eq!(u32_("K", 23), None);
        // istringstream skips a leading form feed; lexical_cast does not.
        assert_eq!(u32_("\x0c7", 5), Some(7));
        assert_eq!(u32_("\x0c7", 6), None);
        // The quick path agrees wherever it answers.
        for s in [
            "0",
            "007",
            "4294967295",
            "4294967296",
            "999999999999999999",
            "+1",
            "1K",
            "",
        ] {
            for kind in [IntKind::U32, IntKind::U64, IntKind::I64] {
                if let Some(n) = parse_plain_digits(s.as_bytes(), kind) {
                    for minor in [2, 8, 23, 35] {
                        assert_eq!(
                            parse_int(s.as_bytes(), kind, minor, minor >= 23),
                            Some(n),
                            "{s}"
                        );
                    }
                }
            }
        }
        assert_eq!(parse_plain_digits(b"4294967296", IntKind::U32), None);
        assert_eq!(parse_plain_digits(b"+1", IntKind::U32), None);
        let i64_ = |s: &str| parse_int(s.as_bytes(), IntKind::I64, 8, false);
        assert_eq!(i64_("-5"), Some(-5));
        assert_eq!(i64_("9223372036854775808"), None);
    }

    #[test]
    fn canonicalises_paths() {
        assert_eq!(canon_path(b"/a/../b//c/"), b"/b/c");
        assert_eq!(canon_path(b"/.."), b"/");
        assert_eq!(canon_path(b"/./x/."), b"/x");
    }
}
