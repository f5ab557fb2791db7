//! Reading the options the 2026 modules added: `nix.gc`, `nix.optimise`,
//! `nix.sshServe`, `nix.channel`, `nix.firewall`, `nix.daemonUser` and
//! `nix.daemonGroup`, `nix.package`, and the host facts outside `nix.*`
//! they read (`networking.nftables`, `system.stateVersion`, ...).
//!
//! Each option is a row of a small declarative table ([`Spec`]): its name,
//! type and default; [`Evaluator::read_group`] checks a whole group against
//! its table and refuses names it does not declare.

/// An option's type, as the module declares it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ty {
    /// `types.bool`.
    Bool,
    /// `types.singleLineStr`: no line break but an optional final one,
    /// which the type strips.
    SingleLine,
    /// `either singleLineStr (listOf str)` with `apply = toList`.
    Dates,
    /// `types.listOf types.str`.
    StrList,
    /// `types.listOf types.singleLineStr`.
    SingleLineList,
    /// `listOf (oneOf [ singleLineStr port ])`.
    Ports,
    /// `types.enum` of these strings.
    Enum(&'static [&'static str]),
}

/// A read option value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Val {
    Bool(bool),
    Str(String),
    List(Vec<String>),
}

impl Val {
    pub fn bool(&self) -> bool {
        matches!(self, Val::Bool(true))
    }

    pub fn str(&self) -> &str {
        match self {
            Val::Str(s) => s,
            _ => "",
        }
    }

    pub fn list(&self) -> &[String] {
        match self {
            Val::List(l) => l,
            _ => &[],
        }
    }
}

/// One declared option: name, type, default.
pub(crate) struct Spec {
    pub name: &'static str,
    pub ty: Ty,
    pub default: fn() -> Val,
}

macro_rules! spec {
    ($name:literal, $ty:expr, $default:expr) => {
        Spec {
            name: $name,
            ty: $ty,
            default: || $default,
        }
    };
}

fn s(x: &str) -> Val {
    Val::Str(x.to_owned())
}

fn l(xs: &[&str]) -> Val {
    Val::List(xs.iter().map(|x| (*x).to_owned()).collect())
}

/// `nix.gc` (nix-gc.nix).
pub(crate) const GC: &[Spec] = &[
    spec!("automatic", Ty::Bool, Val::Bool(false)),
    spec!("dates", Ty::Dates, l(&["03:15"])),
    spec!("options", Ty::SingleLine, s("")),
    spec!("persistent", Ty::Bool, Val::Bool(true)),
    spec!("randomizedDelaySec", Ty::SingleLine, s("0")),
];

/// `nix.optimise` (nix-optimise.nix).
pub(crate) const OPTIMISE: &[Spec] = &[
    spec!("automatic", Ty::Bool, Val::Bool(false)),
    spec!("dates", Ty::Dates, l(&["03:45"])),
    spec!("persistent", Ty::Bool, Val::Bool(true)),
    spec!("randomizedDelaySec", Ty::SingleLine, s("1800")),
];

/// `nix.sshServe` (nix-ssh-serve.nix).
pub(crate) const SSH_SERVE: &[Spec] = &[
    spec!("enable", Ty::Bool, Val::Bool(false)),
    spec!("keys", Ty::StrList, l(&[])),
    spec!("protocol", Ty::Enum(&["ssh", "ssh-ng"]), s("ssh")),
    spec!("trusted", Ty::Bool, Val::Bool(false)),
    spec!("write", Ty::Bool, Val::Bool(false)),
];

/// `nix.channel` (nix-channel.nix).
pub(crate) const CHANNEL: &[Spec] = &[spec!("enable", Ty::Bool, Val::Bool(true))];

/// `nix.firewall` (nix-daemon-firewall.nix). `allowLoopback` and
/// `allowPrivateNetworks` are declared without a type; the module uses
/// them as booleans.
pub(crate) const FIREWALL: &[Spec] = &[
    spec!("enable", Ty::Bool, Val::Bool(false)),
    spec!("allowLoopback", Ty::Bool, Val::Bool(false)),
    spec!("allowNonTCPUDP", Ty::Bool, Val::Bool(false)),
    spec!("allowPrivateNetworks", Ty::Bool, Val::Bool(true)),
    spec!("allowedTCPPorts", Ty::Ports, l(&[])),
    spec!("allowedUDPPorts", Ty::Ports, l(&[])),
    spec!("extraNftablesRules", Ty::SingleLineList, l(&[])),
];

/// `networking.nftables`, the part `nix.firewall` reads. `flushRuleset`'s
/// default is `enable` (see [`flush_ruleset`]).
pub(crate) const NFTABLES: &[Spec] = &[
    spec!("enable", Ty::Bool, Val::Bool(false)),
    spec!("flushRuleset", Ty::Bool, Val::Bool(false)),
];

/// `networking.nftables.flushRuleset`: as given, else whether nftables is
/// enabled (NixOS flushes the whole ruleset of an nftables firewall it
/// manages, and has none to flush otherwise).
pub(crate) fn flush_ruleset(nftables: &Group, given: bool) -> bool {
    if given {
        get(nftables, "flushRuleset").bool()
    } else {
        get(nftables, "enable").bool()
    }
}

/// A group of options, read: every declared name with its value (a few
/// names each: a list is quicker to build and search than a map).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Group(pub(crate) Vec<(&'static str, Val)>);

impl Group {
    /// Set `name`, replacing an earlier value.
    pub fn insert(&mut self, name: &'static str, value: Val) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    fn get(&self, name: &str) -> Option<&Val> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

impl FromIterator<(&'static str, Val)> for Group {
    fn from_iter<I: IntoIterator<Item = (&'static str, Val)>>(iter: I) -> Self {
        Group(iter.into_iter().collect())
    }
}

/// A read group: the shared defaults when the configuration leaves the
/// whole group out (most do), else its own values.
pub(crate) type ReadGroup = std::borrow::Cow<'static, Group>;

/// Every table, for [`defaults`].
const TABLES: [&[Spec]; 6] = [GC, OPTIMISE, SSH_SERVE, CHANNEL, FIREWALL, NFTABLES];

/// A table's defaults, built once.
pub(crate) fn defaults(specs: &'static [Spec]) -> Option<&'static Group> {
    static CACHE: std::sync::OnceLock<Vec<Group>> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(|| {
        TABLES
            .iter()
            .map(|t| t.iter().map(|s| (s.name, (s.default)())).collect())
            .collect()
    });
    TABLES
        .iter()
        .position(|t| std::ptr::eq(*t, specs))
        .map(|i| &cache[i])
}

/// Look a value up in a read group (every declared name is there).
pub(crate) fn get<'g>(group: &'g Group, name: &str) -> &'g Val {
    static NONE: Val = Val::Bool(false);
    group.get(name).unwrap_or(&NONE)
}

/// `nix.package`: a store path (`/nix/store/<hash>-<name>-<version>`) or
/// a version, optionally with its name (`lix-2.93.3`, `2.24.9`). The
/// package's name, version and store path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Package {
    pub pname: String,
    pub version: String,
    /// Given as a store path: that path.
    pub path: Option<String>,
}

/// Read a `nix.package` value; `None` when it names no version.
pub(crate) fn parse_package(text: &str) -> Option<Package> {
    let (name, path) = match text.strip_prefix("/nix/store/") {
        Some(rest) => {
            let base = rest.split('/').next()?;
            let (hash, name) = base.split_once('-')?;
            if hash.len() != 32 {
                return None;
            }
            (name, Some(format!("/nix/store/{base}")))
        }
        None => (text, None),
    };
    // The version starts at the first `-` followed by a digit
    // (`builtins.parseDrvName`); a bare version has no name.
    let bytes = name.as_bytes();
    let split = (0..bytes.len())
        .find(|&i| bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
    let (pname, version) = match split {
        Some(i) => (&name[..i], &name[i + 1..]),
        None if bytes.first().is_some_and(u8::is_ascii_digit) => ("nix", name),
        None => return None,
    };
    if pname.is_empty() || version.is_empty() {
        return None;
    }
    Some(Package {
        pname: pname.to_owned(),
        version: version.to_owned(),
        path,
    })
}

/// The fixed store path prefix of the corpus' packages (`--nixos`).
pub(crate) const STORE_PREFIX: &str = "/nix/store/00000000000000000000000000000000-";

/// Everything read from the configuration, before the outputs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Read2026 {
    pub gc: ReadGroup,
    pub optimise: ReadGroup,
    pub ssh_serve: ReadGroup,
    pub channel: ReadGroup,
    pub firewall: ReadGroup,
    pub nftables: ReadGroup,
    pub daemon_user: String,
    pub daemon_group: String,
}

/// The `Val` of a group as JSON (for outputs that copy option values).
pub(crate) fn val_json(v: &Val) -> serde_json::Value {
    match v {
        Val::Bool(b) => serde_json::json!(b),
        Val::Str(s) => serde_json::json!(s),
        Val::List(l) => serde_json::json!(l),
    }
}

#[cfg(test)]
mod tests {
    use crate::module::options2026::*;

    #[test]
    fn packages_by_version_name_or_store_path() {
        let p = parse_package("2.24.9").unwrap();
        assert_eq!((p.pname.as_str(), p.version.as_str()), ("nix", "2.24.9"));
        assert_eq!(p.path, None);
        let p = parse_package("lix-2.93.3").unwrap();
        assert_eq!((p.pname.as_str(), p.version.as_str()), ("lix", "2.93.3"));
        let p = parse_package("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nix-2.31.2/bin/nix")
            .unwrap();
        assert_eq!((p.pname.as_str(), p.version.as_str()), ("nix", "2.31.2"));
        assert_eq!(
            p.path.as_deref(),
            Some("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nix-2.31.2")
        );
        assert_eq!(parse_package("nix"), None);
        assert_eq!(parse_package("/nix/store/short-nix-2.3"), None);
    }
}
