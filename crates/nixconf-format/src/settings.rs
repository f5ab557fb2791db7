//! The result of applying nix.conf files: [`Settings`] (values kept as
//! spans of the files, printed on request) and [`Effective`] (everything
//! `nix show-config` prints), with the command line's overrides
//! ([`Network`]).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::schema::{self, Ty};
use crate::state::{Slot, State};
use crate::typed;

/// Whether the simulated `nix` has network access.
///
/// Without it (no non-loopback interface, or `--offline`), Nix 2.3 and
/// later override four settings that the command line did not set, and
/// 2.34+ a fifth: values from `NIX_CONF_DIR/nix.conf` do not count as set
/// on the command line, so those overrides win over the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// As `nix --offline` (or a machine without network) prints.
    #[default]
    Offline,
    /// As a `nix` with network access prints.
    Online,
}

/// The settings the files set, as `nix show-config` prints them, and the
/// warnings Nix printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effective {
    /// Canonical setting name -> printed value, for every setting the
    /// files touched.
    pub settings: BTreeMap<String, String>,
    /// Warnings in the order Nix prints them (`warning: ` included).
    pub warnings: Vec<String>,
}

/// The settings that nix.conf files set, applied as the target Nix
/// applies them (includes, `extra-`, aliases, typed values, the
/// experimental-feature passes): the settings map, with values kept as
/// spans of the loaded files and printed the way `nix show-config`
/// prints them only when asked for.
///
/// ```
/// use nixconf_format::{apply_with, MemSource, Network, ShowOptions};
/// let mut files = MemSource::new();
/// files.insert("/etc/nix/nix.conf", "build-cores = 4\nextra-trusted-users = alice\n");
/// let options = ShowOptions { version: "2.8.0".parse().unwrap(), network: Network::Offline };
/// let settings = apply_with(&files, "/etc/nix".as_ref(), &options).unwrap();
/// assert_eq!(settings.names().collect::<Vec<_>>(), ["cores", "trusted-users"]);
/// assert_eq!(settings.get("trusted-users").as_deref(), Some("root alice"));
/// assert_eq!(settings.get("max-jobs"), None);
/// ```
#[derive(Debug)]
pub struct Settings {
    version: &'static schema::Version,
    network: Network,
    files: Vec<Rc<Vec<u8>>>,
    /// As [`State`] has them: walking `slot_of` in setting order (which
    /// is the names' order) visits the slots sorted, with no sort.
    slot_of: Vec<u8>,
    slots: Vec<Slot>,
    unknown: BTreeSet<Vec<u8>>,
    warnings: Vec<String>,
}

impl Settings {
    /// The result of applying the files `files` into `state`.
    pub(crate) fn new(state: State, files: Vec<Rc<Vec<u8>>>, network: Network) -> Settings {
        Settings {
            version: state.version,
            network,
            files,
            slot_of: state.slot_of,
            slots: state.slots,
            unknown: state.unknown,
            warnings: state.warnings.into_iter().map(|(_, w)| w).collect(),
        }
    }

    /// How many settings the files set.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the files set nothing.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slots, sorted by setting.
    fn sorted(&self) -> impl Iterator<Item = &Slot> + '_ {
        self.slot_of
            .iter()
            .filter_map(|&k| usize::from(k).checked_sub(1))
            .filter_map(|k| self.slots.get(k))
    }

    /// The canonical names of the settings the files set, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.sorted()
            .map(|slot| schema::defs()[usize::from(slot.setting)].name)
    }

    /// The value of the setting with canonical name `name` as `nix
    /// show-config` prints it, if the files set it.
    pub fn get(&self, name: &str) -> Option<String> {
        let setting = self.version.resolve(name.as_bytes())?;
        let k = usize::from(*self.slot_of.get(usize::from(setting))?).checked_sub(1)?;
        let slot = self.slots.get(k)?;
        (schema::defs()[usize::from(setting)].name == name).then(|| self.print(slot))
    }

    /// Every setting the files set, with its printed value, sorted by
    /// name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        self.sorted().map(|slot| {
            let def = &schema::defs()[usize::from(slot.setting)];
            (def.name, self.print(slot))
        })
    }

    /// The warnings Nix printed, in its order (`warning: ` included).
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        let unknown = self.unknown.iter().map(|name| {
            format!(
                "warning: unknown setting '{}'",
                String::from_utf8_lossy(name)
            )
        });
        self.warnings.iter().cloned().chain(unknown)
    }

    /// Everything printed: the settings map and the warnings.
    pub fn to_effective(&self) -> Effective {
        Effective {
            settings: self
                .iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            warnings: self.warnings().collect(),
        }
    }

    fn print(&self, slot: &Slot) -> String {
        let minor = self.version.minor;
        let def = &schema::defs()[usize::from(slot.setting)];
        let ty = self.version.infos[usize::from(slot.setting)].ty;
        let value = typed::print(ty, &slot.first, &slot.more, &self.files, minor);
        cli_override(def.name, ty, value, minor, self.network)
    }
}

/// What the simulated command line `nix --extra-experimental-features
/// nix-command show-config` does to a touched setting after the files are
/// read: it adds `nix-command` (2.4+), forces `pure-eval` (2.4+), and
/// without network overrides the offline settings (2.3+).
fn cli_override(name: &str, ty: Ty, value: String, minor: u8, network: Network) -> String {
    match name {
        "experimental-features" if minor >= 4 => {
            if ty == Ty::XpFeatures {
                let mut set: BTreeSet<&str> = value.split(' ').filter(|s| !s.is_empty()).collect();
                set.insert("nix-command");
                set.into_iter().collect::<Vec<_>>().join(" ")
            } else if value.is_empty() {
                "nix-command".to_owned()
            } else {
                format!("{value} nix-command")
            }
        }
        "pure-eval" if minor >= 4 => "true".to_owned(),
        _ if network == Network::Online || minor < 3 => value,
        "substitute" => "false".to_owned(),
        "tarball-ttl" => u32::MAX.to_string(),
        "download-attempts" if minor <= 34 => "0".to_owned(),
        "filetransfer-retry-attempts" => "0".to_owned(),
        "connect-timeout" => "1".to_owned(),
        "narinfo-cache-meta-ttl" if minor >= 34 => u32::MAX.to_string(),
        _ => value,
    }
}
