//! The 2023 generation: the nix-daemon module of NixOS 23.05. Read every
//! option from the value tree, apply defaults, renames and merges, and
//! compute what the module produces. Much of it (the option list, the
//! shared options' readers) the 2026 generation reuses.

use std::collections::BTreeMap;

use nixconf_format::{render_key, ConfValue, NixVersion};
use nixconf_machines::{render_module_machines, BuildMachine};

use crate::arch;
use crate::evaluator::{describe_conf, Evaluator, Opt};
use crate::output::{
    Evaluation, FailedAssertion, ModuleGeneration, ServiceConfig, SessionValue, Warning,
};
use crate::renames::rename_warnings;
use crate::settings::{Def, SettingsDefs, ORDER_AFTER, ORDER_NORMAL, PRIO_DEFAULT, PRIO_NORMAL};
use crate::top::top_keys;
use crate::tree::{Node, Value};
use crate::typecheck::join;

/// Evaluate a configuration with the 2023 module.
pub(crate) fn run(e: &mut Evaluator<'_, '_>, top: &BTreeMap<String, Node>) -> Option<Evaluation> {
    e.run_2023(top)
}

/// The key cache.nixos.org signs with; the module always trusts it.
pub const CACHE_NIXOS_ORG_KEY: &str =
    "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=";
/// The binary cache the module appends after the user's substituters.
pub const CACHE_NIXOS_ORG: &str = "https://cache.nixos.org/";
/// NixOS's `system.defaultChannel` default.
pub const DEFAULT_CHANNEL: &str = "https://nixos.org/channels/nixos-unstable";
/// NixOS's `ids.uids.nixbld`.
pub const DEFAULT_NIXBLD_UID: i64 = 30000;

/// The header NixOS writes at the top of nix.conf (all generations).
pub const NIX_CONF_HEADER: &str = "# WARNING: this file is generated from the nix.* options in\n\
# your NixOS configuration, typically\n\
# /etc/nixos/configuration.nix.  Do not edit it!\n";

/// The options under `nix` that the module declares, plus the renamed and
/// removed ones it still recognises.
pub(crate) const NIX_OPTIONS: &[&str] = &[
    "enable",
    "package",
    "distributedBuilds",
    "daemonCPUSchedPolicy",
    "daemonIOSchedClass",
    "daemonIOSchedPriority",
    "buildMachines",
    "envVars",
    "nrBuildUsers",
    "nixPath",
    "checkConfig",
    "checkAllErrors",
    "registry",
    "extraOptions",
    "settings",
    // renamed by the module's imports
    "useChroot",
    "chrootDirs",
    "daemonIONiceLevel",
    "readOnlyStore",
    "daemonNiceLevel",
    "useSandbox",
    "buildCores",
    "maxJobs",
    "sandboxPaths",
    "binaryCaches",
    "trustedBinaryCaches",
    "binaryCachePublicKeys",
    "autoOptimiseStore",
    "requireSignedBinaryCaches",
    "trustedUsers",
    "allowedUsers",
    "systemFeatures",
];

/// The options under `nix` the 2026 modules add to those of 2023.
pub(crate) const ONLY_IN_2026: &[&str] = &[
    "gc",
    "optimise",
    "sshServe",
    "channel",
    "firewall",
    "daemonUser",
    "daemonGroup",
];

/// Options of the 2013 module that the 2023 module no longer has.
pub(crate) const ONLY_IN_2013: [&str; 2] = ["proxy", "manualNixMachines"];

pub(crate) const REMOVED_NICE_LEVEL_NOTE: &str = "Consider nix.daemonCPUSchedPolicy instead.";

pub(crate) const DEFAULT_NIX_PATH: &[&str] = &[
    "nixpkgs=/nix/var/nix/profiles/per-user/root/channels/nixos",
    "nixos-config=/etc/nixos/configuration.nix",
    "/nix/var/nix/profiles/per-user/root/channels",
];

impl Evaluator<'_, '_> {
    /// Evaluate a configuration with the 2023 module.
    fn run_2023(&mut self, top: &BTreeMap<String, Node>) -> Option<Evaluation> {
        self.c
            .known_keys("", top, &top_keys(ModuleGeneration::Nixos2023));
        let version_text = self.opt(top, "", "nixVersion", |c, p, n| c.str(p, n));
        let gcc_arch = self.opt(top, "", "gccArch", |c, p, n| {
            // A JSON null means the host has no `gcc.arch`.
            c.nullable_str(p, n)
        });
        let nixbld_uid = self.nixbld_uid(top);
        let default_channel = self.nested_str(top, "system", "defaultChannel");
        let proxy_env = self.proxy_env(top);
        self.boot(top);

        let empty = BTreeMap::new();
        let nix = match top.get("nix") {
            Some(n) => self.c.attrs("nix", n).unwrap_or(&empty),
            None => &empty,
        };
        self.later_than_2013(nix);
        for (key, node) in nix
            .iter()
            .filter(|(k, _)| ONLY_IN_2026.contains(&k.as_str()))
        {
            self.c.error(
                &join("nix", key),
                Some(node),
                "an option of the 2026 NixOS modules, not of the 2023 module this \
                 configuration is evaluated with: use generation \"2026\" (the default)",
            );
        }
        let handled: Vec<&str> = ONLY_IN_2013.iter().chain(ONLY_IN_2026).copied().collect();
        self.c.known_keys_besides("nix", nix, NIX_OPTIONS, &handled);
        let o = self.nix_options(nix, false);

        let mut version_missing = false;
        let version = match (&version_text, o.enable) {
            (Ok(Some(text)), _) => match text.parse::<NixVersion>() {
                Ok(v) => Some(v),
                Err(e) => {
                    self.c
                        .error("nixVersion", top.get("nixVersion"), e.to_string());
                    None
                }
            },
            (Ok(None), true) => {
                version_missing = true;
                None
            }
            _ => None,
        };
        if let (Some(v), true) = (&version, o.enable) {
            // Nix 1.x went to the 2013 module above; 2.0 and 2.1 fall
            // between the two generations and neither module takes them.
            if !v.is_at_least("2.2") {
                self.c.error(
                    "nixVersion",
                    top.get("nixVersion"),
                    format!(
                        "Nix {v} is not supported: the 2023 NixOS module (nix.settings) \
                         supports Nix 2.2 or later, and the 2013 module (nix.useChroot, \
                         nix.binaryCaches) Nix 1.x; Nix 2.0 and 2.1 fall between them"
                    ),
                );
            }
        }

        let settings = self.settings(
            nix,
            &o,
            version.as_ref(),
            gcc_arch.clone().ok().flatten().flatten(),
        );
        // The options' lists and maps move into the result from here on.
        let mut o = o;
        let machines = o.build_machines.take();
        let registry = self.registry(nix, o.enable, true);

        if version_missing {
            // Reported after the options' own problems: a host fact is
            // less interesting than a mistake in the option tree.
            self.c.error(
                "nixVersion",
                None,
                "the version of the target Nix is required, for example nixVersion = \"2.18.1\"",
            );
        }
        let gcc_ok = gcc_arch.is_ok();
        let uid_ok = nixbld_uid.is_ok();
        let (Ok(default_channel), Ok(proxy_env)) = (default_channel, proxy_env) else {
            return None;
        };
        if !self.c.errors.is_empty() || !gcc_ok || !uid_ok {
            return None;
        }
        let nixbld_uid = nixbld_uid.ok().flatten().unwrap_or(DEFAULT_NIXBLD_UID);
        let warnings = std::mem::take(&mut o.warnings);
        let mut failed_assertions = Vec::new();
        let default_channel = default_channel.unwrap_or_else(|| DEFAULT_CHANNEL.to_owned());
        if o.nice_level_set {
            failed_assertions.push(FailedAssertion::Removed {
                option: "nix.daemonNiceLevel".to_owned(),
                note: REMOVED_NICE_LEVEL_NOTE.to_owned(),
            });
        }
        if !o.enable {
            return Some(Evaluation::disabled(
                version,
                warnings,
                failed_assertions,
                default_channel,
            ));
        }
        let (Some(version), Some(settings), Some(machines), Some(registry)) =
            (version, settings, machines, registry)
        else {
            return None;
        };

        let bad: Vec<&str> = machines
            .iter()
            .filter(|m| m.system.is_none() && m.systems.is_empty())
            .map(|m| m.host_name.as_str())
            .collect();
        if !bad.is_empty() {
            failed_assertions.insert(
                0,
                FailedAssertion::Assertion {
                    message: format!(
                        "At least one system type (via <varname>system</varname> or\n  \
                         <varname>systems</varname>) must be set for every build machine.\n  \
                         Invalid machine specifications:\n      {}",
                        bad.join("\n      ")
                    ),
                },
            );
        }

        let nr_build_users = match o.nr_build_users {
            Some(n) => n,
            None => self.default_nr_build_users(&settings)?,
        };
        if nixbld_uid.checked_add(nr_build_users.max(0)).is_none() {
            self.c.error(
                "nix.nrBuildUsers",
                nix.get("nrBuildUsers"),
                "the build users' uids overflow a 64-bit integer",
            );
            return None;
        }

        let mut nix_conf = String::with_capacity(1024);
        nix_conf.push_str(NIX_CONF_HEADER);
        for (i, (key, value)) in settings.iter().enumerate() {
            if i > 0 {
                nix_conf.push('\n');
            }
            if key.contains('=') {
                nix_conf.push_str(&render_key(key));
            } else {
                nix_conf.push_str(key);
            }
            nix_conf.push_str(" = ");
            value.render_into(&mut nix_conf);
        }
        nix_conf.push('\n');
        nix_conf.push_str(&o.extra_options);
        nix_conf.push('\n');

        let machines_text =
            (!machines.is_empty()).then(|| render_module_machines(&machines, &version));
        let registry_json = crate::output::registry_json(&registry);

        let mut session_variables: BTreeMap<String, SessionValue> = o
            .env_vars
            .iter()
            .map(|(k, v)| (k.clone(), SessionValue::Str(v.clone())))
            .collect();
        session_variables.insert(
            "NIX_PATH".to_owned(),
            SessionValue::List(std::mem::take(&mut o.nix_path)),
        );
        let mut service_environment = std::mem::take(&mut o.env_vars);
        service_environment.insert(
            "CURL_CA_BUNDLE".to_owned(),
            "/etc/ssl/certs/ca-certificates.crt".to_owned(),
        );
        service_environment.extend(proxy_env.unwrap_or_default());

        Some(Evaluation {
            module: ModuleGeneration::Nixos2023,
            nix_version: Some(version),
            enabled: true,
            nix_conf: Some(nix_conf),
            machines: machines_text,
            registry: Some(registry_json),
            registry_entries: registry,
            nr_build_users: Some(nr_build_users),
            nixbld_uid,
            settings: Some(settings),
            service_config: Some(ServiceConfig {
                nice: None,
                cpu_scheduling_policy: Some(o.cpu_policy.clone()),
                io_scheduling_class: Some(o.io_class.clone()),
                io_scheduling_priority: o.io_priority,
                limit_nofile: Some(1_048_576),
            }),
            service_environment: Some(service_environment),
            session_variables,
            tmpfiles: vec!["d /nix/var/nix/daemon-socket 0755 root root - -".to_owned()],
            warnings,
            failed_assertions,
            build_machines: machines,
            default_channel: Some(default_channel),
            check_config: o.check_config,
            check_all_errors: o.check_all_errors,
            distributed_builds: o.distributed_builds,
            nixos2026: None,
            build_users: Default::default(),
        })
    }

    /// `nix.nrBuildUsers`' `mkDefault`: no build users with
    /// `auto-allocate-uids`, else at least 32 and at least `max-jobs`.
    pub(crate) fn default_nr_build_users(
        &mut self,
        settings: &BTreeMap<String, ConfValue>,
    ) -> Option<i64> {
        let auto_allocate = match settings.get("auto-allocate-uids") {
            None => false,
            Some(ConfValue::Bool(b)) => *b,
            Some(other) => {
                self.c.error(
                    "nix.settings.auto-allocate-uids",
                    None,
                    format!(
                        "expected a boolean (the default of nix.nrBuildUsers tests it), got {}",
                        describe_conf(other)
                    ),
                );
                return None;
            }
        };
        if auto_allocate {
            return Some(0);
        }
        let jobs = match settings.get("max-jobs") {
            Some(ConfValue::Int(i)) => *i,
            _ => 0,
        };
        Some(jobs.max(32))
    }

    pub(crate) fn nixbld_uid(&mut self, top: &BTreeMap<String, Node>) -> Opt<i64> {
        let Some(ids) = top.get("ids") else {
            return Ok(None);
        };
        let ids = self.c.attrs("ids", ids).ok_or(())?;
        self.c.known_keys("ids", ids, &["uids", "gids"]);
        let Some(uids) = ids.get("uids") else {
            return Ok(None);
        };
        let uids = self.c.attrs("ids.uids", uids).ok_or(())?;
        self.c.known_keys("ids.uids", uids, &["nixbld"]);
        self.opt(uids, "ids.uids", "nixbld", |c, p, n| c.int(p, n))
    }

    fn nested_str(&mut self, top: &BTreeMap<String, Node>, outer: &str, key: &str) -> Opt<String> {
        let Some(node) = top.get(outer) else {
            return Ok(None);
        };
        let attrs = self.c.attrs(outer, node).ok_or(())?;
        self.c.known_keys(outer, attrs, &[key]);
        self.opt(attrs, outer, key, |c, p, n| c.str(p, n))
    }

    pub(crate) fn proxy_env(
        &mut self,
        top: &BTreeMap<String, Node>,
    ) -> Opt<BTreeMap<String, String>> {
        let Some(node) = top.get("networking") else {
            return Ok(None);
        };
        let net = self.c.attrs("networking", node).ok_or(())?;
        self.c.known_keys("networking", net, &["proxy"]);
        let Some(proxy) = net.get("proxy") else {
            return Ok(None);
        };
        let proxy = self.c.attrs("networking.proxy", proxy).ok_or(())?;
        self.c.known_keys("networking.proxy", proxy, &["envVars"]);
        self.opt(proxy, "networking.proxy", "envVars", |c, p, n| {
            c.env_vars(p, n)
        })
    }

    /// `boot.readOnlyNixStore`, where `nix.readOnlyStore` now goes; it
    /// changes nothing this crate produces, but its type is still checked.
    pub(crate) fn boot(&mut self, top: &BTreeMap<String, Node>) {
        let Some(node) = top.get("boot") else {
            return;
        };
        if let Some(boot) = self.c.attrs("boot", node) {
            self.c.known_keys("boot", boot, &["readOnlyNixStore"]);
            let _ = self.opt(boot, "boot", "readOnlyNixStore", |c, p, n| c.bool(p, n));
        }
    }

    pub(crate) fn nix_options(
        &mut self,
        nix: &BTreeMap<String, Node>,
        gen_2026: bool,
    ) -> NixOptions {
        // The 2026 modules take `nix.package`, and import their renames
        // from two modules.
        let package_allowed = gen_2026;
        let mut o = NixOptions::default();
        let b = |s: &mut Self, key: &str, default: bool| -> bool {
            s.opt(nix, "nix", key, |c, p, n| c.bool(p, n))
                .ok()
                .flatten()
                .unwrap_or(default)
        };
        o.enable = b(self, "enable", true);
        o.distributed_builds = b(self, "distributedBuilds", false);
        o.check_config = b(self, "checkConfig", true);
        o.check_all_errors = b(self, "checkAllErrors", true);
        if let Some(node) = nix.get("package").filter(|_| !package_allowed) {
            self.c.error(
                "nix.package",
                Some(node),
                "a package cannot be given here: name the target Nix's version with the top-level `nixVersion`",
            );
        }
        o.cpu_policy = self
            .opt(nix, "nix", "daemonCPUSchedPolicy", |c, p, n| {
                c.one_of(p, n, &[Some("other"), Some("batch"), Some("idle")])
            })
            .ok()
            .flatten()
            .flatten()
            .unwrap_or_else(|| "other".to_owned());
        o.io_class = self
            .opt(nix, "nix", "daemonIOSchedClass", |c, p, n| {
                c.one_of(p, n, &[Some("best-effort"), Some("idle")])
            })
            .ok()
            .flatten()
            .flatten()
            .unwrap_or_else(|| "best-effort".to_owned());
        o.io_priority = self.io_priority(nix);
        o.nr_build_users = self
            .opt(nix, "nix", "nrBuildUsers", |c, p, n| c.int(p, n))
            .ok()
            .flatten();
        o.nix_path = self
            .opt(nix, "nix", "nixPath", |c, p, n| c.str_list(p, n))
            .ok()
            .flatten()
            .unwrap_or_else(|| DEFAULT_NIX_PATH.iter().map(|s| (*s).to_owned()).collect());
        o.env_vars = self
            .opt(nix, "nix", "envVars", |c, p, n| c.env_vars(p, n))
            .ok()
            .flatten()
            .unwrap_or_default();
        o.extra_options = self
            .opt(nix, "nix", "extraOptions", |c, p, n| match &n.value {
                Value::Str(s) => Some(s.clone()),
                _ => {
                    c.error(
                        p,
                        Some(n),
                        format!("expected a string of lines, got {}", n.describe()),
                    );
                    None
                }
            })
            .ok()
            .flatten()
            .unwrap_or_default();
        if let Some(node) = nix.get("readOnlyStore") {
            let _ = self.c.bool("nix.readOnlyStore", node);
        }
        o.nice_level_set = nix.contains_key("daemonNiceLevel");
        o.build_machines = self.build_machines(nix);
        o.warnings = rename_warnings(nix, gen_2026);
        o
    }

    /// The 2013 module's options that did not survive into the 2023 one,
    /// refused with what took their place (the unknown-option check skips
    /// them afterwards: one message each).
    pub(crate) fn later_than_2013(&mut self, nix: &BTreeMap<String, Node>) {
        for (key, instead) in ONLY_IN_2013.iter().zip([
            "give the proxy with networking.proxy.envVars (http_proxy, https_proxy, ftp_proxy)",
            "this module writes /etc/nix/machines only from nix.buildMachines: leave that empty to write the file yourself",
        ]) {
            if let Some(node) = nix.get(*key) {
                self.c.error(
                    &join("nix", key),
                    Some(node),
                    format!(
                        "an option of the 2013 NixOS module (Nix 1.x targets), gone from the \
                         2023 module that Nix 2.2 or later gets: {instead}"
                    ),
                );
            }
        }
    }

    /// `nix.daemonIOSchedPriority`, with `nix.daemonIONiceLevel` renamed
    /// into it: both are definitions of one `types.int`, so they must agree.
    fn io_priority(&mut self, nix: &BTreeMap<String, Node>) -> i64 {
        let direct = self
            .opt(nix, "nix", "daemonIOSchedPriority", |c, p, n| c.int(p, n))
            .ok()
            .flatten();
        let renamed = self
            .opt(nix, "nix", "daemonIONiceLevel", |c, p, n| c.int(p, n))
            .ok()
            .flatten();
        match (direct, renamed) {
            (Some(a), Some(b)) if a != b => {
                self.c.error(
                    "nix.daemonIOSchedPriority",
                    nix.get("daemonIOSchedPriority"),
                    format!(
                        "has conflicting definitions: `nix.daemonIOSchedPriority` sets {a}, \
                         `nix.daemonIONiceLevel` (renamed to it) sets {b}"
                    ),
                );
                4
            }
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => 4,
        }
    }

    fn settings(
        &mut self,
        nix: &BTreeMap<String, Node>,
        o: &NixOptions,
        version: Option<&NixVersion>,
        gcc_arch: Option<String>,
    ) -> Option<BTreeMap<String, ConfValue>> {
        let mut defs = SettingsDefs::default();
        let mut ok = true;
        // A `nix.settings = mkForce { ... }` discards the module's own.
        if o.enable && self.settings_prio() <= PRIO_NORMAL {
            // The module's own definitions come first in the module
            // system's order.
            let strs =
                |xs: Vec<String>| ConfValue::List(xs.into_iter().map(ConfValue::Str).collect());
            let module = |value, prio, order| Def {
                value,
                prio,
                order,
                origin: None,
            };
            defs.add(
                "trusted-public-keys",
                module(
                    strs(vec![CACHE_NIXOS_ORG_KEY.to_owned()]),
                    PRIO_NORMAL,
                    ORDER_NORMAL,
                ),
            );
            defs.add(
                "substituters",
                module(
                    strs(vec![CACHE_NIXOS_ORG.to_owned()]),
                    PRIO_NORMAL,
                    ORDER_AFTER,
                ),
            );
            let base = ["nixos-test", "benchmark", "big-parallel", "kvm"];
            let inferiors = gcc_arch.as_deref().map_or(&[][..], arch::inferiors);
            let mut features = Vec::with_capacity(base.len() + 1 + inferiors.len());
            features.extend(base.map(|s| ConfValue::Str(s.to_owned())));
            if let Some(arch) = &gcc_arch {
                let gccarch = |x: &str| ConfValue::Str(["gccarch-", x].concat());
                features.push(gccarch(arch));
                features.extend(inferiors.iter().map(|x| gccarch(x)));
            }
            defs.add(
                "system-features",
                module(ConfValue::List(features), PRIO_DEFAULT, ORDER_NORMAL),
            );
            if !o.distributed_builds {
                defs.add(
                    "builders",
                    module(ConfValue::Null, PRIO_NORMAL, ORDER_NORMAL),
                );
            }
            if version.is_some_and(|v| v.is_at_least("2.3pre")) {
                defs.add(
                    "sandbox-fallback",
                    module(ConfValue::Bool(false), PRIO_NORMAL, ORDER_NORMAL),
                );
            }
        }
        ok &= self.user_settings(&mut defs, nix, o.enable);
        let merged = defs.merge(self.c, true);
        if !ok {
            return None;
        }
        merged
    }
}

#[derive(Debug, Default)]
pub(crate) struct NixOptions {
    pub(crate) enable: bool,
    pub(crate) distributed_builds: bool,
    pub(crate) check_config: bool,
    pub(crate) check_all_errors: bool,
    pub(crate) cpu_policy: String,
    pub(crate) io_class: String,
    pub(crate) io_priority: i64,
    pub(crate) nr_build_users: Option<i64>,
    pub(crate) nix_path: Vec<String>,
    pub(crate) env_vars: BTreeMap<String, String>,
    pub(crate) extra_options: String,
    pub(crate) nice_level_set: bool,
    pub(crate) build_machines: Option<Vec<BuildMachine>>,
    pub(crate) warnings: Vec<Warning>,
}
