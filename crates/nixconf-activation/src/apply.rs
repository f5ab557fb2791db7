//! Carrying a plan out, and undoing it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::beneath::{Kind, RootDir};
use crate::error::{Error, Result};
use crate::fsops::sha256_hex;
use crate::fsops::{self, io_error, Ids};
use crate::installation::{DesiredFile, ExternalAction, Installation, Undo};
use crate::lock::{self, Lock};
use crate::observe::{classify, effective_mode, Class, Current};
use crate::path::check_account_files;
use crate::path::{resolve, Entry, Resolved};
use crate::plan::{plan, Plan, PlanOptions, Status, Step};
use crate::receipt::{backup_rel, receipt_rel, DirMeta, Original, Receipt, Record, STATE_DIR};
use crate::relpath::RelPath;

/// How to apply.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// Plan and validate, change nothing.
    pub dry_run: bool,
    /// Overwrite files edited by hand since we wrote them (a copy of each
    /// is kept under `nix/var/nixconf/edited/`).
    pub force: bool,
    /// Restart the Nix daemon when a file it reads changed (only on `/`,
    /// and only when systemd is running).
    pub restart_daemon: bool,
    /// How to plan.
    pub plan: PlanOptions,
    /// Test hook: fail as if killed right after this many durable steps
    /// (receipt writes, directories made, backups, files written).
    #[doc(hidden)]
    pub fail_after: Option<usize>,
    /// How long to wait for another nixconf applying or reverting the
    /// same root; `None` is 10 seconds.
    pub lock_timeout: Option<std::time::Duration>,
}

impl ApplyOptions {
    /// Only plan and validate.
    pub fn dry_run(mut self, yes: bool) -> ApplyOptions {
        self.dry_run = yes;
        self
    }

    /// Overwrite hand edits (keeping copies).
    pub fn force(mut self, yes: bool) -> ApplyOptions {
        self.force = yes;
        self
    }

    /// Restart the daemon when a file it reads changed.
    pub fn restart_daemon(mut self, yes: bool) -> ApplyOptions {
        self.restart_daemon = yes;
        self
    }

    /// Set the planning options.
    pub fn plan_options(mut self, plan: PlanOptions) -> ApplyOptions {
        self.plan = plan;
        self
    }
}

/// How to revert.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RevertOptions {
    /// Also revert files edited by hand since we wrote them (a copy of
    /// each is kept under `nix/var/nixconf/edited/`).
    pub force: bool,
    /// How to undo the journals of external actions, by their kind.
    pub undo: BTreeMap<String, Undo>,
    /// How long to wait for another nixconf applying or reverting the
    /// same root; `None` is 10 seconds.
    pub lock_timeout: Option<std::time::Duration>,
    /// Test hook: fail as if killed right after this many durable steps.
    #[doc(hidden)]
    pub fail_after: Option<usize>,
}

impl RevertOptions {
    /// Revert hand-edited files too.
    pub fn force(mut self, yes: bool) -> RevertOptions {
        self.force = yes;
        self
    }

    /// Register how to undo external actions of `kind`.
    pub fn undo(mut self, kind: impl Into<String>, undo: Undo) -> RevertOptions {
        self.undo.insert(kind.into(), undo);
        self
    }
}

/// How one action ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Carried out.
    Done,
    /// Carried out, with something worth knowing (a directory kept because
    /// it is not empty, a copy of a hand edit kept).
    DoneWithNote(String),
    /// Not carried out, on purpose.
    Skipped(String),
    /// Failed; the others were still carried out.
    Failed(String),
}

/// One line of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReportEntry {
    /// The action.
    pub action: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What an apply or a revert did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    dry_run: bool,
    entries: Vec<ReportEntry>,
}

impl Report {
    /// Every action carried out (or skipped, or failed), in order.
    pub fn entries(&self) -> &[ReportEntry] {
        &self.entries
    }

    /// Whether nothing failed.
    pub fn is_success(&self) -> bool {
        self.failures().is_empty()
    }

    /// Whether anything was changed.
    pub fn changed_anything(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.outcome, Outcome::Done | Outcome::DoneWithNote(_)))
    }

    /// The failures, one line each.
    pub fn failures(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| match &e.outcome {
                Outcome::Failed(why) => Some(format!("{}: {why}", e.action)),
                _ => None,
            })
            .collect()
    }

    /// The report for people, one line per action.
    pub fn describe(&self) -> String {
        if self.entries.is_empty() {
            return if self.dry_run {
                "dry run: nothing to do\n".to_owned()
            } else {
                "nothing to do: up to date\n".to_owned()
            };
        }
        let mut out = String::new();
        for e in &self.entries {
            let line = match &e.outcome {
                Outcome::Done => format!("done: {}", e.action),
                Outcome::DoneWithNote(n) => format!("done: {} ({n})", e.action),
                Outcome::Skipped(why) => format!("skipped: {} ({why})", e.action),
                Outcome::Failed(why) => format!("FAILED: {}: {why}", e.action),
            };
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn push(&mut self, action: impl Into<String>, outcome: Outcome) {
        self.entries.push(ReportEntry {
            action: action.into(),
            outcome,
        });
    }
}

/// Apply `installation` to `root`: plan it afresh, validate everything
/// (refusing with every problem listed, before anything is touched), then
/// carry the pending actions out in order, recording each in the receipt.
/// Applying an installation that is up to date changes nothing.
pub fn apply(root: &Path, installation: &Installation, options: &ApplyOptions) -> Result<Report> {
    let ids = Ids::current();
    require_privileges(root, &ids)?;
    let plan = plan(root, installation, &options.plan)?;
    validate(&plan, &ids, options.force)?;
    let mut report = Report {
        dry_run: options.dry_run,
        entries: Vec::new(),
    };
    if options.dry_run {
        for a in plan.actions().iter().filter(|a| a.status != Status::Done) {
            report.push(a.summary.clone(), Outcome::Skipped("dry run".to_owned()));
        }
        return Ok(report);
    }
    let dir = RootDir::open(root)?;
    tighten_state(&dir)?;
    if plan.is_up_to_date() {
        tidy_after_kill(&dir);
        return Ok(report);
    }
    let mut run = Run::start(
        root,
        options.fail_after,
        ids.is_privileged(),
        options.lock_timeout.unwrap_or(lock::DEFAULT_TIMEOUT),
    )?;
    // Planned again under the lock: another run may have changed the
    // tree since.
    let plan = crate::plan::plan(root, installation, &options.plan)?;
    validate(&plan, &ids, options.force)?;
    let restart_wanted = plan
        .actions()
        .iter()
        .any(|a| matches!(a.step, Step::RestartDaemon));
    if restart_wanted && options.restart_daemon && !run.receipt.daemon_restart_pending {
        run.receipt.daemon_restart_pending = true;
        run.save()?;
    }
    for action in plan.actions().iter().filter(|a| a.status != Status::Done) {
        if let Step::RestartDaemon = action.step {
            let outcome = restart_daemon(root, options.restart_daemon);
            if run.receipt.daemon_restart_pending {
                run.receipt.daemon_restart_pending = false;
                run.save()?;
            }
            report.push(action.summary.clone(), outcome);
            continue;
        }
        let note = match &action.step {
            Step::Directory { path, mode, owner } => run.directory(path, *mode, *owner),
            Step::Symlink { path, target } => run.symlink(path, target, options.force),
            Step::File { path, file } => run.file(path, file, options.force),
            Step::Retire { record } => {
                run.retire(record, options.force, installation.retire_undos())
            }
            Step::External { index } => match installation.external_actions().get(*index) {
                Some(ext) => run.external(ext.as_ref()),
                None => Err(failed(format!("external action {index} is missing"))),
            },
            Step::RestartDaemon | Step::Refused => Ok(None),
        }
        .map_err(|e| in_action(&action.summary, e))?;
        report.push(
            action.summary.clone(),
            note.map_or(Outcome::Done, Outcome::DoneWithNote),
        );
    }
    Ok(report)
}

/// A receipt (or our state directory) left readable by others, by an
/// older nixconf or by hand, is made private again: it holds what nixconf
/// replaced, which may be secret.
fn tighten_state(root: &RootDir) -> Result<()> {
    let state = RelPath::from_components(&[STATE_DIR.to_owned()]);
    for (rel, private) in [(receipt_rel(), 0o600), (state, 0o700)] {
        if let Ok(Resolved {
            entry: Entry::File(meta) | Entry::Dir(meta),
            real,
            ..
        }) = resolve(root, &rel, false)
        {
            if real == rel && meta.mode() & 0o077 != 0 {
                fsops::set_mode(root, &rel, meta.mode() & private & fsops::MODE_MASK)?;
            }
        }
    }
    Ok(())
}

/// With nothing to do, what a run killed at its very end left: the lock
/// file and the receipt's temporary (only when no other run holds the
/// lock), and temporary state chains.
fn tidy_after_kill(dir: &RootDir) {
    clean_stale_chains(dir);
    let receipt = receipt_rel();
    let tmp = receipt
        .parent()
        .map(|p| p.join(&crate::beneath::temp_name("receipt.json")));
    let present = |rel: &RelPath| matches!(dir.lstat(rel), Ok(Some(_)));
    if present(&lock::lock_rel()) || tmp.as_ref().is_some_and(present) {
        if let Ok(lock) = Lock::acquire(dir, std::time::Duration::ZERO, || Ok(())) {
            let _ = dir.remove_temp_of(&receipt);
            lock.release();
        }
    }
}

/// Changing the host's own `/` needs root: say so before doing anything
/// rather than failing half-way.
fn require_privileges(root: &Path, ids: &Ids) -> Result<()> {
    if fsops::is_host_root(root) && !ids.is_privileged() {
        return Err(Error::NeedsRoot);
    }
    Ok(())
}

/// Refuse, before touching anything, a plan with blocked actions,
/// conflicts (unless `force`), or places we could not write to.
fn validate(plan: &Plan, ids: &Ids, force: bool) -> Result<()> {
    let mut problems = plan.problems(force);
    if !ids.is_privileged() {
        let dirs = plan
            .actions()
            .iter()
            .filter(|a| a.status != Status::Done)
            .filter_map(|a| a.writes_in.as_ref())
            .chain(plan.state_writes_in.as_ref());
        for dir in dirs {
            let writable = std::fs::metadata(dir).is_ok_and(|m| ids.can_write_dir(&m));
            let what = format!(
                "{} is not writable by this user; run as root",
                dir.display()
            );
            if !writable && !problems.contains(&what) {
                problems.push(what);
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused { problems })
    }
}

fn restart_daemon(root: &Path, requested: bool) -> Outcome {
    if !requested {
        return Outcome::Skipped("not asked to restart the daemon".to_owned());
    }
    if !fsops::is_host_root(root) {
        return Outcome::Skipped("the root is not /, so its daemon is not running here".to_owned());
    }
    if !Path::new("/run/systemd/system").is_dir() {
        return Outcome::Skipped("systemd is not running".to_owned());
    }
    for args in [
        &["daemon-reload"][..],
        &["restart", "nix-daemon.service"][..],
    ] {
        match Command::new("systemctl").args(args).output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return Outcome::Failed(format!(
                    "systemctl {} failed ({}): {}",
                    args.join(" "),
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
            Err(e) => return Outcome::Failed(format!("cannot run systemctl: {e}")),
        }
    }
    Outcome::Done
}

/// Revert everything the receipt under `root` records, with the default
/// options (hand-edited files are left in place and reported).
pub fn revert(root: &Path) -> Result<Report> {
    revert_with(root, &RevertOptions::default())
}

/// Revert everything the receipt under `root` records, latest first:
/// restore backed-up files and symlinks, remove what was created
/// (directories only when empty), restore directory modes and owners, then
/// remove the receipt and our state directory. Every failure is reported
/// and the rest carried on with; the failed records stay in the receipt so
/// that reverting again retries them.
pub fn revert_with(root: &Path, options: &RevertOptions) -> Result<Report> {
    let ids = Ids::current();
    require_privileges(root, &ids)?;
    let dir = RootDir::open(root)?;
    // What a revert killed after taking our directories away left.
    clean_stale_chains(&dir);
    let no_receipt = || Error::NoReceipt {
        path: receipt_rel().under(root),
    };
    // No state directory: nothing to lock, nothing to revert.
    let lock = Lock::acquire(
        &dir,
        options.lock_timeout.unwrap_or(lock::DEFAULT_TIMEOUT),
        || {
            if crate::plan::state_dir_check(&dir).map_err(failed)? != state_rel().under(root) {
                return Err(no_receipt());
            }
            Ok(())
        },
    )?;
    let receipt = Receipt::load_in(&dir)?.ok_or_else(no_receipt)?;
    let mut run = Run {
        root,
        dir,
        receipt,
        steps: 0,
        fail_after: options.fail_after,
        privileged: ids.is_privileged(),
        lock: Some(lock),
    };
    let mut report = Report::default();
    let records = std::mem::take(&mut run.receipt.records);
    let mut failed: Vec<Record> = Vec::new();
    for record in records.iter().rev() {
        let name = describe_record(record);
        match run.undo(record, options.force, &options.undo) {
            Ok(note) => {
                report.push(name, note.map_or(Outcome::Done, Outcome::DoneWithNote));
                run.checkpoint()?;
            }
            Err(why) => {
                report.push(name, Outcome::Failed(why));
                failed.push(record.clone());
            }
        }
    }
    failed.reverse();
    if !failed.is_empty() {
        run.receipt.records = failed;
        if let Err(e) = run.receipt.save_in(&run.dir) {
            report.push("update the receipt", Outcome::Failed(e.to_string()));
        }
        return Ok(report);
    }
    run.finish_revert(&mut report);
    Ok(report)
}

fn describe_record(record: &Record) -> String {
    match record {
        Record::Directory { path, .. } => format!("revert directory {}", path.display()),
        Record::File { path, .. } => format!("revert file {}", path.display()),
        Record::Symlink { path, .. } => format!("revert symlink {}", path.display()),
        Record::External { action, .. } => format!("revert {action}"),
    }
}

/// An apply or revert under way: the receipt as on disk, and the step
/// counter of the failure-injection hook.
struct Run<'a> {
    root: &'a Path,
    /// The root's handle: every change goes through it.
    dir: RootDir,
    receipt: Receipt,
    steps: usize,
    fail_after: Option<usize>,
    privileged: bool,
    /// The root's lock, held until the run ends.
    lock: Option<Lock>,
}

/// A human-readable note about an action, if any.
type Note = Option<String>;

/// Name the action an error happened in (the injected failure stays as
/// it is: tests match on it).
fn in_action(summary: &str, error: Error) -> Error {
    let message = match error {
        Error::InjectedFailure(_) => return error,
        Error::Failed { message, .. } => message,
        other => other.to_string(),
    };
    Error::Failed {
        action: summary.to_owned(),
        message,
    }
}

/// A problem found while carrying an action out (the tree changed since
/// it was planned, or undoing a retired entry failed).
fn failed(why: String) -> Error {
    Error::Failed {
        action: "apply".to_owned(),
        message: why,
    }
}

impl<'a> Run<'a> {
    /// Create our state directory if needed, take the root's lock, and
    /// load or start the receipt.
    fn start(
        root: &'a Path,
        fail_after: Option<usize>,
        privileged: bool,
        timeout: std::time::Duration,
    ) -> Result<Run<'a>> {
        let dir = RootDir::open(root)?;
        let lock = Lock::acquire(&dir, timeout, || ensure_state_dir(&dir))?;
        let existing = Receipt::load_in(&dir)?;
        let fresh = existing.is_none();
        let mut run = Run {
            root,
            receipt: existing.unwrap_or_else(Receipt::new),
            steps: 0,
            fail_after,
            privileged,
            lock: Some(lock),
            dir,
        };
        if fresh {
            if adoptable_state_dir(&run.dir) {
                run.receipt.state_dirs_created = vec![state_rel()];
            }
            run.save()?;
        }
        Ok(run)
    }

    /// Count a durable step; fail here if the test hook says so.
    fn checkpoint(&mut self) -> Result<()> {
        self.steps += 1;
        if self.fail_after == Some(self.steps) {
            return Err(Error::InjectedFailure(self.steps));
        }
        Ok(())
    }

    fn save(&mut self) -> Result<()> {
        self.receipt.save_in(&self.dir)?;
        self.checkpoint()
    }

    /// Create `dirs` (outermost first), all but the last with mode 0755.
    fn make_dirs(&mut self, dirs: &[RelPath], last_mode: u32) -> Result<()> {
        for (i, dir) in dirs.iter().enumerate() {
            let mode = if i + 1 == dirs.len() {
                last_mode
            } else {
                0o755
            };
            fsops::make_dir(&self.dir, dir, mode)?;
        }
        if !dirs.is_empty() {
            self.checkpoint()?;
        }
        Ok(())
    }

    fn directory(&mut self, path: &RelPath, mode: u32, owner: Option<(u32, u32)>) -> Result<Note> {
        let r = resolve(&self.dir, path, true).map_err(|r| failed(r.0))?;
        let (mut created, previous) = match self.receipt.find(path) {
            Some(Record::Directory {
                created, previous, ..
            }) => (created.clone(), *previous),
            _ => (Vec::new(), None),
        };
        match &r.entry {
            Entry::Missing => {
                let mut missing = r.missing_parents();
                missing.push(r.real.clone());
                extend_unique(&mut created, &missing);
                self.receipt.upsert(Record::Directory {
                    path: path.clone(),
                    created,
                    previous,
                });
                self.save()?;
                self.make_dirs(&missing, mode)?;
            }
            Entry::Dir(meta) => {
                let ours = created.last() == Some(&r.real);
                let previous = match previous {
                    Some(p) => Some(p),
                    None if ours => None,
                    None => Some(DirMeta {
                        mode: meta.mode() & fsops::MODE_MASK,
                        uid: meta.uid(),
                        gid: meta.gid(),
                    }),
                };
                self.receipt.upsert(Record::Directory {
                    path: path.clone(),
                    created,
                    previous,
                });
                self.save()?;
                fsops::set_mode(&self.dir, &r.real, mode)?;
            }
            _ => return Err(failed(format!("{} is not a directory", path.display()))),
        }
        if let Some((uid, gid)) = owner {
            fsops::set_owner(&self.dir, &r.real, uid, gid)?;
        }
        self.checkpoint()?;
        Ok(None)
    }

    /// Look at a file or symlink path and return what is there, whose it
    /// is, and the record to build on.
    fn observe(
        &self,
        path: &RelPath,
        record: Option<&Record>,
    ) -> Result<(Resolved, Current, Class)> {
        let r = resolve(&self.dir, path, false).map_err(|r| failed(r.0))?;
        let current = Current::read(&self.dir, &r.real, &r.entry)?;
        if matches!(current, Current::Dir | Current::Other) {
            return Err(failed(format!(
                "{} exists and is not a file",
                path.display()
            )));
        }
        let class = classify(record, &current);
        Ok((r, current, class))
    }

    /// Before replacing what is at `path`: back up an original file we
    /// have no copy of yet, and keep a copy of a hand edit.
    fn preserve(
        &mut self,
        path: &RelPath,
        current: &Current,
        class: Class,
        original: &Original,
    ) -> Result<Note> {
        let Current::File {
            bytes,
            mode,
            uid,
            gid,
            ..
        } = current
        else {
            return Ok(None);
        };
        let owner = (*uid, *gid);
        let backup = backup_rel(path);
        let backed_up = self
            .dir
            .lstat(&backup)
            .map_err(|e| self.dir.error(&backup, e))?
            .is_some();
        if matches!(class, Class::Foreign | Class::Original)
            && matches!(original, Original::File { .. })
            && !backed_up
        {
            self.write_state_file(&backup, bytes, *mode, owner)?;
            self.checkpoint()?;
        }
        if class == Class::Edited {
            let copy = self.keep_copy(path, bytes, *mode, owner)?;
            return Ok(Some(format!(
                "the hand-edited version is kept at {}",
                copy.display()
            )));
        }
        Ok(None)
    }

    /// Write a copy of a file under our state directory, creating its
    /// parents (mode 0700, whatever the umask). The copy keeps the mode,
    /// and when we run as root the owner and group, of the file it copies.
    fn write_state_file(
        &mut self,
        rel: &RelPath,
        bytes: &[u8],
        mode: u32,
        owner: (u32, u32),
    ) -> Result<()> {
        if let Some(parent) = rel.parent() {
            let comps: Vec<String> = parent.components().map(str::to_owned).collect();
            for n in 1..=comps.len() {
                let dir = RelPath::from_components(&comps[..n]);
                let meta = self.dir.lstat(&dir).map_err(|e| self.dir.error(&dir, e))?;
                if meta.is_none() {
                    fsops::make_dir(&self.dir, &dir, 0o700)?;
                }
            }
        }
        let owner = self.privileged.then_some(owner);
        fsops::atomic_write(&self.dir, rel, bytes, mode, owner)
    }

    /// Keep a copy of a hand-edited file under `edited/`, never overwriting
    /// an earlier copy.
    fn keep_copy(
        &mut self,
        path: &RelPath,
        bytes: &[u8],
        mode: u32,
        owner: (u32, u32),
    ) -> Result<RelPath> {
        let base = format!("{STATE_DIR}/edited/{}", path.as_str());
        let mut n = 1;
        let copy = loop {
            let candidate = RelPath::from_components(&[format!("{base}.{n}")]);
            let seen = self
                .dir
                .lstat(&candidate)
                .map_err(|e| self.dir.error(&candidate, e))?;
            if seen.is_none() {
                break candidate;
            }
            n += 1;
        };
        self.write_state_file(&copy, bytes, mode, owner)?;
        self.receipt.kept_copies.push(copy.clone());
        self.save()?;
        Ok(copy)
    }

    fn file(&mut self, path: &RelPath, file: &DesiredFile, force: bool) -> Result<Note> {
        let (r, current, class) = self.observe(path, self.receipt.find(path))?;
        if file.only_if_absent && class != Class::Missing {
            return Ok(None);
        }
        if class == Class::Edited && !force {
            return Err(failed(format!(
                "{} was edited by hand since nixconf wrote it",
                path.display()
            )));
        }
        let sha = sha256_hex(file.contents.as_bytes());
        let (original, mut created, written) = match self.receipt.find(path) {
            Some(Record::File {
                original,
                created,
                written,
                ..
            }) => (original.clone(), created.clone(), written.clone()),
            _ => (
                current.as_original().unwrap_or(Original::Absent),
                Vec::new(),
                None,
            ),
        };
        let missing = r.missing_parents();
        extend_unique(&mut created, &missing);
        // The intent first: what we are about to create and write.
        self.receipt.upsert(Record::File {
            path: path.clone(),
            created,
            original: original.clone(),
            written: written.clone(),
            writing: Some(sha.clone()),
            restarts_daemon: file.restarts_daemon,
        });
        self.save()?;
        self.make_dirs(&missing, 0o755)?;
        let note = self.preserve(path, &current, class, &original)?;
        let (mode, owner) = effective_mode(file.mode, &original);
        fsops::atomic_write(
            &self.dir,
            &r.real,
            file.contents.as_bytes(),
            mode,
            owner.filter(|_| self.privileged),
        )?;
        self.checkpoint()?;
        if let Some(Record::File {
            written, writing, ..
        }) = self
            .receipt
            .records
            .iter_mut()
            .find(|rec| rec.path() == Some(path))
        {
            *written = Some(sha);
            *writing = None;
        }
        self.save()?;
        Ok(note)
    }

    fn symlink(&mut self, path: &RelPath, target: &Path, force: bool) -> Result<Note> {
        let (r, current, class) = self.observe(path, self.receipt.find(path))?;
        if class == Class::Edited && !force {
            return Err(failed(format!(
                "{} was changed by hand since nixconf made it",
                path.display()
            )));
        }
        let (original, mut created) = match self.receipt.find(path) {
            Some(Record::Symlink {
                original, created, ..
            }) => (original.clone(), created.clone()),
            _ => (
                current.as_original().unwrap_or(Original::Absent),
                Vec::new(),
            ),
        };
        let missing = r.missing_parents();
        extend_unique(&mut created, &missing);
        self.receipt.upsert(Record::Symlink {
            path: path.clone(),
            created,
            original: original.clone(),
            target: target.to_path_buf(),
        });
        self.save()?;
        self.make_dirs(&missing, 0o755)?;
        let note = self.preserve(path, &current, class, &original)?;
        fsops::atomic_symlink(&self.dir, &r.real, target)?;
        self.checkpoint()?;
        Ok(note)
    }

    /// Carry out an external action: its intent is recorded first (so a
    /// run killed while it works leaves something revert can take back),
    /// then replaced by the journal it returns.
    fn external(&mut self, ext: &dyn ExternalAction) -> Result<Note> {
        let kind = ext.kind().to_owned();
        let intent = ext.intent(self.root).map_err(failed)?;
        let slot = self.receipt.records.len();
        if !intent.is_null() {
            self.receipt.records.push(Record::External {
                action: kind.clone(),
                journal: intent,
            });
            self.save()?;
        }
        // The shadow tools run on the host and follow symlinks from its
        // `/`: none of the files they touch may lead out of the root.
        check_account_files(self.root)?;
        fsops::failpoint("spawn").map_err(|e| io_error(self.root, e))?;
        let journal = ext.execute(self.root).map_err(failed)?;
        self.receipt.records.truncate(slot);
        self.receipt.records.push(Record::External {
            action: kind,
            journal,
        });
        self.save()?;
        Ok(None)
    }

    /// Undo the record of something no longer configured, and forget it.
    fn retire(
        &mut self,
        record: &Record,
        force: bool,
        undo: &BTreeMap<String, Undo>,
    ) -> Result<Note> {
        let note = self.undo(record, force, undo).map_err(failed)?;
        self.checkpoint()?;
        match record.path() {
            Some(path) => self.receipt.records.retain(|r| r.path() != Some(path)),
            // A journal has no path: forget this one record.
            None => {
                if let Some(i) = self.receipt.records.iter().position(|r| r == record) {
                    self.receipt.records.remove(i);
                }
            }
        }
        self.save()?;
        Ok(note)
    }

    /// Undo one record. Idempotent: run again after an interruption, it
    /// finds its own work done and carries on.
    fn undo(
        &mut self,
        record: &Record,
        force: bool,
        undo: &BTreeMap<String, Undo>,
    ) -> std::result::Result<Note, String> {
        let mut notes: Vec<String> = Vec::new();
        match record {
            Record::External { action, journal } => {
                let f = undo.get(action).ok_or_else(|| {
                    format!("no way to undo '{action}' is known to this program; its journal stays in the receipt")
                })?;
                check_account_files(self.root).map_err(|e| e.to_string())?;
                fsops::failpoint("spawn").map_err(|e| e.to_string())?;
                f(self.root, journal)?;
            }
            Record::Directory { path, previous, .. } => {
                if let Some(p) = previous {
                    let r = resolve(&self.dir, path, true).map_err(|r| r.0)?;
                    if matches!(r.entry, Entry::Dir(_)) {
                        fsops::set_mode(&self.dir, &r.real, p.mode).map_err(|e| e.to_string())?;
                        if self.privileged {
                            fsops::set_owner(&self.dir, &r.real, p.uid, p.gid)
                                .map_err(|e| e.to_string())?;
                        }
                    }
                }
            }
            Record::File { path, original, .. } | Record::Symlink { path, original, .. } => {
                let (r, current, class) = self
                    .observe(path, Some(record))
                    .map_err(|e| e.to_string())?;
                let real = r.real.clone();
                // A temporary left by a write killed half-way.
                self.dir
                    .remove_temp_of(&real)
                    .map_err(|e| self.dir.error(&real, e).to_string())?;
                if class == Class::Edited {
                    if !force {
                        return Err(format!(
                            "{} was edited by hand since nixconf wrote it; left in place (revert with force to restore the original, keeping a copy)",
                            path.display()
                        ));
                    }
                    if let Current::File {
                        bytes,
                        mode,
                        uid,
                        gid,
                        ..
                    } = &current
                    {
                        let copy = self
                            .keep_copy(path, bytes, *mode, (*uid, *gid))
                            .map_err(|e| e.to_string())?;
                        notes.push(format!(
                            "the hand-edited version is kept at {}",
                            copy.display()
                        ));
                    }
                }
                match original {
                    Original::Absent => {
                        if class != Class::Missing {
                            fsops::remove_file(&self.dir, &real).map_err(|e| e.to_string())?;
                        }
                    }
                    Original::Symlink { target } => {
                        if class != Class::Original {
                            fsops::atomic_symlink(&self.dir, &real, target)
                                .map_err(|e| e.to_string())?;
                        }
                    }
                    Original::File {
                        sha256,
                        mode,
                        uid,
                        gid,
                    } => {
                        let backup = backup_rel(path);
                        let shown = self.dir.host(&backup);
                        let _ = self.dir.remove_temp_of(&backup);
                        match fsops::read(&self.dir, &backup) {
                            Ok(Some(bytes)) => {
                                if sha256_hex(&bytes) != *sha256 {
                                    return Err(format!(
                                        "the backup {} does not hold the original any more; left in place",
                                        shown.display()
                                    ));
                                }
                                let owner = self.privileged.then_some((*uid, *gid));
                                fsops::atomic_write(&self.dir, &real, &bytes, *mode, owner)
                                    .map_err(|e| e.to_string())?;
                                fsops::remove_file(&self.dir, &backup)
                                    .map_err(|e| e.to_string())?;
                            }
                            Ok(None) if class == Class::Original => {
                                // Never replaced: only the mode may be ours.
                                fsops::set_mode(&self.dir, &real, *mode)
                                    .map_err(|e| e.to_string())?;
                            }
                            Ok(None) => {
                                return Err(format!(
                                    "the backup {} is missing; {} left in place",
                                    shown.display(),
                                    path.display()
                                ))
                            }
                            Err(e) => {
                                return Err(format!(
                                    "cannot read the backup: {e}; {} left in place",
                                    path.display()
                                ))
                            }
                        }
                    }
                }
            }
        }
        for dir in record.created_dirs().iter().rev() {
            match fsops::remove_empty_dir(&self.dir, dir) {
                Ok(true) => {}
                Ok(false) => {
                    notes.push(format!("{} kept: not empty", dir.display()));
                    if !self.receipt.leftover_dirs.contains(dir) {
                        self.receipt.leftover_dirs.push(dir.clone());
                    }
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok((!notes.is_empty()).then(|| notes.join("; ")))
    }

    /// After every record is undone: directories left over because they
    /// were not empty, our backups directory, the receipt, and the state
    /// directories we made.
    fn finish_revert(&mut self, report: &mut Report) {
        let mut leftovers = std::mem::take(&mut self.receipt.leftover_dirs);
        // Deepest first, so a parent is tried after its children.
        leftovers.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for dir in &leftovers {
            match fsops::remove_empty_dir(&self.dir, dir) {
                Ok(true) => {
                    report.push(format!("remove directory {}", dir.display()), Outcome::Done)
                }
                Ok(false) => report.push(
                    format!("remove directory {}", dir.display()),
                    Outcome::Skipped("not empty".to_owned()),
                ),
                Err(e) => report.push(
                    format!("remove directory {}", dir.display()),
                    Outcome::Failed(e.to_string()),
                ),
            }
        }
        let backups = state_rel().join("backups");
        if let Err(e) = remove_empty_tree(&self.dir, &backups) {
            report.push(
                "remove the backups directory",
                Outcome::Failed(e.to_string()),
            );
        }
        for copy in &self.receipt.kept_copies {
            report.push(
                format!("copy of a hand edit {}", copy.display()),
                Outcome::Skipped("kept: remove it yourself once you no longer need it".to_owned()),
            );
        }
        // When our directories hold nothing but each other, the receipt
        // and the lock, they go in one step, still locked: renamed away
        // with the receipt, then removed. A run killed before the rename
        // finds the receipt and reverts again; after it, a temporary the
        // next run removes. A run starting meanwhile finds either all of
        // them (and waits for the lock) or none, never a half-removed
        // chain to adopt.
        if let Some(top) = self.receipt.state_dirs_created.first().cloned() {
            if state_chain_only(&self.dir, &self.receipt.state_dirs_created) {
                let name = top.components().next_back().unwrap_or_default().to_owned();
                let tmp_name = format!(".{name}.nixconf-tmp.{}-revert", std::process::id());
                let tmp = match top.parent() {
                    Some(p) => p.join(&tmp_name),
                    None => RelPath::from_components(std::slice::from_ref(&tmp_name)),
                };
                if self.dir.rename(&top, &tmp).is_ok() {
                    report.push("remove the receipt", Outcome::Done);
                    if let Some(lock) = self.lock.take() {
                        lock.release();
                    }
                    if let Err(e) = self.dir.remove_temp_tree(&tmp) {
                        report.push(
                            format!("remove directory {}", tmp.display()),
                            Outcome::Failed(self.dir.error(&tmp, e).to_string()),
                        );
                    }
                    return;
                }
            }
        }
        let receipt = receipt_rel();
        let removed = fsops::remove_file(&self.dir, &receipt).and_then(|()| {
            self.dir
                .remove_temp_of(&receipt)
                .map_err(|e| self.dir.error(&receipt, e))
        });
        match removed {
            Ok(_) => report.push("remove the receipt", Outcome::Done),
            Err(e) => report.push("remove the receipt", Outcome::Failed(e.to_string())),
        }
        // The lock file goes before our directory can.
        if let Some(lock) = self.lock.take() {
            lock.release();
        }
        for dir in self.receipt.state_dirs_created.iter().rev() {
            match fsops::remove_empty_dir(&self.dir, dir) {
                Ok(true) => {}
                Ok(false) if *dir == state_rel() => {
                    // Only kept copies of hand edits may stay.
                    let stray: Vec<String> = self
                        .dir
                        .list(dir)
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|(name, _)| name != "edited" || self.receipt.kept_copies.is_empty())
                        .map(|(name, _)| format!("{}/{name}", dir.display()))
                        .collect();
                    if !stray.is_empty() {
                        report.push(
                            format!("remove directory {}", dir.display()),
                            Outcome::Failed(format!(
                                "left over, not made by this apply or not removable: {}; remove them yourself if they are not needed",
                                stray.join(", ")
                            )),
                        );
                    }
                }
                Ok(false) => {}
                Err(e) => report.push(
                    format!("remove directory {}", dir.display()),
                    Outcome::Failed(e.to_string()),
                ),
            }
        }
    }
}

/// Our state directory, relative to the root.
fn state_rel() -> RelPath {
    RelPath::from_components(&[STATE_DIR.to_owned()])
}

/// Make sure our state directory exists, never reaching it through a
/// symlink. When only `nix/var/nixconf` is missing, it is made (0700); a
/// run killed before its first receipt leaves it empty, and the next run
/// adopts it. When `nix` or `nix/var` is missing too, the whole chain is
/// built under a temporary name beside it, with a first receipt recording
/// it, and renamed into place in one step: a kill at any point leaves
/// either nothing of ours (but a temporary the next run removes) or a
/// receipt that says which directories revert removes.
fn ensure_state_dir(dir: &RootDir) -> Result<()> {
    let comps: Vec<String> = STATE_DIR.split('/').map(str::to_owned).collect();
    clean_stale_chains(dir);
    'retry: loop {
        let mut first_missing = None;
        for n in 1..=comps.len() {
            let rel = RelPath::from_components(&comps[..n]);
            match dir.lstat(&rel).map_err(|e| dir.error(&rel, e))? {
                None => {
                    first_missing = Some(n);
                    break;
                }
                Some(m) if m.kind == Kind::Dir => {}
                Some(m) if m.kind == Kind::Symlink => {
                    return Err(Error::Symlink {
                        path: dir.host(&rel),
                        message: format!(
                            "is a symlink; nixconf keeps its state in {} and never reaches it through one: replace the symlink with a directory",
                            state_rel().display()
                        ),
                    })
                }
                Some(_) => {
                    return Err(failed(format!(
                        "{} is not a directory; nixconf keeps its state under it",
                        rel.display()
                    )))
                }
            }
        }
        let Some(n) = first_missing else {
            return Ok(());
        };
        let mode = |depth: usize| if depth == comps.len() { 0o700 } else { 0o755 };
        if n == comps.len() {
            return fsops::make_dir(dir, &state_rel(), mode(n));
        }
        // Build `nix/...` (or `nix/var/...`) as `.nix.nixconf-tmp.PID/...`.
        let parent = (n > 1).then(|| RelPath::from_components(&comps[..n - 1]));
        // PID and a counter: unique among processes and among the
        // threads of one.
        static CHAINS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let tmp_name = format!(
            ".{}.nixconf-tmp.{}-{}",
            comps[n - 1],
            std::process::id(),
            CHAINS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let tmp = match &parent {
            Some(p) => p.join(&tmp_name),
            None => RelPath::from_components(std::slice::from_ref(&tmp_name)),
        };
        let _ = dir.remove_temp_tree(&tmp);
        let mut inner = tmp.clone();
        fsops::make_dir(dir, &inner, mode(n))?;
        for (depth, comp) in comps.iter().enumerate().skip(n) {
            inner = inner.join(comp);
            fsops::make_dir(dir, &inner, mode(depth + 1))?;
        }
        let mut receipt = Receipt::new();
        receipt.state_dirs_created = (n..=comps.len())
            .map(|k| RelPath::from_components(&comps[..k]))
            .collect();
        receipt.save_at(dir, &inner.join("receipt.json"))?;
        let top = RelPath::from_components(&comps[..n]);
        match dir.rename(&tmp, &top) {
            Ok(()) => return Ok(()),
            // Another run put its own in place first: use it.
            Err(e) if matches!(e.raw_os_error(), Some(17 | 39)) => {
                let _ = dir.remove_temp_tree(&tmp);
                continue 'retry;
            }
            Err(e) => {
                let _ = dir.remove_temp_tree(&tmp);
                return Err(dir.error(&top, e));
            }
        }
    }
}

/// Remove the temporary state chains that killed runs left at each level
/// of `nix/var/nixconf`.
fn clean_stale_chains(dir: &RootDir) {
    let comps: Vec<String> = STATE_DIR.split('/').map(str::to_owned).collect();
    for n in 0..comps.len() {
        let parent = (n > 0).then(|| RelPath::from_components(&comps[..n]));
        remove_stale_chains(dir, parent.as_ref(), &comps[n]);
    }
}

/// Remove the temporary state chains (`.nix.nixconf-tmp.PID`) that runs
/// killed while building them left behind.
fn remove_stale_chains(dir: &RootDir, parent: Option<&RelPath>, name: &str) {
    let prefix = format!(".{name}.nixconf-tmp.");
    let entries = match parent {
        Some(p) => dir.list(p),
        None => dir.list_root(),
    };
    for (entry, kind) in entries.unwrap_or_default() {
        let Some(pid) = entry
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let alive = Path::new("/proc").join(pid).exists();
        if kind == Kind::Dir && !alive {
            let rel = match parent {
                Some(p) => p.join(&entry),
                None => RelPath::from_components(std::slice::from_ref(&entry)),
            };
            let _ = dir.remove_temp_tree(&rel);
        }
    }
}

/// Whether the state directories we created (outermost first) hold
/// nothing but the next of them, and the last nothing but the lock.
fn state_chain_only(dir: &RootDir, created: &[RelPath]) -> bool {
    created.iter().enumerate().all(|(i, d)| {
        let Ok(entries) = dir.list(d) else {
            return false;
        };
        match created.get(i + 1) {
            Some(next) => {
                let want = next.components().next_back().unwrap_or_default();
                entries.len() == 1 && entries[0].0 == want && entries[0].1 == Kind::Dir
            }
            None => {
                *d == state_rel()
                    && entries.iter().all(|(n, k)| {
                        *k == Kind::File
                            && matches!(
                                n.as_str(),
                                "lock" | "receipt.json" | ".receipt.json.nixconf-tmp"
                            )
                    })
            }
        }
    })
}

/// Whether our state directory holds nothing but the lock and
/// temporaries: made by a run killed before it wrote its first receipt.
fn adoptable_state_dir(dir: &RootDir) -> bool {
    dir.list(&state_rel()).is_ok_and(|entries| {
        entries
            .iter()
            .all(|(name, _)| name == "lock" || name.ends_with(".nixconf-tmp"))
    })
}

fn extend_unique(list: &mut Vec<RelPath>, more: &[RelPath]) {
    for item in more {
        if !list.contains(item) {
            list.push(item.clone());
        }
    }
}

/// Remove a directory tree under the root that holds only (possibly
/// nested) empty directories and temporaries of ours; anything else
/// stays, with the directories holding it.
fn remove_empty_tree(dir: &RootDir, rel: &RelPath) -> Result<bool> {
    let entries = match dir.list(rel) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(dir.error(rel, e)),
    };
    let mut empty = true;
    for (name, kind) in entries {
        let child = rel.join(&name);
        let gone = match kind {
            Kind::Dir => remove_empty_tree(dir, &child)?,
            Kind::File if name.ends_with(".nixconf-tmp") => {
                fsops::remove_file(dir, &child)?;
                true
            }
            _ => false,
        };
        empty &= gone;
    }
    if empty {
        fsops::remove_empty_dir(dir, rel)
    } else {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::installation::DesiredFile;
    use std::os::unix::fs::PermissionsExt;

    fn unprivileged() -> Ids {
        Ids {
            euid: 4242,
            egid: 4242,
            groups: Vec::new(),
        }
    }

    #[test]
    fn host_root_without_privileges_is_refused_with_a_clear_message() {
        let err = require_privileges(Path::new("/"), &unprivileged()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "applying to / needs root privileges: run as root (for example with sudo), or pass another root directory"
        );
        let root = tempfile::tempdir().unwrap();
        assert!(require_privileges(root.path(), &unprivileged()).is_ok());
        let root_ids = Ids {
            euid: 0,
            egid: 0,
            groups: Vec::new(),
        };
        assert!(require_privileges(Path::new("/"), &root_ids).is_ok());
    }

    #[test]
    fn unwritable_directory_is_refused_before_anything_changes() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc");
        std::fs::create_dir(&etc).unwrap();
        let inst = Installation::new().file(DesiredFile::new("etc/nix/nix.conf", "x = 1\n"));
        let p = plan(root.path(), &inst, &PlanOptions::default()).unwrap();
        // Not ours (uid 4242 is not the owner) and not writable by others.
        std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = validate(&p, &unprivileged(), false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "{} is not writable by this user; run as root",
                etc.display()
            )),
            "{err}"
        );
        std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(validate(&p, &unprivileged(), false).is_ok());
    }
}
