//! What an evaluation produces: the typed result, its JSON form (the keys
//! of the conformance corpus) and the files a render writes.

use std::collections::BTreeMap;

use nixconf_format::{ConfValue, NixVersion};
use nixconf_machines::BuildMachine;
use serde_json::{json, Map, Value as Json};

use crate::tree::{Node, Value};

/// Which NixOS `nix.*` module generation an evaluation follows: the
/// configuration's top-level `generation` key (`"2013"`, `"2023"`,
/// `"2026"`) or [`EvalOptions::generation`](crate::EvalOptions) chooses;
/// without either, the target Nix version decides
/// ([`ModuleGeneration::for_version`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModuleGeneration {
    /// The module of August 2013 (seed `000_…`), for Nix 1.x targets:
    /// `nix.useChroot`, `nix.binaryCaches`, `/etc/nix.machines` for
    /// `build-remote.pl`, `NIX_REMOTE=daemon` in the shell.
    Nixos2013,
    /// The module of 2023 (seed `003_…`), for Nix 2.2 and later:
    /// `nix.settings`, `/etc/nix/machines`, the registry.
    Nixos2023,
    /// The modules of mid-2026 (`nix.nix`, `nix-daemon.nix`, `nix-gc.nix`,
    /// `nix-optimise.nix`, `nix-channel.nix`, `nix-ssh-serve.nix`, ...):
    /// `extra-*` keys last, `nix.gc`, `nix.optimise`, `nix.sshServe`,
    /// `nix.channel.enable`, the unprivileged daemon, `nix.firewall`.
    Nixos2026,
}

impl ModuleGeneration {
    /// The name a configuration's `generation` key and `--generation` use:
    /// `"2013"`, `"2023"` or `"2026"`.
    pub fn name(self) -> &'static str {
        match self {
            ModuleGeneration::Nixos2013 => "2013",
            ModuleGeneration::Nixos2023 => "2023",
            ModuleGeneration::Nixos2026 => "2026",
        }
    }

    /// Every generation, oldest first.
    pub const ALL: [ModuleGeneration; 3] = [
        ModuleGeneration::Nixos2013,
        ModuleGeneration::Nixos2023,
        ModuleGeneration::Nixos2026,
    ];
}

impl std::str::FromStr for ModuleGeneration {
    type Err = String;

    /// `"2013"`, `"2023"` or `"2026"`.
    fn from_str(s: &str) -> Result<Self, String> {
        ModuleGeneration::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| {
                format!("no module generation {s:?}: expected \"2013\", \"2023\" or \"2026\"")
            })
    }
}

impl std::fmt::Display for ModuleGeneration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl ModuleGeneration {
    /// The default module generation for a target Nix version (when the
    /// configuration names none): the 2013 module below 2.0 (every 1.x
    /// release, and `1.12pre…` snapshots; a `2.0pre…` snapshot already
    /// counts as 2.0), the newest (2026) from 2.2. `None` for 2.0 and 2.1:
    /// the later modules assert Nix 2.2 or later, and the 2013 module
    /// predates them.
    ///
    /// ```
    /// use nixconf_options::ModuleGeneration;
    /// let of = |v: &str| ModuleGeneration::for_version(&v.parse().unwrap());
    /// assert_eq!(of("1.11.16"), Some(ModuleGeneration::Nixos2013));
    /// assert_eq!(of("2.1.3"), None);
    /// assert_eq!(of("2.2"), Some(ModuleGeneration::Nixos2026));
    /// ```
    pub fn for_version(version: &NixVersion) -> Option<ModuleGeneration> {
        if !version.is_at_least("2.0pre") {
            Some(ModuleGeneration::Nixos2013)
        } else if version.is_at_least("2.2") {
            Some(ModuleGeneration::Nixos2026)
        } else {
            None
        }
    }
}

/// The target version, when the configuration names a Nix 1.x one.
pub(crate) fn nix_1_target(top: &BTreeMap<String, Node>) -> Option<NixVersion> {
    match &top.get("nixVersion")?.value {
        Value::Str(s) => s
            .parse()
            .ok()
            .filter(|v| ModuleGeneration::for_version(v) == Some(ModuleGeneration::Nixos2013)),
        _ => None,
    }
}

/// Everything the NixOS nix-daemon module of the target's generation
/// ([`ModuleGeneration`]) produces for one configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The module generation followed: the 2013 one for Nix 1.x.
    pub module: ModuleGeneration,
    /// The target Nix version (`None` only when Nix is disabled and no
    /// version was given).
    pub nix_version: Option<NixVersion>,
    /// `nix.enable`.
    pub enabled: bool,
    /// `/etc/nix/nix.conf`, or `None` when disabled.
    pub nix_conf: Option<String>,
    /// The machines file, or `None` when the module writes none: for the
    /// 2023 module `/etc/nix/machines` when there are build machines, for
    /// the 2013 one `/etc/nix.machines` with `nix.distributedBuilds` and
    /// without `nix.manualNixMachines` ([`Evaluation::machines_path`]).
    pub machines: Option<String>,
    /// `/etc/nix/registry.json`, or `None` when disabled (and always for
    /// the 2013 module, which predates flakes).
    pub registry: Option<String>,
    /// The registry entries, by name.
    pub registry_entries: Vec<RegistryEntry>,
    /// The effective `nix.nrBuildUsers`.
    pub nr_build_users: Option<i64>,
    /// `ids.uids.nixbld`: the build users' uids count up from it.
    pub nixbld_uid: i64,
    /// The merged `nix.settings`, by key; for the 2013 module, the
    /// settings it writes to nix.conf itself (`build-max-jobs`, ...;
    /// `nix.extraOptions` aside).
    pub settings: Option<BTreeMap<String, ConfValue>>,
    /// The nix-daemon service's scheduling and limits.
    pub service_config: Option<ServiceConfig>,
    /// The nix-daemon service's environment.
    pub service_environment: Option<BTreeMap<String, String>>,
    /// Session variables: `NIX_PATH` and `nix.envVars` (2023); every
    /// `nix.envVars` entry, the module's own included (2013).
    pub session_variables: BTreeMap<String, SessionValue>,
    /// tmpfiles.d rules.
    pub tmpfiles: Vec<String>,
    /// Renamed options that were set.
    pub warnings: Vec<Warning>,
    /// Assertions that failed: NixOS refuses to build such a system.
    pub failed_assertions: Vec<FailedAssertion>,
    /// `nix.buildMachines`, typed.
    pub build_machines: Vec<BuildMachine>,
    /// The channel root is subscribed to (`system.defaultChannel`); `None`
    /// for the 2013 module, which did not subscribe root to a channel.
    pub default_channel: Option<String>,
    /// `nix.checkConfig`: check the rendered nix.conf before using it.
    pub check_config: bool,
    /// `nix.checkAllErrors`: with `check_config`, any warning fails too.
    pub check_all_errors: bool,
    /// `nix.distributedBuilds`.
    pub distributed_builds: bool,
    /// What only the 2026 modules produce (units, channel, sshServe,
    /// firewall, ...); `None` for the older generations.
    pub nixos2026: Option<Box<crate::Nixos2026>>,
    /// nixconf's own options for the build-user pool (`users.*`,
    /// `ids.gids.nixbld`), not in any NixOS module.
    pub build_users: crate::build_users::BuildUsersOptions,
}

/// One `users.users.nixbldN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildUser {
    /// `Nix build user N`.
    pub description: String,
    /// `ids.uids.nixbld + N`.
    pub uid: i64,
    /// True for the 2023 module; the 2013 module's users had no such
    /// attribute (false, and left out of [`Evaluation::to_json`]).
    pub is_system_user: bool,
    /// `nixbld`.
    pub group: String,
    /// `[ "nixbld" ]`.
    pub extra_groups: Vec<String>,
}

/// `systemd.services.nix-daemon.serviceConfig`: the 2023 module sets the
/// CPU policy and I/O class, the 2013 module `Nice` instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceConfig {
    /// `Nice` (2013 module: `nix.daemonNiceLevel`).
    pub nice: Option<i64>,
    /// `CPUSchedulingPolicy` (2023 module).
    pub cpu_scheduling_policy: Option<String>,
    /// `IOSchedulingClass` (2023 module).
    pub io_scheduling_class: Option<String>,
    /// `IOSchedulingPriority`.
    pub io_scheduling_priority: i64,
    /// `LimitNOFILE` (the 2026 modules leave it to the upstream unit).
    pub limit_nofile: Option<i64>,
}

impl ServiceConfig {
    /// The settings that are set, in the order the drop-in writes them
    /// (`Nice` first, `LimitNOFILE` last), with their JSON values.
    fn entries(&self) -> Vec<(&'static str, Json)> {
        let mut out = Vec::with_capacity(5);
        if let Some(n) = self.nice {
            out.push(("Nice", json!(n)));
        }
        if let Some(p) = &self.cpu_scheduling_policy {
            out.push(("CPUSchedulingPolicy", json!(p)));
        }
        if let Some(c) = &self.io_scheduling_class {
            out.push(("IOSchedulingClass", json!(c)));
        }
        out.push(("IOSchedulingPriority", json!(self.io_scheduling_priority)));
        if let Some(n) = self.limit_nofile {
            out.push(("LimitNOFILE", json!(n)));
        }
        out
    }
}

/// A session variable's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionValue {
    /// A plain value.
    Str(String),
    /// A list, joined with `:` in the environment.
    List(Vec<String>),
}

impl SessionValue {
    /// The value as the environment holds it.
    pub fn joined(&self) -> String {
        match self {
            SessionValue::Str(s) => s.clone(),
            SessionValue::List(items) => items.join(":"),
        }
    }
}

/// A renamed option that was set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The old name, e.g. `nix.useSandbox`.
    pub from: String,
    /// The new name, e.g. `nix.settings.sandbox`.
    pub to: String,
}

/// An assertion NixOS would fail on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailedAssertion {
    /// One of the module's assertions (a build machine without a system).
    Assertion {
        /// The module's message.
        message: String,
    },
    /// A removed option was set.
    Removed {
        /// The option, e.g. `nix.daemonNiceLevel`.
        option: String,
        /// What to use instead.
        note: String,
    },
}

impl FailedAssertion {
    /// A one-paragraph description for people.
    pub fn message(&self) -> String {
        match self {
            FailedAssertion::Assertion { message } => message.clone(),
            FailedAssertion::Removed { option, note } => {
                format!("the option `{option}` has been removed and no longer has any effect; please remove it. {note}")
            }
        }
    }
}

/// One `nix.registry` entry, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryEntry {
    /// The attribute name.
    pub name: String,
    /// `exact`.
    pub exact: bool,
    /// `from`, by attribute.
    pub from: BTreeMap<String, RefValue>,
    /// `to`, by attribute.
    pub to: BTreeMap<String, RefValue>,
}

/// When a rendered file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WritePolicy {
    /// Always: the file is wholly generated.
    Always,
    /// Only when the file does not exist yet (the module's activation
    /// script leaves an existing one alone).
    IfAbsent,
}

/// A file a render writes, relative to the root it is written under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedFile {
    /// Relative path, e.g. `etc/nix/nix.conf`.
    pub path: String,
    /// The whole contents.
    pub contents: String,
    /// Permission bits.
    pub mode: u32,
    /// Whether an existing file is replaced.
    pub policy: WritePolicy,
}

/// Path of the nix-daemon drop-in, relative to the root.
pub const DROP_IN_PATH: &str = "etc/systemd/system/nix-daemon.service.d/nixconf.conf";

/// Path of the profile script, relative to the root: nixconf's own name,
/// beside Nix's `nix.sh` and `nix-daemon.sh`, which Fedora's and Arch's
/// packages (and Nix built from source) install in `/etc/profile.d` and
/// which set up `PATH` for Nix's profiles: replacing one would lose that.
pub const PROFILE_SCRIPT_PATH: &str = "etc/profile.d/nixconf.sh";

impl Evaluation {
    pub(crate) fn disabled(
        nix_version: Option<NixVersion>,
        warnings: Vec<Warning>,
        failed_assertions: Vec<FailedAssertion>,
        default_channel: String,
    ) -> Self {
        Evaluation {
            module: ModuleGeneration::Nixos2023,
            nix_version,
            enabled: false,
            nix_conf: None,
            machines: None,
            registry: None,
            registry_entries: Vec::new(),
            nr_build_users: None,
            nixbld_uid: 0,
            settings: None,
            service_config: None,
            service_environment: None,
            session_variables: BTreeMap::new(),
            tmpfiles: Vec::new(),
            warnings,
            failed_assertions,
            build_machines: Vec::new(),
            default_channel: Some(default_channel),
            check_config: false,
            check_all_errors: false,
            distributed_builds: false,
            nixos2026: None,
            build_users: Default::default(),
        }
    }

    /// The build users `nixbld1` … `nixbldN`, by name (as Nix sorts
    /// attribute names); none when Nix is disabled.
    pub fn users(&self) -> BTreeMap<String, BuildUser> {
        let n = if self.enabled {
            self.nr_build_users.unwrap_or(0)
        } else {
            0
        };
        (1..=n.max(0))
            .map(|nr| {
                let user = BuildUser {
                    description: format!("Nix build user {nr}"),
                    // Checked when evaluating: the sum does not overflow.
                    uid: self.nixbld_uid.saturating_add(nr),
                    is_system_user: self.module == ModuleGeneration::Nixos2023,
                    group: "nixbld".to_owned(),
                    extra_groups: vec!["nixbld".to_owned()],
                };
                (format!("nixbld{nr}"), user)
            })
            .collect()
    }

    /// The JSON object of the conformance corpus' `expected.json`.
    pub fn to_json(&self) -> Json {
        let opt_str = |s: &Option<String>| s.as_ref().map_or(Json::Null, |s| json!(s));
        let users: Map<String, Json> = self
            .users()
            .iter()
            .map(|(name, u)| {
                let mut user = json!({
                    "description": u.description,
                    "uid": u.uid,
                    "group": u.group,
                    "extraGroups": u.extra_groups,
                });
                if self.module == ModuleGeneration::Nixos2023 {
                    user["isSystemUser"] = json!(u.is_system_user);
                }
                (name.clone(), user)
            })
            .collect();
        let settings = self.settings.as_ref().map_or(Json::Null, |s| {
            Json::Object(s.iter().map(|(k, v)| (k.clone(), conf_json(v))).collect())
        });
        let service_config = self.service_config.as_ref().map_or(Json::Null, |c| {
            Json::Object(
                c.entries()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            )
        });
        let session: Map<String, Json> = self
            .session_variables
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    SessionValue::Str(s) => json!(s),
                    SessionValue::List(l) => json!(l),
                };
                (k.clone(), v)
            })
            .collect();
        let warnings: Vec<Json> = self
            .warnings
            .iter()
            .map(|w| json!({ "kind": "renamed", "from": w.from, "to": w.to }))
            .collect();
        let assertions: Vec<Json> = self
            .failed_assertions
            .iter()
            .map(|a| match a {
                FailedAssertion::Assertion { message } => {
                    json!({ "kind": "assertion", "message": message })
                }
                FailedAssertion::Removed { option, note } => {
                    json!({ "kind": "removed", "option": option, "note": note })
                }
            })
            .collect();
        let mut out = json!({
            "nixConf": opt_str(&self.nix_conf),
            "machines": opt_str(&self.machines),
            "registry": opt_str(&self.registry),
            "nrBuildUsers": self.nr_build_users,
            "users": users,
            "settings": settings,
            "serviceConfig": service_config,
            "serviceEnvironment": self.service_environment,
            "sessionVariables": session,
            "tmpfiles": self.tmpfiles,
            "warnings": warnings,
            "failedAssertions": assertions,
        });
        if let Some(x) = &self.nixos2026 {
            x.add_to(&mut out);
        }
        if self.build_users.is_set() {
            out["nixconf"] = self.build_users.to_json();
        }
        if self.module == ModuleGeneration::Nixos2013 {
            // Not keys of the conformance corpus (the 2023 module): what
            // tells a 2013 result apart, and where its machines file goes.
            out["module"] = json!("nixos-2013");
            out["machinesPath"] = json!(format!("/{}", self.machines_path()));
        }
        out
    }

    /// Where the machines file goes, relative to the root:
    /// `etc/nix/machines` (2023 module, read through the `builders`
    /// setting) or `etc/nix.machines` (2013 module, read by
    /// `build-remote.pl` through `NIX_REMOTE_SYSTEMS`).
    pub fn machines_path(&self) -> &'static str {
        match self.module {
            ModuleGeneration::Nixos2013 => "etc/nix.machines",
            ModuleGeneration::Nixos2023 | ModuleGeneration::Nixos2026 => "etc/nix/machines",
        }
    }

    /// Every file a render writes, relative to the root: nix.conf, the
    /// machines file (when the module writes one, at
    /// [`Evaluation::machines_path`]), registry.json, the nix-daemon
    /// drop-in, the tmpfiles rule, the profile script, and root's channel
    /// subscription (written only when absent). The 2013 module has no
    /// registry, tmpfiles rule or channel subscription. Nothing when Nix
    /// is disabled.
    pub fn files(&self) -> Vec<RenderedFile> {
        let mut out = Vec::new();
        if !self.enabled {
            return out;
        }
        let mut add = |path: &str, contents: String, policy| {
            out.push(RenderedFile {
                path: path.to_owned(),
                contents,
                mode: 0o644,
                policy,
            });
        };
        if let Some(conf) = &self.nix_conf {
            add("etc/nix/nix.conf", conf.clone(), WritePolicy::Always);
        }
        if let Some(machines) = &self.machines {
            add(self.machines_path(), machines.clone(), WritePolicy::Always);
        }
        if let Some(registry) = &self.registry {
            add(
                "etc/nix/registry.json",
                registry.clone(),
                WritePolicy::Always,
            );
        }
        add(DROP_IN_PATH, self.drop_in(), WritePolicy::Always);
        if !self.tmpfiles.is_empty() {
            add(
                "etc/tmpfiles.d/nix-daemon.conf",
                self.tmpfiles.iter().map(|r| format!("{r}\n")).collect(),
                WritePolicy::Always,
            );
        }
        add(
            PROFILE_SCRIPT_PATH,
            self.profile_script(),
            WritePolicy::Always,
        );
        if let Some(channel) = &self.default_channel {
            add(
                "root/.nix-channels",
                format!("{channel} nixos\n"),
                WritePolicy::IfAbsent,
            );
        }
        out
    }

    /// The nix-daemon.service drop-in: the module's `unitConfig` (the 2023
    /// module's `RequiresMountsFor`; the 2013 module had none),
    /// `serviceConfig` and `environment`.
    pub fn drop_in(&self) -> String {
        let mut out = String::from("# Generated by nixconf from the nix.* options; do not edit.\n");
        if self.module != ModuleGeneration::Nixos2013 {
            out.push_str("[Unit]\nRequiresMountsFor=/nix/store\n\n");
        }
        out.push_str("[Service]\n");
        if let Some(c) = &self.service_config {
            for (key, value) in c.entries() {
                out.push_str(key);
                out.push('=');
                match value {
                    Json::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                }
                out.push('\n');
            }
        }
        for (name, value) in self.service_environment.iter().flatten() {
            out.push_str("Environment=");
            out.push_str(&systemd_quote(&format!("{name}={value}")));
            out.push('\n');
        }
        out
    }

    /// The profile script. For the 2023 module: the session variables,
    /// then the module's `extraInit`, which puts the user's own channels
    /// first in NIX_PATH. For the 2013 module: its `shellInit`, every
    /// `nix.envVars` entry exported (sorted by name), then `NIX_REMOTE`:
    /// `daemon` for everyone but root, so builds go through the daemon.
    pub fn profile_script(&self) -> String {
        let mut out = String::from("# Generated by nixconf from the nix.* options; do not edit.\n");
        if self.module == ModuleGeneration::Nixos2013 {
            out.push_str("# Set up the environment variables for running Nix.\n");
            for (name, value) in &self.session_variables {
                out.push_str(&format!("export {name}={}\n", shell_quote(&value.joined())));
            }
            out.push_str(
                "\n# Set up secure multi-user builds: non-root users build through the\n\
                 # Nix daemon.\n\
                 if test \"$USER\" != root; then\n  \
                 export NIX_REMOTE=daemon\n\
                 else\n  \
                 export NIX_REMOTE=\n\
                 fi\n",
            );
            return out;
        }
        for (name, value) in &self.session_variables {
            out.push_str(&format!("export {name}={}\n", shell_quote(&value.joined())));
        }
        out.push_str(
            "if [ -e \"$HOME/.nix-defexpr/channels\" ]; then\n  \
             export NIX_PATH=\"$HOME/.nix-defexpr/channels${NIX_PATH:+:$NIX_PATH}\"\n\
             fi\n",
        );
        out
    }
}

/// A nix.conf value as JSON.
fn conf_json(v: &ConfValue) -> Json {
    match v {
        ConfValue::Null => Json::Null,
        ConfValue::Bool(b) => json!(b),
        ConfValue::Int(i) => json!(i),
        ConfValue::Float(f) => serde_json::from_str(&float_to_json(*f)).unwrap_or(Json::Null),
        ConfValue::Str(s) => json!(s),
        ConfValue::List(items) => Json::Array(items.iter().map(conf_json).collect()),
    }
}

/// A float as Nix 2.8's `builtins.toJSON` writes it: C++ stream output,
/// which is `%g` with six significant digits (`3.0` is `3`, `1e20` is
/// `1e+20`, `0.1234567` is `0.123457`). Kept by hand: serde_json writes
/// the shortest text that reads back as the same float (`3.0`, `1e20`,
/// `0.1234567`) and has no `%g` mode.
pub(crate) fn float_to_json(f: f64) -> String {
    if !f.is_finite() {
        // Nix itself cannot produce these from JSON or TOML input.
        return "null".to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Round to six significant digits first: the exponent of the rounded
    // value decides between fixed and scientific notation.
    let sci = format!("{f:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let mantissa = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = usize::try_from(5 - exp).unwrap_or(0);
        trim_fraction(&format!("{f:.decimals$}")).to_owned()
    }
}

/// `1.2500` to `1.25`, `3.000` to `3`.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// One systemd unit-file word in double quotes: `\` and `"` escaped, `%`
/// doubled (systemd expands specifiers in `Environment=`), control
/// characters as C escapes.
pub fn systemd_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A POSIX shell word in double quotes. `$` stays live, as in the
/// `export NAME="value"` lines NixOS writes for session variables, so
/// values like `$HOME/x` keep working; `"`, `\` and `` ` `` are escaped.
fn shell_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A value of a flake reference attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefValue {
    /// A string (or a path).
    Str(String),
    /// An integer, such as `lastModified`.
    Int(i64),
    /// A boolean, such as `submodules`.
    Bool(bool),
}

/// `builtins.toJSON { version = 2; flakes = ...; }`: keys sorted, no
/// spaces (serde_json escapes strings as Nix does: `"`, `\`, control
/// characters as short escapes or `\u00XX`, everything else verbatim).
pub(crate) fn registry_json(entries: &[RegistryEntry]) -> String {
    fn attrs(map: &BTreeMap<String, RefValue>) -> Json {
        Json::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        RefValue::Str(s) => json!(s),
                        RefValue::Int(n) => json!(n),
                        RefValue::Bool(b) => json!(b),
                    };
                    (k.clone(), v)
                })
                .collect(),
        )
    }
    // Keys in sorted order as inserted, whichever order serde_json's map
    // keeps.
    let flakes: Vec<Json> = entries
        .iter()
        .map(|e| {
            let mut entry = Map::new();
            entry.insert("exact".to_owned(), json!(e.exact));
            entry.insert("from".to_owned(), attrs(&e.from));
            entry.insert("to".to_owned(), attrs(&e.to));
            Json::Object(entry)
        })
        .collect();
    let mut top = Map::new();
    top.insert("flakes".to_owned(), Json::Array(flakes));
    top.insert("version".to_owned(), json!(2));
    Json::Object(top).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_json_escapes_like_nix() {
        let out = Json::from("a\"b\\c\nd\u{1}\u{8}\u{c}\té\u{7f}").to_string();
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0001\\b\\f\\té\u{7f}\"");
    }

    #[test]
    fn floats_print_like_nix_to_json() {
        let cases = [
            (3.0, "3"),
            (1.25, "1.25"),
            (-2.5, "-2.5"),
            (1e-7, "1e-07"),
            (1e20, "1e+20"),
            (123.456, "123.456"),
            (0.1234567, "0.123457"),
            (123456.7, "123457"),
            (1234567.0, "1.23457e+06"),
            (0.0001, "0.0001"),
            (999999.5, "1e+06"),
        ];
        for (f, want) in cases {
            assert_eq!(float_to_json(f), want, "{f}");
        }
    }

    #[test]
    fn systemd_quoting() {
        assert_eq!(systemd_quote("A=b c"), "\"A=b c\"");
        assert_eq!(systemd_quote("A=\"q\"\\%"), "\"A=\\\"q\\\"\\\\%%\"");
        assert_eq!(systemd_quote("A=x\ny\u{1}"), "\"A=x\\ny\\x01\"");
    }

    #[test]
    fn shell_quoting_keeps_dollar() {
        assert_eq!(shell_quote("$HOME/a\"b`c\\"), "\"$HOME/a\\\"b\\`c\\\\\"");
    }
}
