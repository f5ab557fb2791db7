//! The filesystem primitives: durable atomic writes, directories, modes,
//! owners, and who we are.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// The permission bits we manage: rwx for all three classes plus setuid,
/// setgid and sticky.
pub(crate) const MODE_MASK: u32 = 0o7777;

pub(crate) fn io_error(path: &Path, source: io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Who this process acts as, read from `/proc/self/status` (the standard
/// library has no `geteuid`, and this crate allows no `unsafe`).
#[derive(Clone, Debug)]
pub(crate) struct Ids {
    pub(crate) euid: u32,
    pub(crate) egid: u32,
    pub(crate) groups: Vec<u32>,
}

impl Ids {
    pub(crate) fn current() -> Ids {
        let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
        // Each line is `Name:\tvalue...`; for Uid and Gid the values are
        // real, effective, saved and filesystem ids.
        let field = |name: &str| -> Vec<u32> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|rest| {
                    rest.split_whitespace()
                        .filter_map(|v| v.parse().ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        // Without /proc we cannot tell: assume the least privilege.
        let euid = field("Uid:").get(1).copied().unwrap_or(u32::MAX);
        let egid = field("Gid:").get(1).copied().unwrap_or(u32::MAX);
        Ids {
            euid,
            egid,
            groups: field("Groups:"),
        }
    }

    pub(crate) fn is_privileged(&self) -> bool {
        self.euid == 0
    }

    /// Whether we may create entries in a directory with this metadata.
    pub(crate) fn can_write_dir(&self, meta: &fs::Metadata) -> bool {
        if self.is_privileged() {
            return true;
        }
        let mode = meta.mode();
        let bits = if meta.uid() == self.euid {
            mode >> 6
        } else if meta.gid() == self.egid || self.groups.contains(&meta.gid()) {
            mode >> 3
        } else {
            mode
        };
        // Writing an entry needs both write and search permission.
        bits & 0o3 == 0o3
    }
}

/// Whether `root` is the host's `/` (compared by device and inode, so
/// `/.`, `//` and bind-mount spellings count too).
pub(crate) fn is_host_root(root: &Path) -> bool {
    match (fs::metadata(root), fs::metadata("/")) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The temporary name used while writing `path`: in the same directory (so
/// the rename is atomic) and fixed (so a leftover from a crash is found and
/// replaced by the next run rather than accumulating).
fn temp_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.nixconf-tmp"))
}

/// Write `contents` to `path` atomically and durably: a temporary file in
/// the same directory, written, given its mode (and owner), fsynced, renamed
/// over `path`, then the directory fsynced. Replaces a symlink at `path`
/// rather than writing through it.
pub(crate) fn atomic_write(
    path: &Path,
    contents: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), Error> {
    let tmp = temp_name(path);
    let result = (|| -> io::Result<()> {
        remove_if_present(&tmp)?;
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(contents)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
        }
        // After chown, which clears setuid and setgid bits.
        f.set_permissions(fs::Permissions::from_mode(mode & MODE_MASK))?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        fsync_dir(path.parent().unwrap_or(Path::new("/")))
    })();
    result.map_err(|e| {
        // Best effort: a failed write leaves no temporary behind.
        let _ = fs::remove_file(&tmp);
        io_error(path, e)
    })
}

/// Create (or replace) the symlink `path -> target` atomically.
pub(crate) fn atomic_symlink(path: &Path, target: &Path) -> Result<(), Error> {
    let tmp = temp_name(path);
    let result = (|| -> io::Result<()> {
        remove_if_present(&tmp)?;
        std::os::unix::fs::symlink(target, &tmp)?;
        fs::rename(&tmp, path)?;
        fsync_dir(path.parent().unwrap_or(Path::new("/")))
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_error(path, e)
    })
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Create one directory with exactly `mode` (the umask would otherwise
/// narrow it, and `mkdir` never sets the sticky bit).
pub(crate) fn make_dir(path: &Path, mode: u32) -> Result<(), Error> {
    (|| -> io::Result<()> {
        match fs::create_dir(path) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
            other => other?,
        }
        fs::set_permissions(path, fs::Permissions::from_mode(mode & MODE_MASK))?;
        fsync_dir(path.parent().unwrap_or(Path::new("/")))
    })()
    .map_err(|e| io_error(path, e))
}

/// Set the mode of an existing file or directory (not through a symlink).
pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode & MODE_MASK))
        .map_err(|e| io_error(path, e))
}

/// Set the owner of an entry without following a symlink at `path`.
pub(crate) fn set_owner(path: &Path, uid: u32, gid: u32) -> Result<(), Error> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(|e| io_error(path, e))
}

/// Remove an empty directory. `Ok(false)` when it is not empty, `Ok(true)`
/// when it was removed or was already gone.
pub(crate) fn remove_empty_dir(path: &Path) -> Result<bool, Error> {
    let mut entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(io_error(path, e)),
    };
    if entries.next().is_some() {
        return Ok(false);
    }
    fs::remove_dir(path)
        .and_then(|()| fsync_dir(path.parent().unwrap_or(Path::new("/"))))
        .map_err(|e| io_error(path, e))?;
    Ok(true)
}

/// Remove a file or symlink durably; already gone is fine.
pub(crate) fn remove_file(path: &Path) -> Result<(), Error> {
    remove_if_present(path)
        .and_then(|()| fsync_dir(path.parent().unwrap_or(Path::new("/"))))
        .map_err(|e| io_error(path, e))
}

/// Look a user or group name up in the root's own database
/// (`etc/passwd` or `etc/group` under the root: the ids the installed
/// system will use). A number is taken as an id; `root` is 0 even when the
/// root has no database yet (a fresh tree).
pub(crate) fn lookup_id(database: &Path, name: &str) -> Result<Option<u32>, Error> {
    if let Ok(id) = name.parse::<u32>() {
        return Ok(Some(id));
    }
    let text = match fs::read_to_string(database) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io_error(database, e)),
    };
    // Both files are `name:password:id:...`.
    let found = text.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next() == Some(name))
            .then(|| fields.nth(1).and_then(|id| id.parse().ok()))
            .flatten()
    });
    Ok(found.or_else(|| (name == "root").then_some(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_sets_mode_despite_umask_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        atomic_write(&p, b"hello\n", 0o640, None).unwrap();
        atomic_write(&p, b"again\n", 0o604, None).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"again\n");
        assert_eq!(fs::metadata(&p).unwrap().mode() & MODE_MASK, 0o604);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn atomic_write_replaces_a_symlink_instead_of_writing_through_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("target"), "keep\n").unwrap();
        std::os::unix::fs::symlink("target", dir.path().join("link")).unwrap();
        atomic_write(&dir.path().join("link"), b"new\n", 0o644, None).unwrap();
        assert_eq!(fs::read(dir.path().join("target")).unwrap(), b"keep\n");
        assert!(fs::symlink_metadata(dir.path().join("link"))
            .unwrap()
            .is_file());
    }

    #[test]
    fn make_dir_sets_the_sticky_bit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tmp");
        make_dir(&p, 0o1777).unwrap();
        assert_eq!(fs::metadata(&p).unwrap().mode() & MODE_MASK, 0o1777);
    }

    #[test]
    fn lookup_id_reads_the_roots_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("passwd");
        assert_eq!(lookup_id(&db, "root").unwrap(), Some(0));
        assert_eq!(lookup_id(&db, "nixbld1").unwrap(), None);
        fs::write(
            &db,
            "root:x:0:0::/root:/bin/sh\nnixbld1:x:30001:30000::/:/bin/false\n",
        )
        .unwrap();
        assert_eq!(lookup_id(&db, "nixbld1").unwrap(), Some(30001));
        assert_eq!(lookup_id(&db, "42").unwrap(), Some(42));
    }

    #[test]
    fn current_ids_are_read_from_proc() {
        let ids = Ids::current();
        let meta = fs::metadata("/proc/self").unwrap();
        // /proc/self belongs to the process's effective ids.
        assert_eq!(ids.euid, meta.uid());
        assert_eq!(ids.egid, meta.gid());
    }
}
