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
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::accounts::{Accounts, Table};
use crate::edit::Files;
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
#[derive(Debug, Clone)]
struct OnDisk {
    rel: &'static str,
    bytes: Option<Vec<u8>>,
    meta: Option<fs::Metadata>,
}

/// Read every account file under `root`, refusing symbolic links (a
/// rewrite would replace the link, and following it could write outside
/// the root).
fn read_files(root: &Path) -> Result<Vec<OnDisk>, Error> {
    let etc = root.join("etc");
    match fs::symlink_metadata(&etc) {
        Ok(m) if m.file_type().is_symlink() => return Err(Error::Symlink { path: etc }),
        _ => {}
    }
    // The backups a rewrite replaces, and the temporary files it writes,
    // must not be links either: replacing one would leave a file where
    // the link was, and a tool following it would write outside.
    for rel in ACCOUNT_FILES {
        for extra in ["-", ".nixconf-new"] {
            let path = root.join(format!("{rel}{extra}"));
            if fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(Error::Symlink { path });
            }
        }
    }
    ACCOUNT_FILES
        .iter()
        .map(|rel| {
            let path = root.join(rel);
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(OnDisk {
                        rel,
                        bytes: None,
                        meta: None,
                    })
                }
                Err(e) => return Err(Error::io(path, e)),
            };
            if meta.file_type().is_symlink() {
                return Err(Error::Symlink { path });
            }
            let mut bytes = Vec::with_capacity(meta.len() as usize);
            let mut f = fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
            // Opened what was checked, not a link swapped in since.
            let opened = f.metadata().map_err(|e| Error::io(&path, e))?;
            if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
                return Err(Error::Symlink { path });
            }
            f.read_to_end(&mut bytes).map_err(|e| Error::io(&path, e))?;
            Ok(OnDisk {
                rel,
                bytes: Some(bytes),
                meta: Some(meta),
            })
        })
        .collect()
}

/// A root whose `etc/passwd` is missing is not a Linux root: creating a
/// passwd without `root` would lock everyone out.
fn require_passwd(root: &Path) -> Result<(), Error> {
    let path = root.join("etc/passwd");
    match fs::symlink_metadata(&path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NoPasswd { path }),
        Err(e) => Err(Error::io(path, e)),
    }
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

/// Drop from `journal.backups` those that exist already under `root`
/// (only backups this apply creates are its to remove).
fn backups_present(root: &Path, journal: &mut Journal) {
    journal
        .backups
        .retain(|b| fs::symlink_metadata(root.join(b)).is_err());
}

fn check_plan(root: &Path, plan: &Plan) -> Result<PathBuf, Error> {
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
    require_passwd(&root)?;
    Ok(root)
}

/// The journal [`apply`] would return for `plan` on `root` as it is now,
/// without changing anything: what a caller records before the apply, so
/// a run killed half-way can still be undone (undo takes back whatever
/// part of it happened).
pub fn preview(root: &Path, plan: &Plan) -> Result<Journal, Error> {
    let root = check_plan(root, plan)?;
    if plan.steps.is_empty() {
        return Ok(Journal {
            steps: Vec::new(),
            entries: Vec::new(),
            backups: Vec::new(),
        });
    }
    let files = read_files(&root)?;
    let (_, mut journal) = compute(&files, plan)?;
    backups_present(&root, &mut journal);
    Ok(journal)
}

/// Apply `plan` to the accounts under `root`.
///
/// Refuses a plan with conflicts, a plan whose input files changed since
/// it was made (a plan from [`crate::plan`] records them; one from
/// [`crate::plan_accounts`] has no inputs to check), a root without
/// `etc/passwd`, and account files that are symbolic links. On failure
/// every file is put back as it was.
pub fn apply(root: &Path, plan: &Plan) -> Result<Journal, Error> {
    let root = check_plan(root, plan)?;
    if plan.steps.is_empty() {
        check_inputs(&root, plan)?;
        return Ok(Journal {
            steps: Vec::new(),
            entries: Vec::new(),
            backups: Vec::new(),
        });
    }
    let _locks = lock_files(&root)?;
    check_inputs(&root, plan)?;
    let files = read_files(&root)?;
    let (new, mut journal) = compute(&files, plan)?;
    backups_present(&root, &mut journal);
    write_all(&root, &files, &new, true)?;
    remove_leftovers(&root)?;
    Ok(journal)
}

/// Write the files whose new contents are `Some`, in [`WRITE_ORDER`],
/// each after its `-` backup (when `backup`); on failure put back those
/// already written.
fn write_all(
    root: &Path,
    files: &[OnDisk],
    new: &[Option<Vec<u8>>],
    backup: bool,
) -> Result<(), Error> {
    let mut written: Vec<usize> = Vec::new();
    let mut made_backups: Vec<PathBuf> = Vec::new();
    let mut result = Ok(());
    for i in WRITE_ORDER {
        let Some(bytes) = &new[i] else {
            continue;
        };
        let f = &files[i];
        let path = root.join(f.rel);
        if backup {
            if let (Some(old), Some(meta)) = (&f.bytes, &f.meta) {
                let b = PathBuf::from(format!("{}-", path.display()));
                let existed = fs::symlink_metadata(&b).is_ok();
                if let Err(e) = write_atomic(&b, old, Some((meta, &path)), true) {
                    result = Err(e);
                    break;
                }
                if !existed {
                    made_backups.push(b);
                }
            }
        }
        if let Err(e) = write_atomic(
            &path,
            bytes,
            f.meta.as_ref().map(|m| (m, path.as_path())),
            false,
        ) {
            result = Err(e);
            break;
        }
        written.push(i);
    }
    if result.is_err() {
        for i in written {
            let f = &files[i];
            let path = root.join(f.rel);
            match &f.bytes {
                Some(old) => {
                    let _ = write_atomic(
                        &path,
                        old,
                        f.meta.as_ref().map(|m| (m, path.as_path())),
                        false,
                    );
                }
                None => {
                    let _ = fs::remove_file(&path);
                }
            }
        }
        for b in made_backups {
            let _ = fs::remove_file(b);
        }
        return result;
    }
    if let Ok(dir) = fs::File::open(root.join("etc")) {
        let _ = dir.sync_all();
    }
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
    let _locks = lock_files(&root)?;
    let files = read_files(&root)?;
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
    write_all(&root, &files, &new, false)?;
    remove_leftovers(&root)?;
    for b in &journal.backups {
        if !b.ends_with('-') || !ACCOUNT_FILES.iter().any(|f| b.strip_suffix('-') == Some(f)) {
            continue;
        }
        let path = root.join(b);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_file() => {
                fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Remove the temporary files a run killed while writing left beside
/// the account files (`etc/passwd.nixconf-new`, ...): nixconf's by their
/// name, and never anything else.
fn remove_leftovers(root: &Path) -> Result<(), Error> {
    for rel in ACCOUNT_FILES {
        for tmp in [format!("{rel}.nixconf-new"), format!("{rel}-.nixconf-new")] {
            let path = root.join(tmp);
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_file() => {
                    fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                }
                _ => {}
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

fn check_inputs(root: &Path, plan: &Plan) -> Result<(), Error> {
    for (file, want) in &plan.inputs {
        let now = crate::accounts::read_optional(&root.join(file))?;
        if now.as_deref().map(fingerprint) != *want {
            return Err(Error::StalePlan { path: file.clone() });
        }
    }
    Ok(())
}

/// Write `path` by writing a temporary file beside it (created anew,
/// never through a link) and renaming it over: readers see the old file
/// or the new one, never half of one. The new file gets the mode, owner
/// and SELinux label of `like` (metadata of a file, and the file; 0644
/// and ours without it), and its times too when `times` (the shadow
/// tools' backups keep the original's).
fn write_atomic(
    path: &Path,
    bytes: &[u8],
    like: Option<(&fs::Metadata, &Path)>,
    times: bool,
) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".nixconf-new");
    let tmp = PathBuf::from(tmp);
    // A leftover of a run killed while writing: ours by its name.
    match fs::symlink_metadata(&tmp) {
        Ok(_) => fs::remove_file(&tmp).map_err(|e| Error::io(&tmp, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&tmp, e)),
    }
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        let mode = like.map_or(0o644, |(m, _)| m.mode() & 0o7777);
        if let Some((m, from)) = like {
            copy_label(from, &f);
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
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Give `to` the SELinux label of `from` (as the shadow tools do, so a
/// rewritten `/etc/shadow` keeps `shadow_t`). Best effort: without
/// SELinux there is no label to copy, and a label that cannot be set
/// leaves the file as a new one would be.
fn copy_label(from: &Path, to: &fs::File) {
    let mut label = [0u8; 1024];
    if let Ok(n) = rustix::fs::lgetxattr(from, "security.selinux", &mut label[..]) {
        let _ = rustix::fs::fsetxattr(
            to,
            "security.selinux",
            &label[..n],
            rustix::fs::XattrFlags::empty(),
        );
    }
}

/// A lock held the shadow tools' way: `FILE.lock`, hard-linked from a
/// file holding our pid, removed on drop.
#[derive(Debug)]
struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
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

/// On the machine itself (`root` is `/`) the shadow tools, PAM and every
/// other account editor first take glibc's `lckpwdf(3)` lock: a write
/// record lock on the whole of `/etc/.pwd.lock`. With `--prefix` they do
/// not, and neither does nixconf for any other root.
fn lock_pwdf(root: &Path) -> Result<Option<fs::File>, Error> {
    if root != Path::new("/") {
        return Ok(None);
    }
    Ok(Some(lock_pwd_file(
        &root.join("etc/.pwd.lock"),
        PWD_LOCK_WAIT,
    )?))
}

/// Take a write record lock on all of `path` (created 0600 if missing,
/// never through a link), waiting up to `wait`.
fn lock_pwd_file(path: &Path, wait: std::time::Duration) -> Result<fs::File, Error> {
    use rustix::fs::{FlockOperation, Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::RUSR | Mode::WUSR,
    )
    .map_err(|e| Error::io(path, e.into()))?;
    let file = fs::File::from(fd);
    let deadline = std::time::Instant::now() + wait;
    loop {
        match rustix::fs::fcntl_lock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(file),
            Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::ACCESS => {
                if std::time::Instant::now() >= deadline {
                    let rel = path.strip_prefix("/").unwrap_or(path).display().to_string();
                    return Err(Error::Locked {
                        lock: rel.clone(),
                        path: rel,
                        holder: None,
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(Error::io(path, e.into())),
        }
    }
}

/// Lock every account file that exists, in the shadow tools' order,
/// after `lckpwdf`'s lock on `/`.
fn lock_files(root: &Path) -> Result<Locks, Error> {
    let pwd = lock_pwdf(root)?;
    Ok(Locks {
        _pwd: pwd,
        _files: lock_each(root)?,
    })
}

fn lock_each(root: &Path) -> Result<Vec<Lock>, Error> {
    let mut locks = Vec::new();
    for rel in ACCOUNT_FILES {
        if fs::symlink_metadata(root.join(rel)).is_err() {
            continue;
        }
        locks.push(lock_one(root, rel)?);
    }
    Ok(locks)
}

fn lock_one(root: &Path, rel: &str) -> Result<Lock, Error> {
    let pid = std::process::id();
    let file = root.join(rel);
    let lock = PathBuf::from(format!("{}.lock", file.display()));
    let tmp = PathBuf::from(format!("{}.{pid}", file.display()));
    // What shadow's commonio writes: the pid and its terminating NUL.
    let _ = fs::remove_file(&tmp);
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(format!("{pid}\0").as_bytes()))
        .map_err(|e| Error::io(&tmp, e))?;
    let mut result = fs::hard_link(&tmp, &lock);
    if matches!(&result, Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists) {
        if let LockHolder::Dead(_) = lock_holder(&lock) {
            let _ = fs::remove_file(&lock);
            result = fs::hard_link(&tmp, &lock);
        }
    }
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => Ok(Lock { path: lock }),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::Locked {
            path: rel.to_owned(),
            lock: format!("{rel}.lock"),
            holder: match lock_holder(&lock) {
                LockHolder::Alive(pid) => Some(pid),
                _ => None,
            },
        }),
        Err(e) => Err(Error::io(lock, e)),
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

pub(crate) fn lock_holder(lock: &Path) -> LockHolder {
    let Ok(bytes) = fs::read(lock) else {
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
        let path = dir.path().join(".pwd.lock");
        let f = lock_pwd_file(&path, std::time::Duration::ZERO).unwrap();
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
        let e = lock_pwd_file(&path, std::time::Duration::from_millis(300)).unwrap_err();
        assert!(t.elapsed() >= std::time::Duration::from_millis(300));
        assert!(matches!(e, Error::Locked { .. }), "{e:?}");
        child.kill().unwrap();
        child.wait().unwrap();
        lock_pwd_file(&path, std::time::Duration::from_secs(5)).unwrap();
        // Never through a link.
        let link = dir.path().join("link.lock");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(lock_pwd_file(&link, std::time::Duration::ZERO).is_err());
    }

    #[test]
    fn a_lock_of_a_dead_process_is_stale_and_a_live_ones_is_held() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("passwd.lock");
        // Above Linux's largest pid_max (2^22): never a running process.
        for text in [&b"99999999\0"[..], b"99999999", b"99999999\n"] {
            fs::write(&lock, text).unwrap();
            assert_eq!(lock_holder(&lock), LockHolder::Dead(99_999_999));
        }
        fs::write(&lock, format!("{}\0", std::process::id())).unwrap();
        assert_eq!(lock_holder(&lock), LockHolder::Alive(std::process::id()));
        fs::write(&lock, "not a pid").unwrap();
        assert_eq!(lock_holder(&lock), LockHolder::Unknown);
    }
}
