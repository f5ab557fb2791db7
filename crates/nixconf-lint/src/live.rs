//! A live installation under a root, as the installed Nix reads it.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nixconf_format::{
    setting_info, Document, FsSource, LineKind, Network, NixVersion, ShowOptions,
};

use crate::subject::{BuildUsers, SecretFile, Setting, Socket, Subject, Token};
use crate::{checks, sorted, Finding, Host, Severity};

/// Lint the installation under `root`: its nix.conf (and what it
/// includes) as `version` reads it (default: the version installed on the
/// root, else the newest nixconf knows), its machines file, build users
/// and daemon socket.
pub fn lint_root(root: &Path, version: Option<&NixVersion>, host: &Host) -> Vec<Finding> {
    let version = version
        .cloned()
        .or_else(|| nixconf_import::detect(root).nix_version.map(|(v, _)| v))
        .unwrap_or_else(nixconf_format::newest_version);
    let conf_dir = root.join("etc/nix");
    let shown = nixconf_format::show_with(
        &FsSource,
        &conf_dir,
        &ShowOptions {
            version: version.clone(),
            network: Network::Online,
        },
    );
    let effective = match shown {
        Ok(e) => e.settings,
        Err(e) => {
            return vec![Finding {
                severity: Severity::Error,
                code: "nix-conf-unreadable",
                at: conf_dir.join("nix.conf").display().to_string(),
                message: format!("Nix {version} cannot read this configuration: {e}"),
                fix: format!(
                    "fix what the message names (nixconf conf check {}/nix.conf)",
                    conf_dir.display()
                ),
            }]
        }
    };
    let mut subject = Subject {
        version: Some(version.clone()),
        ..Subject::default()
    };
    let mut lines = BTreeMap::new();
    let mut files = Vec::new();
    walk(
        &conf_dir.join("nix.conf"),
        &version,
        &mut lines,
        &mut files,
        &mut subject,
        0,
    );
    for (name, value) in &effective {
        let (at, file) = lines
            .get(name)
            .cloned()
            .unwrap_or_else(|| (conf_dir.join("nix.conf").display().to_string(), None));
        let tokens = value
            .split_whitespace()
            .map(|t| Token {
                text: t.to_owned(),
                at: at.clone(),
            })
            .collect();
        if name == "access-tokens" && !value.is_empty() {
            if let Some(file) = &file {
                subject.nix_conf_world_readable = Some((at.clone(), world_readable(file)));
                if file.starts_with("/nix/store") || file.starts_with(root.join("nix/store")) {
                    subject.secret_files.push(SecretFile {
                        at: at.clone(),
                        path: file.display().to_string(),
                        what: "the file holding access-tokens".to_owned(),
                        world_readable: Some(true),
                    });
                }
            }
        }
        subject
            .settings
            .insert(name.clone(), Setting { at, tokens });
    }
    let under = |p: &str| root.join(p.trim_start_matches('/'));
    for key in ["netrc-file", "secret-key-files"] {
        if let Some(s) = subject.settings.get(key) {
            for t in s.tokens.clone() {
                let path = under(&t.text);
                if path.exists() {
                    subject.secret_files.push(SecretFile {
                        at: t.at,
                        path: t.text,
                        what: key.to_owned(),
                        world_readable: Some(world_readable(&path)),
                    });
                }
            }
        }
    }
    if let Some(s) = subject.settings.get("plugin-files") {
        for t in &s.tokens {
            if !under(&t.text).exists() {
                subject
                    .missing
                    .push((t.at.clone(), t.text.clone(), "the plugin file".to_owned()));
            }
        }
    }
    machines(root, &version, &mut subject);
    build_users(root, &mut subject);
    socket(root, &mut subject);
    sorted(checks::run(&subject, host))
}

fn world_readable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o004 != 0)
}

/// Where each setting was last written: walk a file and what it includes,
/// in order.
fn walk(
    path: &Path,
    version: &NixVersion,
    lines: &mut BTreeMap<String, (String, Option<PathBuf>)>,
    files: &mut Vec<PathBuf>,
    subject: &mut Subject,
    depth: usize,
) {
    if depth > 32 || files.contains(&path.to_path_buf()) {
        return;
    }
    files.push(path.to_path_buf());
    let Ok(text) = std::fs::read(path) else {
        return;
    };
    let doc = Document::parse(&text);
    for (n, line) in doc.lines().iter().enumerate() {
        let code =
            |span: &std::ops::Range<usize>| String::from_utf8_lossy(doc.slice(span)).into_owned();
        match &line.kind {
            LineKind::Setting { name, .. } => {
                let name_text = code(name);
                let base = name_text
                    .strip_prefix("extra-")
                    .filter(|_| setting_info(&name_text, version).is_none());
                let Some((canonical, _)) = setting_info(base.unwrap_or(&name_text), version) else {
                    continue;
                };
                let col = name.start - line.span.start + 1;
                lines.insert(
                    canonical.to_owned(),
                    (
                        format!("{}:{}:{col}", path.display(), n + 1),
                        Some(path.to_path_buf()),
                    ),
                );
            }
            LineKind::Include {
                ignore_missing,
                path: target,
            } => {
                let target = code(target);
                let full = if target.starts_with('/') {
                    PathBuf::from(&target)
                } else {
                    path.parent().unwrap_or(Path::new("/")).join(&target)
                };
                if !full.exists() {
                    if !ignore_missing {
                        subject.missing.push((
                            format!("{}:{}", path.display(), n + 1),
                            target,
                            "the included file".to_owned(),
                        ));
                    }
                    continue;
                }
                walk(&full, version, lines, files, subject, depth + 1);
            }
            _ => {}
        }
    }
}

fn machines(root: &Path, version: &NixVersion, subject: &mut Subject) {
    let builders = subject
        .settings
        .get("builders")
        .map_or("@/etc/nix/machines".to_owned(), Setting::value);
    let (text, source) = match builders.strip_prefix('@') {
        Some(file) => {
            let path = root.join(file.trim_start_matches('/'));
            match std::fs::read_to_string(&path) {
                Ok(t) => (t, path.display().to_string()),
                Err(_) => return,
            }
        }
        None => (builders, "builders".to_owned()),
    };
    if let Ok(file) = nixconf_machines::parse(&text, &source, version) {
        for item in &file.items {
            if let nixconf_machines::Item::Machine { line, machine, .. } = item {
                subject.machines.push((
                    format!("{source}:{line}"),
                    nixconf_machines::Located {
                        file: source.clone(),
                        line: *line,
                        machine: machine.clone(),
                    },
                ));
            }
        }
    }
}

fn build_users(root: &Path, subject: &mut Subject) {
    let group_name = subject
        .settings
        .get("build-users-group")
        .map_or("nixbld".to_owned(), Setting::value);
    if group_name.is_empty() {
        return;
    }
    let Ok(accounts) = nixconf_users::Accounts::read(root) else {
        return;
    };
    let Some((_, users)) = accounts.group_with_accounts(&group_name) else {
        return;
    };
    let uids: Vec<(String, u32)> = users.into_iter().map(|u| (u.name, u.uid)).collect();
    subject.build_users = Some(BuildUsers {
        at: root.join("etc/group").display().to_string(),
        count: uids.len() as i64,
        uids,
    });
}

fn socket(root: &Path, subject: &mut Subject) {
    let path = root.join("nix/var/nix/daemon-socket");
    let Ok(meta) = std::fs::metadata(&path) else {
        return;
    };
    let gid = meta.gid();
    let group = nixconf_users::Accounts::read(root)
        .ok()
        .and_then(|a| {
            a.group
                .entries()
                .map(|(_, g)| g)
                .find(|g| g.gid == gid)
                .map(|g| g.name)
        })
        .unwrap_or_else(|| gid.to_string());
    subject.socket = Some(Socket {
        path: "/nix/var/nix/daemon-socket".to_owned(),
        mode: meta.permissions().mode() & 0o7777,
        group,
    });
}
