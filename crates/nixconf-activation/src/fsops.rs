//! The filesystem primitives: durable atomic writes, directories, modes,
//! owners, and who we are.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::beneath::RootDir;
use crate::error::Error;
use crate::relpath::RelPath;

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

pub(crate) use crate::host::{failpoint, is_host_root};

/// The SHA-256 of `data`, as 64 lowercase hex digits: how the receipt
/// fingerprints the files we write and back up.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Write `contents` to `rel` under the root atomically and durably, with
/// exactly `mode` (and `owner`), never through a symlink.
pub(crate) fn atomic_write(
    root: &RootDir,
    rel: &RelPath,
    contents: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), Error> {
    failpoint("write")
        .and_then(|()| root.atomic_write(rel, contents, mode, owner))
        .map_err(|e| root.error(rel, e))
}

/// Create (or replace) the symlink `rel -> target` atomically.
pub(crate) fn atomic_symlink(root: &RootDir, rel: &RelPath, target: &Path) -> Result<(), Error> {
    failpoint("symlink")
        .and_then(|()| root.atomic_symlink(rel, target))
        .map_err(|e| root.error(rel, e))
}

/// Create one directory with exactly `mode` (or give an existing one it).
pub(crate) fn make_dir(root: &RootDir, rel: &RelPath, mode: u32) -> Result<(), Error> {
    failpoint("mkdir")
        .and_then(|()| root.make_dir(rel, mode))
        .map_err(|e| root.error(rel, e))
}

/// Set the mode of an existing file or directory (never through a
/// symlink).
pub(crate) fn set_mode(root: &RootDir, rel: &RelPath, mode: u32) -> Result<(), Error> {
    failpoint("chmod")
        .and_then(|()| root.set_mode(rel, mode))
        .map_err(|e| root.error(rel, e))
}

/// Set the owner of an existing file or directory (never through a
/// symlink).
pub(crate) fn set_owner(root: &RootDir, rel: &RelPath, uid: u32, gid: u32) -> Result<(), Error> {
    failpoint("chown")
        .and_then(|()| root.set_owner(rel, uid, gid))
        .map_err(|e| root.error(rel, e))
}

/// Remove an empty directory. `Ok(false)` when it is not empty, `Ok(true)`
/// when it was removed or was already gone.
pub(crate) fn remove_empty_dir(root: &RootDir, rel: &RelPath) -> Result<bool, Error> {
    failpoint("rmdir")
        .and_then(|()| root.remove_empty_dir(rel))
        .map_err(|e| root.error(rel, e))
}

/// Remove a file or symlink durably; already gone is fine.
pub(crate) fn remove_file(root: &RootDir, rel: &RelPath) -> Result<(), Error> {
    failpoint("unlink")
        .and_then(|()| root.remove_file(rel))
        .map_err(|e| root.error(rel, e))
}

/// Read a regular file under the root; `None` when it does not exist.
pub(crate) fn read(root: &RootDir, rel: &RelPath) -> Result<Option<Vec<u8>>, Error> {
    root.read(rel)
        .map(|r| r.map(|(bytes, _)| bytes))
        .map_err(|e| root.error(rel, e))
}

/// Look a user or group name up in the root's own database
/// (`etc/passwd` or `etc/group` under the root: the ids the installed
/// system will use). A number is taken as an id; `root` is 0 even when the
/// root has no database yet (a fresh tree).
pub(crate) fn lookup_id(
    root: &RootDir,
    database: &RelPath,
    name: &str,
) -> Result<Option<u32>, Error> {
    if let Ok(id) = name.parse::<u32>() {
        return Ok(Some(id));
    }
    let text = read(root, database)?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
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
    fn sha256_is_the_standard_hex_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(&[b'x'; 56]),
            "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"
        );
    }
    use std::os::unix::fs::PermissionsExt;

    fn rel(s: &str) -> RelPath {
        RelPath::parse(s).unwrap()
    }

    #[test]
    fn atomic_write_sets_mode_despite_umask_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootDir::open(dir.path()).unwrap();
        atomic_write(&root, &rel("f"), b"hello\n", 0o640, None).unwrap();
        atomic_write(&root, &rel("f"), b"again\n", 0o604, None).unwrap();
        let p = dir.path().join("f");
        assert_eq!(fs::read(&p).unwrap(), b"again\n");
        assert_eq!(fs::metadata(&p).unwrap().mode() & MODE_MASK, 0o604);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn atomic_write_replaces_a_symlink_instead_of_writing_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootDir::open(dir.path()).unwrap();
        fs::write(dir.path().join("target"), "keep\n").unwrap();
        std::os::unix::fs::symlink("target", dir.path().join("link")).unwrap();
        atomic_write(&root, &rel("link"), b"new\n", 0o644, None).unwrap();
        assert_eq!(fs::read(dir.path().join("target")).unwrap(), b"keep\n");
        assert!(fs::symlink_metadata(dir.path().join("link"))
            .unwrap()
            .is_file());
    }

    #[test]
    fn make_dir_sets_the_sticky_bit() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootDir::open(dir.path()).unwrap();
        make_dir(&root, &rel("tmp"), 0o1777).unwrap();
        let p = dir.path().join("tmp");
        assert_eq!(fs::metadata(&p).unwrap().mode() & MODE_MASK, 0o1777);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[test]
    fn lookup_id_reads_the_roots_database() {
        let dir = tempfile::tempdir().unwrap();
        let root = RootDir::open(dir.path()).unwrap();
        let db = rel("passwd");
        assert_eq!(lookup_id(&root, &db, "root").unwrap(), Some(0));
        assert_eq!(lookup_id(&root, &db, "nixbld1").unwrap(), None);
        fs::write(
            dir.path().join("passwd"),
            "root:x:0:0::/root:/bin/sh\nnixbld1:x:30001:30000::/:/bin/false\n",
        )
        .unwrap();
        assert_eq!(lookup_id(&root, &db, "nixbld1").unwrap(), Some(30001));
        assert_eq!(lookup_id(&root, &db, "42").unwrap(), Some(42));
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
