//! Nix version strings, compared the way Nix's `compareVersions` does.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A Nix version such as `2.24.9` or `2.3pre20190101`.
///
/// Ordering follows `builtins.compareVersions`: components are runs of
/// digits or runs of other characters, separated by `.` or `-`; numbers
/// compare numerically, `pre` sorts before everything else, a number sorts
/// after a word, and a missing component sorts before a number. So
/// `2.4pre < 2.4 < 2.4.1` and `2.3a < 2.3.1`.
#[derive(Clone, Debug, Eq)]
pub struct NixVersion {
    text: String,
    major: u32,
    minor: u32,
    patch: u32,
}

/// Why a version string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid Nix version '{0}': expected something like 2.24.9 or 2.3pre20190101")]
pub struct VersionError(pub String);

impl NixVersion {
    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The leading numeric components `(major, minor, patch)`; a component
    /// that is missing or not a number counts as 0.
    pub fn triple(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch)
    }

    /// The release `2.minor.0`.
    pub(crate) fn from_minor(minor: u8) -> Self {
        NixVersion {
            text: format!("2.{minor}.0"),
            major: 2,
            minor: u32::from(minor),
            patch: 0,
        }
    }

    /// `true` when this version is at least `other`, as the NixOS module's
    /// `isNixAtLeast` decides it.
    pub fn is_at_least(&self, other: &str) -> bool {
        compare_versions(&self.text, other) != Ordering::Less
    }
}

impl FromStr for NixVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || VersionError(s.to_owned());
        if !s.starts_with(|c: char| c.is_ascii_digit()) || s.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let mut nums = [0u32; 3];
        let mut rest = s;
        for (i, slot) in nums.iter_mut().enumerate() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                if i == 0 {
                    return Err(bad());
                }
                break;
            }
            *slot = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            match rest.strip_prefix('.') {
                Some(r) => rest = r,
                None => break,
            }
        }
        Ok(NixVersion {
            text: s.to_owned(),
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
        })
    }
}

impl fmt::Display for NixVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq for NixVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl PartialOrd for NixVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NixVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_versions(&self.text, &other.text)
    }
}

/// The version of an installed Nix (`nix` finds the one on `PATH`).
///
/// Where the program tells its version by where it lives, nothing is run:
/// a Nix store path `/nix/store/<hash>-nix-<version>/bin/nix` (NixOS, the
/// installers' default profile), or a file of Debian's `nix-bin` package
/// (the version dpkg installed). Otherwise this runs `NIX --version` and
/// reads the last word of `nix (Nix) 2.8.0`; that costs a process start
/// (some 30 ms), more than reading a large nix.conf.
///
/// The error says why: the program could not run, or what it printed
/// instead of a version.
pub fn installed_version(nix: &std::path::Path) -> Result<NixVersion, String> {
    if let Some(v) = version_from_location(nix) {
        return Ok(v);
    }
    let out = std::process::Command::new(nix)
        .arg("--version")
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let word = text.split_whitespace().last().unwrap_or("");
    word.parse()
        .map_err(|_| format!("cannot tell its version from {:?}", text.trim()))
}

/// The version of the `nix` program (a path, or a name looked up on
/// `PATH`) told by where it lives: `…/nix/store/<hash>-nix-<version>/bin/`
/// or a file dpkg's `nix-bin` installed.
fn version_from_location(nix: &std::path::Path) -> Option<NixVersion> {
    use std::path::PathBuf;
    let found: PathBuf = if nix.components().count() == 1 {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|dir| dir.join(nix))
            .find(|p| p.is_file())?
    } else {
        nix.to_path_buf()
    };
    let real = std::fs::canonicalize(found).ok()?;
    if let Some(v) = store_path_version(&real) {
        return Some(v);
    }
    // Debian's nix-bin: the file must be one the package installed.
    let list = std::fs::read_to_string("/var/lib/dpkg/info/nix-bin.list").ok()?;
    let file_name = real.file_name()?.to_str()?;
    let owned = list
        .lines()
        .filter(|l| l.rsplit('/').next() == Some(file_name))
        .any(|l| std::fs::canonicalize(l).is_ok_and(|p| p == real));
    if !owned {
        return None;
    }
    dpkg_version(std::path::Path::new("/"), "nix-bin")
}

/// `2.18.1` from a path in Nix's store under the package `nix`:
/// `…/nix/store/<hash>-nix-2.18.1/bin/nix` (any file of its `bin`).
pub fn store_path_version(path: &std::path::Path) -> Option<NixVersion> {
    use std::path::Component;
    let parts: Vec<Component<'_>> = path.components().collect();
    let [.., Component::Normal(a), Component::Normal(b), Component::Normal(name), Component::Normal(bin), Component::Normal(_)] =
        parts.as_slice()
    else {
        return None;
    };
    if *a != "nix" || *b != "store" || *bin != "bin" {
        return None;
    }
    let (_, package) = name.to_str()?.split_once('-')?;
    package.strip_prefix("nix-")?.parse().ok()
}

/// The upstream version of the Debian package `package` as dpkg records
/// it under `root` (`var/lib/dpkg/status`), without epoch and Debian
/// revision.
pub fn dpkg_version(root: &std::path::Path, package: &str) -> Option<NixVersion> {
    let status = std::fs::read_to_string(root.join("var/lib/dpkg/status")).ok()?;
    let stanza = status.split("\n\n").find(|s| {
        s.lines()
            .any(|l| l.strip_prefix("Package: ") == Some(package))
    })?;
    let version = stanza.lines().find_map(|l| l.strip_prefix("Version: "))?;
    let version = version.split_once(':').map_or(version, |(_, v)| v);
    let upstream = version.rsplit_once('-').map_or(version, |(v, _)| v);
    upstream.parse().ok()
}

/// Compare two version strings exactly as Nix's `compareVersions` does.
///
/// ```
/// use std::cmp::Ordering;
/// use nixconf_format::compare_versions;
/// assert_eq!(compare_versions("2.4pre20200101", "2.4"), Ordering::Less);
/// assert_eq!(compare_versions("2.10", "2.9"), Ordering::Greater);
/// assert_eq!(compare_versions("2.3a", "2.3.1"), Ordering::Less);
/// ```
pub fn compare_versions(v1: &str, v2: &str) -> Ordering {
    let (mut p1, mut p2) = (v1.as_bytes(), v2.as_bytes());
    while !p1.is_empty() || !p2.is_empty() {
        let c1 = next_component(&mut p1);
        let c2 = next_component(&mut p2);
        if component_lt(c1, c2) {
            return Ordering::Less;
        }
        if component_lt(c2, c1) {
            return Ordering::Greater;
        }
    }
    Ordering::Equal
}

fn next_component<'a>(p: &mut &'a [u8]) -> &'a [u8] {
    let start = p
        .iter()
        .position(|&b| b != b'.' && b != b'-')
        .unwrap_or(p.len());
    let s = &p[start..];
    let len = if s.first().is_some_and(u8::is_ascii_digit) {
        s.iter().take_while(|b| b.is_ascii_digit()).count()
    } else {
        s.iter()
            .take_while(|&&b| !b.is_ascii_digit() && b != b'.' && b != b'-')
            .count()
    };
    *p = &s[len..];
    &s[..len]
}

/// Nix parses a component as a number with `string2Int<int>`: digits only,
/// within `i32`.
fn as_int(c: &[u8]) -> Option<i64> {
    if c.is_empty() || !c.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(c)
        .ok()?
        .parse::<i32>()
        .ok()
        .map(i64::from)
}

fn component_lt(c1: &[u8], c2: &[u8]) -> bool {
    let (n1, n2) = (as_int(c1), as_int(c2));
    match (n1, n2) {
        (Some(a), Some(b)) => a < b,
        _ if c1.is_empty() && n2.is_some() => true,
        _ if c1 == b"pre" && c2 != b"pre" => true,
        _ if c2 == b"pre" => false,
        (_, Some(_)) => true,
        (Some(_), _) => false,
        _ => c1 < c2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_paths_tell_the_version_without_running_nix() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("nix/store/0123abcd-nix-2.24.9/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("nix"), "not a program").unwrap();
        let profile = dir.path().join("profile-bin");
        std::fs::create_dir_all(&profile).unwrap();
        std::os::unix::fs::symlink(bin.join("nix"), profile.join("nix")).unwrap();
        // Not executable: a version read from it would have to come from
        // its location.
        let v = installed_version(&profile.join("nix")).unwrap();
        assert_eq!(v.to_string(), "2.24.9");
        let other = dir.path().join("nix/store/0123abcd-hello-2.12/bin");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("nix"), "").unwrap();
        assert_eq!(version_from_location(&other.join("nix")), None);
    }

    #[test]
    fn orders_like_nix() {
        let ordered = [
            "2.0",
            "2.2",
            "2.3pre20190101",
            "2.3",
            "2.3.1",
            "2.4pre",
            "2.4",
            "2.9",
            "2.10",
            "2.24.9",
            "2.24.15",
            "2.35.2",
        ];
        for w in ordered.windows(2) {
            assert_eq!(
                compare_versions(w[0], w[1]),
                Ordering::Less,
                "{} < {}",
                w[0],
                w[1]
            );
            assert_eq!(compare_versions(w[1], w[0]), Ordering::Greater);
        }
        assert_eq!(compare_versions("2.4", "2.4"), Ordering::Equal);
        assert_eq!(compare_versions("1.0-pre", "1.0pre"), Ordering::Equal);
    }

    #[test]
    fn parses_triples() {
        let v: NixVersion = "2.24.9".parse().unwrap();
        assert_eq!(v.triple(), (2, 24, 9));
        let v: NixVersion = "2.3pre20190101".parse().unwrap();
        assert_eq!(v.triple(), (2, 3, 0));
        assert!(v.is_at_least("2.3pre"));
        assert!(!v.is_at_least("2.3"));
        assert!("".parse::<NixVersion>().is_err());
        assert!("abc".parse::<NixVersion>().is_err());
        assert!(" 2.4".parse::<NixVersion>().is_err());
    }
}
