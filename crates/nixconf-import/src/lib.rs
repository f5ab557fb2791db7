//! Read an existing Nix installation into a nixconf configuration.
//!
//! Nobody runs nixconf on a machine without Nix: a distribution package or
//! an installer was there first, and left a nix.conf, build users, units
//! and directories behind. [`detect`] tells which installer (from the
//! files each leaves: `/etc/NIXOS`, `/nix/receipt.json`, dpkg's and
//! pacman's databases, the upstream script's backups) and which Nix
//! version it installed. [`import`] reads the installation as that Nix
//! reads it and writes a commented configuration in the NixOS option tree
//! that reproduces it:
//!
//! - every setting of `/etc/nix/nix.conf` as `nix.settings` (aliases
//!   resolved, `extra-` lines kept as `extra-` where nothing else sets the
//!   setting, typed as the module types it);
//! - what the option tree cannot hold, kept verbatim in
//!   `nix.extraOptions`: `include`/`!include` lines (the included files
//!   stay where they are, untouched: secrets among them) and settings the
//!   installed Nix does not know (with `nix.checkConfig = false`, as NixOS
//!   would otherwise refuse them);
//! - `builders` and the machines file as `nix.buildMachines`, the flake
//!   registry as `nix.registry`, the build users' count, uids and group,
//!   and the daemon's environment from its unit drop-ins.
//!
//! The import checks itself: it renders the configuration with
//! `nixconf-options` and reads the result as the installed Nix would.
//! Every setting whose value changes is listed ([`Import::module_changes`]):
//! those are the values the NixOS module sets on purpose (`allowed-users`,
//! `cache.nixos.org` after your substituters, its `system-features`, ...).
//!
//! ```
//! let root = tempfile::tempdir()?;
//! let etc = root.path().join("etc/nix");
//! std::fs::create_dir_all(&etc)?;
//! std::fs::write(etc.join("nix.conf"), "build-users-group = nixbld\nmax-jobs = 4\n!include secrets.conf\n")?;
//! let options = nixconf_import::ImportOptions { nix_version: Some("2.18.1".parse()?) };
//! let import = nixconf_import::import(root.path(), &options)?;
//! assert!(import.config.contains("\n[nix.settings]\nbuild-users-group = \"nixbld\"\nmax-jobs = 4\n"));
//! assert!(import.config.contains("extraOptions = '''\n!include secrets.conf\n'''"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: `detect` (which installer, which Nix), `conf` (nix.conf as
//! the installed Nix reads it), `daemon` (the daemon's environment from
//! its unit drop-ins) and `toml` (writing the configuration); the crate
//! root puts them together and checks the result.
#![deny(missing_docs)]

mod conf;
mod daemon;
mod detect;
mod toml;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use nixconf_format::{FsSource, Network, NixVersion, ShowOptions, Source};

pub use detect::{detect, Detection, Installer};
pub use toml::Value;

/// Why an installation could not be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The root is managed by a system that manages Nix itself.
    #[error("{0}")]
    ManagedElsewhere(&'static str),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The installed Nix cannot read its own nix.conf.
    #[error("{path}:{line}: Nix cannot read this line (`{text}`): fix it, then import again")]
    Unreadable {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The line.
        text: String,
    },
    /// The Nix version could not be told.
    #[error("cannot tell which Nix is installed under {0}: give it with --nix-version")]
    UnknownVersion(String),
    /// The imported configuration does not evaluate: a bug of the import,
    /// or a value the installed Nix accepts and the NixOS module does not.
    #[error("the imported configuration does not evaluate: {0}")]
    Evaluate(String),
    /// The installed nix.conf cannot be read as Nix reads it.
    #[error("{0}")]
    Conf(String),
}

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The Nix version to read the installation as; default: the version
    /// [`detect`] finds on the root, else (root `/` only) the `nix` on
    /// `PATH`.
    pub nix_version: Option<NixVersion>,
}

/// A setting whose value the imported configuration changes, as the
/// installed Nix reads it (`nix show-config`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleChange {
    /// The setting's canonical name.
    pub setting: String,
    /// The value before (`None`: neither the files nor Nix's known
    /// defaults give one).
    pub before: Option<String>,
    /// The value after the configuration is applied.
    pub after: Option<String>,
}

/// An imported installation.
#[derive(Clone, Debug)]
pub struct Import {
    /// What made the installation.
    pub detection: Detection,
    /// The Nix version the installation was read as, and where it was
    /// found.
    pub nix_version: (NixVersion, String),
    /// The configuration, commented (TOML).
    pub config: String,
    /// What was kept outside the option tree, or could not be carried
    /// over, each a sentence.
    pub notes: Vec<String>,
    /// Settings the NixOS module sets to other values than the
    /// installation had.
    pub module_changes: Vec<ModuleChange>,
    /// The mode to write the configuration with: no more readable than
    /// the most private file it was read from.
    pub mode: u32,
}

/// Read the installation under `root` into a configuration.
pub fn import(root: &Path, options: &ImportOptions) -> Result<Import, Error> {
    let detection = detect(root);
    if let Some(why) = detection.installer.refusal() {
        return Err(Error::ManagedElsewhere(why));
    }
    let nix_version = match (&options.nix_version, &detection.nix_version) {
        (Some(v), _) => (v.clone(), "--nix-version".to_owned()),
        (None, Some(found)) => found.clone(),
        (None, None) if root == Path::new("/") => {
            let v = nixconf_format::installed_version(Path::new("nix"))
                .map_err(|_| Error::UnknownVersion(root.display().to_string()))?;
            (v, "`nix --version`".to_owned())
        }
        (None, None) => return Err(Error::UnknownVersion(root.display().to_string())),
    };
    let version = &nix_version.0;

    let mut sources = Sources::default();
    let mut notes = Vec::new();
    let conf_dir = root.join("etc/nix");
    let nix_conf_path = conf_dir.join("nix.conf");
    let text = sources.read(&nix_conf_path)?.unwrap_or_default();
    let display = |p: &Path| format!("/{}", p.strip_prefix(root).unwrap_or(p).display());
    let mut conf = conf::read(&text, version).map_err(|(line, text)| Error::Unreadable {
        path: display(&nix_conf_path),
        line,
        text,
    })?;

    for (path, _) in &conf.includes {
        let on_host = if path.starts_with('/') {
            PathBuf::from(path)
        } else {
            PathBuf::from("/etc/nix").join(path)
        };
        let under_root = root.join(on_host.strip_prefix("/").unwrap_or(&on_host));
        let private = std::fs::metadata(&under_root)
            .map(|m| m.permissions().mode() & 0o004 == 0)
            .unwrap_or(false);
        notes.push(format!(
            "kept the include of {}{}: nixconf does not manage that file, it stays as it is",
            on_host.display(),
            if private {
                " (not world-readable: secrets stay out of the configuration)"
            } else {
                ""
            }
        ));
    }
    if !conf.unknown.is_empty() {
        notes.push(format!(
            "kept {} in nix.extraOptions: Nix {version} does not know {}; nix.checkConfig is off so that the configuration still evaluates, as Nix only warns about them",
            conf.unknown.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
            if conf.unknown.len() == 1 { "it" } else { "them" },
        ));
    }

    let mut doc = String::new();
    doc.push_str(&toml::comment(&format!(
        "nixconf configuration imported from {}\n\
         Installed by {}{}.\n\
         Read as Nix {version} reads it (version from {}).",
        root.display(),
        detection.installer,
        if detection.evidence.is_empty() {
            String::new()
        } else {
            format!(" ({})", detection.evidence.join(", "))
        },
        nix_version.1,
    )));
    // The module generation is named, so that the file means the same
    // when nixconf's default moves on.
    let generation = if version.is_at_least("2.0pre") {
        "2026"
    } else {
        "2013"
    };
    doc.push_str(&format!(
        "\ngeneration = \"{generation}\"\nnixVersion = {}\n",
        toml::string(&version.to_string())
    ));
    // The 2026 module puts `root` in trusted-users itself, before what
    // the configuration lists.
    if generation == "2026" {
        let users = conf.settings.iter_mut().find(|(k, _)| k == "trusted-users");
        if let Some((_, Value::List(users))) = users {
            if users.first().map(String::as_str) == Some("root") {
                users.remove(0);
            }
        }
    }

    // `builders` and the machines file.
    let mut nix_top: Vec<(String, Value)> = Vec::new();
    let mut machines_toml = String::new();
    let builders_at = conf.settings.iter().position(|(k, _)| k == "builders");
    let builders = builders_at.map(|i| match &conf.settings[i].1 {
        Value::Str(s) => s.clone(),
        other => other.to_toml(),
    });
    let machines_path = conf_dir.join("machines");
    match builders.as_deref() {
        // Nix's default: the machines file, when there is one.
        None | Some("@/etc/nix/machines") => {
            if let Some(text) = sources.read(&machines_path)? {
                let text = String::from_utf8_lossy(&text).into_owned();
                match machines_to_toml(&text, version) {
                    Ok((n, t)) if n > 0 => {
                        nix_top.push(("distributedBuilds".to_owned(), Value::Bool(true)));
                        machines_toml = t;
                        if let Some(i) = builders_at {
                            conf.settings.remove(i);
                        }
                        notes.push(format!(
                            "/etc/nix/machines ({n} machine{}) is now nix.buildMachines: nixconf writes that file",
                            if n == 1 { "" } else { "s" }
                        ));
                    }
                    Ok(_) => {}
                    Err(why) => {
                        nix_top.push(("distributedBuilds".to_owned(), Value::Bool(true)));
                        notes.push(format!(
                            "/etc/nix/machines is kept as it is, not managed by nixconf: {why}"
                        ));
                    }
                }
            }
        }
        Some("") => {}
        // A builders value of its own: NixOS writes `builders` only with
        // distributed builds on.
        Some(_) => nix_top.push(("distributedBuilds".to_owned(), Value::Bool(true))),
    }

    // Build users.
    let pool = build_users(root, &conf, &mut notes)?;
    if let Some(n) = pool.count {
        nix_top.push(("nrBuildUsers".to_owned(), Value::Int(n)));
    }

    // The daemon's environment from its drop-ins.
    let env = daemon::daemon_environment(root, &mut notes);

    if !conf.unknown.is_empty() {
        nix_top.push(("checkConfig".to_owned(), Value::Bool(false)));
    }
    if !nix_top.is_empty() || !conf.extra_lines.is_empty() {
        doc.push_str("\n[nix]\n");
        for (k, v) in &nix_top {
            doc.push_str(&format!("{} = {}\n", toml::key(k), v.to_toml()));
        }
        if !conf.extra_lines.is_empty() {
            doc.push_str(&toml::comment(
                "Lines the option tree cannot hold, kept as they were: includes of\n\
                 files nixconf does not manage, settings this Nix does not know.",
            ));
            let mut lines = conf.extra_lines.join("\n");
            lines.push('\n');
            doc.push_str(&format!("extraOptions = {}\n", toml::multiline(&lines)));
        }
    }
    if !conf.settings.is_empty() {
        doc.push_str("\n[nix.settings]\n");
        for (k, v) in &conf.settings {
            doc.push_str(&format!("{} = {}\n", toml::key(k), v.to_toml()));
        }
    }
    if !env.is_empty() {
        doc.push_str("\n[nix.envVars]\n");
        for (k, v) in &env {
            doc.push_str(&format!("{} = {}\n", toml::key(k), toml::string(v)));
        }
    }
    let registry = registry_toml(root, &mut sources, &mut notes)?;
    doc.push_str(&registry);
    doc.push_str(&machines_toml);
    doc.push_str(&pool.uid_table);
    if !notes.is_empty() {
        doc.push('\n');
        doc.push_str(&toml::comment(&format!(
            "Notes from the import:\n{}",
            notes
                .iter()
                .map(|n| format!("- {n}"))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }

    doc.push_str(&pool.own_tables);
    // The proof: the rendered nix.conf, read as the installed Nix reads it.
    let evaluation = nixconf_options::evaluate(&doc, nixconf_options::Format::Toml, "import.toml")
        .map_err(|e| Error::Evaluate(e.to_string()))?;
    let module_changes = match &evaluation.nix_conf {
        Some(rendered) => compare(&conf_dir, rendered, version)?,
        None => Vec::new(),
    };
    if !module_changes.is_empty() {
        let listed: Vec<String> = module_changes
            .iter()
            .map(|c| {
                format!(
                    "- {}: {} -> {}",
                    c.setting,
                    c.before
                        .as_deref()
                        .map_or("(unknown default)".to_owned(), |v| format!("`{v}`")),
                    c.after
                        .as_deref()
                        .map_or("(unknown default)".to_owned(), |v| format!("`{v}`")),
                )
            })
            .collect();
        doc.push('\n');
        doc.push_str(&toml::comment(&format!(
            "The NixOS module sets these on purpose; as the installed Nix reads them:\n{}",
            listed.join("\n")
        )));
    }

    Ok(Import {
        detection,
        nix_version,
        config: doc,
        notes,
        module_changes,
        mode: sources.mode(),
    })
}

/// The files the import read, for the mode of what it writes.
#[derive(Default)]
struct Sources {
    private: bool,
}

impl Sources {
    /// A file's bytes, `None` when it does not exist.
    fn read(&mut self, path: &Path) -> Result<Option<Vec<u8>>, Error> {
        match std::fs::read(path) {
            Ok(bytes) => {
                if let Ok(m) = std::fs::metadata(path) {
                    self.private |= m.permissions().mode() & 0o004 == 0;
                }
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    fn mode(&self) -> u32 {
        if self.private {
            0o600
        } else {
            0o644
        }
    }
}

/// The rendered nix.conf in place of the installed one; every other file
/// (the includes) as it is.
struct Rendered {
    path: PathBuf,
    text: Rc<Vec<u8>>,
}

impl Source for Rendered {
    fn exists(&self, path: &Path) -> bool {
        path == self.path || FsSource.exists(path)
    }

    fn read(&self, path: &Path) -> Option<Rc<Vec<u8>>> {
        if path == self.path {
            Some(self.text.clone())
        } else {
            FsSource.read(path)
        }
    }
}

/// Every setting that reads differently after the rendered nix.conf
/// replaces the installed one.
fn compare(
    conf_dir: &Path,
    rendered: &str,
    version: &NixVersion,
) -> Result<Vec<ModuleChange>, Error> {
    let options = ShowOptions {
        version: version.clone(),
        network: Network::Online,
    };
    let before = nixconf_format::show_with(&FsSource, conf_dir, &options)
        .map_err(|e| Error::Conf(e.to_string()))?
        .settings;
    let after_source = Rendered {
        path: conf_dir.join("nix.conf"),
        text: Rc::new(rendered.as_bytes().to_vec()),
    };
    let after = nixconf_format::show_with(&after_source, conf_dir, &options)
        .map_err(|e| Error::Conf(e.to_string()))?
        .settings;
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    // A setting the files leave alone has Nix's default: for the two
    // that depend on the host, this host's.
    let value = |side: &BTreeMap<String, String>, n: &str| {
        side.get(n).cloned().or_else(|| match n {
            "builders" => Some("@/etc/nix/machines".to_owned()),
            "cores" => Some(nixconf_format::online_cpus().to_string()),
            _ => nixconf_format::setting_default(n, version).map(str::to_owned),
        })
    };
    Ok(names
        .into_iter()
        .filter(|n| value(&before, n) != value(&after, n))
        .map(|n| ModuleChange {
            setting: n.clone(),
            before: value(&before, n),
            after: value(&after, n),
        })
        .collect())
}

/// `[[nix.buildMachines]]` tables for a machines file, and how many.
fn machines_to_toml(text: &str, version: &NixVersion) -> Result<(usize, String), String> {
    let file =
        nixconf_machines::parse(text, "/etc/nix/machines", version).map_err(|e| e.to_string())?;
    let mut out = String::new();
    let mut n = 0;
    for machine in file.machines() {
        let spec = machine.to_spec();
        let (protocol, host) = match spec.store_uri.split_once("://") {
            Some((scheme, host)) if scheme == "ssh" || scheme == "ssh-ng" => {
                (Some(scheme.to_owned()), host.to_owned())
            }
            Some(_) => {
                return Err(format!(
                    "`{}` is not an ssh:// or ssh-ng:// machine",
                    spec.store_uri
                ))
            }
            None => (None, spec.store_uri.clone()),
        };
        let (user, host) = match host.split_once('@') {
            Some((u, h)) => (Some(u.to_owned()), h.to_owned()),
            None => (None, host),
        };
        out.push_str("\n[[nix.buildMachines]]\n");
        out.push_str(&format!("hostName = {}\n", toml::string(&host)));
        match protocol {
            Some(p) if p != "ssh" => out.push_str(&format!("protocol = {}\n", toml::string(&p))),
            Some(_) => {}
            None => {
                return Err(format!(
                    "`{}` has no scheme, which the NixOS module cannot write",
                    spec.store_uri
                ))
            }
        }
        if let Some(u) = user {
            out.push_str(&format!("sshUser = {}\n", toml::string(&u)));
        }
        if !spec.systems.is_empty() {
            out.push_str(&format!(
                "systems = {}\n",
                Value::List(spec.systems.clone()).to_toml()
            ));
        }
        if let Some(k) = spec.ssh_key.as_deref().filter(|k| !k.is_empty()) {
            out.push_str(&format!("sshKey = {}\n", toml::string(k)));
        }
        if let Some(j) = spec.max_jobs {
            out.push_str(&format!("maxJobs = {j}\n"));
        }
        if let Some(s) = &spec.speed_factor {
            let s = s.to_string();
            match s.parse::<i64>() {
                Ok(i) => out.push_str(&format!("speedFactor = {i}\n")),
                Err(_) => {
                    return Err(format!(
                        "speed factor `{s}` is not an integer, which the NixOS module needs"
                    ))
                }
            }
        }
        if !spec.supported_features.is_empty() {
            out.push_str(&format!(
                "supportedFeatures = {}\n",
                Value::List(spec.supported_features.clone()).to_toml()
            ));
        }
        if !spec.mandatory_features.is_empty() {
            out.push_str(&format!(
                "mandatoryFeatures = {}\n",
                Value::List(spec.mandatory_features.clone()).to_toml()
            ));
        }
        if let Some(k) = spec.public_host_key.as_deref().filter(|k| !k.is_empty()) {
            out.push_str(&format!("publicHostKey = {}\n", toml::string(k)));
        }
        n += 1;
    }
    Ok((n, out))
}

/// `[nix.registry.NAME]` tables for `/etc/nix/registry.json`.
fn registry_toml(
    root: &Path,
    sources: &mut Sources,
    notes: &mut Vec<String>,
) -> Result<String, Error> {
    let path = root.join("etc/nix/registry.json");
    let Some(bytes) = sources.read(&path)? else {
        return Ok(String::new());
    };
    let json: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            notes.push(format!("/etc/nix/registry.json is not JSON ({e}): not imported, and nixconf would replace it"));
            return Ok(String::new());
        }
    };
    let mut out = String::new();
    let flakes = json
        .get("flakes")
        .and_then(|f| f.as_array())
        .cloned()
        .unwrap_or_default();
    for entry in flakes {
        let from = entry.get("from").and_then(|f| f.as_object());
        let to = entry.get("to").and_then(|f| f.as_object());
        let (Some(from), Some(to)) = (from, to) else {
            notes.push("a registry entry without `from` and `to` was not imported".to_owned());
            continue;
        };
        let Some(name) = from.get("id").and_then(|i| i.as_str()) else {
            notes.push("a registry entry whose `from` has no `id` was not imported".to_owned());
            continue;
        };
        let table = format!("nix.registry.{}", toml::key(name));
        if let Some(exact) = entry.get("exact").and_then(|e| e.as_bool()) {
            out.push_str(&format!("\n[{table}]\nexact = {exact}\n"));
        }
        for (part, attrs) in [("from", from), ("to", to)] {
            out.push_str(&format!("\n[{table}.{part}]\n"));
            for (k, v) in attrs {
                let v = match v {
                    serde_json::Value::String(s) => toml::string(s),
                    serde_json::Value::Number(n) if n.is_i64() => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    other => {
                        notes.push(format!("registry entry `{name}`: `{k}` = {other} cannot be written in the option tree; left out"));
                        continue;
                    }
                };
                out.push_str(&format!("{} = {v}\n", toml::key(k)));
            }
        }
    }
    Ok(out)
}

/// The build users as the option tree and nixconf's `users` table hold
/// them.
#[derive(Default)]
struct Pool {
    /// `nix.nrBuildUsers`.
    count: Option<i64>,
    /// `[ids.uids]`.
    uid_table: String,
    /// nixconf's own `[ids.gids]` and `[users]`.
    own_tables: String,
}

fn build_users(
    root: &Path,
    conf: &conf::ConfImport,
    notes: &mut Vec<String>,
) -> Result<Pool, Error> {
    let group_name = conf
        .settings
        .iter()
        .find(|(k, _)| k == "build-users-group")
        .map_or("nixbld".to_owned(), |(_, v)| match v {
            Value::Str(s) => s.clone(),
            other => other.to_toml(),
        });
    if group_name.is_empty() {
        return Ok(Pool::default());
    }
    let accounts = nixconf_users::Accounts::read(root).map_err(|e| Error::Read {
        path: root.join("etc/passwd").display().to_string(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let Some((group, mut users)) = accounts.group_with_accounts(&group_name) else {
        notes.push(format!(
            "no `{group_name}` group: the build users are made as configured"
        ));
        return Ok(Pool::default());
    };
    // nixbld1, nixbld2, ..., nixbld10: by the number after the prefix.
    let number = |name: &str| -> Option<(String, u32)> {
        let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (prefix, n) = name.split_at(name.len() - digits);
        Some((prefix.to_owned(), n.parse().ok()?))
    };
    users.sort_by_key(|u| number(&u.name).map_or(u32::MAX, |(_, n)| n));
    let mut own_tables = format!(
        "\n# nixconf's own options (not NixOS's): the group, and the build users' accounts.\n[ids.gids]\nnixbld = {}\n",
        group.gid
    );
    if users.is_empty() {
        return Ok(Pool {
            own_tables,
            ..Pool::default()
        });
    }
    let prefixes: Vec<Option<(String, u32)>> = users.iter().map(|u| number(&u.name)).collect();
    let prefix = prefixes
        .first()
        .and_then(|p| p.as_ref())
        .map(|(p, _)| p.clone())
        .unwrap_or_default();
    let numbered = prefixes.iter().enumerate().all(|(i, p)| {
        p.as_ref()
            .is_some_and(|(pre, n)| *pre == prefix && *n as usize == i + 1)
    });
    let base = users[0].uid.saturating_sub(1);
    let consecutive = users
        .iter()
        .enumerate()
        .all(|(i, u)| u64::from(u.uid) == u64::from(base) + 1 + i as u64);
    let uid_table = format!(
        "\n# The {} build users of group `{group_name}`: their first uid, less one.\n[ids.uids]\nnixbld = {base}\n",
        users.len()
    );
    if !numbered {
        notes.push(format!(
            "the `{group_name}` group's users are not numbered {prefix}1..{prefix}{}: nixconf makes its own pool beside them",
            users.len()
        ));
    }
    if !consecutive {
        notes.push(format!(
            "the build users' uids are not consecutive ({}): they keep them (users.renumber = true would move them to ids.uids.nixbld + 1 and up)",
            users.iter().map(|u| u.uid.to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    let mut users_table = String::new();
    if prefix != "nixbld" && !prefix.is_empty() {
        users_table.push_str(&format!("namePrefix = {}\n", toml::string(&prefix)));
    }
    let same = |f: fn(&nixconf_users::PasswdEntry) -> &str| {
        let first = f(&users[0]);
        users
            .iter()
            .all(|u| f(u) == first)
            .then(|| first.to_owned())
    };
    if let Some(home) = same(|u| u.home.as_str()).filter(|h| h != "/var/empty") {
        users_table.push_str(&format!("home = {}\n", toml::string(&home)));
    }
    if let Some(shell) = same(|u| u.shell.as_str()).filter(|s| s != "/sbin/nologin") {
        users_table.push_str(&format!("shell = {}\n", toml::string(&shell)));
    }
    if !users_table.is_empty() {
        own_tables.push_str("\n[users]\n");
        own_tables.push_str(&users_table);
    }
    Ok(Pool {
        count: Some(users.len() as i64),
        uid_table,
        own_tables,
    })
}
