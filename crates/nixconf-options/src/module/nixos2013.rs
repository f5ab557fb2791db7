//! Nix 1.x targets: the NixOS nix-daemon module of August 2013 (seed
//! `000_…`, described in `reference/legacy-2013.md` of the shared notes),
//! its options, defaults and what it produced.
//!
//! Where that module's output depended on NixOS itself, it is followed as
//! a machine that is not NixOS sees it: `build-chroot-dirs` lists no store
//! paths of `/bin/sh`'s closure (so the line keeps the space that would
//! have joined them), and Nix is found in the default profile, where Nix
//! 1.x's multi-user installation put it.
//!
//! The 2013 options were mostly untyped; each is read here with the type
//! its use in the module implies, and a value that the module would have
//! written into a broken file (a `$` that its shell step would expand, a
//! space that would split a list entry or shift a machines column) is
//! refused with the option path.

use std::collections::BTreeMap;

use nixconf_format::{ConfValue, NixVersion};
use nixconf_machines::BuildMachine;

use super::nixos2023::{DEFAULT_NIXBLD_UID, NIX_OPTIONS};
use crate::evaluator::Evaluator;
use crate::output::{Evaluation, ModuleGeneration, ServiceConfig, SessionValue};
use crate::top::{top_keys, TOP_KEYS};
use crate::tree::{quote, Node, Value};
use crate::typecheck::join;
use nixconf_diagnostic::closest;

/// The 2013 module's options under `nix`.
const OPTIONS: [&str; 15] = [
    "maxJobs",
    "useChroot",
    "chrootDirs",
    "extraOptions",
    "distributedBuilds",
    "manualNixMachines",
    "daemonNiceLevel",
    "daemonIONiceLevel",
    "buildMachines",
    "proxy",
    "envVars",
    "nrBuildUsers",
    "readOnlyStore",
    "binaryCaches",
    "trustedBinaryCaches",
];

/// The attributes of a 2013 `nix.buildMachines` entry.
const MACHINE_FIELDS: [&str; 9] = [
    "hostName",
    "sshUser",
    "sshKey",
    "system",
    "systems",
    "maxJobs",
    "speedFactor",
    "supportedFeatures",
    "mandatoryFeatures",
];

/// The 2013 module's nix.conf header; note the two spaces before `Do`.
const HEADER: &str = "# WARNING: this file is generated from the nix.* options in\n\
# your NixOS configuration, typically\n\
# /etc/nixos/configuration.nix.  Do not edit it!\n";

/// What the module itself defines for `nix.chrootDirs`, after the user's
/// own definitions (the user's configuration came first in the module
/// list of 2013's `eval-config.nix`, and list definitions concatenate in
/// that order).
const MODULE_CHROOT_DIRS: [&str; 4] = ["/dev", "/dev/pts", "/proc", "/bin"];

/// `nix.binaryCaches`' default.
pub const DEFAULT_BINARY_CACHE_2013: &str = "http://cache.nixos.org/";

/// Where Nix 1.x is found outside NixOS: the default profile, where the
/// multi-user installation put it (NixOS wrote its store path instead).
const NIX_PREFIX: &str = "/nix/var/nix/profiles/default";

/// The machines file `build-remote.pl` reads.
const MACHINES_FILE: &str = "/etc/nix.machines";

/// The 2013 module's `LimitNOFILE`.
const LIMIT_NOFILE: i64 = 4096;

/// The 2023 `nix.settings` keys that are settings the 2013 module wrote
/// from options of its own, with those options.
const SETTINGS_FROM_2013: [(&str, &str); 6] = [
    ("max-jobs", "nix.maxJobs"),
    ("sandbox", "nix.useChroot"),
    ("sandbox-paths", "nix.chrootDirs"),
    ("extra-sandbox-paths", "nix.chrootDirs"),
    ("substituters", "nix.binaryCaches"),
    ("trusted-substituters", "nix.trustedBinaryCaches"),
];

/// The node to point at for a key: its name where the format tells.
fn key_of(node: &Node) -> Node {
    Node {
        value: Value::Null,
        span: node.key_span.clone().or_else(|| node.span.clone()),
        key_span: None,
    }
}

/// The options of the 2013 module, read.
struct Options {
    max_jobs: i64,
    use_chroot: bool,
    chroot_dirs: Vec<String>,
    extra_options: String,
    distributed_builds: bool,
    manual_nix_machines: bool,
    nice: i64,
    io_nice: i64,
    proxy: String,
    env_vars: BTreeMap<String, String>,
    nr_build_users: i64,
    binary_caches: Vec<String>,
    trusted_binary_caches: Vec<String>,
}

/// Evaluate a configuration for a Nix 1.x target with the 2013 module.
pub(crate) fn run(
    e: &mut Evaluator<'_, '_>,
    top: &BTreeMap<String, Node>,
    version: NixVersion,
) -> Option<Evaluation> {
    e.run_2013(top, version)
}

impl Evaluator<'_, '_> {
    /// Evaluate a configuration for a Nix 1.x target with the 2013 module.
    pub(crate) fn run_2013(
        &mut self,
        top: &BTreeMap<String, Node>,
        version: NixVersion,
    ) -> Option<Evaluation> {
        let later = format!(
            "not an option of the 2013 NixOS module, which nixconf follows for a Nix 1.x target (nixVersion {version})"
        );
        self.top_level_2013(top, &later);
        let nixbld_uid = self.nixbld_uid(top);
        let empty = BTreeMap::new();
        let nix = match top.get("nix") {
            Some(n) => self.c.attrs("nix", n).unwrap_or(&empty),
            None => &empty,
        };
        self.later_options(nix, &later);
        let o = self.options_2013(nix);

        // Like every untyped 2013 option, `buildMachines` is only read
        // where it is used: in `/etc/nix.machines`, written with
        // distributed builds unless the user writes it.
        let writes_machines = o.distributed_builds && !o.manual_nix_machines;
        let machines = self.machines_2013(nix, writes_machines);

        let env = self.environment_2013(nix, &o);
        let nixbld_uid = nixbld_uid.ok()?.unwrap_or(DEFAULT_NIXBLD_UID);
        if nixbld_uid.checked_add(o.nr_build_users).is_none() {
            self.c.error(
                "nix.nrBuildUsers",
                nix.get("nrBuildUsers"),
                "the build users' uids overflow a 64-bit integer",
            );
        }
        let machines = machines?;
        if !self.c.errors.is_empty() {
            return None;
        }
        let env = env?;

        let machines_text = if writes_machines {
            let mut text = String::new();
            for (i, m) in machines.iter().enumerate() {
                match m.to_legacy_line(i) {
                    Ok(line) => text.push_str(&line),
                    Err(e) => {
                        // Required fields were checked above; this is a
                        // disagreement between the two crates.
                        self.c
                            .error(&format!("nix.buildMachines[{i}]"), None, e.to_string());
                        return None;
                    }
                }
            }
            Some(text)
        } else {
            None
        };

        let mut chroot_dirs = o.chroot_dirs.clone();
        chroot_dirs.extend(MODULE_CHROOT_DIRS.iter().map(|d| (*d).to_owned()));
        // The module's shell step: `${toString cfg.chrootDirs}
        // $(echo $extraPaths)`, where `extraPaths` are the directories of
        // `/bin/sh`'s closure in the store. Outside NixOS there are none;
        // the space before them stays.
        let nix_conf = format!(
            "{HEADER}build-users-group = nixbld\n\
             build-max-jobs = {}\n\
             build-use-chroot = {}\n\
             build-chroot-dirs = {} \n\
             binary-caches = {}\n\
             trusted-binary-caches = {}\n\
             {}\n",
            o.max_jobs,
            o.use_chroot,
            chroot_dirs.join(" "),
            o.binary_caches.join(" "),
            o.trusted_binary_caches.join(" "),
            o.extra_options,
        );

        let strs =
            |xs: &[String]| ConfValue::List(xs.iter().cloned().map(ConfValue::Str).collect());
        let settings = BTreeMap::from([
            (
                "build-users-group".to_owned(),
                ConfValue::Str("nixbld".to_owned()),
            ),
            ("build-max-jobs".to_owned(), ConfValue::Int(o.max_jobs)),
            ("build-use-chroot".to_owned(), ConfValue::Bool(o.use_chroot)),
            ("build-chroot-dirs".to_owned(), strs(&chroot_dirs)),
            ("binary-caches".to_owned(), strs(&o.binary_caches)),
            (
                "trusted-binary-caches".to_owned(),
                strs(&o.trusted_binary_caches),
            ),
        ]);
        let session_variables = env
            .iter()
            .map(|(k, v)| (k.clone(), SessionValue::Str(v.clone())))
            .collect();

        Some(Evaluation {
            module: ModuleGeneration::Nixos2013,
            nix_version: Some(version),
            enabled: true,
            nix_conf: Some(nix_conf),
            machines: machines_text,
            registry: None,
            registry_entries: Vec::new(),
            nr_build_users: Some(o.nr_build_users),
            nixbld_uid,
            settings: Some(settings),
            service_config: Some(ServiceConfig {
                nice: Some(o.nice),
                cpu_scheduling_policy: None,
                io_scheduling_class: None,
                io_scheduling_priority: o.io_nice,
                limit_nofile: Some(LIMIT_NOFILE),
            }),
            service_environment: Some(env),
            session_variables,
            tmpfiles: Vec::new(),
            warnings: Vec::new(),
            failed_assertions: Vec::new(),
            build_machines: machines,
            default_channel: None,
            // `nix.checkConfig` came with Nix 2: the 2013 module wrote
            // nix.conf unchecked.
            check_config: false,
            check_all_errors: false,
            distributed_builds: o.distributed_builds,
            build_users: Default::default(),
            nixos2026: None,
        })
    }

    /// The top level: `nixVersion`, `nix` and `ids.uids.nixbld` are read;
    /// the host facts of the 2023 module are refused, each with its 2013
    /// counterpart.
    fn top_level_2013(&mut self, top: &BTreeMap<String, Node>, later: &str) {
        let known = top_keys(ModuleGeneration::Nixos2013);
        for (key, node) in top {
            if known.contains(&key.as_str()) {
                continue;
            }
            let declared = TOP_KEYS.iter().find(|k| k.name == key);
            let Some(hint) = declared.and_then(|k| k.not_in_2013) else {
                let hint = match closest(key, known.iter().copied()) {
                    Some(c) => format!("; did you mean `{c}`?"),
                    None => String::new(),
                };
                self.c.error(
                    &join("", key),
                    Some(&key_of(node)),
                    format!("no such option{hint}"),
                );
                continue;
            };
            self.c.error(
                &join("", key),
                Some(&key_of(node)),
                format!("{later}: {hint}"),
            );
        }
    }

    /// Refuse every option under `nix` that the 2013 module did not
    /// have, saying what to write instead; an unknown name gets the
    /// closest 2013 option.
    fn later_options(&mut self, nix: &BTreeMap<String, Node>, later: &str) {
        for (key, node) in nix {
            if OPTIONS.contains(&key.as_str()) {
                continue;
            }
            let path = join("nix", key);
            if key == "settings" {
                self.settings_2013(node, later);
                continue;
            }
            if !NIX_OPTIONS.contains(&key.as_str()) {
                let hint = match closest(key, OPTIONS) {
                    Some(c) => format!("; did you mean `nix.{c}`?"),
                    None => String::new(),
                };
                self.c.error(
                    &path,
                    Some(&key_of(node)),
                    format!("no such option in the 2013 NixOS module (Nix 1.x targets){hint}"),
                );
                continue;
            }
            let hint = match key.as_str() {
                "enable" => {
                    "Nix was always on with the 2013 module; to take nixconf's files away \
                     again, run `nixconf revert`"
                }
                "package" => "name the target Nix's version with the top-level `nixVersion`",
                "daemonCPUSchedPolicy" => {
                    "the 2013 module set the daemon's niceness with nix.daemonNiceLevel \
                     (systemd Nice=) instead"
                }
                "daemonIOSchedClass" => {
                    "the 2013 module left the I/O scheduling class alone; \
                     nix.daemonIONiceLevel sets the priority"
                }
                "daemonIOSchedPriority" => {
                    "use nix.daemonIONiceLevel, which became nix.daemonIOSchedPriority"
                }
                "nixPath" => "the 2013 nix-daemon module did not set NIX_PATH",
                "checkConfig" | "checkAllErrors" => {
                    "the 2013 module did not check the nix.conf it wrote"
                }
                "registry" => "flake registries came with Nix 2.4",
                "useSandbox" => "use nix.useChroot, which became nix.useSandbox",
                "sandboxPaths" => "use nix.chrootDirs, which became nix.sandboxPaths",
                _ => "write the setting under the name Nix 1.x reads it by in nix.extraOptions",
            };
            self.c
                .error(&path, Some(&key_of(node)), format!("{later}: {hint}"));
        }
    }

    /// `nix.settings`: one error per key, naming the 2013 option that
    /// became that setting where there is one.
    fn settings_2013(&mut self, node: &Node, later: &str) {
        let attrs = match &node.value {
            Value::Attrs(a) if !a.is_empty() => a,
            _ => {
                self.c.error(
                    "nix.settings",
                    Some(&key_of(node)),
                    format!(
                        "{later}: use the options that became nix.settings: nix.maxJobs, \
                         nix.useChroot, nix.chrootDirs, nix.binaryCaches, \
                         nix.trustedBinaryCaches, and nix.extraOptions for any other setting"
                    ),
                );
                return;
            }
        };
        for (key, value) in attrs {
            let path = join("nix.settings", key);
            let hint = match SETTINGS_FROM_2013.iter().find(|(k, _)| k == key) {
                Some((_, option)) => format!("use {option}, which became {path}"),
                None if key == "build-users-group" => {
                    "the 2013 module always writes build-users-group = nixbld".to_owned()
                }
                None => {
                    format!("write `{key}` in nix.extraOptions, under the name Nix 1.x reads it by")
                }
            };
            self.c
                .error(&path, Some(&key_of(value)), format!("{later}: {hint}"));
        }
    }

    fn options_2013(&mut self, nix: &BTreeMap<String, Node>) -> Options {
        let b = |s: &mut Self, key: &str, default: bool| -> bool {
            s.opt(nix, "nix", key, |c, p, n| c.bool(p, n))
                .ok()
                .flatten()
                .unwrap_or(default)
        };
        let use_chroot = b(self, "useChroot", false);
        let distributed_builds = b(self, "distributedBuilds", false);
        let manual_nix_machines = b(self, "manualNixMachines", false);
        // Only NixOS's boot makes /nix/store a read-only bind mount: its
        // type is checked, and nothing here depends on it.
        let _ = b(self, "readOnlyStore", true);
        let max_jobs = self.int_in(
            nix,
            "maxJobs",
            1,
            0..=i64::MAX,
            "Nix reads build-max-jobs as a count",
        );
        let nice = self.int_in(
            nix,
            "daemonNiceLevel",
            0,
            -20..=19,
            "systemd's Nice= takes -20 to 19",
        );
        let io_nice = self.int_in(
            nix,
            "daemonIONiceLevel",
            0,
            0..=7,
            "systemd's IOSchedulingPriority= takes 0 to 7",
        );
        let nr_build_users =
            self.int_in(nix, "nrBuildUsers", 10, 0..=i64::MAX, "it counts accounts");
        let str_opt = |s: &mut Self, key: &str| -> String {
            s.opt(nix, "nix", key, |c, p, n| match &n.value {
                Value::Str(v) => Some(v.clone()),
                _ => {
                    c.error(
                        p,
                        Some(n),
                        format!("expected a string, got {}", n.describe()),
                    );
                    None
                }
            })
            .ok()
            .flatten()
            .unwrap_or_default()
        };
        let extra_options = str_opt(self, "extraOptions");
        let proxy = str_opt(self, "proxy");
        let env_vars = self
            .opt(nix, "nix", "envVars", |c, p, n| c.env_vars(p, n))
            .ok()
            .flatten()
            .unwrap_or_default();
        let chroot_dirs = self.conf_words(nix, "chrootDirs").unwrap_or_default();
        let binary_caches = self
            .conf_words(nix, "binaryCaches")
            .unwrap_or_else(|| vec![DEFAULT_BINARY_CACHE_2013.to_owned()]);
        let trusted_binary_caches = self
            .conf_words(nix, "trustedBinaryCaches")
            .unwrap_or_default();
        Options {
            max_jobs,
            use_chroot,
            chroot_dirs,
            extra_options,
            distributed_builds,
            manual_nix_machines,
            nice,
            io_nice,
            proxy,
            env_vars,
            nr_build_users,
            binary_caches,
            trusted_binary_caches,
        }
    }

    /// An integer option within `range`, or `default` when absent (or
    /// wrong, which is recorded).
    fn int_in(
        &mut self,
        nix: &BTreeMap<String, Node>,
        key: &str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
        why: &str,
    ) -> i64 {
        let Ok(Some(value)) = self.opt(nix, "nix", key, |c, p, n| c.int(p, n)) else {
            return default;
        };
        if range.contains(&value) {
            return value;
        }
        let wanted = if *range.end() == i64::MAX {
            format!("at least {}", range.start())
        } else {
            format!("from {} to {}", range.start(), range.end())
        };
        self.c.error(
            &join("nix", key),
            nix.get(key),
            format!("expected an integer {wanted} ({why}), got {value}"),
        );
        default
    }

    /// A list of strings that the module joins with spaces into one
    /// nix.conf line through its shell step. `None` when absent or wrong.
    fn conf_words(&mut self, nix: &BTreeMap<String, Node>, key: &str) -> Option<Vec<String>> {
        let node = nix.get(key)?;
        let path = join("nix", key);
        let words = self.c.str_list(&path, node)?;
        let Value::List(items) = &node.value else {
            return None;
        };
        let mut ok = true;
        for (i, (word, item)) in words.iter().zip(items).enumerate() {
            let problem = if word.is_empty() {
                Some("is empty: joined with spaces, it would leave no entry".to_owned())
            } else if let Some(c) = word.chars().find(|c| c.is_whitespace()) {
                Some(format!(
                    "contains whitespace ({}): the 2013 module joins the list with spaces, so Nix would read more than one entry",
                    quote(&c.to_string())
                ))
            } else {
                word.chars().find(|c| matches!(c, '$' | '`' | '\\')).map(|c| {
                    format!(
                        "contains {}, which the 2013 module's nix.conf step (a shell here-document) would expand or drop",
                        quote(&c.to_string())
                    )
                })
            };
            if let Some(problem) = problem {
                self.c.error(&format!("{path}[{i}]"), Some(item), problem);
                ok = false;
            }
        }
        ok.then_some(words)
    }

    /// `nix.buildMachines` as the 2013 module took it: a list of
    /// attribute sets. The attributes it writes are required only when
    /// `/etc/nix.machines` is written (`required`). `Some(vec![])` when
    /// absent and not required.
    fn machines_2013(
        &mut self,
        nix: &BTreeMap<String, Node>,
        required: bool,
    ) -> Option<Vec<BuildMachine>> {
        let Some(node) = nix.get("buildMachines") else {
            if required {
                self.c.error(
                    "nix.buildMachines",
                    None,
                    "used but not defined: with nix.distributedBuilds the 2013 module writes \
                     /etc/nix.machines from it; give the machines, or set \
                     nix.manualNixMachines = true to write that file yourself",
                );
                return None;
            }
            return Some(Vec::new());
        };
        let Value::List(items) = &node.value else {
            self.c.error(
                "nix.buildMachines",
                Some(node),
                format!("expected a list of build machines, got {}", node.describe()),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.machine_2013(&format!("nix.buildMachines[{i}]"), item, required) {
                Some(m) => out.push(m),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn machine_2013(&mut self, path: &str, node: &Node, required: bool) -> Option<BuildMachine> {
        let attrs = self.c.attrs(path, node)?;
        let before = self.c.errors.len();
        for (key, value) in attrs {
            if MACHINE_FIELDS.contains(&key.as_str()) {
                continue;
            }
            let message = match key.as_str() {
                "protocol" => "build machines of the 2013 module had no protocol: \
                               build-remote.pl always connects with ssh"
                    .to_owned(),
                "publicHostKey" => "build machines of the 2013 module had no publicHostKey: \
                                    ssh checks the host key against known_hosts"
                    .to_owned(),
                _ => match closest(key, MACHINE_FIELDS) {
                    Some(c) => format!("no such attribute; did you mean `{}`?", join(path, c)),
                    None => format!(
                        "no such attribute; a 2013 build machine has {}",
                        MACHINE_FIELDS.join(", ")
                    ),
                },
            };
            self.c
                .error(&join(path, key), Some(&key_of(value)), message);
        }

        let word = |s: &mut Self, key: &str| -> Option<String> {
            let value = s
                .opt(attrs, path, key, |c, p, n| c.str(p, n))
                .ok()
                .flatten()?;
            s.machine_word(&join(path, key), attrs.get(key), &value);
            Some(value)
        };
        let host_name = word(self, "hostName");
        let ssh_user = word(self, "sshUser");
        let ssh_key = word(self, "sshKey");
        let system = word(self, "system");
        let list = |s: &mut Self, key: &str| -> Option<Vec<String>> {
            let values = s
                .opt(attrs, path, key, |c, p, n| c.str_list(p, n))
                .ok()
                .flatten()?;
            let item_path = join(path, key);
            if let Some(Value::List(items)) = attrs.get(key).map(|n| &n.value) {
                for (i, (v, item)) in values.iter().zip(items).enumerate() {
                    s.machine_word(&format!("{item_path}[{i}]"), Some(item), v);
                }
            }
            Some(values)
        };
        let systems = list(self, "systems");
        let supported = list(self, "supportedFeatures");
        let mandatory = list(self, "mandatoryFeatures");
        let int = |s: &mut Self, key: &str| -> Option<i64> {
            s.opt(attrs, path, key, |c, p, n| c.int(p, n))
                .ok()
                .flatten()
        };
        let max_jobs = int(self, "maxJobs");
        let speed_factor = int(self, "speedFactor");

        if required {
            for (key, present) in [
                ("hostName", attrs.contains_key("hostName")),
                ("sshUser", attrs.contains_key("sshUser")),
                ("sshKey", attrs.contains_key("sshKey")),
                ("maxJobs", attrs.contains_key("maxJobs")),
            ] {
                if !present {
                    self.c.error(
                        &join(path, key),
                        Some(node),
                        format!(
                            "used but not defined: the 2013 module writes every machine's {key} into /etc/nix.machines"
                        ),
                    );
                }
            }
            if !attrs.contains_key("system") && !attrs.contains_key("systems") {
                self.c.error(
                    &join(path, "systems"),
                    Some(node),
                    "used but not defined: give `system` or `systems`; the 2013 module writes one of them into every line of /etc/nix.machines",
                );
            }
        }
        if self.c.errors.len() != before {
            return None;
        }
        let mut m = BuildMachine::new(host_name.unwrap_or_default());
        // The 2013 line has no scheme; keep the machine honest about it.
        m.protocol = None;
        m.ssh_user = ssh_user;
        m.ssh_key = ssh_key;
        m.system = system;
        m.systems = systems.unwrap_or_default();
        m.supported_features = supported.unwrap_or_default();
        m.mandatory_features = mandatory.unwrap_or_default();
        m.max_jobs = max_jobs.unwrap_or(1);
        m.speed_factor = speed_factor.unwrap_or(1);
        Some(m)
    }

    /// A field of a `/etc/nix.machines` line: `build-remote.pl` splits the
    /// line at whitespace, so a value holding some would shift the columns.
    fn machine_word(&mut self, path: &str, node: Option<&Node>, value: &str) {
        if let Some(c) = value.chars().find(|c| c.is_whitespace()) {
            self.c.error(
                path,
                node,
                format!(
                    "contains whitespace ({}): build-remote.pl splits /etc/nix.machines at whitespace, so the columns would shift",
                    quote(&c.to_string())
                ),
            );
        }
    }

    /// `nix.envVars`: the user's definitions, then the module's own (the
    /// 2013 `types.attrs` merge lets the later definition win, and the
    /// module's came after the user's). A user value the module would
    /// silently override is refused instead.
    fn environment_2013(
        &mut self,
        nix: &BTreeMap<String, Node>,
        o: &Options,
    ) -> Option<BTreeMap<String, String>> {
        let mut module: Vec<(&str, String)> = vec![
            ("NIX_CONF_DIR", "/etc/nix".to_owned()),
            // The copy-from-other-stores substituter: remote stores
            // mounted under /var/run/nix/remote-stores.
            (
                "NIX_OTHER_STORES",
                "/var/run/nix/remote-stores/*/nix".to_owned(),
            ),
        ];
        if o.distributed_builds {
            module.extend([
                (
                    "NIX_BUILD_HOOK",
                    format!("{NIX_PREFIX}/libexec/nix/build-remote.pl"),
                ),
                ("NIX_REMOTE_SYSTEMS", MACHINES_FILE.to_owned()),
                ("NIX_CURRENT_LOAD", "/var/run/nix/current-load".to_owned()),
            ]);
        }
        if !o.proxy.is_empty() {
            for name in ["http_proxy", "https_proxy", "ftp_proxy"] {
                module.push((name, o.proxy.clone()));
            }
        }
        let mut env = o.env_vars.clone();
        let mut ok = true;
        let user_nodes = match nix.get("envVars").map(|n| &n.value) {
            Some(Value::Attrs(a)) => Some(a),
            _ => None,
        };
        for (name, value) in module {
            if let Some(theirs) = o.env_vars.get(name).filter(|v| **v != value) {
                let why = match name {
                    "http_proxy" | "https_proxy" | "ftp_proxy" => " from nix.proxy",
                    _ => "",
                };
                self.c.error(
                    &join("nix.envVars", name),
                    user_nodes.and_then(|a| a.get(name)),
                    format!(
                        "the 2013 module sets {name} itself{why}, to {}, and its value wins over {}: remove this one",
                        quote(&value),
                        quote(theirs)
                    ),
                );
                ok = false;
            }
            env.insert(name.to_owned(), value);
        }
        ok.then_some(env)
    }
}
