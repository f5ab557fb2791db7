//! Planning: every action looked at against the live tree.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::beneath::{Kind, RootDir};
use crate::diff::unified_diff;
use crate::error::{Error, Result};
use crate::fsops::{self, Ids, MODE_MASK};
use crate::installation::{DesiredDir, DesiredFile, DesiredSymlink, Installation};
use crate::observe::{classify, effective_mode, Class, Current};
use crate::path::{resolve, Entry};
use crate::receipt::{backup_rel, Original, Receipt, Record, STATE_DIR};
use crate::relpath::RelPath;

/// Whether directory owners are checked and set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Ownership {
    /// Enforce owners when running as root, ignore them otherwise (only
    /// root can give a directory away, and a tree built by an unprivileged
    /// user belongs to that user).
    #[default]
    Auto,
    /// Always check and set owners.
    Enforce,
    /// Never look at owners.
    Ignore,
}

/// How to plan.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Whether directory owners are managed.
    pub ownership: Ownership,
}

impl PlanOptions {
    /// Set how owners are handled.
    pub fn ownership(mut self, ownership: Ownership) -> PlanOptions {
        self.ownership = ownership;
        self
    }
}

/// Where an action stands against the live tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Nothing to do.
    Done,
    /// To be carried out.
    Pending,
    /// A file we manage was edited by hand: applying needs `force`.
    Conflict,
    /// Cannot be carried out (a symlink out of the root, a directory where
    /// a file should be); applying is refused.
    Blocked,
}

/// What an action is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActionKind {
    /// A directory with its mode and owner.
    Directory,
    /// A symlink.
    Symlink,
    /// A file with its contents and mode.
    File,
    /// Undo what an earlier apply did for something no longer configured.
    Retire,
    /// An action of another crate (the build users).
    External,
    /// Restart the Nix daemon.
    RestartDaemon,
}

/// The internal part of an action: what to carry out.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Directory {
        path: RelPath,
        mode: u32,
        /// Owner and group ids, when owners are managed.
        owner: Option<(u32, u32)>,
    },
    Symlink {
        path: RelPath,
        target: PathBuf,
    },
    File {
        path: RelPath,
        file: DesiredFile,
    },
    Retire {
        record: Record,
    },
    External {
        index: usize,
    },
    RestartDaemon,
    /// Nothing can be done (a blocked action).
    Refused,
}

/// One action of a plan.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct PlannedAction {
    /// What it is about.
    pub kind: ActionKind,
    /// The path it manages, as seen from inside the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Where it stands.
    pub status: Status,
    /// One line saying what it does (or why it cannot).
    pub summary: String,
    /// For files: the change as a unified diff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(skip)]
    pub(crate) step: Step,
    /// A host directory we must be able to write into to carry it out.
    #[serde(skip)]
    pub(crate) writes_in: Option<PathBuf>,
    /// The daemon reads what this action changes.
    #[serde(skip)]
    pub(crate) restarts_daemon: bool,
}

/// A plan: every action of an installation, in order, with its status.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    root: PathBuf,
    up_to_date: bool,
    actions: Vec<PlannedAction>,
    /// Where creating our state directory writes, when it is needed.
    #[serde(skip)]
    pub(crate) state_writes_in: Option<PathBuf>,
}

impl Plan {
    /// Whether nothing is left to do.
    pub fn is_up_to_date(&self) -> bool {
        self.up_to_date
    }

    /// Every action, done or not, in the order they run.
    pub fn actions(&self) -> &[PlannedAction] {
        &self.actions
    }

    /// The root the plan was made against.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Why applying would be refused: blocked actions, and conflicts
    /// unless `force`.
    pub fn problems(&self, force: bool) -> Vec<String> {
        self.actions
            .iter()
            .filter(|a| a.status == Status::Blocked || (a.status == Status::Conflict && !force))
            .map(|a| a.summary.clone())
            .collect()
    }

    /// The plan for people: one line per action to carry out, each file's
    /// change as a unified diff indented under it, a final count; or
    /// `up to date`.
    pub fn describe(&self) -> String {
        if self.up_to_date {
            return "up to date\n".to_owned();
        }
        let mut out = String::new();
        let mut todo = 0;
        for a in &self.actions {
            let prefix = match a.status {
                Status::Done => continue,
                Status::Pending => "",
                Status::Conflict => "conflict: ",
                Status::Blocked => "refused: ",
            };
            todo += 1;
            out.push_str(prefix);
            out.push_str(&a.summary);
            out.push('\n');
            if let Some(diff) = &a.diff {
                for line in diff.lines() {
                    out.push_str("    ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        let done = self.actions.len() - todo;
        out.push_str(&format!("\n{todo} to do, {done} up to date\n"));
        out
    }

    /// The version of the JSON [`Plan::to_json`] prints (the README's
    /// "Plan JSON" section): bumped when a field changes meaning.
    pub const JSON_VERSION: u32 = 1;

    /// The plan as pretty-printed JSON: `{"version", "root", "up_to_date",
    /// "actions": [{"kind", "path", "status", "summary", "diff"}],
    /// "warnings"}`.
    pub fn to_json(&self) -> String {
        self.to_json_with_warnings(&[])
    }

    /// [`Plan::to_json`] with the configuration's warnings (renamed
    /// options and the like), one line each.
    pub fn to_json_with_warnings(&self, warnings: &[String]) -> String {
        #[derive(Serialize)]
        struct Versioned<'a> {
            version: u32,
            #[serde(flatten)]
            plan: &'a Plan,
            warnings: &'a [String],
        }
        serde_json::to_string_pretty(&Versioned {
            version: Plan::JSON_VERSION,
            plan: self,
            warnings,
        })
        .unwrap_or_default()
    }
}

fn mode_str(mode: u32) -> String {
    format!("{mode:04o}")
}

/// Plan `installation` against the tree under `root`: each action is
/// looked at on disk and marked done, pending, conflicting or blocked.
/// Reads only; never changes anything.
pub fn plan(root: &Path, installation: &Installation, options: &PlanOptions) -> Result<Plan> {
    let meta = std::fs::metadata(root).map_err(|e| Error::Root {
        path: root.to_path_buf(),
        message: e.to_string(),
    })?;
    if !meta.is_dir() {
        return Err(Error::Root {
            path: root.to_path_buf(),
            message: "not a directory".to_owned(),
        });
    }
    let desired = installation.validate()?;
    let ids = Ids::current();
    let enforce_ownership = match options.ownership {
        Ownership::Auto => ids.is_privileged(),
        Ownership::Enforce => true,
        Ownership::Ignore => false,
    };
    let dir = RootDir::open(root)?;
    let receipt = Receipt::load_in(&dir)?;
    let mut planner = Planner {
        root: &dir,
        receipt: receipt.as_ref(),
        actions: Vec::new(),
    };

    // Records of what is no longer configured (or configured as another
    // kind of entry) are retired first, latest first, as revert would.
    let mut wanted: BTreeSet<(&'static str, &RelPath)> = BTreeSet::new();
    wanted.extend(desired.directories.iter().map(|(p, _)| ("directory", p)));
    wanted.extend(desired.symlinks.iter().map(|(p, _)| ("symlink", p)));
    wanted.extend(desired.files.iter().map(|(p, _)| ("file", p)));
    for record in receipt.iter().flat_map(|r| r.records.iter().rev()) {
        let key = match record {
            Record::Directory { path, .. } => ("directory", path),
            Record::Symlink { path, .. } => ("symlink", path),
            Record::File { path, .. } => ("file", path),
            Record::External { action, .. } => {
                if installation.retired_external(action).is_some() {
                    planner.retire_external(record, action);
                }
                continue;
            }
        };
        if !wanted.contains(&key) {
            planner.retire(record)?;
        }
    }
    // External actions (the build users and their group) come before the
    // directories and files, which may be owned by them.
    // The shadow tools run on the host: no account file may lead them
    // out of the root.
    let accounts_refused = (!installation.external_actions().is_empty())
        .then(|| crate::path::check_account_files(root).err())
        .flatten();
    for (index, ext) in installation.external_actions().iter().enumerate() {
        let problems = ext.problems();
        let done = ext.is_done();
        let (status, summary) = if !problems.is_empty() {
            (Status::Blocked, problems.join("\n"))
        } else if done {
            (Status::Done, format!("{}: up to date", ext.kind()))
        } else if let Some(refused) = &accounts_refused {
            (Status::Blocked, format!("{}: {refused}", ext.kind()))
        } else {
            (Status::Pending, ext.describe().join("\n"))
        };
        planner.actions.push(PlannedAction {
            kind: ActionKind::External,
            path: None,
            status,
            summary,
            diff: None,
            step: if status == Status::Blocked {
                Step::Refused
            } else {
                Step::External { index }
            },
            writes_in: None,
            restarts_daemon: false,
        });
    }
    for (path, d) in &desired.directories {
        let owner = if enforce_ownership {
            owner_ids(&dir, d)?
        } else {
            None
        };
        planner.directory(path, d, owner)?;
    }
    for (path, link) in &desired.symlinks {
        planner.symlink(path, link)?;
    }
    for (path, file) in &desired.files {
        planner.file(path, file)?;
    }
    let changed: Vec<String> = planner
        .actions
        .iter()
        .filter(|a| a.restarts_daemon && a.status != Status::Done)
        .filter_map(|a| a.path.clone())
        .collect();
    let restart_pending = receipt.as_ref().is_some_and(|r| r.daemon_restart_pending);
    if !changed.is_empty() || restart_pending {
        let why = if changed.is_empty() {
            "a restart asked for earlier has not happened yet".to_owned()
        } else {
            format!("it reads {}", changed.join(", "))
        };
        planner.actions.push(PlannedAction {
            kind: ActionKind::RestartDaemon,
            path: None,
            status: Status::Pending,
            summary: format!("restart nix-daemon.service ({why})"),
            diff: None,
            step: Step::RestartDaemon,
            writes_in: None,
            restarts_daemon: false,
        });
    }
    let mut actions = planner.actions;
    // The receipt goes under the root too: if its directory is missing,
    // its nearest existing parent must be writable.
    let mut state_writes_in = None;
    if actions.iter().any(|a| a.status != Status::Done) {
        let state = RelPath::parse(STATE_DIR).map_err(|m| Error::Root {
            path: root.to_path_buf(),
            message: m,
        })?;
        match state_dir_check(&dir) {
            Ok(writes_in) => state_writes_in = Some(writes_in),
            Err(refusal) => actions.insert(
                0,
                PlannedAction {
                    kind: ActionKind::Directory,
                    path: Some(state.display()),
                    status: Status::Blocked,
                    summary: format!(
                        "cannot keep the receipt under {}: {}",
                        state.display(),
                        refusal
                    ),
                    diff: None,
                    step: Step::Refused,
                    writes_in: None,
                    restarts_daemon: false,
                },
            ),
        }
    }
    Ok(Plan {
        root: root.to_path_buf(),
        up_to_date: actions.iter().all(|a| a.status == Status::Done),
        actions,
        state_writes_in,
    })
}

/// The ids of a directory's owner and group, from the root's own user
/// database.
fn owner_ids(root: &RootDir, dir: &DesiredDir) -> Result<Option<(u32, u32)>> {
    let (Some(owner), Some(group)) = (&dir.owner, &dir.group) else {
        return Ok(None);
    };
    let lookup = |db: &str, name: &str, what: &str| -> Result<u32> {
        let rel = RelPath::parse(db).map_err(|m| Error::Root {
            path: root.path().to_path_buf(),
            message: m,
        })?;
        let real = match resolve(root, &rel, true) {
            Ok(r) => r.real,
            Err(refusal) => {
                return Err(Error::Installation {
                    location: dir.path.clone(),
                    message: refusal.0,
                })
            }
        };
        fsops::lookup_id(root, &real, name)?.ok_or_else(|| Error::Installation {
            location: dir.path.clone(),
            message: format!("{what} '{name}' is not in the root's /{db}"),
        })
    };
    Ok(Some((
        lookup("etc/passwd", owner, "owner")?,
        lookup("etc/group", group, "group")?,
    )))
}

/// The deepest existing directory on the way to a resolved path: where
/// creating it writes.
fn existing_dir(root: &RootDir, r: &crate::path::Resolved) -> PathBuf {
    let comps: Vec<String> = r.real.components().map(str::to_owned).collect();
    let keep = match r.entry {
        Entry::Missing => r.existing,
        _ => comps.len().saturating_sub(1),
    };
    root.path().join(comps[..keep.min(comps.len())].join("/"))
}

/// Where creating our state directory writes (the deepest of `nix`,
/// `nix/var`, `nix/var/nixconf` that exists), or why it cannot be used: a
/// symlink or a non-directory on the way. Our own state is never reached
/// through a symlink, even one inside the root.
pub(crate) fn state_dir_check(root: &RootDir) -> std::result::Result<PathBuf, String> {
    let comps: Vec<String> = STATE_DIR.split('/').map(str::to_owned).collect();
    let mut deepest = root.path().to_path_buf();
    for n in 1..=comps.len() {
        let rel = RelPath::from_components(&comps[..n]);
        match root.lstat(&rel) {
            Ok(None) => break,
            Ok(Some(m)) if m.kind == Kind::Dir => deepest = root.host(&rel),
            Ok(Some(m)) if m.kind == Kind::Symlink => {
                return Err(format!(
                    "{} is a symlink; nixconf never keeps its state through one: replace it with a directory",
                    rel.display()
                ))
            }
            Ok(Some(_)) => return Err(format!("{} is not a directory", rel.display())),
            Err(e) => return Err(format!("cannot look at {}: {e}", rel.display())),
        }
    }
    // Where the backups and copies of hand edits go.
    for sub in ["backups", "edited", "receipt.json", "lock"] {
        let rel = RelPath::from_components(&[STATE_DIR.to_owned(), sub.to_owned()]);
        if let Ok(Some(m)) = root.lstat(&rel) {
            if m.kind == Kind::Symlink {
                return Err(format!(
                    "{} is a symlink; nixconf never keeps its state through one: remove it",
                    rel.display()
                ));
            }
        }
    }
    Ok(deepest)
}

struct Planner<'a> {
    root: &'a RootDir,
    receipt: Option<&'a Receipt>,
    actions: Vec<PlannedAction>,
}

/// Text for a diff: the file's bytes when they are UTF-8.
fn text_of(current: &Current) -> Option<&str> {
    match current {
        Current::File { bytes, .. } => std::str::from_utf8(bytes).ok(),
        Current::Missing => Some(""),
        _ => None,
    }
}

impl Planner<'_> {
    fn record(&self, path: &RelPath) -> Option<&Record> {
        self.receipt.and_then(|r| r.find(path))
    }

    fn blocked(&mut self, kind: ActionKind, path: &RelPath, why: String) {
        self.actions.push(PlannedAction {
            kind,
            path: Some(path.display()),
            status: Status::Blocked,
            summary: format!("{}: {why}", path.display()),
            diff: None,
            step: Step::Refused,
            writes_in: None,
            restarts_daemon: false,
        });
    }

    fn directory(
        &mut self,
        path: &RelPath,
        dir: &DesiredDir,
        owner: Option<(u32, u32)>,
    ) -> Result<()> {
        let step = Step::Directory {
            path: path.clone(),
            mode: dir.mode,
            owner,
        };
        let resolved = match resolve(self.root, path, true) {
            Ok(r) => r,
            Err(refusal) => {
                self.blocked(ActionKind::Directory, path, refusal.0);
                return Ok(());
            }
        };
        let owner_text = match (&dir.owner, &dir.group) {
            (Some(o), Some(g)) => format!(", owner {o}:{g}"),
            _ => String::new(),
        };
        let via = through(path, &resolved.real);
        let (status, summary, writes_in) = match &resolved.entry {
            Entry::Missing => (
                Status::Pending,
                format!(
                    "create directory {}{via} (mode {}{owner_text})",
                    path.display(),
                    mode_str(dir.mode)
                ),
                Some(existing_dir(self.root, &resolved)),
            ),
            Entry::Dir(meta) if dir.keep_existing => (
                Status::Done,
                format!(
                    "directory {}{via} (kept as it is: mode {}, owner {}:{})",
                    path.display(),
                    mode_str(meta.mode() & MODE_MASK),
                    meta.uid(),
                    meta.gid()
                ),
                None,
            ),
            Entry::Dir(meta) => {
                let mode = meta.mode() & MODE_MASK;
                let mut changes = Vec::new();
                if mode != dir.mode {
                    changes.push(format!("mode {} -> {}", mode_str(mode), mode_str(dir.mode)));
                }
                if let Some((uid, gid)) = owner {
                    if (meta.uid(), meta.gid()) != (uid, gid) {
                        changes.push(format!(
                            "owner {}:{} -> {}",
                            meta.uid(),
                            meta.gid(),
                            owner_text.trim_start_matches(", owner ")
                        ));
                    }
                }
                if changes.is_empty() {
                    (
                        Status::Done,
                        format!(
                            "directory {}{via} (mode {}{owner_text})",
                            path.display(),
                            mode_str(dir.mode)
                        ),
                        None,
                    )
                } else {
                    (
                        Status::Pending,
                        format!(
                            "change directory {}{via}: {}",
                            path.display(),
                            changes.join(", ")
                        ),
                        Some(self.root.host(&resolved.real)),
                    )
                }
            }
            _ => {
                self.blocked(
                    ActionKind::Directory,
                    path,
                    "exists and is not a directory; move it away first".to_owned(),
                );
                return Ok(());
            }
        };
        self.actions.push(PlannedAction {
            kind: ActionKind::Directory,
            path: Some(path.display()),
            status,
            summary,
            diff: None,
            step,
            writes_in,
            restarts_daemon: false,
        });
        Ok(())
    }

    fn symlink(&mut self, path: &RelPath, link: &DesiredSymlink) -> Result<()> {
        let target = PathBuf::from(&link.target);
        let step = Step::Symlink {
            path: path.clone(),
            target: target.clone(),
        };
        let resolved = match resolve(self.root, path, false) {
            Ok(r) => r,
            Err(refusal) => {
                self.blocked(ActionKind::Symlink, path, refusal.0);
                return Ok(());
            }
        };
        let current = Current::read(self.root, &resolved.real, &resolved.entry)?;
        let class = classify(self.record(path), &current);
        let shown = format!("{} -> {}", path.display(), link.target);
        let (status, summary) = match (&current, class) {
            (Current::Symlink(t), _) if *t == target => (Status::Done, format!("symlink {shown}")),
            (Current::Dir | Current::Other, _) => {
                self.blocked(
                    ActionKind::Symlink,
                    path,
                    "exists and is not a symlink or a file; move it away first".to_owned(),
                );
                return Ok(());
            }
            (_, Class::Missing) => (Status::Pending, format!("create symlink {shown}")),
            (_, Class::Edited) => (
                Status::Conflict,
                format!(
                    "{} was changed by hand since nixconf made it; apply with force to replace it (a copy is kept)",
                    path.display()
                ),
            ),
            (Current::Symlink(t), _) => (
                Status::Pending,
                format!("replace symlink {} -> {} with {shown}", path.display(), t.display()),
            ),
            _ => (
                Status::Pending,
                format!("replace file {} with symlink {shown} (the file is backed up)", path.display()),
            ),
        };
        let writes_in = (status != Status::Done).then(|| existing_dir(self.root, &resolved));
        self.actions.push(PlannedAction {
            kind: ActionKind::Symlink,
            path: Some(path.display()),
            status,
            summary,
            diff: None,
            step,
            writes_in,
            restarts_daemon: false,
        });
        Ok(())
    }

    fn file(&mut self, path: &RelPath, file: &DesiredFile) -> Result<()> {
        let step = Step::File {
            path: path.clone(),
            file: file.clone(),
        };
        let resolved = match resolve(self.root, path, false) {
            Ok(r) => r,
            Err(refusal) => {
                self.blocked(ActionKind::File, path, refusal.0);
                return Ok(());
            }
        };
        let current = Current::read(self.root, &resolved.real, &resolved.entry)?;
        let shown = format!("{}{}", path.display(), through(path, &resolved.real));
        let original = match self.record(path) {
            Some(Record::File { original, .. }) => Some(original.clone()),
            _ => current.as_original(),
        };
        let (effective, _) = match &original {
            Some(o) => effective_mode(file.mode, o),
            None => (file.mode, None),
        };
        let mode = match &original {
            Some(Original::File { mode: was, .. }) if effective != file.mode => format!(
                "{}: the configured {} narrowed by the {} of the file it replaces, never more readable",
                mode_str(effective),
                mode_str(file.mode),
                mode_str(*was)
            ),
            _ => mode_str(file.mode),
        };
        if matches!(current, Current::Dir | Current::Other) {
            self.blocked(
                ActionKind::File,
                path,
                "exists and is not a file; move it away first".to_owned(),
            );
            return Ok(());
        }
        let class = classify(self.record(path), &current);
        let same = match &current {
            Current::File { bytes, mode, .. } => {
                *bytes == file.contents.as_bytes() && *mode == effective
            }
            _ => false,
        };
        let label = path.display();
        let diff_from = |old: &Current| -> Option<String> {
            let new = file.contents.as_str();
            let d = match (old, text_of(old)) {
                (Current::Missing, _) => unified_diff("/dev/null", &label, "", new),
                (_, Some(text)) => unified_diff(&label, &label, text, new),
                (Current::Symlink(t), None) => {
                    let d = unified_diff("/dev/null", &label, "", new);
                    format!("(replaces the symlink -> {})\n{d}", t.display())
                }
                _ => format!("(binary contents of {label} replaced)\n"),
            };
            match (old, d.is_empty()) {
                (Current::File { mode: m, .. }, true) => Some(format!(
                    "mode {} -> {}\n",
                    mode_str(*m),
                    mode_str(effective)
                )),
                (Current::File { mode: m, .. }, false) if *m != effective => Some(format!(
                    "mode {} -> {}\n{d}",
                    mode_str(*m),
                    mode_str(effective)
                )),
                _ => Some(d),
            }
        };
        let (status, summary, diff) = if file.only_if_absent && !matches!(current, Current::Missing)
        {
            (
                Status::Done,
                format!("file {shown} exists; left as it is"),
                None,
            )
        } else if same {
            (Status::Done, format!("file {shown} (mode {mode})"), None)
        } else {
            match class {
                Class::Missing => (
                    Status::Pending,
                    format!("create file {shown} (mode {mode})"),
                    diff_from(&current),
                ),
                Class::Ours => (
                    Status::Pending,
                    format!("update file {shown} (mode {mode})"),
                    diff_from(&current),
                ),
                Class::Foreign | Class::Original => {
                    let what = match current {
                        Current::Symlink(_) => "symlink",
                        _ => "file",
                    };
                    let backup_exists =
                        matches!(self.root.lstat(&backup_rel(path)), Ok(Some(_)));
                    let note = match current {
                        Current::Symlink(_) => "the link is recorded for revert",
                        _ if class == Class::Original && backup_exists => {
                            "the original is already backed up"
                        }
                        _ => "the current one is backed up",
                    };
                    (
                        Status::Pending,
                        format!("replace {what} {shown} (mode {mode}; {note})"),
                        diff_from(&current),
                    )
                }
                Class::Edited => (
                    Status::Conflict,
                    format!(
                        "file {shown} was edited by hand since nixconf wrote it; apply with force to overwrite it (a copy is kept)"
                    ),
                    diff_from(&current),
                ),
            }
        };
        let writes_in = (status != Status::Done).then(|| existing_dir(self.root, &resolved));
        self.actions.push(PlannedAction {
            kind: ActionKind::File,
            path: Some(path.display()),
            status,
            summary,
            diff,
            step,
            writes_in,
            restarts_daemon: file.restarts_daemon,
        });
        Ok(())
    }

    /// The journal of an external action no longer configured: undone
    /// (what it created removed) by the undo registered for its kind.
    fn retire_external(&mut self, record: &Record, kind: &str) {
        self.actions.push(PlannedAction {
            kind: ActionKind::Retire,
            path: None,
            status: Status::Pending,
            summary: format!("{kind} are no longer configured: undo what nixconf did for them"),
            diff: None,
            step: Step::Retire {
                record: record.clone(),
            },
            writes_in: None,
            restarts_daemon: false,
        });
    }

    fn retire(&mut self, record: &Record) -> Result<()> {
        let Some(path) = record.path() else {
            return Ok(());
        };
        let step = Step::Retire {
            record: record.clone(),
        };
        let follow = matches!(record, Record::Directory { .. });
        let resolved = match resolve(self.root, path, follow) {
            Ok(r) => r,
            Err(refusal) => {
                self.blocked(ActionKind::Retire, path, refusal.0);
                return Ok(());
            }
        };
        let current = Current::read(self.root, &resolved.real, &resolved.entry)?;
        let (status, summary, diff, restarts_daemon) = match record {
            Record::Directory {
                created, previous, ..
            } => {
                let summary = if created.last() == Some(&resolved.real) {
                    format!(
                        "remove directory {} if empty (no longer configured)",
                        path.display()
                    )
                } else if let Some(p) = previous {
                    format!(
                        "restore directory {} to mode {} (no longer configured)",
                        path.display(),
                        mode_str(p.mode)
                    )
                } else {
                    format!("forget directory {} (no longer configured)", path.display())
                };
                (Status::Pending, summary, None, false)
            }
            Record::Symlink { original, .. } | Record::File { original, .. } => {
                let class = classify(Some(record), &current);
                let restarts = matches!(
                    record,
                    Record::File {
                        restarts_daemon: true,
                        ..
                    }
                );
                let label = path.display();
                let restored = match original {
                    Original::Absent => Some(String::new()),
                    Original::File { .. } => fsops::read(self.root, &backup_rel(path))
                        .ok()
                        .flatten()
                        .and_then(|b| String::from_utf8(b).ok()),
                    Original::Symlink { .. } => None,
                };
                let diff = match (text_of(&current), &restored, original) {
                    (Some(old), Some(new), Original::Absent) => {
                        Some(unified_diff(&label, "/dev/null", old, new))
                    }
                    (Some(old), Some(new), _) => Some(unified_diff(&label, &label, old, new)),
                    _ => None,
                }
                .filter(|d| !d.is_empty());
                let what = match original {
                    Original::Absent => "remove it".to_owned(),
                    Original::File { .. } => "restore the original".to_owned(),
                    Original::Symlink { target } => {
                        format!("restore the symlink -> {}", target.display())
                    }
                };
                match class {
                    Class::Edited => (
                        Status::Conflict,
                        format!(
                            "{label} is no longer configured, but was edited by hand since nixconf wrote it; apply with force to {what} (a copy is kept)"
                        ),
                        diff,
                        restarts,
                    ),
                    _ => (
                        Status::Pending,
                        format!("{label} is no longer configured: {what}"),
                        diff,
                        restarts,
                    ),
                }
            }
            Record::External { .. } => return Ok(()),
        };
        self.actions.push(PlannedAction {
            kind: ActionKind::Retire,
            path: Some(path.display()),
            status,
            summary,
            diff,
            step,
            writes_in: Some(existing_dir(self.root, &resolved)),
            restarts_daemon,
        });
        Ok(())
    }
}

/// ` (at /real/path)` when a symlink on the way leads elsewhere.
fn through(path: &RelPath, real: &RelPath) -> String {
    if path == real {
        String::new()
    } else {
        format!(" (at {}, through a symlink)", real.display())
    }
}
