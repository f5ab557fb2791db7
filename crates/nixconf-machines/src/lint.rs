//! What Nix accepts but users regret, each with a fix.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use nixconf_format::NixVersion;

use crate::base64;
use crate::expand::Located;
use crate::num;
use crate::rules::Rules;
use crate::uri;
use crate::SpeedFactor;

/// The kinds of lint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LintKind {
    /// `maxJobs` is 0 (or, for Nix 1.x, unset): the machine is never used.
    NoJobSlots,
    /// The host key does not decode to an SSH public key line.
    HostKeyNotSshKey,
    /// The SSH identity file is in the world-readable Nix store.
    KeyInStore,
    /// A system that is not of the form `arch-os`.
    SystemNotArchOs,
    /// The same host appears more than once.
    DuplicateHost,
    /// A protocol the target Nix cannot use for remote builds.
    ProtocolTooNew,
    /// A fractional speed factor, which Nix reads only from 2.20.
    FloatSpeedFactor,
    /// Nix 2.0–2.3 leave hosts starting with `local`, `remote` or `auto`
    /// without `ssh://`, so they are not reached over SSH.
    HostNotPrefixed,
    /// A port in the store URI, which Nix honours only from 2.31.
    PortIgnored,
}

impl LintKind {
    /// A short stable name, like `no-job-slots`.
    pub fn name(self) -> &'static str {
        match self {
            LintKind::NoJobSlots => "no-job-slots",
            LintKind::HostKeyNotSshKey => "host-key-not-ssh-key",
            LintKind::KeyInStore => "key-in-store",
            LintKind::SystemNotArchOs => "system-not-arch-os",
            LintKind::DuplicateHost => "duplicate-host",
            LintKind::ProtocolTooNew => "protocol-too-new",
            LintKind::FloatSpeedFactor => "float-speed-factor",
            LintKind::HostNotPrefixed => "host-not-prefixed",
            LintKind::PortIgnored => "port-ignored",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lint {
    /// The file the machine is in.
    pub file: String,
    /// Its line.
    pub line: usize,
    /// What kind of finding.
    pub kind: LintKind,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: warning[{}]: {}\n  fix: {}",
            self.file,
            self.line,
            self.kind.name(),
            self.message,
            self.fix
        )
    }
}

/// Lint machines for a target Nix version, in order.
///
/// ```
/// use nixconf_machines::{expand, lint, parse, LintKind};
/// let v = "2.24.9".parse().unwrap();
/// let f = parse("ssh://b x86_64 - 0\n", "machines", &v).unwrap();
/// let e = expand(&f, "machines", &v, std::path::Path::new("/nonexistent")).unwrap();
/// let kinds: Vec<_> = lint(&e.machines, &v).into_iter().map(|l| l.kind).collect();
/// assert_eq!(kinds, [LintKind::NoJobSlots, LintKind::SystemNotArchOs]);
/// ```
pub fn lint(machines: &[Located], version: &NixVersion) -> Vec<Lint> {
    let rules = Rules::for_version(version);
    let modern = version.is_at_least("2.4pre");
    let ports_work = version.is_at_least("2.31pre");
    let mut out = Vec::new();
    let mut hosts: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for loc in machines {
        let m = &loc.machine;
        // What Nix makes of the two columns the lints below look at
        // (cheaper than a whole `nix_view`).
        let max_jobs = m.max_jobs().unwrap_or(if rules.perl { 0 } else { 1 });
        let written = m.store_uri();
        let store_uri: Cow<str> = if !rules.perl && uri::gets_ssh_prefix(written, modern) {
            Cow::Owned(format!("ssh://{written}"))
        } else {
            Cow::Borrowed(written)
        };
        let mut push = |kind: LintKind, message: String, fix: String| {
            out.push(Lint {
                file: loc.file.clone(),
                line: loc.line,
                kind,
                message,
                fix,
            })
        };
        if max_jobs == 0 {
            let message = if rules.perl && m.max_jobs().is_none() {
                "maxJobs is unset, which build-remote.pl reads as 0: Nix never builds there"
                    .to_owned()
            } else {
                "maxJobs is 0: Nix never sends a build to this machine".to_owned()
            };
            push(
                LintKind::NoJobSlots,
                message,
                "set maxJobs (column #3) to at least 1, or remove the machine".into(),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in m.systems() {
            if !seen.insert(s) {
                continue;
            }
            if let Some(fix) = arch_os_fix(s) {
                push(
                    LintKind::SystemNotArchOs,
                    format!(
                        "system '{s}' is not of the form arch-os, so no derivation ever matches it"
                    ),
                    fix,
                );
            }
        }
        if let Some(key) = m.ssh_key() {
            if key.starts_with("/nix/store/") {
                push(
                    LintKind::KeyInStore,
                    format!("the SSH key {key} is in the Nix store, which every user can read"),
                    "keep the key outside the store (for example /etc/nix/builder_ed25519, mode \
                     0600, owned by root) and give that path"
                        .into(),
                );
            }
        }
        if let Some(key) = m.public_host_key() {
            if let Some(message) = host_key_problem(key) {
                push(
                    LintKind::HostKeyNotSshKey,
                    message,
                    "give the base64 of the whole public key line: `base64 -w0 \
                     /etc/ssh/ssh_host_ed25519_key.pub` on the builder"
                        .into(),
                );
            }
        }
        // Nix 2.0–2.3 read "1.5" with stoull, as 1; a spec may also hold a
        // float for a target that cannot read one.
        let written_speed = m.column(4).filter(|t| *t != "-" && !rules.perl);
        let fractional = written_speed
            .and_then(num::lexical_cast_f32)
            .is_some_and(|f| f.fract() != 0.0)
            || m.speed_factor().is_some_and(SpeedFactor::is_fractional);
        if fractional && !rules.float_speed {
            let text = written_speed.unwrap_or_default();
            let read = match m.speed_factor() {
                Some(SpeedFactor::Int(n)) => format!(", and Nix {version} reads '{text}' as {n}"),
                _ => String::new(),
            };
            let rounded = num::lexical_cast_f32(text).unwrap_or(1.0).round().max(1.0);
            push(
                LintKind::FloatSpeedFactor,
                format!(
                    "speed factor '{text}' is fractional, which Nix reads only from 2.20{read}"
                ),
                format!("write a whole number such as {rounded}, or target Nix 2.20 or later"),
            );
        }
        if !rules.perl && store_uri.starts_with("ssh-ng://") && !modern {
            push(
                LintKind::ProtocolTooNew,
                format!(
                    "'{written}' uses ssh-ng, which Nix {version} cannot use for remote builds"
                ),
                format!("use ssh://{}", store_uri.trim_start_matches("ssh-ng://")),
            );
        }
        if rules.perl && written.contains("://") {
            push(
                LintKind::ProtocolTooNew,
                format!("'{written}' has a URI scheme, but build-remote.pl (Nix 1.x) passes column #0 to ssh as the host"),
                format!("write user@host, for example {}", written.split_once("://").map_or(written, |(_, r)| r)),
            );
        }
        if rules.early
            && !written.contains("://")
            && ["local", "remote", "auto"]
                .iter()
                .any(|p| written.starts_with(p))
        {
            push(
                LintKind::HostNotPrefixed,
                format!("Nix {version} does not add ssh:// to '{written}' (it starts with local, remote or auto), so it is not reached over SSH"),
                format!("write ssh://{written}"),
            );
        }
        if let Some(host) = ssh_host(&store_uri) {
            if host.port && !rules.perl && modern && !ports_work {
                push(
                    LintKind::PortIgnored,
                    format!("Nix {version} passes '{}' to ssh as the host name, port included, so the connection fails (ports work from 2.31)", host.name_with_port),
                    format!("drop the port and set it in ssh_config: `Host {}` / `Port …`", host.name),
                );
            }
            let key = host.name.to_ascii_lowercase();
            match hosts.get(&key) {
                Some((file, line)) => push(
                    LintKind::DuplicateHost,
                    format!("host {} is already listed at {file}:{line}; each entry gets its own job slots, so the host may run more jobs than either says", host.name),
                    "merge the entries into one (list every system, comma-separated, in column #1)".into(),
                ),
                None => {
                    hosts.insert(key, (loc.file.clone(), loc.line));
                }
            }
        }
    }
    out
}

/// `None` when `s` is `arch-os`; otherwise a fix.
fn arch_os_fix(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('-').collect();
    let ok_part =
        |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if parts.len() == 2 && parts.iter().all(|p| ok_part(p)) {
        return None;
    }
    if s.is_empty() {
        return Some("remove the empty item (two commas in a row, or a trailing comma)".into());
    }
    const OSES: [&str; 6] = ["linux", "darwin", "freebsd", "openbsd", "netbsd", "none"];
    let guess = match parts.as_slice() {
        [arch] => Some(format!("{arch}-linux")),
        [arch, rest @ ..] => rest
            .iter()
            .find(|p| OSES.contains(p))
            .map(|os| format!("{arch}-{os}")),
        [] => None,
    };
    Some(match guess {
        Some(g) => format!("write it as arch-os, for example {g}"),
        None => "write it as arch-os, for example x86_64-linux or aarch64-darwin".into(),
    })
}

struct Host {
    name: String,
    name_with_port: String,
    port: bool,
}

/// The host of an `ssh://` or `ssh-ng://` store URI, without user and port.
fn ssh_host(uri: &str) -> Option<Host> {
    let rest = uri
        .strip_prefix("ssh://")
        .or_else(|| uri.strip_prefix("ssh-ng://"))?;
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (name, port) = if let Some(inner) = host_port.strip_prefix('[') {
        match inner.split_once(']') {
            Some((addr, after)) => (addr, after.starts_with(':')),
            None => (inner, false),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, true),
            _ => (host_port, false),
        }
    };
    if name.is_empty() {
        return None;
    }
    Some(Host {
        name: name.to_owned(),
        name_with_port: host_port.to_owned(),
        port,
    })
}

/// Why `key` is not the base64 of an SSH public key line, if it is not.
fn host_key_problem(key: &str) -> Option<String> {
    let Some(decoded) = base64::decode(key) else {
        return Some(format!("the host key '{key}' is not valid base64"));
    };
    const TYPES: [&[u8]; 4] = [b"ssh-", b"ecdsa-", b"sk-ssh-", b"sk-ecdsa-"];
    if TYPES.iter().any(|t| decoded.starts_with(t)) {
        return None;
    }
    if decoded.starts_with(&[0, 0, 0]) {
        return Some(
            "the host key is the base64 key body alone (what follows the key type in a .pub \
             file); Nix wants the base64 of the whole line"
                .into(),
        );
    }
    Some("the host key does not decode to an SSH public key (no ssh- or ecdsa- key type)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_os() {
        assert_eq!(arch_os_fix("x86_64-linux"), None);
        assert_eq!(arch_os_fix("armv7l-linux"), None);
        assert!(arch_os_fix("x86_64").unwrap().contains("x86_64-linux"));
        assert!(arch_os_fix("x86_64-unknown-linux-gnu")
            .unwrap()
            .contains("x86_64-linux"));
        assert!(arch_os_fix("").is_some());
    }

    #[test]
    fn hosts() {
        let h = ssh_host("ssh://nix@[fe80::1]:22").unwrap();
        assert_eq!((h.name.as_str(), h.port), ("fe80::1", true));
        let h = ssh_host("ssh-ng://root@b.example.org").unwrap();
        assert_eq!((h.name.as_str(), h.port), ("b.example.org", false));
        let h = ssh_host("ssh://u@h:2222").unwrap();
        assert_eq!((h.name.as_str(), h.port), ("h", true));
        assert!(ssh_host("local?root=/x").is_none());
    }

    #[test]
    fn host_keys() {
        assert_eq!(
            host_key_problem("c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUJ0"),
            None
        );
        // The key body alone: base64 of the wire format.
        assert!(host_key_problem("AAAAC3NzaC1lZDI1NTE5AAAAIBt")
            .unwrap()
            .contains("body"));
        assert!(host_key_problem("Zm9v")
            .unwrap()
            .contains("does not decode"));
        assert!(host_key_problem("Zm9vY")
            .unwrap()
            .contains("not valid base64"));
    }
}
