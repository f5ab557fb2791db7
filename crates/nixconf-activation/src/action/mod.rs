//! The action kinds, one module each, with its planning, carrying out and
//! undoing together: [`directory`], [`symlink`], [`file`] (those two
//! share [`replaced`]: keeping what they replace and putting it back),
//! [`build_users`] and [`daemon`] (the restart). Every kind the receipt
//! records is undone here, so revert needs nothing from its caller.
//!
//! This module only dispatches, by planned step and by receipt record; the
//! kinds build on [`crate::planner`] and [`crate::run`], never on it.

pub(crate) mod build_users;
pub(crate) mod daemon;
pub(crate) mod directory;
pub(crate) mod file;
pub(crate) mod replaced;
pub(crate) mod symlink;

use crate::error::{failed, Result};
use crate::fsops;
use crate::installation::Installation;
use crate::observe::Current;
use crate::path::resolve;
use crate::planned::{ActionKind, PlannedAction, Status, Step};
use crate::planner::{existing_dir, Planner};
use crate::receipt::Record;
use crate::run::{Note, Run};

/// Plan retiring the record of a directory, file or symlink no longer
/// configured, as revert would undo it.
pub(crate) fn plan_retire(planner: &mut Planner<'_>, record: &Record) -> Result<()> {
    let Some(path) = record.path() else {
        return Ok(());
    };
    let follow = matches!(record, Record::Directory { .. });
    let resolved = match resolve(planner.root, path, follow) {
        Ok(r) => r,
        Err(refusal) => {
            planner.blocked(ActionKind::Retire, path, refusal.0);
            return Ok(());
        }
    };
    let current = Current::read(planner.root, &resolved.real, &resolved.entry)?;
    let (status, summary, diff, restarts_daemon) = match record {
        Record::Directory {
            created, previous, ..
        } => (
            Status::Pending,
            directory::retire_summary(path, created, previous.as_ref(), &resolved),
            None,
            false,
        ),
        Record::Symlink { original, .. } | Record::File { original, .. } => {
            replaced::retire(planner, record, path, original, &current)
        }
        Record::External { .. } => return Ok(()),
    };
    planner.actions.push(PlannedAction {
        kind: ActionKind::Retire,
        path: Some(path.display()),
        status,
        summary,
        diff,
        step: Step::Retire {
            record: record.clone(),
        },
        writes_in: Some(existing_dir(planner.root, &resolved)),
        restarts_daemon,
    });
    Ok(())
}

/// Carry out one planned action (not the daemon restart, which apply
/// handles with the receipt's pending flag).
pub(crate) fn execute(
    run: &mut Run<'_>,
    step: &Step,
    installation: &Installation,
    force: bool,
) -> Result<Note> {
    match step {
        Step::Directory { path, mode, owner } => directory::execute(run, path, *mode, *owner),
        Step::Symlink { path, target } => symlink::execute(run, path, target, force),
        Step::File { path, file } => file::execute(run, path, file, force),
        Step::Retire { record } => retire(run, record, force),
        Step::BuildUsers => match installation.planned_build_users() {
            Some(users) => build_users::execute(run, users),
            None => Err(failed("the build users are missing".to_owned())),
        },
        Step::RestartDaemon | Step::Refused => Ok(None),
    }
}

/// Undo the record of something no longer configured, and forget it.
fn retire(run: &mut Run<'_>, record: &Record, force: bool) -> Result<Note> {
    let note = undo(run, record, force).map_err(failed)?;
    run.checkpoint()?;
    match record.path() {
        Some(path) => run.receipt.records.retain(|r| r.path() != Some(path)),
        // A journal has no path: forget this one record.
        None => {
            if let Some(i) = run.receipt.records.iter().position(|r| r == record) {
                run.receipt.records.remove(i);
            }
        }
    }
    run.save()?;
    Ok(note)
}

/// Undo one record, then remove the directories it created (those not
/// empty are noted, and tried again at the end of a revert). Idempotent:
/// run again after an interruption, it finds its own work done and
/// carries on.
pub(crate) fn undo(
    run: &mut Run<'_>,
    record: &Record,
    force: bool,
) -> std::result::Result<Note, String> {
    let mut notes: Vec<String> = Vec::new();
    match record {
        Record::External { action, journal } if action == build_users::BUILD_USERS => {
            build_users::undo(run, journal)?;
        }
        Record::External { action, .. } => {
            return Err(format!(
            "no way to undo '{action}' is known to this program; its journal stays in the receipt"
        ))
        }
        Record::Directory { path, previous, .. } => {
            directory::undo(run, path, previous.as_ref())?;
        }
        Record::File { path, original, .. } => {
            file::undo(run, record, path, original, force, &mut notes)?;
        }
        Record::Symlink { path, original, .. } => {
            symlink::undo(run, record, path, original, force, &mut notes)?;
        }
    }
    for dir in record.created_dirs().iter().rev() {
        match fsops::remove_empty_dir(&run.dir, dir) {
            Ok(true) => {}
            Ok(false) => {
                notes.push(format!("{} kept: not empty", dir.display()));
                if !run.receipt.leftover_dirs.contains(dir) {
                    run.receipt.leftover_dirs.push(dir.clone());
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok((!notes.is_empty()).then(|| notes.join("; ")))
}

/// How a revert names the undoing of a record.
pub(crate) fn describe_record(record: &Record) -> String {
    match record {
        Record::Directory { path, .. } => format!("revert directory {}", path.display()),
        Record::File { path, .. } => format!("revert file {}", path.display()),
        Record::Symlink { path, .. } => format!("revert symlink {}", path.display()),
        Record::External { action, .. } => format!("revert {action}"),
    }
}
