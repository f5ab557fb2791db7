//! The 2026 generation: today's NixOS `nix.*` modules (`nix.nix`,
//! `nix-channel.nix`, `nix-flakes.nix`, `nix-remote-build.nix`,
//! `nix-daemon.nix`, `nix-daemon-firewall.nix`, `nix-gc.nix`,
//! `nix-optimise.nix`, `nix-ssh-serve.nix` and the `nixConf` format).
//!
//! What is the same as in 2023 (the option types, build machines, the
//! registry, the renamed options, `nix.settings` merging) is shared with
//! [`super::nixos2023`]; this module adds what changed: the module's own
//! definitions of `nix.settings` (`trusted-users` and `system-features`
//! now appended to, `sandbox-fallback` ungated, the unprivileged daemon's
//! settings), `extra-*` keys last in nix.conf, the new options and the
//! outputs built from them in [`super::units2026`].

use std::collections::BTreeMap;

use nixconf_format::{render_key, ConfValue, NixVersion};
use nixconf_machines::render_module_machines;

use super::arch2026;
use super::nixos2023::{
    CACHE_NIXOS_ORG, CACHE_NIXOS_ORG_KEY, DEFAULT_NIXBLD_UID, NIX_CONF_HEADER, NIX_OPTIONS,
    ONLY_IN_2013, ONLY_IN_2026, REMOVED_NICE_LEVEL_NOTE,
};
use super::options2026::{
    self as opts, get, parse_package, Read2026, ReadGroup, Val, STORE_PREFIX,
};
use super::units2026::{self, Facts};
use crate::evaluator::Evaluator;
use crate::output::{Evaluation, FailedAssertion, ModuleGeneration, ServiceConfig, SessionValue};
use crate::settings::{Def, SettingsDefs, ORDER_AFTER, ORDER_NORMAL, PRIO_DEFAULT, PRIO_NORMAL};
use crate::top::top_keys;
use crate::tree::{Node, Value};

/// `system.defaultChannel`'s default in 2026.
pub const DEFAULT_CHANNEL_2026: &str = "https://channels.nixos.org/nixos-unstable";

const READ_ONLY_STORE_NOTE: &str = "Please use the `boot.nixStoreMountOpts' option to define \
     mount options for the Nix store, including 'ro'";

/// The unprivileged daemon's `id-count` and `start-id` defaults.
const ID_COUNT: i64 = 128 * 65536;
const START_ID: i64 = 832 * 1024 * 1024;

/// Evaluate a configuration with the 2026 modules.
pub(crate) fn run(e: &mut Evaluator<'_, '_>, top: &BTreeMap<String, Node>) -> Option<Evaluation> {
    e.run_2026(top)
}

impl Evaluator<'_, '_> {
    /// Evaluate a configuration with the 2026 modules.
    pub(crate) fn run_2026(&mut self, top: &BTreeMap<String, Node>) -> Option<Evaluation> {
        self.c
            .known_keys("", top, &top_keys(ModuleGeneration::Nixos2026));
        let version_text = self.opt(top, "", "nixVersion", |c, p, n| c.str(p, n));
        let pname = self.opt(top, "", "nixPname", |c, p, n| c.str(p, n));
        let gcc_arch = self.opt(top, "", "gccArch", |c, p, n| c.nullable_str(p, n));
        let ca_bundle = self.opt(top, "", "caBundle", |c, p, n| c.str(p, n));
        let nixbld_uid = self.nixbld_uid(top);
        // `system.stateVersion` is type-checked only: what it could change
        // here (nftables' `flushRuleset` default) follows
        // `networking.nftables.enable` for every release (see options2026).
        let (default_channel, _state_version) = self.system_2026(top);
        let (proxy_env, nftables) = self.networking_2026(top);
        let read_only_nix_store = self.boot_2026(top);

        let empty = BTreeMap::new();
        let nix = match top.get("nix") {
            Some(n) => self.c.attrs("nix", n).unwrap_or(&empty),
            None => &empty,
        };
        self.later_than_2013(nix);
        let known: Vec<&str> = NIX_OPTIONS.iter().chain(ONLY_IN_2026).copied().collect();
        self.c.known_keys_besides("nix", nix, &known, &ONLY_IN_2013);
        let o = self.nix_options(nix, true);
        let gc = self.read_group(nix, "nix", "gc", opts::GC);
        let optimise = self.read_group(nix, "nix", "optimise", opts::OPTIMISE);
        let ssh_serve = self.read_group(nix, "nix", "sshServe", opts::SSH_SERVE);
        let channel = self.read_group(nix, "nix", "channel", opts::CHANNEL);
        let firewall = self.read_group(nix, "nix", "firewall", opts::FIREWALL);
        let daemon_user = self.opt(nix, "nix", "daemonUser", |c, p, n| c.str(p, n));
        let daemon_group = self.opt(nix, "nix", "daemonGroup", |c, p, n| c.str(p, n));
        let package = self.package_2026(nix, &version_text, &pname);

        let read = match (
            gc,
            optimise,
            ssh_serve,
            channel,
            firewall,
            nftables,
            daemon_user,
            daemon_group,
        ) {
            (
                Some(gc),
                Some(optimise),
                Some(ssh_serve),
                Some(channel),
                Some(firewall),
                Some(nftables),
                Ok(user),
                Ok(group),
            ) => Some(Read2026 {
                gc,
                optimise,
                ssh_serve,
                channel,
                firewall,
                nftables,
                daemon_user: user.unwrap_or_else(|| "root".to_owned()),
                daemon_group: group.unwrap_or_else(|| "root".to_owned()),
            }),
            _ => None,
        };
        let package = package?;
        let gcc_arch = gcc_arch.ok()?.flatten();
        let read = read?;
        let needs_version = o.enable || get(&read.ssh_serve, "enable").bool();
        let lix = package.as_ref().is_some_and(|(_, pname, _)| pname == "lix");

        if let Some((version, _, _)) = package
            .as_ref()
            .filter(|p| o.enable && !p.0.is_at_least("2.2"))
        {
            // The nixConf format's `assert isNixAtLeast "2.2"`: about no
            // one option.
            self.c.error(
                "",
                top.get("nixVersion"),
                format!(
                    "assertion '(isNixAtLeast \"2.2\")' failed: Nix {version} is not supported: \
                     the NixOS modules of 2023 and 2026 (nix.settings) support Nix 2.2 or later, \
                     and the 2013 module (nix.useChroot, nix.binaryCaches) Nix 1.x; Nix 2.0 and \
                     2.1 fall between them"
                ),
            );
            return None;
        }

        let settings = self.settings_2026(nix, o.enable, lix, &o, &read, gcc_arch.as_deref());
        let mut o = o;
        let machines = o.build_machines.take();
        let registry = self.registry(nix, o.enable, false);
        let uid_ok = nixbld_uid.is_ok();
        let (Ok(default_channel), Ok(proxy_env), Ok(ca_bundle)) =
            (default_channel, proxy_env, ca_bundle)
        else {
            return None;
        };
        if package.is_none() && needs_version {
            self.c.error(
                "nixVersion",
                None,
                "the version of the target Nix is required, for example nixVersion = \"2.31.2\" \
                 (or nix.package = \"2.31.2\")",
            );
        }
        if !self.c.errors.is_empty() || !uid_ok {
            return None;
        }
        let (Some(settings), Some(machines), Some(registry)) = (settings, machines, registry)
        else {
            return None;
        };
        // Without a version nothing that reads it is produced; the
        // placeholder only fills the fields.
        let given_version = package.as_ref().map(|p| p.0.clone());
        let (version, pname, package_path) = match package {
            Some(p) => p,
            None => ("2.2".parse().ok()?, "nix".to_owned(), None),
        };
        let nixbld_uid = nixbld_uid.ok().flatten().unwrap_or(DEFAULT_NIXBLD_UID);
        let unprivileged = read.daemon_user != "root";

        // Assertions, in the order NixOS lists them.
        let mut failed_assertions = Vec::new();
        if read_only_nix_store {
            failed_assertions.push(FailedAssertion::Removed {
                option: "boot.readOnlyNixStore".to_owned(),
                note: READ_ONLY_STORE_NOTE.to_owned(),
            });
        }
        if o.nice_level_set {
            failed_assertions.push(FailedAssertion::Removed {
                option: "nix.daemonNiceLevel".to_owned(),
                note: REMOVED_NICE_LEVEL_NOTE.to_owned(),
            });
        }
        if unprivileged {
            self.daemon_user_assertions(&read, &settings, &mut failed_assertions)?;
        }
        if get(&read.firewall, "enable").bool() {
            if !get(&read.nftables, "enable").bool() {
                failed_assertions.push(FailedAssertion::Assertion {
                    message: "The nix-daemon firewall requires an nftables-based firewall.\n\
                              networking.nftables.enable must be set to true.\n"
                        .to_owned(),
                });
            }
            if get(&read.nftables, "flushRuleset").bool() {
                failed_assertions.push(FailedAssertion::Assertion {
                    message: "The nix-daemon firewall writes extra tables to nftables.\n\
                              networking.nftables.flushRuleset must be set to false.\n"
                        .to_owned(),
                });
            }
        }
        if o.enable {
            let bad: Vec<&str> = machines
                .iter()
                .filter(|m| m.system.is_none() && m.systems.is_empty())
                .map(|m| m.host_name.as_str())
                .collect();
            if !bad.is_empty() {
                failed_assertions.push(FailedAssertion::Assertion {
                    message: format!(
                        "At least one system type (via <varname>system</varname> or\n  \
                         <varname>systems</varname>) must be set for every build machine.\n  \
                         Invalid machine specifications:\n      {}",
                        bad.join("\n      ")
                    ),
                });
            }
        }
        for (group, name) in [(&read.optimise, "optimise"), (&read.gc, "gc")] {
            if get(group, "automatic").bool() && !o.enable {
                failed_assertions.push(FailedAssertion::Assertion {
                    message: format!("nix.{name}.automatic requires nix.enable"),
                });
            }
        }

        let daemon_on = o.enable && !lix;
        let nr_build_users = if !o.enable {
            None
        } else if lix {
            o.nr_build_users
        } else {
            match o.nr_build_users {
                Some(n) => Some(n),
                None => Some(self.default_nr_build_users(&settings)?),
            }
        };
        if let Some(n) = nr_build_users.filter(|_| daemon_on) {
            if nixbld_uid.checked_add(n.max(0)).is_none() {
                self.c.error(
                    "nix.nrBuildUsers",
                    nix.get("nrBuildUsers"),
                    "the build users' uids overflow a 64-bit integer",
                );
                return None;
            }
        }

        let nix_conf = o
            .enable
            .then(|| render_nix_conf(&settings, &o.extra_options));
        let machines_text =
            (o.enable && !machines.is_empty()).then(|| render_module_machines(&machines, &version));
        let registry_json = o.enable.then(|| crate::output::registry_json(&registry));

        let channel_on = get(&read.channel, "enable").bool();
        let nix_path = if nix.contains_key("nixPath") {
            std::mem::take(&mut o.nix_path)
        } else if channel_on {
            super::nixos2023::DEFAULT_NIX_PATH
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        } else {
            Vec::new()
        };
        let mut session_variables = BTreeMap::new();
        if daemon_on {
            session_variables.extend(
                o.env_vars
                    .iter()
                    .map(|(k, v)| (k.clone(), SessionValue::Str(v.clone()))),
            );
        }
        if o.enable {
            session_variables.insert("NIX_PATH".to_owned(), SessionValue::List(nix_path.clone()));
        }

        let service_config = daemon_on.then(|| ServiceConfig {
            nice: None,
            cpu_scheduling_policy: Some(o.cpu_policy.clone()),
            io_scheduling_class: Some(o.io_class.clone()),
            io_scheduling_priority: o.io_priority,
            limit_nofile: None,
        });
        let package_path =
            package_path.unwrap_or_else(|| format!("{STORE_PREFIX}{pname}-{version}"));
        let default_channel = default_channel.unwrap_or_else(|| DEFAULT_CHANNEL_2026.to_owned());
        // Root's subscription, written by a render only with channels on.
        let subscription = (o.enable && channel_on).then(|| default_channel.clone());
        let facts = Facts {
            enable: o.enable,
            lix,
            version: version.clone(),
            package_path,
            id_count: settings.get("id-count").cloned(),
            start_id: settings.get("start-id").cloned(),
            read,
            env_vars: std::mem::take(&mut o.env_vars),
            proxy_env,
            ca_bundle,
            cpu_policy: std::mem::take(&mut o.cpu_policy),
            io_class: std::mem::take(&mut o.io_class),
            io_priority: o.io_priority,
            nr_build_users: nr_build_users.filter(|_| daemon_on).unwrap_or(0),
            nixbld_uid,
            nix_path,
            default_channel,
            check_config: o.check_config,
            check_all_errors: o.check_all_errors,
        };
        let tmpfiles = units2026::host_tmpfiles(&facts);
        let service_environment = units2026::host_environment(&facts);

        Some(Evaluation {
            module: ModuleGeneration::Nixos2026,
            nix_version: given_version,
            enabled: o.enable,
            nix_conf,
            machines: machines_text,
            registry: registry_json,
            registry_entries: registry,
            nr_build_users,
            nixbld_uid,
            settings: o.enable.then_some(settings),
            service_config,
            service_environment,
            session_variables,
            tmpfiles,
            warnings: std::mem::take(&mut o.warnings),
            failed_assertions,
            build_machines: machines,
            default_channel: subscription,
            check_config: o.check_config,
            check_all_errors: o.check_all_errors,
            distributed_builds: o.distributed_builds,
            build_users: Default::default(),
            nixos2026: Some(Box::new(crate::Nixos2026 { facts })),
        })
    }

    /// `system.defaultChannel` and `system.stateVersion`.
    fn system_2026(
        &mut self,
        top: &BTreeMap<String, Node>,
    ) -> (crate::evaluator::Opt<String>, crate::evaluator::Opt<String>) {
        let Some(node) = top.get("system") else {
            return (Ok(None), Ok(None));
        };
        let Some(system) = self.c.attrs("system", node) else {
            return (Err(()), Err(()));
        };
        self.c
            .known_keys("system", system, &["defaultChannel", "stateVersion"]);
        (
            self.opt(system, "system", "defaultChannel", |c, p, n| c.str(p, n)),
            self.opt(system, "system", "stateVersion", |c, p, n| c.str(p, n)),
        )
    }

    /// `networking.proxy.envVars` and `networking.nftables`.
    #[allow(clippy::type_complexity)]
    fn networking_2026(
        &mut self,
        top: &BTreeMap<String, Node>,
    ) -> (
        crate::evaluator::Opt<BTreeMap<String, String>>,
        Option<ReadGroup>,
    ) {
        let empty = BTreeMap::new();
        let net = match top.get("networking") {
            Some(node) => match self.c.attrs("networking", node) {
                Some(n) => n,
                None => return (Err(()), None),
            },
            None => &empty,
        };
        self.c.known_keys("networking", net, &["proxy", "nftables"]);
        let flush_given = net
            .get("nftables")
            .is_some_and(|n| matches!(&n.value, Value::Attrs(a) if a.contains_key("flushRuleset")));
        let nftables = self
            .read_group(net, "networking", "nftables", opts::NFTABLES)
            .map(|mut group| {
                let flush = opts::flush_ruleset(&group, flush_given);
                if get(&group, "flushRuleset").bool() != flush {
                    group.to_mut().insert("flushRuleset", Val::Bool(flush));
                }
                group
            });
        let proxy = match net.get("proxy") {
            None => Ok(None),
            Some(p) => match self.c.attrs("networking.proxy", p) {
                Some(proxy) => {
                    self.c.known_keys("networking.proxy", proxy, &["envVars"]);
                    self.opt(proxy, "networking.proxy", "envVars", |c, p, n| {
                        c.env_vars(p, n)
                    })
                }
                None => Err(()),
            },
        };
        (proxy, nftables)
    }

    /// `boot.readOnlyNixStore`, now a removed option (and where
    /// `nix.readOnlyStore` is renamed to): whether it is defined.
    fn boot_2026(&mut self, top: &BTreeMap<String, Node>) -> bool {
        let mut defined = false;
        if let Some(node) = top.get("boot") {
            if let Some(boot) = self.c.attrs("boot", node) {
                self.c.known_keys("boot", boot, &["readOnlyNixStore"]);
                defined = boot.contains_key("readOnlyNixStore");
            }
        }
        if let Some(Some(nix)) = top.get("nix").map(|n| match &n.value {
            Value::Attrs(a) => Some(a),
            _ => None,
        }) {
            if let Some(node) = nix.get("readOnlyStore") {
                let _ = self.c.bool("nix.readOnlyStore", node);
                defined = true;
            }
        }
        defined
    }

    /// The target Nix: `nix.package` (a version or a store path) and the
    /// top-level `nixVersion`/`nixPname`, which must agree with it.
    #[allow(clippy::type_complexity)]
    fn package_2026(
        &mut self,
        nix: &BTreeMap<String, Node>,
        version_text: &crate::evaluator::Opt<String>,
        pname: &crate::evaluator::Opt<String>,
    ) -> Option<Option<(NixVersion, String, Option<String>)>> {
        let package = match nix.get("package") {
            None => None,
            Some(node) => {
                let text = self.c.str("nix.package", node)?;
                match parse_package(&text) {
                    Some(p) => Some((node, p)),
                    None => {
                        self.c.error(
                            "nix.package",
                            Some(node),
                            format!(
                                "expected a Nix version (\"2.24.9\", \"lix-2.93.3\") or a store path \
                                 (/nix/store/<hash>-nix-2.24.9), got {}",
                                node.describe()
                            ),
                        );
                        return None;
                    }
                }
            }
        };
        let (Ok(version_text), Ok(pname)) = (version_text, pname) else {
            return None;
        };
        let (text, pname, path) = match (package, version_text) {
            (Some((node, p)), given) => {
                let agrees = given.as_ref().map_or(true, |v| *v == p.version)
                    && pname.as_ref().map_or(true, |n| *n == p.pname);
                if !agrees {
                    self.c.error(
                        "nix.package",
                        Some(node),
                        format!(
                            "names {}-{}, but nixVersion/nixPname say otherwise: give one of them",
                            p.pname, p.version
                        ),
                    );
                    return None;
                }
                (p.version, p.pname, p.path)
            }
            (None, Some(v)) => (
                v.clone(),
                pname.clone().unwrap_or_else(|| "nix".to_owned()),
                None,
            ),
            // Required only where it is used: reported by the caller,
            // after the options' own problems.
            (None, None) => return Some(None),
        };
        match text.parse::<NixVersion>() {
            Ok(v) => Some(Some((v, pname, path))),
            Err(e) => {
                self.c.error("nixVersion", None, e.to_string());
                None
            }
        }
    }

    /// `nix.settings` with the 2026 modules' own definitions.
    fn settings_2026(
        &mut self,
        nix: &BTreeMap<String, Node>,
        enable: bool,
        lix: bool,
        o: &super::nixos2023::NixOptions,
        read: &Read2026,
        gcc_arch: Option<&str>,
    ) -> Option<BTreeMap<String, ConfValue>> {
        let mut defs = SettingsDefs::default();
        // A `nix.settings = mkForce { ... }` discards the modules' own
        // definitions of it.
        let forced = self.settings_prio() < PRIO_NORMAL;
        let module_defines = read.daemon_user != "root"
            || (get(&read.ssh_serve, "enable").bool() && get(&read.ssh_serve, "trusted").bool());
        let enable = enable && !forced;
        let module = |value, prio, order| Def {
            value,
            prio,
            order,
            origin: None,
        };
        let strs = |xs: &[&str]| {
            ConfValue::List(xs.iter().map(|s| ConfValue::Str((*s).to_owned())).collect())
        };
        let mut features: Vec<ConfValue> = ["nixos-test", "benchmark", "big-parallel", "kvm"]
            .map(|s| ConfValue::Str(s.to_owned()))
            .to_vec();
        if let Some(arch) = gcc_arch {
            let gccarch = |x: &str| ConfValue::Str(["gccarch-", x].concat());
            features.push(gccarch(arch));
            features.extend(arch2026::inferiors(arch).iter().map(|x| gccarch(x)));
        }
        let features = ConfValue::List(features);
        // Both the option's default and a definition of nix.nix: the
        // default only counts without the definition.
        defs.defaults_2026 = Some(None);
        if enable {
            // nix.nix
            defs.add(
                "substituters",
                module(strs(&[CACHE_NIXOS_ORG]), PRIO_NORMAL, ORDER_AFTER),
            );
            defs.add(
                "system-features",
                module(features, PRIO_NORMAL, ORDER_NORMAL),
            );
            defs.add(
                "trusted-public-keys",
                module(strs(&[CACHE_NIXOS_ORG_KEY]), PRIO_NORMAL, ORDER_NORMAL),
            );
            defs.add(
                "trusted-users",
                module(strs(&["root"]), PRIO_NORMAL, ORDER_NORMAL),
            );
            // nix-remote-build.nix
            if !o.distributed_builds {
                defs.add(
                    "builders",
                    module(ConfValue::Null, PRIO_NORMAL, ORDER_NORMAL),
                );
            }
            // nix-daemon.nix
            if !lix {
                defs.add(
                    "sandbox-fallback",
                    module(ConfValue::Bool(false), PRIO_NORMAL, ORDER_NORMAL),
                );
            }
        } else {
            defs.defaults_2026 = Some(Some(features));
        }
        // nix-ssh-serve.nix
        let ssh = &read.ssh_serve;
        if !forced && get(ssh, "enable").bool() && get(ssh, "trusted").bool() {
            defs.add(
                "trusted-users",
                module(strs(&["nix-ssh"]), PRIO_NORMAL, ORDER_NORMAL),
            );
        }
        // nix-daemon.nix's unprivileged daemon
        if !forced && read.daemon_user != "root" {
            defs.add(
                "auto-allocate-uids",
                module(ConfValue::Bool(true), PRIO_NORMAL, ORDER_NORMAL),
            );
            defs.add(
                "build-users-group",
                module(ConfValue::Str(String::new()), PRIO_NORMAL, ORDER_NORMAL),
            );
            defs.add(
                "id-count",
                module(ConfValue::Int(ID_COUNT), PRIO_DEFAULT, ORDER_NORMAL),
            );
            defs.add(
                "sandbox",
                module(ConfValue::Bool(true), PRIO_NORMAL, ORDER_NORMAL),
            );
            defs.add(
                "start-id",
                module(ConfValue::Int(START_ID), PRIO_DEFAULT, ORDER_NORMAL),
            );
        }
        let ok = self.user_settings(&mut defs, nix, enable || module_defines);
        let merged = defs.merge(self.c, true);
        if !ok {
            return None;
        }
        merged
    }

    /// The unprivileged daemon's three assertions; `None` when
    /// `experimental-features` is not there to test (an evaluation error
    /// in NixOS, about no one option).
    fn daemon_user_assertions(
        &mut self,
        read: &Read2026,
        settings: &BTreeMap<String, ConfValue>,
        out: &mut Vec<FailedAssertion>,
    ) -> Option<()> {
        if read.daemon_group == "root" {
            out.push(FailedAssertion::Assertion {
                message: "The Nix daemon cannot run as the root group when not running as the root user.\n"
                    .to_owned(),
            });
        }
        let features = match settings.get("experimental-features") {
            Some(ConfValue::List(items)) => items,
            Some(other) => {
                self.c.error(
                    "nix.settings.experimental-features",
                    None,
                    format!(
                        "expected a list (nix.daemonUser tests its elements), got {}",
                        crate::evaluator::describe_conf(other)
                    ),
                );
                return None;
            }
            None => {
                self.c.error(
                    "",
                    None,
                    "attribute 'experimental-features' missing: nix.daemonUser needs \
                     nix.settings.experimental-features (with local-overlay-store and auto-allocate-uids)",
                );
                return None;
            }
        };
        for feature in ["local-overlay-store", "auto-allocate-uids"] {
            if !features.contains(&ConfValue::Str(feature.to_owned())) {
                out.push(FailedAssertion::Assertion {
                    message: format!(
                        "Nix must have the `{feature}` experimental feature when not running as the root user.\n"
                    ),
                });
            }
        }
        Some(())
    }
}

/// nix.conf as the 2026 `nixConf` format writes it: the header, the
/// settings other than `extra-*`, then the `extra-*` ones (nix#9487), then
/// `extraOptions`.
fn render_nix_conf(settings: &BTreeMap<String, ConfValue>, extra_options: &str) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str(NIX_CONF_HEADER);
    for extra in [false, true] {
        let mut first = true;
        for (key, value) in settings
            .iter()
            .filter(|(k, _)| k.starts_with("extra-") == extra)
        {
            if !first {
                out.push('\n');
            }
            first = false;
            if key.contains('=') {
                out.push_str(&render_key(key));
            } else {
                out.push_str(key);
            }
            out.push_str(" = ");
            value.render_into(&mut out);
        }
        out.push('\n');
    }
    out.push_str(extra_options);
    out.push('\n');
    out
}
