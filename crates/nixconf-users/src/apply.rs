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

use serde::{Deserialize, Serialize};

use crate::accounts::{Accounts, Table};
use crate::edit::Files;
use crate::etcdir::Etc;
use crate::journal::{self, EntryChange};
use crate::plan::{fingerprint, Plan, Step};
use crate::request::Platform;
use crate::Error;

/// What an apply did: its steps, the entries it changed, and the `-`
/// backups it created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// The steps it carried out.
    pub steps: Vec<Step>,
    /// The entries it added, removed or edited, file by file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<EntryChange>,
    /// The backups (`etc/passwd-`, ...) it created where there were none:
    /// undo removes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backups: Vec<String>,
}

impl Journal {
    /// Whether the apply changed nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.backups.is_empty()
    }
}

/// The account files an apply may change, in the order the shadow tools
/// lock them; each is backed up as `FILE-` when it changes.
pub(crate) const ACCOUNT_FILES: [&str; 6] = [
    "etc/passwd",
    "etc/shadow",
    "etc/group",
    "etc/gshadow",
    "etc/subuid",
    "etc/subgid",
];

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

/// The file name of an account file within `etc` (`etc/passwd` ->
/// `passwd`).
fn name(rel: &str) -> &str {
    rel.strip_prefix("etc/").unwrap_or(rel)
}

/// Read every account file, refusing symbolic links (a rewrite would
/// replace the link, and following it could read or write outside the
/// root); their backups and nixconf's temporary files must not be links
/// either.
fn read_files(etc: &Etc) -> Result<Vec<OnDisk>, Error> {
    for rel in ACCOUNT_FILES {
        for extra in ["-", ".nixconf-new", "-.nixconf-new"] {
            let n = format!("{}{extra}", name(rel));
            if etc.kind(&n)? == Some(FileType::Symlink) {
                return Err(Error::Symlink { path: etc.path(&n) });
            }
        }
    }
    ACCOUNT_FILES
        .iter()
        .map(|rel| {
            let n = name(rel);
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
        if etc.kind(name(&b))?.is_none() {
            kept.push(b);
        }
    }
    journal.backups = kept;
    Ok(())
}

fn check_plan(root: &Path, plan: &Plan) -> Result<(PathBuf, Etc), Error> {
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
    let (_, etc) = check_plan(root, plan)?;
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
    let (root, etc) = check_plan(root, plan)?;
    if plan.steps.is_empty() {
        check_inputs(&etc, plan)?;
        return Ok(empty_journal());
    }
    let _locks = lock_files(&root, &etc)?;
    check_inputs(&etc, plan)?;
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
        let n = name(f.rel);
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
            let n = name(f.rel);
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
        let n = name(b);
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
            format!("{}.nixconf-new", name(rel)),
            format!("{}-.nixconf-new", name(rel)),
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

fn check_inputs(etc: &Etc, plan: &Plan) -> Result<(), Error> {
    for (file, want) in &plan.inputs {
        let now = etc.read(name(file))?;
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

/// A lock held the shadow tools' way: `etc/FILE.lock`, hard-linked from
/// a file holding our pid, removed on drop.
#[derive(Debug)]
struct Lock {
    etc: Etc,
    name: String,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.etc.remove(&self.name);
    }
}

/// The locks an edit holds: glibc's `lckpwdf` lock (on `/` only) and
/// each file's shadow-style lock.
#[derive(Debug)]
struct Locks {
    _pwd: Option<fs::File>,
    _files: Vec<Lock>,
}

/// How long to wait for `lckpwdf`'s lock, as glibc does.
const PWD_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Lock every account file that exists, in the shadow tools' order.
/// On the machine itself (`root` is `/`) the shadow tools, PAM and every
/// other account editor first take glibc's `lckpwdf(3)` lock, a write
/// record lock on the whole of `/etc/.pwd.lock`, and so does nixconf;
/// with `--prefix` they do not, and neither does nixconf for any other
/// root.
fn lock_files(root: &Path, etc: &Etc) -> Result<Locks, Error> {
    let pwd = if root == Path::new("/") {
        Some(lock_pwd_file(etc, ".pwd.lock", PWD_LOCK_WAIT)?)
    } else {
        None
    };
    let mut files = Vec::new();
    for rel in ACCOUNT_FILES {
        if etc.kind(name(rel))?.is_none() {
            continue;
        }
        files.push(lock_one(etc, rel)?);
    }
    Ok(Locks {
        _pwd: pwd,
        _files: files,
    })
}

/// Take a write record lock on all of `etc/NAME` (created 0600 if
/// missing, never through a link), waiting up to `wait`.
fn lock_pwd_file(etc: &Etc, n: &str, wait: std::time::Duration) -> Result<fs::File, Error> {
    use rustix::fs::FlockOperation;
    let file = etc
        .open_or_create(n, 0o600)
        .map_err(|e| Error::io(etc.path(n), e))?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match rustix::fs::fcntl_lock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(file),
            Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::ACCESS => {
                if std::time::Instant::now() >= deadline {
                    return Err(Error::Locked {
                        path: format!("etc/{n}"),
                        lock: format!("etc/{n}"),
                        holder: None,
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(Error::io(etc.path(n), e.into())),
        }
    }
}

fn lock_one(etc: &Etc, rel: &str) -> Result<Lock, Error> {
    let pid = std::process::id();
    let n = name(rel);
    let lock = format!("{n}.lock");
    let tmp = format!("{n}.{pid}");
    // What shadow's commonio writes: the pid and its terminating NUL.
    let _ = etc.remove(&tmp);
    etc.create_new(&tmp, 0o600)
        .and_then(|mut f| f.write_all(format!("{pid}\0").as_bytes()))
        .map_err(|e| Error::io(etc.path(&tmp), e))?;
    let mut result = etc.link(&tmp, &lock);
    if matches!(&result, Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists) {
        if let LockHolder::Dead(_) = lock_holder(etc, &lock) {
            let _ = etc.remove(&lock);
            result = etc.link(&tmp, &lock);
        }
    }
    let _ = etc.remove(&tmp);
    match result {
        Ok(()) => Ok(Lock {
            etc: etc.try_clone()?,
            name: lock,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::Locked {
            path: rel.to_owned(),
            lock: format!("{rel}.lock"),
            holder: match lock_holder(etc, &lock) {
                LockHolder::Alive(pid) => Some(pid),
                _ => None,
            },
        }),
        Err(e) => Err(Error::io(etc.path(&lock), e)),
    }
}

/// Who holds a lock file.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LockHolder {
    /// A running process.
    Alive(u32),
    /// A process that no longer runs: the lock is stale.
    Dead(u32),
    /// Not known (no pid in the file, or no `/proc` to ask): held.
    Unknown,
}

/// The pid in a lock file: decimal digits, then optionally a NUL (shadow
/// writes `PID\0`) or a newline.
pub(crate) fn lock_pid(contents: &[u8]) -> Option<u32> {
    let end = contents
        .iter()
        .position(|b| *b == 0)
        .unwrap_or(contents.len());
    let text = std::str::from_utf8(&contents[..end]).ok()?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u32>().ok().filter(|p| *p > 0)
}

/// Who holds the lock file `etc/NAME` (read without following a link).
pub(crate) fn lock_holder(etc: &Etc, n: &str) -> LockHolder {
    let Ok(Some(bytes)) = etc.read(n) else {
        return LockHolder::Unknown;
    };
    let Some(pid) = lock_pid(&bytes) else {
        return LockHolder::Unknown;
    };
    if !Path::new("/proc/self").exists() {
        return LockHolder::Unknown;
    }
    if Path::new(&format!("/proc/{pid}")).exists() {
        LockHolder::Alive(pid)
    } else {
        LockHolder::Dead(pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_pids_as_shadow_and_others_write_them() {
        assert_eq!(lock_pid(b"1234\0"), Some(1234));
        assert_eq!(lock_pid(b"1234"), Some(1234));
        assert_eq!(lock_pid(b"1234\n"), Some(1234));
        assert_eq!(lock_pid(b"1234\0\n"), Some(1234));
        assert_eq!(lock_pid(b"1234\0junk"), Some(1234));
        assert_eq!(lock_pid(b""), None);
        assert_eq!(lock_pid(b"\0"), None);
        assert_eq!(lock_pid(b"0\0"), None);
        assert_eq!(lock_pid(b"-5"), None);
        assert_eq!(lock_pid(b"12ab"), None);
        assert_eq!(lock_pid(b"99999999999"), None);
    }

    /// `lckpwdf`'s lock is an fcntl record lock, which another process
    /// (here `python3`'s `fcntl.lockf`, when installed) can hold.
    #[test]
    fn the_pwd_lock_waits_for_another_process_then_says_it_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("etc")).unwrap();
        let etc = Etc::open(dir.path()).unwrap().unwrap();
        let path = dir.path().join("etc/.pwd.lock");
        let f = lock_pwd_file(&etc, ".pwd.lock", std::time::Duration::ZERO).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        drop(f);
        let script = format!(
            "import fcntl,sys,time\nf=open({:?},'w')\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint('locked',flush=True)\ntime.sleep(5)\n",
            path.display().to_string()
        );
        let Ok(mut child) = std::process::Command::new("python3")
            .args(["-c", &script])
            .stdout(std::process::Stdio::piped())
            .spawn()
        else {
            return;
        };
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "locked");
        let t = std::time::Instant::now();
        let e =
            lock_pwd_file(&etc, ".pwd.lock", std::time::Duration::from_millis(300)).unwrap_err();
        assert!(t.elapsed() >= std::time::Duration::from_millis(300));
        assert!(matches!(e, Error::Locked { .. }), "{e:?}");
        child.kill().unwrap();
        child.wait().unwrap();
        lock_pwd_file(&etc, ".pwd.lock", std::time::Duration::from_secs(5)).unwrap();
        // Never through a link.
        let link = dir.path().join("etc/link.lock");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(lock_pwd_file(&etc, "link.lock", std::time::Duration::ZERO).is_err());
    }

    #[test]
    fn a_lock_of_a_dead_process_is_stale_and_a_live_ones_is_held() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("etc")).unwrap();
        let etc = Etc::open(dir.path()).unwrap().unwrap();
        let lock = dir.path().join("etc/passwd.lock");
        // Above Linux's largest pid_max (2^22): never a running process.
        for text in [&b"99999999\0"[..], b"99999999", b"99999999\n"] {
            fs::write(&lock, text).unwrap();
            assert_eq!(
                lock_holder(&etc, "passwd.lock"),
                LockHolder::Dead(99_999_999)
            );
        }
        fs::write(&lock, format!("{}\0", std::process::id())).unwrap();
        assert_eq!(
            lock_holder(&etc, "passwd.lock"),
            LockHolder::Alive(std::process::id())
        );
        fs::write(&lock, "not a pid").unwrap();
        assert_eq!(lock_holder(&etc, "passwd.lock"), LockHolder::Unknown);
    }
}
