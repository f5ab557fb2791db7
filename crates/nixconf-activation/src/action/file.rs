//! A file with its contents and mode: planned with a unified diff of the
//! change, written atomically (temporary, fsync, rename, fsync of the
//! directory) with what it replaces kept first; the hash of what was
//! written is recorded, so that a later run tells our bytes from a hand
//! edit. Undoing it is [`replaced::undo`](crate::action::replaced::undo).

use crate::action::replaced::{self, preserve};
use crate::desired::DesiredFile;
use crate::diff::unified_diff;
use crate::error::{failed, Result};
use crate::fsops::{self, sha256_hex};
use crate::observe::{classify, effective_mode, Class, Current};
use crate::path::resolve;
use crate::planned::{mode_str, ActionKind, PlannedAction, Status, Step};
use crate::planner::{existing_dir, text_of, through, Planner};
use crate::receipt::{backup_rel, Original, Record};
use crate::relpath::RelPath;
use crate::run::{extend_unique, Note, Run};

/// Plan the file at `path`.
pub(crate) fn plan(planner: &mut Planner<'_>, path: &RelPath, file: &DesiredFile) -> Result<()> {
    let step = Step::File {
        path: path.clone(),
        file: file.clone(),
    };
    let resolved = match resolve(planner.root, path, false) {
        Ok(r) => r,
        Err(refusal) => {
            planner.blocked(ActionKind::File, path, refusal.0);
            return Ok(());
        }
    };
    let current = Current::read(planner.root, &resolved.real, &resolved.entry)?;
    let shown = format!("{}{}", path.display(), through(path, &resolved.real));
    let original = match planner.record(path) {
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
        planner.blocked(
            ActionKind::File,
            path,
            "exists and is not a file; move it away first".to_owned(),
        );
        return Ok(());
    }
    let class = classify(planner.record(path), &current);
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
    let (status, summary, diff) = if file.only_if_absent && !matches!(current, Current::Missing) {
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
                    matches!(planner.root.lstat(&backup_rel(path)), Ok(Some(_)));
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
    let writes_in = (status != Status::Done).then(|| existing_dir(planner.root, &resolved));
    planner.actions.push(PlannedAction {
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

/// Write the file, recording the intent first and keeping what it
/// replaces.
pub(crate) fn execute(
    run: &mut Run<'_>,
    path: &RelPath,
    file: &DesiredFile,
    force: bool,
) -> Result<Note> {
    let (r, current, class) = run.observe(path, run.receipt.find(path))?;
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
    let (original, mut created, written) = match run.receipt.find(path) {
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
    run.receipt.upsert(Record::File {
        path: path.clone(),
        created,
        original: original.clone(),
        written: written.clone(),
        writing: Some(sha.clone()),
        restarts_daemon: file.restarts_daemon,
    });
    run.save()?;
    run.make_dirs(&missing, 0o755)?;
    let note = preserve(run, path, &current, class, &original)?;
    let (mode, owner) = effective_mode(file.mode, &original);
    fsops::atomic_write(
        &run.dir,
        &r.real,
        file.contents.as_bytes(),
        mode,
        owner.filter(|_| run.privileged),
    )?;
    run.checkpoint()?;
    if let Some(Record::File {
        written, writing, ..
    }) = run
        .receipt
        .records
        .iter_mut()
        .find(|rec| rec.path() == Some(path))
    {
        *written = Some(sha);
        *writing = None;
    }
    run.save()?;
    Ok(note)
}

/// Undo the record of a file at `path`: the original put back, or the
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
