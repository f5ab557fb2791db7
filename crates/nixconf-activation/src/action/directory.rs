//! A directory with its mode (and owner, when owners are managed):
//! planned against what is there, created with its missing parents or
//! changed, and undone by removing what was created (when empty) or
//! giving an existing directory its mode and owner back.

use crate::beneath::RootDir;
use crate::desired::DesiredDir;
use crate::error::{failed, Error, Result};
use crate::fsops::{self, MODE_MASK};
use crate::path::{resolve, Entry, Resolved};
use crate::planned::{mode_str, ActionKind, PlannedAction, Status, Step};
use crate::planner::{existing_dir, through, Planner};
use crate::receipt::{DirMeta, Record};
use crate::relpath::RelPath;
use crate::run::{extend_unique, Note, Run};

/// Plan the directory at `path`.
pub(crate) fn plan(
    planner: &mut Planner<'_>,
    path: &RelPath,
    dir: &DesiredDir,
    owner: Option<(u32, u32)>,
) -> Result<()> {
    let step = Step::Directory {
        path: path.clone(),
        mode: dir.mode,
        owner,
    };
    let resolved = match resolve(planner.root, path, true) {
        Ok(r) => r,
        Err(refusal) => {
            planner.blocked(ActionKind::Directory, path, refusal.0);
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
            Some(existing_dir(planner.root, &resolved)),
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
                    Some(planner.root.host(&resolved.real)),
                )
            }
        }
        _ => {
            planner.blocked(
                ActionKind::Directory,
                path,
                "exists and is not a directory; move it away first".to_owned(),
            );
            return Ok(());
        }
    };
    planner.actions.push(PlannedAction {
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

/// The ids of a directory's owner and group, from the root's own user
/// database.
pub(crate) fn owner_ids(root: &RootDir, dir: &DesiredDir) -> Result<Option<(u32, u32)>> {
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

/// Create the directory, or change its mode and owner, recording first
/// what was there.
pub(crate) fn execute(
    run: &mut Run<'_>,
    path: &RelPath,
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<Note> {
    let r = resolve(&run.dir, path, true).map_err(|r| failed(r.0))?;
    let (mut created, previous) = match run.receipt.find(path) {
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
            run.receipt.upsert(Record::Directory {
                path: path.clone(),
                created,
                previous,
            });
            run.save()?;
            run.make_dirs(&missing, mode)?;
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
            run.receipt.upsert(Record::Directory {
                path: path.clone(),
                created,
                previous,
            });
            run.save()?;
            fsops::set_mode(&run.dir, &r.real, mode)?;
        }
        _ => return Err(failed(format!("{} is not a directory", path.display()))),
    }
    if let Some((uid, gid)) = owner {
        fsops::set_owner(&run.dir, &r.real, uid, gid)?;
    }
    run.checkpoint()?;
    Ok(None)
}

/// Undo a directory's record (the directories it created are removed
/// afterwards, with every record's): an existing directory gets its mode,
/// and its owner when we run as root, back.
pub(crate) fn undo(
    run: &mut Run<'_>,
    path: &RelPath,
    previous: Option<&DirMeta>,
) -> std::result::Result<(), String> {
    if let Some(p) = previous {
        let r = resolve(&run.dir, path, true).map_err(|r| r.0)?;
        if matches!(r.entry, Entry::Dir(_)) {
            fsops::set_mode(&run.dir, &r.real, p.mode).map_err(|e| e.to_string())?;
            if run.privileged {
                fsops::set_owner(&run.dir, &r.real, p.uid, p.gid).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// What retiring a directory no longer configured does.
pub(crate) fn retire_summary(
    path: &RelPath,
    created: &[RelPath],
    previous: Option<&DirMeta>,
    resolved: &Resolved,
) -> String {
    if created.last() == Some(&resolved.real) {
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
    }
}
