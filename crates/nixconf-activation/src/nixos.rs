//! A nixconf configuration, evaluated by nixconf-options (the NixOS
//! option tree and nixconf's own `users` table and `ids.gids`), and the
//! installation it describes.

use std::path::Path;

use nixconf_format::ConfValue;
use nixconf_options::{
    BuildUsersPlatform, EvalOptions, Evaluation, Format, WritePolicy, DROP_IN_PATH,
};
use nixconf_users::{MaxJobs, Platform, PoolRequest};

use crate::action::build_users::BuildUsers;
use crate::desired::{DesiredFile, DesiredSymlink};
use crate::error::{Error, Result};
use crate::installation::Installation;
use crate::timers;

/// Where the socket's enablement lives, relative to the root.
pub const SOCKET_WANTS_PATH: &str = "etc/systemd/system/sockets.target.wants/nix-daemon.socket";

/// The unit the upstream installer and nix-installer leave in Nix's
/// default profile.
const PROFILE_SOCKET_UNIT: &str =
    "/nix/var/nix/profiles/default/lib/systemd/system/nix-daemon.socket";

/// Where Debian's `nix-bin` puts the unit (`/lib`, a link to `/usr/lib`
/// on merged-/usr systems), then where newer distributions put it.
const DISTRIBUTION_SOCKET_UNITS: [&str; 2] = [
    "/lib/systemd/system/nix-daemon.socket",
    "/usr/lib/systemd/system/nix-daemon.socket",
];

/// A configuration file, evaluated.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// What the NixOS module makes of the option tree, nixconf's own
    /// build-user options included ([`Evaluation::build_users`]).
    pub evaluation: Evaluation,
    /// Whether the installed nix.conf keeps NixOS's header, byte for byte
    /// (the default), or says that nixconf generated it
    /// ([`Config::with_nixconf_header`]).
    pub nixos_header: bool,
}

/// Read and evaluate a configuration file (`.toml` or `.json`).
pub fn read_config(path: &Path) -> Result<Config> {
    read_config_with(path, EvalOptions::default())
}

/// [`read_config`] with evaluation options (the module generation).
pub fn read_config_with(path: &Path, options: EvalOptions) -> Result<Config> {
    let evaluation = nixconf_options::evaluate_file_with(path, options)?;
    Ok(Config::from_evaluation(evaluation))
}

/// Evaluate a configuration given as text; `name` names it in messages.
/// nixconf-options reads and checks every option, nixconf's own `users`
/// table and `ids.gids` included.
pub fn parse_config(text: &str, format: Format, name: &str) -> Result<Config> {
    parse_config_with(text, format, name, EvalOptions::default())
}

/// [`parse_config`] with evaluation options (the module generation).
pub fn parse_config_with(
    text: &str,
    format: Format,
    name: &str,
    options: EvalOptions,
) -> Result<Config> {
    let evaluation = nixconf_options::evaluate_with(text, format, name, options)?;
    Ok(Config::from_evaluation(evaluation))
}

impl Config {
    /// The installation side of an evaluated configuration.
    pub fn from_evaluation(evaluation: Evaluation) -> Config {
        Config {
            evaluation,
            nixos_header: true,
        }
    }

    /// This configuration, installing a nix.conf whose header says that
    /// nixconf generated it and how to change it, instead of NixOS's,
    /// which sends the reader to `/etc/nixos/configuration.nix`: on a
    /// machine that is not NixOS there is no such file.
    #[must_use]
    pub fn with_nixconf_header(mut self) -> Config {
        self.nixos_header = false;
        self
    }

    /// The build-user pool the configuration asks for: `None` when Nix is
    /// disabled.
    pub fn pool_request(&self) -> Result<Option<PoolRequest>> {
        let eval = &self.evaluation;
        if !eval.enabled {
            return Ok(None);
        }
        let bad = |option: &str, message: String| Error::Option {
            option: option.to_owned(),
            message,
        };
        let settings = eval.settings.as_ref();
        let setting = |key: &str| settings.and_then(|s| s.get(key));
        let uint = |key: &str| -> Result<Option<u32>> {
            match setting(key) {
                None | Some(ConfValue::Null) => Ok(None),
                Some(ConfValue::Int(i)) => u32::try_from(*i).map(Some).map_err(|_| {
                    bad(
                        &format!("nix.settings.{key}"),
                        format!("expected an integer from 0 to {}, got {i}", u32::MAX),
                    )
                }),
                Some(other) => Err(bad(
                    &format!("nix.settings.{key}"),
                    format!("expected an integer, got {other:?}"),
                )),
            }
        };
        let own = &eval.build_users;
        let platform = match own.platform {
            Some(BuildUsersPlatform::Macos) => Platform::Macos,
            Some(BuildUsersPlatform::Linux) | None => Platform::Linux,
        };
        let mut b = PoolRequest::builder(platform);
        if let Some(n) = eval.nr_build_users {
            // NixOS makes `range 1 n` of them: none for n below 1.
            let n = n.max(0);
            b = b.count(u32::try_from(n).map_err(|_| {
                bad(
                    "nix.nrBuildUsers",
                    format!("expected an integer from 0 to {}, got {n}", u32::MAX),
                )
            })?);
        }
        b = b.base_uid(u32::try_from(eval.nixbld_uid).map_err(|_| {
            bad(
                "ids.uids.nixbld",
                format!(
                    "expected an integer from 0 to {}, got {}",
                    u32::MAX,
                    eval.nixbld_uid
                ),
            )
        })?);
        match setting("max-jobs") {
            Some(ConfValue::Str(s)) if s == "auto" => b = b.max_jobs(MaxJobs::Auto),
            Some(_) => {
                if let Some(n) = uint("max-jobs")? {
                    b = b.max_jobs(MaxJobs::Jobs(n));
                }
            }
            None => {}
        }
        if let Some(ConfValue::Bool(on)) = setting("auto-allocate-uids") {
            b = b.auto_allocate_uids(*on);
        }
        if let Some(n) = uint("start-id")? {
            b = b.start_id(n);
        }
        if let Some(n) = uint("id-count")? {
            b = b.id_count(n);
        }
        // The pool's group is the one Nix builds as; with an empty
        // `build-users-group` Nix uses no build users, and NixOS still
        // makes its `nixbld` group and users: so does nixconf.
        match setting("build-users-group") {
            Some(ConfValue::Str(g)) if !g.is_empty() => b = b.group(g.clone()),
            _ => {}
        }
        if let Some(gid) = own.gid {
            b = b.gid(gid);
        }
        if let Some(on) = own.adopt_existing_group {
            b = b.adopt_existing_group(on);
        }
        if let Some(on) = own.renumber {
            b = b.renumber(on);
        }
        if let Some(p) = &own.name_prefix {
            b = b.name_prefix(p.clone());
        }
        if let Some(h) = &own.home {
            b = b.home(h.clone());
        }
        if let Some(s) = &own.shell {
            b = b.shell(s.clone());
        }
        b.build().map(Some).map_err(|e| Error::Users {
            message: e.to_string(),
        })
    }

    /// The installation this configuration describes on `root`: every
    /// rendered file, Nix's state layout for the target version, the
    /// socket's enablement and the build users (planned against the root's
    /// accounts now). With `nix.enable = false`, nothing: planning it
    /// retires what an earlier apply installed.
    pub fn installation(&self, root: &Path) -> Result<Installation> {
        let eval = &self.evaluation;
        nixconf_options::assertions_hold(eval)?;
        let mut inst = Installation::new().no_build_users();
        if !eval.enabled {
            return Ok(inst);
        }
        if let Some(pool) = self.pool_request()? {
            // No users and no auto-allocated range: nothing to manage.
            if pool.count() > 0 || pool.auto_allocate_uids() {
                inst = inst.build_users(BuildUsers::plan(root, &pool)?);
            }
        }
        if let Some(version) = &eval.nix_version {
            inst = inst.nix_state_layout(version);
        }
        inst = inst.symlink(DesiredSymlink::new(SOCKET_WANTS_PATH, socket_unit(root)));
        for f in eval.files() {
            let path = own_name_beside_package(root, &f.path);
            let contents = if !self.nixos_header && f.path == "etc/nix/nix.conf" {
                with_nixconf_header(&f.contents)
            } else {
                f.contents
            };
            let mut file = DesiredFile::new(path, contents).mode(f.mode);
            if f.policy == WritePolicy::IfAbsent {
                file = file.only_if_absent();
            }
            if daemon_reads(&f.path) {
                file = file.restarts_daemon();
            }
            inst = inst.file(file);
        }
        if let Some(nixos) = &eval.nixos2026 {
            inst = timer_units_on(inst, root, &nixos.units())?;
        }
        Ok(inst)
    }
}

/// `nix.gc` and `nix.optimise` with `automatic = true`: their service and
/// timer units under `/etc/systemd/system`, each timer enabled
/// (`timers.target.wants`), the services calling the root's own Nix.
fn timer_units_on(
    mut inst: Installation,
    root: &Path,
    units: &serde_json::Value,
) -> Result<Installation> {
    let scheduled = timers::scheduled_programs(units);
    let Some(&(option, _)) = scheduled.first() else {
        return Ok(inst);
    };
    let programs: Vec<&str> = scheduled.iter().map(|&(_, program)| program).collect();
    let Some(bin) = timers::nix_bin_dir(root, &programs) else {
        return Err(Error::Option {
            option: format!("{option}.automatic"),
            message: format!(
                "the timer would run {}, and the root has no directory with {} ({}): \
                 install Nix first, or set `{option}.automatic = false`",
                programs.join(" and "),
                if programs.len() == 1 { "it" } else { "both" },
                timers::NIX_BIN_DIRS
                    .iter()
                    .map(|d| format!("/{d}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    };
    for unit in timers::timer_units(units, &bin) {
        let path = format!("{}/{}", timers::UNIT_DIR, unit.name);
        if unit.name.ends_with(".timer") {
            inst = inst.symlink(DesiredSymlink::new(
                format!("{}/timers.target.wants/{}", timers::UNIT_DIR, unit.name),
                format!("/{path}"),
            ));
        }
        inst = inst.file(DesiredFile::new(path, unit.contents).mode(0o644));
    }
    Ok(inst)
}

/// The header of the nix.conf nixconf installs on a machine that is not
/// NixOS. It names no file: the configuration may come from anywhere (an
/// Ansible task writes a temporary one).
pub const NIXCONF_HEADER: &str =
    "# WARNING: this file is generated by nixconf from the nix.* options of\n\
     # its configuration.  Do not edit it: change the configuration and run\n\
     # `nixconf apply` (`nixconf explain SETTING` tells where a value comes from).\n";

/// `nix_conf` with NixOS's header replaced by [`NIXCONF_HEADER`];
/// unchanged when it has no NixOS header.
fn with_nixconf_header(nix_conf: &str) -> String {
    match nix_conf.strip_prefix(nixconf_options::NIX_CONF_HEADER) {
        Some(rest) => format!("{NIXCONF_HEADER}{rest}"),
        None => nix_conf.to_owned(),
    }
}

/// Where nixconf writes a file that a distribution package ships under
/// the same name in `/usr/lib` (or `/lib`): a file of that name in `/etc`
/// would replace the package's whole file (systemd's tmpfiles.d
/// convention), dropping its rules; nixconf's own name keeps both, and
/// for a path both name, the package's file (read first) wins.
fn own_name_beside_package(root: &Path, path: &str) -> String {
    if let Some(name) = path.strip_prefix("etc/tmpfiles.d/") {
        let shipped = ["usr/lib/tmpfiles.d", "lib/tmpfiles.d"]
            .iter()
            .any(|dir| root.join(dir).join(name).is_file());
        if shipped {
            return "etc/tmpfiles.d/nixconf.conf".to_owned();
        }
    }
    path.to_owned()
}

/// The files whose change the running daemon must be restarted for.
fn daemon_reads(path: &str) -> bool {
    matches!(path, "etc/nix/nix.conf" | "etc/nix/machines") || path == DROP_IN_PATH
}

/// The nix-daemon.socket unit the enablement points to: the
/// distribution's (Debian's `nix-bin`) when the root has it, else the one
/// in Nix's default profile, where the upstream installer and
/// nix-installer put it.
fn socket_unit(root: &Path) -> &'static str {
    DISTRIBUTION_SOCKET_UNITS
        .iter()
        .find(|unit| {
            let rel = unit.trim_start_matches('/');
            // Only links that stay in the root (`lib -> usr/lib`) are
            // followed.
            let first = rel.split('/').next().unwrap_or("");
            let ok = match std::fs::symlink_metadata(root.join(first)) {
                Ok(m) if m.file_type().is_symlink() => std::fs::read_link(root.join(first))
                    .is_ok_and(|t| t.is_relative() && !t.starts_with("..")),
                Ok(m) => m.is_dir(),
                Err(_) => false,
            };
            ok && root.join(rel).is_file()
        })
        .copied()
        .unwrap_or(PROFILE_SOCKET_UNIT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn config(text: &str) -> Result<Config> {
        parse_config(text, Format::Toml, "c.toml")
    }

    #[test]
    fn users_table_is_read_and_errors_keep_their_file_positions() {
        let text = "nixVersion = \"2.18.1\"\n[users]\nplatform = \"linux\"\nadoptExistingGroup = true\n\n[nix.settings]\ncores = 2.5\n";
        let err = config(text).unwrap_err().to_string();
        assert!(err.starts_with("c.toml:7:9: `nix.settings.cores`"), "{err}");
        let ok = config(
            "nixVersion = \"2.18.1\"\nusers.adoptExistingGroup = true\nids.gids.nixbld = 117\nids.uids.nixbld = 100\n",
        )
        .unwrap();
        assert_eq!(ok.evaluation.build_users.adopt_existing_group, Some(true));
        assert_eq!(ok.evaluation.build_users.gid, Some(117));
        let req = ok.pool_request().unwrap().unwrap();
        assert_eq!((req.base_uid(), req.gid(), req.count()), (100, 117, 32));
        assert!(req.adopt_existing_group());
    }

    #[test]
    fn users_knob_errors_name_the_option_path_and_place() {
        let err = config("nixVersion = \"2.18.1\"\n[users]\nplatform = \"windows\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.toml:3:12: `users.platform`: expected \"linux\" or \"macos\", got the string \"windows\""
        );
        let err = config("nixVersion = \"2.18.1\"\n[users]\nnamePrefx = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "c.toml:3:1: `users.namePrefx`: no such option; did you mean `users.namePrefix`?"
        );
    }

    #[test]
    fn json_configurations_keep_their_positions() {
        let json = r#"{"nixVersion": "2.18.1", "users": {"shell": "/bin/false"}, "nix": {"settings": {"cores": "x"}}}"#;
        let err = parse_config(json, Format::Json, "c.json").unwrap_err();
        let Error::Options(e) = err else {
            panic!("{err}")
        };
        assert_eq!(
            e.option_errors()[0].option.as_deref(),
            Some("nix.settings.cores")
        );
        assert!(e.option_errors()[0].span.is_some());
    }

    #[test]
    fn nix_1_maps_onto_the_2013_layout_files_and_build_users() {
        let c = config(
            "nixVersion = \"1.11.16\"\nids.uids.nixbld = 40000\n[nix]\nmaxJobs = 12\ndistributedBuilds = true\nbuildMachines = []\n",
        )
        .unwrap();
        let req = c.pool_request().unwrap().unwrap();
        // The 2013 default, not the 2023 module's max(32, max-jobs).
        assert_eq!(
            (req.count(), req.base_uid(), req.group()),
            (10, 40000, "nixbld")
        );
        let root = tempfile::tempdir().unwrap();
        let inst = c.installation(root.path()).unwrap();
        let json: Value = serde_json::from_str(&inst.to_json()).unwrap();
        assert_eq!(json["nix_state_layout"], "1.11.16");
        let files: Vec<(String, bool)> = json["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_owned(),
                    f["restarts_daemon"].as_bool().unwrap_or(false),
                )
            })
            .collect();
        // build-remote.pl reads /etc/nix.machines afresh for every build;
        // the 2013 module restarted the daemon for nix.conf only.
        assert_eq!(
            files,
            [
                ("etc/nix/nix.conf".to_owned(), true),
                ("etc/nix.machines".to_owned(), false),
                (DROP_IN_PATH.to_owned(), true),
                ("etc/profile.d/nixconf.sh".to_owned(), false),
            ]
        );
        let users: Vec<String> = inst
            .planned_build_users()
            .map(|u| u.describe())
            .unwrap_or_default();
        assert_eq!(
            users,
            [
                "build users: group nixbld (gid 30000): create",
                "build users: users nixbld1..nixbld10 (uids 40001-40010): create",
            ]
        );
    }

    #[test]
    fn pool_request_follows_the_evaluation() {
        let c = config(
            "nixVersion = \"2.18.1\"\n[nix.settings]\nauto-allocate-uids = true\nstart-id = 872415232\nbuild-users-group = \"builders\"\nmax-jobs = 40\n",
        )
        .unwrap();
        let req = c.pool_request().unwrap().unwrap();
        assert_eq!(req.count(), 0);
        assert!(req.auto_allocate_uids());
        assert_eq!(req.start_id(), 872_415_232);
        assert_eq!(req.group(), "builders");
        assert_eq!(req.max_jobs(), MaxJobs::Jobs(40));
        let off = config("nixVersion = \"2.18.1\"\n[nix]\nenable = false\n").unwrap();
        assert_eq!(off.pool_request().unwrap(), None);
    }
}
