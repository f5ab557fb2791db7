//! A symlink: planned against what is at its path, made atomically (a
//! temporary link renamed into place) with what it replaces kept first.
//! Undoing it puts back what it replaced ([`crate::action::replaced`]).

use std::path::{Path, PathBuf};

use crate::action::replaced::{self, preserve};
use crate::desired::DesiredSymlink;
use crate::error::{failed, Result};
use crate::fsops;
use crate::observe::{classify, Class, Current};
use crate::path::resolve;
use crate::planned::{ActionKind, PlannedAction, Status, Step};
use crate::planner::{existing_dir, Planner};
use crate::receipt::{Original, Record};
use crate::relpath::RelPath;
use crate::run::{extend_unique, Note, Run};

/// Plan the symlink at `path`.
pub(crate) fn plan(planner: &mut Planner<'_>, path: &RelPath, link: &DesiredSymlink) -> Result<()> {
    let target = PathBuf::from(&link.target);
    let step = Step::Symlink {
        path: path.clone(),
        target: target.clone(),
    };
    let resolved = match resolve(planner.root, path, false) {
        Ok(r) => r,
        Err(refusal) => {
            planner.blocked(ActionKind::Symlink, path, refusal.0);
            return Ok(());
        }
    };
    let current = Current::read(planner.root, &resolved.real, &resolved.entry)?;
    let class = classify(planner.record(path), &current);
    let shown = format!("{} -> {}", path.display(), link.target);
    let (status, summary) = match (&current, class) {
        (Current::Symlink(t), _) if *t == target => (Status::Done, format!("symlink {shown}")),
        (Current::Dir | Current::Other, _) => {
            planner.blocked(
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
    let writes_in = (status != Status::Done).then(|| existing_dir(planner.root, &resolved));
    planner.actions.push(PlannedAction {
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

/// Make the symlink, recording it first and keeping what it replaces.
pub(crate) fn execute(
    run: &mut Run<'_>,
    path: &RelPath,
    target: &Path,
    force: bool,
) -> Result<Note> {
    let (r, current, class) = run.observe(path, run.receipt.find(path))?;
    if class == Class::Edited && !force {
        return Err(failed(format!(
            "{} was changed by hand since nixconf made it",
            path.display()
        )));
    }
    let (original, mut created) = match run.receipt.find(path) {
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
    run.receipt.upsert(Record::Symlink {
        path: path.clone(),
        created,
        original: original.clone(),
        target: target.to_path_buf(),
    });
    run.save()?;
    run.make_dirs(&missing, 0o755)?;
    let note = preserve(run, path, &current, class, &original)?;
    fsops::atomic_symlink(&run.dir, &r.real, target)?;
    run.checkpoint()?;
    Ok(note)
}

/// Undo the record of a symlink at `path`: the original put back, or the
/// entry removed where there was none (a hand edit since is left in place
/// unless `force`).
pub(crate) fn undo(
    run: &mut Run<'_>,
    record: &Record,
    path: &RelPath,
    original: &Original,
    force: bool,
    notes: &mut Vec<String>,
) -> std::result::Result<(), String> {
    replaced::undo(run, record, path, original, force, notes)
}
