//! Carrying a plan out, and taking it back.
//!
//! The account files are edited the way `useradd --prefix` edits them,
//! but in one batch: each file is locked with the shadow tools' protocol
//! (`FILE.lock` holding our pid), read, changed in memory, backed up as
//! `FILE-` and atomically replaced, keeping its owner and mode. Creating
//! a thousand users is four file writes, not a thousand processes.
//!
//! The journal records the entries that changed (see [`crate::journal`]),
//! never whole files, so it holds no password hash and no other account,
//! and `undo` takes back exactly nixconf's entries.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::FileType;

use crate::accounts::{Accounts, Table, ACCOUNT_FILES};
use crate::edit::Files;
use crate::etcdir::{file_name, Etc};
use crate::fingerprint::fingerprint;
use crate::journal::{self, EntryChange, Journal};
use crate::lock::lock_files;
use crate::plan::types::Plan;
use crate::request::Platform;
use crate::Error;

/// The order files are written in: a run killed between two writes
/// leaves group members or shadow lines ahead of their account, which a
/// fresh plan sees as still to do, never an account without its shadow
/// line that it would miss.
const WRITE_ORDER: [usize; 6] = [3, 2, 1, 0, 4, 5];

/// A file as read: its bytes and what a rewrite must keep.
#[derive(Debug)]
struct OnDisk {
    rel: &'static str,
    bytes: Option<Vec<u8>>,
    meta: Option<fs::Metadata>,
    /// Its SELinux label, kept on rewrite as the shadow tools do.
    label: Option<Vec<u8>>,
}

/// Read every account file, refusing symbolic links (a rewrite would
/// replace the link, and following it could read or write outside the
/// root); their backups and nixconf's temporary files must not be links
/// either.
fn read_files(etc: &Etc) -> Result<Vec<OnDisk>, Error> {
    for rel in ACCOUNT_FILES {
        for extra in ["-", ".nixconf-new", "-.nixconf-new"] {
            let n = format!("{}{extra}", file_name(rel));
            if etc.kind(&n)? == Some(FileType::Symlink) {
                return Err(Error::Symlink { path: etc.path(&n) });
            }
        }
    }
    ACCOUNT_FILES
        .iter()
        .map(|rel| {
            let n = file_name(rel);
            let Some(mut f) = etc.open_read(n)? else {
                return Ok(OnDisk {
                    rel,
                    bytes: None,
                    meta: None,
                    label: None,
                });
            };
            let meta = f.metadata().map_err(|e| Error::io(etc.path(n), e))?;
            let mut bytes = Vec::with_capacity(meta.len() as usize);
            f.read_to_end(&mut bytes)
                .map_err(|e| Error::io(etc.path(n), e))?;
            let mut label = [0u8; 1024];
            let label = rustix::fs::fgetxattr(&f, "security.selinux", &mut label[..])
                .ok()
                .map(|len| label[..len].to_vec());
            Ok(OnDisk {
                rel,
                bytes: Some(bytes),
                meta: Some(meta),
                label,
            })
        })
        .collect()
}

/// `ROOT/etc`, which must hold `passwd`: a root without one is not a
/// Linux root, and creating a passwd without `root` would lock everyone
/// out.
fn open_etc(root: &Path) -> Result<Etc, Error> {
    let missing = || Error::NoPasswd {
        path: root.join("etc/passwd"),
    };
    let etc = Etc::open(root)?.ok_or_else(missing)?;
    if etc.kind("passwd")?.is_none() {
        return Err(missing());
    }
    Ok(etc)
}

/// Today in days since the epoch, as the shadow tools write it (they
/// honour `SOURCE_DATE_EPOCH` too).
fn today() -> u64 {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    secs / 86400
}

/// Per file of [`ACCOUNT_FILES`], its new bytes when it changes.
type NewContents = Vec<Option<Vec<u8>>>;

/// The files after the plan's steps, and the journal of that change.
fn compute(files: &[OnDisk], plan: &Plan) -> Result<(NewContents, Journal), Error> {
    let bytes = |i: usize| files[i].bytes.as_deref();
    let accounts = Accounts::parse(bytes(0), bytes(2), bytes(4), bytes(5));
    let before = Files::new(accounts, bytes(1), bytes(3));
    let mut after = before.clone();
    after.apply(&plan.steps, today()).map_err(Error::Edit)?;
    let mut entries = Vec::new();
    journal::diff(&before.passwd, &after.passwd, &mut entries);
    journal::diff(&before.shadow, &after.shadow, &mut entries);
    journal::diff(&before.group, &after.group, &mut entries);
    journal::diff(&before.gshadow, &after.gshadow, &mut entries);
    journal::diff(&before.subuid, &after.subuid, &mut entries);
    journal::diff(&before.subgid, &after.subgid, &mut entries);
    let new = after.contents();
    let mut out = Vec::new();
    let mut backups = Vec::new();
    for f in files {
        let changed = new
            .get(f.rel)
            .filter(|n| Some(n.as_slice()) != f.bytes.as_deref());
        if changed.is_some() && f.bytes.is_some() {
            let backup = format!("{}-", f.rel);
            backups.push(backup);
        }
        out.push(changed.cloned());
    }
    Ok((
        out,
        Journal {
            steps: plan.steps.clone(),
            entries,
            backups,
        },
    ))
}

/// Drop from `journal.backups` those that exist already (only backups
/// this apply creates are its to remove).
fn backups_present(etc: &Etc, journal: &mut Journal) -> Result<(), Error> {
    let mut kept = Vec::new();
    for b in journal.backups.drain(..) {
        if etc.kind(file_name(&b))?.is_none() {
            kept.push(b);
        }
    }
    journal.backups = kept;
    Ok(())
}

/// Refuse a plan with conflicts (and a macOS pool on the machine itself),
/// and open the root's `etc` that the apply works in.
fn open_for_apply(root: &Path, plan: &Plan) -> Result<(PathBuf, Etc), Error> {
    if plan.has_conflicts() {
        return Err(Error::Conflicts {
            count: plan.conflicts.len(),
        });
    }
    let root = fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    if plan.request.platform() == Platform::Macos && root == Path::new("/") {
        return Err(Error::Unsupported(
            "on macOS the accounts live in Directory Services, not /etc/passwd; nixconf applies macOS pools only to a root directory (use dscl or nix-installer on the machine itself)".to_owned(),
        ));
    }
    let etc = open_etc(&root)?;
    Ok((root, etc))
}

fn empty_journal() -> Journal {
    Journal {
        steps: Vec::new(),
        entries: Vec::new(),
        backups: Vec::new(),
    }
}

/// The journal [`apply`] would return for `plan` on `root` as it is now,
/// without changing anything: what a caller records before the apply, so
/// a run killed half-way can still be undone (undo takes back whatever
/// part of it happened).
pub fn preview(root: &Path, plan: &Plan) -> Result<Journal, Error> {
    let (_, etc) = open_for_apply(root, plan)?;
    if plan.steps.is_empty() {
        return Ok(empty_journal());
    }
    let files = read_files(&etc)?;
    let (_, mut journal) = compute(&files, plan)?;
    backups_present(&etc, &mut journal)?;
    Ok(journal)
}

/// Apply `plan` to the accounts under `root`.
///
/// Refuses a plan with conflicts, a plan whose input files changed since
/// it was made (a plan from [`crate::plan`] records them; one from
/// [`crate::plan_accounts`] has no inputs to check), a root without
/// `etc/passwd`, and an `etc` or account files that are symbolic links.
/// Every file is reached through a handle on `ROOT/etc`, never through a
/// link. On failure every file is put back as it was.
pub fn apply(root: &Path, plan: &Plan) -> Result<Journal, Error> {
    let (root, etc) = open_for_apply(root, plan)?;
    if plan.steps.is_empty() {
        refuse_stale_plan(&etc, plan)?;
        return Ok(empty_journal());
    }
    let _locks = lock_files(&root, &etc)?;
    refuse_stale_plan(&etc, plan)?;
    let files = read_files(&etc)?;
    let (new, mut journal) = compute(&files, plan)?;
    backups_present(&etc, &mut journal)?;
    write_all(&etc, &files, &new, true)?;
    remove_leftovers(&etc)?;
    Ok(journal)
}

/// Write the files whose new contents are `Some`, in [`WRITE_ORDER`],
/// each after its `-` backup (when `backup`); on failure put back those
/// already written.
fn write_all(
    etc: &Etc,
    files: &[OnDisk],
    new: &[Option<Vec<u8>>],
    backup: bool,
) -> Result<(), Error> {
    let mut written: Vec<usize> = Vec::new();
    let mut made_backups: Vec<String> = Vec::new();
    let mut result = Ok(());
    for i in WRITE_ORDER {
        let Some(bytes) = &new[i] else {
            continue;
        };
        let f = &files[i];
        let n = file_name(f.rel);
        if backup {
            if let (Some(old), Some(meta)) = (&f.bytes, &f.meta) {
                let b = format!("{n}-");
                let existed = etc.kind(&b)?.is_some();
                if let Err(e) = write_atomic(etc, &b, old, Some((meta, f.label.as_deref())), true) {
                    result = Err(e);
                    break;
                }
                if !existed {
                    made_backups.push(b);
                }
            }
        }
        let like = f.meta.as_ref().map(|m| (m, f.label.as_deref()));
        if let Err(e) = write_atomic(etc, n, bytes, like, false) {
            result = Err(e);
            break;
        }
        written.push(i);
    }
    if result.is_err() {
        for i in written {
            let f = &files[i];
            let n = file_name(f.rel);
            match &f.bytes {
                Some(old) => {
                    let like = f.meta.as_ref().map(|m| (m, f.label.as_deref()));
                    let _ = write_atomic(etc, n, old, like, false);
                }
                None => {
                    let _ = etc.remove(n);
                }
            }
        }
        for b in made_backups {
            let _ = etc.remove(&b);
        }
        return result;
    }
    let _ = etc.sync();
    Ok(())
}

/// Take back what `journal` records, on the files as they are now.
///
/// The entries nixconf added are removed, the fields it edited put back
/// and the lines it removed restored; accounts added or changed since
/// (other than nixconf's own) are kept. Refuses, changing nothing, when
/// one of nixconf's entries was changed in a way that undoing would
/// discard (a field nixconf set now holds a third value, a name it
/// removed was given to a new account). Running it again after it
/// finished changes nothing.
pub fn undo(root: &Path, journal: &Journal) -> Result<(), Error> {
    let root = fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    if journal.is_empty() {
        return Ok(());
    }
    let Some(etc) = Etc::open(&root)? else {
        return Err(Error::ChangedSinceApply {
            entries: vec![format!(
                "{} was removed after the apply",
                root.join("etc").display()
            )],
        });
    };
    let _locks = lock_files(&root, &etc)?;
    let files = read_files(&etc)?;
    let mut new: Vec<Option<Vec<u8>>> = vec![None; files.len()];
    let mut conflicts = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let changes: Vec<&EntryChange> = journal
            .entries
            .iter()
            .filter(|c| c.file() == f.rel)
            .collect();
        if changes.is_empty() {
            continue;
        }
        let Some(bytes) = &f.bytes else {
            // The file is gone: nothing of ours is left in it to remove,
            // but removed lines cannot come back.
            if changes
                .iter()
                .any(|c| !matches!(c, EntryChange::Added { .. }))
            {
                conflicts.push(format!("{} was removed after the apply", f.rel));
            }
            continue;
        };
        let out = match f.rel {
            "etc/passwd" => {
                undo_table::<crate::PasswdEntry>(f.rel, bytes, &changes, &mut conflicts)
            }
            "etc/group" => undo_table::<crate::GroupEntry>(f.rel, bytes, &changes, &mut conflicts),
            "etc/subuid" | "etc/subgid" => {
                undo_table::<crate::SubIdEntry>(f.rel, bytes, &changes, &mut conflicts)
            }
            _ => undo_table::<Vec<String>>(f.rel, bytes, &changes, &mut conflicts),
        };
        if out.as_slice() != bytes.as_slice() {
            new[i] = Some(out);
        }
    }
    if !conflicts.is_empty() {
        return Err(Error::ChangedSinceApply { entries: conflicts });
    }
    write_all(&etc, &files, &new, false)?;
    for b in &journal.backups {
        let Some(file) = b.strip_suffix('-') else {
            continue;
        };
        if !ACCOUNT_FILES.contains(&file) {
            continue;
        }
        let n = file_name(b);
        if etc.kind(n)? == Some(FileType::RegularFile) {
            etc.remove(n).map_err(|e| Error::io(etc.path(n), e))?;
        }
    }
    remove_leftovers(&etc)?;
    Ok(())
}

/// Remove the temporary files a run killed while writing left beside
/// the account files (`etc/passwd.nixconf-new`, ...): nixconf's by their
/// name, and never anything else.
fn remove_leftovers(etc: &Etc) -> Result<(), Error> {
    for rel in ACCOUNT_FILES {
        for tmp in [
            format!("{}.nixconf-new", file_name(rel)),
            format!("{}-.nixconf-new", file_name(rel)),
        ] {
            if etc.kind(&tmp)? == Some(FileType::RegularFile) {
                etc.remove(&tmp).map_err(|e| Error::io(etc.path(&tmp), e))?;
            }
        }
    }
    Ok(())
}

fn undo_table<T: crate::accounts::Record>(
    rel: &str,
    bytes: &[u8],
    changes: &[&EntryChange],
    conflicts: &mut Vec<String>,
) -> Vec<u8> {
    let mut table: Table<T> = Table::parse(rel, Some(bytes));
    journal::undo(&mut table, changes, conflicts);
    table.to_bytes()
}

/// Refuse the plan when an input file's fingerprint differs from the one
/// the plan recorded (the machine moved away from it since).
fn refuse_stale_plan(etc: &Etc, plan: &Plan) -> Result<(), Error> {
    for (file, want) in &plan.inputs {
        let now = etc.read(file_name(file))?;
        if now.as_deref().map(fingerprint) != *want {
            return Err(Error::StalePlan { path: file.clone() });
        }
    }
    Ok(())
}

/// Write `etc/NAME` by writing a temporary file beside it (created anew,
/// never through a link) and renaming it over: readers see the old file
/// or the new one, never half of one. The new file gets the mode, owner
/// and SELinux label of `like` (0644 and ours without it), and its times
/// too when `times` (the shadow tools' backups keep the original's).
fn write_atomic(
    etc: &Etc,
    n: &str,
    bytes: &[u8],
    like: Option<(&fs::Metadata, Option<&[u8]>)>,
    times: bool,
) -> Result<(), Error> {
    let tmp = format!("{n}.nixconf-new");
    // A leftover of a run killed while writing: ours by its name.
    if etc.kind(&tmp)?.is_some() {
        etc.remove(&tmp).map_err(|e| Error::io(etc.path(&tmp), e))?;
    }
    let result = (|| -> std::io::Result<()> {
        let mut f = etc.create_new(&tmp, 0o600)?;
        f.write_all(bytes)?;
        let mode = like.map_or(0o644, |(m, _)| m.mode() & 0o7777);
        if let Some((m, label)) = like {
            if let Some(label) = label {
                // Best effort: a label that cannot be set leaves the file
                // as a new one would be.
                let _ = rustix::fs::fsetxattr(
                    &f,
                    "security.selinux",
                    label,
                    rustix::fs::XattrFlags::empty(),
                );
            }
            let meta = f.metadata()?;
            if meta.uid() != m.uid() || meta.gid() != m.gid() {
                std::os::unix::fs::fchown(&f, Some(m.uid()), Some(m.gid()))?;
            }
            if times {
                let mut t = fs::FileTimes::new();
                if let Ok(a) = m.accessed() {
                    t = t.set_accessed(a);
                }
                if let Ok(w) = m.modified() {
                    t = t.set_modified(w);
                }
                f.set_times(t)?;
            }
        }
        // After the chown, which clears set-id bits.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        etc.rename(&tmp, n)
    })();
    result.map_err(|e| {
        let _ = etc.remove(&tmp);
        Error::io(etc.path(n), e)
    })
}
