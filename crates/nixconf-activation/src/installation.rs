//! What an installation should look like: the input of planning.

use std::collections::BTreeMap;
use std::path::Path;

use nixconf_diagnostic::{Diagnostic, Span};
use nixconf_format::NixVersion;
use nixconf_options::ModuleGeneration;
use serde::{Deserialize, Serialize};

use crate::action::build_users::BuildUsers;
use crate::desired::{DesiredDir, DesiredFile, DesiredSymlink};
use crate::error::{Error, Result};
use crate::relpath::RelPath;

/// Nix's state directories and symlinks for one Nix version.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StateLayout {
    /// Directories, parents before children.
    pub directories: Vec<DesiredDir>,
    /// Symlinks, after the directories they live in.
    pub symlinks: Vec<DesiredSymlink>,
}

/// The state directories the NixOS module creates for a Nix `version`.
///
/// For Nix 2 and later, the 2023 module: its activation script's
/// `install -m 0755 -d /nix/var/nix/{gcroots,profiles}/per-user` and its
/// tmpfiles rule `d /nix/var/nix/daemon-socket 0755 root root`. For Nix 1.x
/// (the targets of the 2013 module, as
/// [`ModuleGeneration::for_version`](nixconf_options::ModuleGeneration::for_version)
/// decides), the 2013 module's `mkdir -m 0755 -p` set, its `mkdir -m 1777
/// -p` set and its two symlinks into `gcroots`. Everything is owned by
/// root, as the activation script ran as root.
pub fn state_layout(version: &NixVersion) -> StateLayout {
    let dir = |path: &str, mode: u32| DesiredDir::new(path, mode).owned_by("root", "root");
    if ModuleGeneration::for_version(version) != Some(ModuleGeneration::Nixos2013) {
        return StateLayout {
            directories: vec![
                dir("nix/var/nix/gcroots/per-user", 0o755),
                dir("nix/var/nix/profiles/per-user", 0o755),
                // Who may reach the daemon is the socket directory's
                // mode and group: a distribution's restriction stays.
                dir("nix/var/nix/daemon-socket", 0o755).keep_existing(),
            ],
            symlinks: Vec::new(),
        };
    }
    let mut directories: Vec<DesiredDir> = [
        "nix/var/nix/gcroots",
        "nix/var/nix/temproots",
        "nix/var/nix/manifests",
        "nix/var/nix/userpool",
        "nix/var/nix/profiles",
        "nix/var/nix/db",
        "nix/var/log/nix/drvs",
        "nix/var/nix/channel-cache",
        "nix/var/nix/chroots",
    ]
    .iter()
    .map(|p| dir(p, 0o755))
    .collect();
    directories.extend(
        [
            "nix/var/nix/gcroots/per-user",
            "nix/var/nix/profiles/per-user",
            "nix/var/nix/gcroots/tmp",
        ]
        .iter()
        .map(|p| dir(p, 0o1777)),
    );
    StateLayout {
        directories,
        symlinks: vec![
            DesiredSymlink::new("nix/var/nix/gcroots/profiles", "/nix/var/nix/profiles"),
            DesiredSymlink::new("nix/var/nix/gcroots/manifests", "/nix/var/nix/manifests"),
        ],
    }
}

/// The whole desired installation: files, directories, symlinks and the
/// build users, built up with the builder methods or read from JSON with
/// [`Installation::from_json`].
///
/// Actions run in this order: what is no longer configured is retired,
/// then the build users and their group (they come before anything that
/// may be owned by them), directories, symlinks, files, and last the
/// daemon restart.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Installation {
    /// Nix's state directories for this Nix version ([`state_layout`]),
    /// added before `directories`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nix_state_layout: Option<String>,
    /// The channel `/root/.nix-channels` subscribes root to, as
    /// `<channel> nixos`, written only when the file is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root_channel: Option<String>,
    #[serde(default)]
    directories: Vec<DesiredDir>,
    #[serde(default)]
    symlinks: Vec<DesiredSymlink>,
    #[serde(default)]
    files: Vec<DesiredFile>,
    /// Whether the build users are managed, and which.
    #[serde(skip)]
    build_users: ManagedUsers,
}

/// Whether an installation manages the build users.
#[derive(Debug, Default)]
enum ManagedUsers {
    /// It does not say: build users an earlier apply created are left
    /// as they are.
    #[default]
    Unmanaged,
    /// None are wanted: those an earlier apply created are removed.
    None,
    /// These, planned against the root's accounts.
    Planned(Box<BuildUsers>),
}

impl Installation {
    /// An empty installation.
    pub fn new() -> Installation {
        Installation::default()
    }

    /// Read an installation from its JSON form (it leaves the build users
    /// alone):
    /// `{"nix_state_layout": "2.18.1", "root_channel": URL,
    ///   "directories": [{"path", "mode": "0755", "owner", "group"}],
    ///   "symlinks": [{"path", "target"}],
    ///   "files": [{"path", "contents", "mode": "0644", "only_if_absent",
    ///              "restarts_daemon"}]}`, every key optional.
    pub fn from_json(text: &str) -> Result<Installation> {
        let inst = parse_json(text).map_err(|(location, message)| Error::Installation {
            location: format!("{}:{}", location.0, location.1),
            message,
        })?;
        inst.validate()?;
        Ok(inst)
    }

    /// Read an installation from its JSON form in the file at `path`, as
    /// [`Installation::from_json`] does; a syntax or shape error is an
    /// [`Error::Located`] diagnostic pointing into the file, a problem
    /// with a field names the file and the field.
    pub fn read_json(path: &Path) -> Result<Installation> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file = path.display().to_string();
        let inst = parse_json(&text).map_err(|((line, column), message)| {
            // serde_json counts columns in bytes; the span wants characters.
            let line_start: usize = text
                .split_inclusive('\n')
                .take(line.saturating_sub(1))
                .map(str::len)
                .sum();
            let offset = line_start + column.saturating_sub(1);
            let span = Span::from_offset(file.as_str(), &text, offset, 1);
            Error::Located(Box::new(Diagnostic::error(message).with_span(span)))
        })?;
        inst.validate().map_err(|e| match e {
            Error::Installation { location, message } => Error::Installation {
                location: format!("{file}:{location}"),
                message,
            },
            other => other,
        })?;
        Ok(inst)
    }

    /// The JSON form read by [`Installation::from_json`] (the build users
    /// are not part of it).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Add a file.
    pub fn file(mut self, file: DesiredFile) -> Installation {
        self.files.push(file);
        self
    }

    /// Add a directory.
    pub fn directory(mut self, dir: DesiredDir) -> Installation {
        self.directories.push(dir);
        self
    }

    /// Add a symlink.
    pub fn symlink(mut self, link: DesiredSymlink) -> Installation {
        self.symlinks.push(link);
        self
    }

    /// Add Nix's state directories for `version` (see [`state_layout`]).
    pub fn nix_state_layout(mut self, version: &NixVersion) -> Installation {
        self.nix_state_layout = Some(version.as_str().to_owned());
        self
    }

    /// Subscribe root to `channel` in `/root/.nix-channels` when that file
    /// is absent, as the module's activation script does.
    pub fn root_channel(mut self, channel: impl Into<String>) -> Installation {
        self.root_channel = Some(channel.into());
        self
    }

    /// Manage the build users and their group: create what `users` plans,
    /// and remove those earlier applies created that it no longer asks
    /// for. Revert takes them all back.
    pub fn build_users(mut self, users: BuildUsers) -> Installation {
        self.build_users = ManagedUsers::Planned(Box::new(users));
        self
    }

    /// Ask for no build users: those earlier applies created are removed
    /// (the build users once Nix is disabled). Without this or
    /// [`Installation::build_users`], the build users are left as they
    /// are.
    pub fn no_build_users(mut self) -> Installation {
        self.build_users = ManagedUsers::None;
        self
    }

    /// The build users to create, when any are planned.
    pub(crate) fn planned_build_users(&self) -> Option<&BuildUsers> {
        match &self.build_users {
            ManagedUsers::Planned(users) => Some(users),
            _ => None,
        }
    }

    /// Whether the build users recorded in the receipt are retired: the
    /// installation manages them and wants none.
    pub(crate) fn retires_build_users(&self) -> bool {
        matches!(self.build_users, ManagedUsers::None)
    }

    /// Every directory, symlink and file with its path checked, in action
    /// order; reports every problem at once.
    pub(crate) fn validate(&self) -> Result<Resolved> {
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut out = Resolved::default();
        let mut seen: BTreeMap<RelPath, String> = BTreeMap::new();
        let mut check = |location: String, path: &str, problems: &mut Vec<(String, String)>| {
            match RelPath::parse(path) {
                Ok(p) => {
                    if let Some(first) = seen.get(&p) {
                        problems.push((
                            location,
                            format!("{} is already described by {first}", p.display()),
                        ));
                        None
                    } else {
                        seen.insert(p.clone(), location);
                        Some(p)
                    }
                }
                Err(m) => {
                    problems.push((location, m));
                    None
                }
            }
        };
        let layout = match &self.nix_state_layout {
            None => None,
            Some(v) => match v.parse::<NixVersion>() {
                Ok(v) => Some(state_layout(&v)),
                Err(e) => {
                    problems.push(("nix_state_layout".to_owned(), e.to_string()));
                    None
                }
            },
        };
        let (layout_dirs, layout_links) = layout
            .map(|l| (l.directories, l.symlinks))
            .unwrap_or_default();
        for (i, d) in layout_dirs.iter().enumerate() {
            if let Some(p) = check(
                format!("nix_state_layout.directories[{i}]"),
                &d.path,
                &mut problems,
            ) {
                out.directories.push((p, d.clone()));
            }
        }
        for (i, d) in self.directories.iter().enumerate() {
            let loc = format!("directories[{i}]");
            if d.mode > 0o7777 {
                problems.push((
                    format!("{loc}.mode"),
                    format!("{:o} is not a permission mode (at most 7777)", d.mode),
                ));
            }
            if let Some(p) = check(format!("{loc}.path"), &d.path, &mut problems) {
                out.directories.push((p, d.clone()));
            }
        }
        for (i, l) in layout_links.iter().enumerate() {
            if let Some(p) = check(
                format!("nix_state_layout.symlinks[{i}]"),
                &l.path,
                &mut problems,
            ) {
                out.symlinks.push((p, l.clone()));
            }
        }
        for (i, l) in self.symlinks.iter().enumerate() {
            let loc = format!("symlinks[{i}]");
            if l.target.is_empty() || l.target.contains('\0') {
                problems.push((
                    format!("{loc}.target"),
                    "a symlink target must be non-empty and without NUL bytes".to_owned(),
                ));
            }
            if let Some(p) = check(format!("{loc}.path"), &l.path, &mut problems) {
                out.symlinks.push((p, l.clone()));
            }
        }
        let channel_file = self.root_channel.as_ref().map(|channel| {
            DesiredFile::new("root/.nix-channels", format!("{channel} nixos\n")).only_if_absent()
        });
        let files = self
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("files[{i}]"), f))
            .chain(channel_file.iter().map(|f| ("root_channel".to_owned(), f)));
        for (loc, f) in files {
            if f.mode > 0o7777 {
                problems.push((
                    format!("{loc}.mode"),
                    format!("{:o} is not a permission mode (at most 7777)", f.mode),
                ));
            }
            let path_loc = if loc == "root_channel" {
                loc.clone()
            } else {
                format!("{loc}.path")
            };
            if let Some(p) = check(path_loc, &f.path, &mut problems) {
                out.files.push((p, f.clone()));
            }
        }
        // A file or symlink cannot also be the parent of another entry.
        let leaves: Vec<&RelPath> = out
            .files
            .iter()
            .map(|f| &f.0)
            .chain(out.symlinks.iter().map(|l| &l.0))
            .collect();
        for (p, loc) in &seen {
            for leaf in &leaves {
                if p != *leaf && p.starts_with(leaf) {
                    problems.push((
                        loc.clone(),
                        format!(
                            "{} lies inside {}, which is not a directory",
                            p.display(),
                            leaf.display()
                        ),
                    ));
                }
            }
        }
        match problems.split_first() {
            None => Ok(out),
            Some(((location, message), rest)) => {
                let mut message = message.clone();
                for (l, m) in rest {
                    message.push_str(&format!("\n{l}: {m}"));
                }
                Err(Error::Installation {
                    location: location.clone(),
                    message,
                })
            }
        }
    }
}

/// Parse the JSON form, without checking paths; an error is its line and
/// column (1-based, the column in bytes) and message.
fn parse_json(text: &str) -> std::result::Result<Installation, ((usize, usize), String)> {
    serde_json::from_str(text).map_err(|e| {
        let message = e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or("")
            .to_owned();
        ((e.line(), e.column()), message)
    })
}

/// An installation with its paths checked, in action order.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    pub(crate) directories: Vec<(RelPath, DesiredDir)>,
    pub(crate) symlinks: Vec<(RelPath, DesiredSymlink)>,
    pub(crate) files: Vec<(RelPath, DesiredFile)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern_layout_matches_the_2023_module() {
        let l = state_layout(&"2.13.3".parse().unwrap());
        let paths: Vec<(&str, u32)> = l
            .directories
            .iter()
            .map(|d| (d.path.as_str(), d.mode))
            .collect();
        assert_eq!(
            paths,
            [
                ("nix/var/nix/gcroots/per-user", 0o755),
                ("nix/var/nix/profiles/per-user", 0o755),
                ("nix/var/nix/daemon-socket", 0o755)
            ]
        );
        assert!(l.symlinks.is_empty());
        assert!(l
            .directories
            .iter()
            .all(|d| d.owner.as_deref() == Some("root") && d.group.as_deref() == Some("root")));
    }

    #[test]
    fn layout_generation_follows_the_module_generation() {
        let legacy = state_layout(&"1.5.3".parse().unwrap());
        // A 1.12 snapshot is Nix 1.x; a 2.0 snapshot already has Nix 2's
        // layout, as it has Nix 2's settings.
        assert_eq!(
            state_layout(&"1.12pre5511_c94f3d55".parse().unwrap()),
            legacy
        );
        assert_ne!(
            state_layout(&"2.0pre5968_a6c0b773".parse().unwrap()),
            legacy
        );
    }

    #[test]
    fn legacy_layout_matches_the_2013_module() {
        let l = state_layout(&"1.5.3".parse().unwrap());
        let sticky: Vec<&str> = l
            .directories
            .iter()
            .filter(|d| d.mode == 0o1777)
            .map(|d| d.path.as_str())
            .collect();
        assert_eq!(
            sticky,
            [
                "nix/var/nix/gcroots/per-user",
                "nix/var/nix/profiles/per-user",
                "nix/var/nix/gcroots/tmp"
            ]
        );
        assert_eq!(l.directories.iter().filter(|d| d.mode == 0o755).count(), 9);
        assert!(l
            .directories
            .iter()
            .any(|d| d.path == "nix/var/log/nix/drvs"));
        assert_eq!(
            l.symlinks,
            [
                DesiredSymlink::new("nix/var/nix/gcroots/profiles", "/nix/var/nix/profiles"),
                DesiredSymlink::new("nix/var/nix/gcroots/manifests", "/nix/var/nix/manifests"),
            ]
        );
    }

    #[test]
    fn json_errors_name_line_and_column() {
        let err = Installation::from_json(
            "{\n  \"files\": [{\"path\": \"etc/x\", \"contents\": \"\", \"mode\": \"999\"}]\n}",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("2:"), "{text}");
        assert!(text.contains("invalid mode \"999\""), "{text}");
        let err = Installation::from_json("{\"file\": []}")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("1:") && err.contains("unknown field `file`"),
            "{err}"
        );
    }

    #[test]
    fn json_files_errors_are_diagnostics_with_a_caret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("installation.json");
        std::fs::write(&path, "{\n  \"files\": [{\"päth\": \"etc/x\"}]\n}\n").unwrap();
        let err = Installation::read_json(&path).unwrap_err();
        let Error::Located(d) = &err else {
            panic!("{err:?}")
        };
        let span = d.span.as_ref().unwrap();
        // serde_json says byte 20; the span counts characters.
        assert_eq!((span.line, span.column), (2, 19));
        assert!(
            err.to_string()
                .starts_with(&format!("{}:2:19: unknown field `päth`", path.display())),
            "{err}"
        );
        assert!(d
            .render()
            .contains("2 |   \"files\": [{\"päth\": \"etc/x\"}]\n"));
        std::fs::write(&path, r#"{"files": [{"path": "a/../b", "contents": ""}]}"#).unwrap();
        let err = Installation::read_json(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}:files[0].path: 'a/../b' has a '..' component; write the path without it",
                path.display()
            )
        );
    }

    #[test]
    fn bad_paths_are_all_reported_with_their_field() {
        let json = r#"{"files": [{"path": "etc/../x", "contents": ""}, {"path": "/etc/nix/nix.conf", "contents": ""}],
                       "directories": [{"path": "etc/nix/nix.conf/sub", "mode": "0755"}, {"path": "/", "mode": "0755"}]}"#;
        let text = Installation::from_json(json).unwrap_err().to_string();
        assert!(
            text.contains("directories[1].path: '/' names the root itself"),
            "{text}"
        );
        assert!(
            text.contains("files[0].path: 'etc/../x' has a '..' component"),
            "{text}"
        );
        assert!(
            text.contains(
                "directories[0].path: /etc/nix/nix.conf/sub lies inside /etc/nix/nix.conf"
            ),
            "{text}"
        );
    }

    #[test]
    fn duplicate_paths_are_refused() {
        let inst = Installation::new()
            .file(DesiredFile::new("etc/nix/nix.conf", "a"))
            .file(DesiredFile::new("/etc/nix/nix.conf", "b"));
        let text = inst.validate().unwrap_err().to_string();
        assert_eq!(
            text,
            "files[1].path: /etc/nix/nix.conf is already described by files[0].path"
        );
    }

    #[test]
    fn json_round_trips() {
        let inst = Installation::new()
            .nix_state_layout(&"2.18.1".parse().unwrap())
            .root_channel("https://nixos.org/channels/nixos-unstable")
            .directory(DesiredDir::new("nix/var/nix/x", 0o1777).owned_by("root", "nixbld"))
            .symlink(DesiredSymlink::new("a", "/b"))
            .file(
                DesiredFile::new("etc/nix/nix.conf", "x = 1\n")
                    .mode(0o600)
                    .restarts_daemon(),
            );
        let json = inst.to_json();
        assert!(json.contains("\"mode\": \"1777\""), "{json}");
        assert_eq!(Installation::from_json(&json).unwrap().to_json(), json);
    }
}
