//! What files and symlinks share: whatever they replace is kept (an
//! original file backed up under `backups/`, a symlink recorded by its
//! target, a hand edit copied under `edited/`), and undoing either puts
//! the original back, or removes what was created where nothing was.

use crate::diff::unified_diff;
use crate::error::Result;
use crate::fsops::{self, sha256_hex};
use crate::observe::{classify, Class, Current};
use crate::planned::Status;
use crate::planner::{text_of, Planner};
use crate::receipt::{backup_rel, Original, Record};
use crate::relpath::RelPath;
use crate::run::{Note, Run};

/// Before replacing what is at `path`: back up an original file we
/// have no copy of yet, and keep a copy of a hand edit.
pub(crate) fn preserve(
    run: &mut Run<'_>,
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
    let backed_up = run
        .dir
        .lstat(&backup)
        .map_err(|e| run.dir.error(&backup, e))?
        .is_some();
    if matches!(class, Class::Foreign | Class::Original)
        && matches!(original, Original::File { .. })
        && !backed_up
    {
        run.write_state_file(&backup, bytes, *mode, owner)?;
        run.checkpoint()?;
    }
    if class == Class::Edited {
        let copy = run.keep_copy(path, bytes, *mode, owner)?;
        return Ok(Some(format!(
            "the hand-edited version is kept at {}",
            copy.display()
        )));
    }
    Ok(None)
}

/// Undo the record of a file or symlink at `path`: put `original` back
/// (a hand edit since is left in place unless `force`, which keeps a copy
/// of it), leaving no temporary behind. Notes go to `notes`.
pub(crate) fn undo(
    run: &mut Run<'_>,
    record: &Record,
    path: &RelPath,
    original: &Original,
    force: bool,
    notes: &mut Vec<String>,
) -> std::result::Result<(), String> {
    let (r, current, class) = run.observe(path, Some(record)).map_err(|e| e.to_string())?;
    let real = r.real.clone();
    // A temporary left by a write killed half-way.
    run.dir
        .remove_temp_of(&real)
        .map_err(|e| run.dir.error(&real, e).to_string())?;
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
            let copy = run
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
                fsops::remove_file(&run.dir, &real).map_err(|e| e.to_string())?;
            }
        }
        Original::Symlink { target } => {
            if class != Class::Original {
                fsops::atomic_symlink(&run.dir, &real, target).map_err(|e| e.to_string())?;
            }
        }
        Original::File {
            sha256,
            mode,
            uid,
            gid,
        } => {
            let backup = backup_rel(path);
            let shown = run.dir.host(&backup);
            let _ = run.dir.remove_temp_of(&backup);
            match fsops::read(&run.dir, &backup) {
                Ok(Some(bytes)) => {
                    if sha256_hex(&bytes) != *sha256 {
                        return Err(format!(
                            "the backup {} does not hold the original any more; left in place",
                            shown.display()
                        ));
                    }
                    let owner = run.privileged.then_some((*uid, *gid));
                    fsops::atomic_write(&run.dir, &real, &bytes, *mode, owner)
                        .map_err(|e| e.to_string())?;
                    fsops::remove_file(&run.dir, &backup).map_err(|e| e.to_string())?;
                }
                Ok(None) if class == Class::Original => {
                    // Never replaced: only the mode may be ours.
                    fsops::set_mode(&run.dir, &real, *mode).map_err(|e| e.to_string())?;
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
    Ok(())
}

/// The retire action of a file or symlink no longer configured: its
/// status, summary, diff (the change back to the original), and whether
/// the daemon reads it.
pub(crate) fn retire(
    planner: &Planner<'_>,
    record: &Record,
    path: &RelPath,
    original: &Original,
    current: &Current,
) -> (Status, String, Option<String>, bool) {
    let class = classify(Some(record), current);
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
        Original::File { .. } => fsops::read(planner.root, &backup_rel(path))
            .ok()
            .flatten()
            .and_then(|b| String::from_utf8(b).ok()),
        Original::Symlink { .. } => None,
    };
    let diff = match (text_of(current), &restored, original) {
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
