//! Every path under the root is reached through a directory handle of the
//! root, and never through a symlink.
//!
//! The root is opened once ([`RootDir::open`]). A path under it is opened
//! with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` where the kernel
//! has it (Linux 5.6), and otherwise one component at a time with
//! `O_NOFOLLOW | O_DIRECTORY`: a symlink anywhere on the way, even one
//! swapped in while nixconf runs (`renameat2(RENAME_EXCHANGE)` in a loop),
//! makes the open fail instead of leading elsewhere. Everything that
//! changes the tree then acts on an opened descriptor (`fchmod`, `fchown`,
//! `fsync`) or relative to the opened parent directory (`openat`,
//! `mkdirat`, `renameat`, `unlinkat`, `symlinkat`), never on a path.
//!
//! Symlinks inside the root that an installed system relies on (NixOS's
//! `/etc/nix -> /etc/static/nix`) are followed by [`crate::path::resolve`],
//! which reads them through this module and hands back the real,
//! symlink-free path; that path is then used here.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::error::Error;
use crate::relpath::RelPath;

/// Set once `openat2` returned `ENOSYS` (a kernel older than 5.6, or a
/// sandbox that hides it): from then on, walk component by component.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Test hook: walk component by component even where `openat2` works.
#[cfg(test)]
pub(crate) static FORCE_WALK: AtomicBool = AtomicBool::new(false);

fn walk_only() -> bool {
    #[cfg(test)]
    if FORCE_WALK.load(Ordering::Relaxed) {
        return true;
    }
    NO_OPENAT2.load(Ordering::Relaxed)
}

/// What is at a path, as `lstat` sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) kind: Kind,
    mode: u32,
    uid: u32,
    gid: u32,
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

/// The kinds of entries we tell apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

impl Meta {
    fn from_stat(st: &rustix::fs::Stat) -> Meta {
        let kind = match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Symlink,
            _ => Kind::Other,
        };
        Meta {
            kind,
            mode: st.st_mode,
            uid: st.st_uid,
            gid: st.st_gid,
            dev: st.st_dev,
            ino: st.st_ino,
        }
    }

    /// The whole `st_mode`, type bits included (as `MetadataExt::mode`).
    pub(crate) fn mode(&self) -> u32 {
        self.mode
    }

    pub(crate) fn uid(&self) -> u32 {
        self.uid
    }

    pub(crate) fn gid(&self) -> u32 {
        self.gid
    }
}

/// An open handle of the root directory.
#[derive(Debug)]
pub(crate) struct RootDir {
    path: PathBuf,
    fd: OwnedFd,
}

fn mode(bits: u32) -> Mode {
    Mode::from_raw_mode(bits & 0o7777)
}

impl RootDir {
    /// Open the root directory itself (following symlinks: the root is
    /// what the caller names).
    pub(crate) fn open(path: &Path) -> Result<RootDir, Error> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::Root {
            path: path.to_path_buf(),
            message: io::Error::from(e).to_string(),
        })?;
        Ok(RootDir {
            path: path.to_path_buf(),
            fd,
        })
    }

    /// The root as given.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The host path of `rel`, for messages.
    pub(crate) fn host(&self, rel: &RelPath) -> PathBuf {
        rel.under(&self.path)
    }

    /// The error for a failed operation on `rel`: a symlink on the way is
    /// named as such, with what to do about it.
    pub(crate) fn error(&self, rel: &RelPath, e: io::Error) -> Error {
        let raw = e.raw_os_error().map(Errno::from_raw_os_error);
        if matches!(raw, Some(Errno::LOOP | Errno::XDEV | Errno::NOTDIR)) {
            if let Some(link) = self.first_symlink(rel) {
                return Error::Symlink {
                    path: self.host(&link),
                    message: format!(
                        "a symlink is in the way of {} (nixconf never follows a symlink it did not resolve itself, as it could lead out of the root); replace it with the directory or file itself, or stop whatever is changing the tree while nixconf runs",
                        rel.display()
                    ),
                };
            }
        }
        Error::Io {
            path: self.host(rel),
            source: e,
        }
    }

    /// The first component of `rel` that is a symlink now, if any.
    fn first_symlink(&self, rel: &RelPath) -> Option<RelPath> {
        let comps: Vec<String> = rel.components().map(str::to_owned).collect();
        (1..=comps.len())
            .map(|n| RelPath::from_components(&comps[..n]))
            .find(|p| matches!(self.lstat(p), Ok(Some(m)) if m.kind == Kind::Symlink))
    }

    /// Open `rel` (the root itself for `None`) with `flags`, refusing a
    /// symlink in any component, the last included.
    fn open_at(&self, rel: Option<&RelPath>, flags: OFlags, create: Mode) -> io::Result<OwnedFd> {
        let flags = flags | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let Some(rel) = rel else {
            return Ok(rustix::fs::openat(
                &self.fd,
                ".",
                flags | OFlags::DIRECTORY,
                Mode::empty(),
            )?);
        };
        if !walk_only() {
            match rustix::fs::openat2(
                &self.fd,
                rel.as_str(),
                flags,
                create,
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
            ) {
                Err(Errno::NOSYS) => NO_OPENAT2.store(true, Ordering::Relaxed),
                // openat2 retries itself on EAGAIN only with RESOLVE_CACHED;
                // a rename elsewhere on the filesystem can make it fail
                // spuriously: walk instead.
                Err(Errno::AGAIN) => {}
                other => return Ok(other?),
            }
        }
        let comps: Vec<&str> = rel.components().collect();
        let mut dir: Option<OwnedFd> = None;
        for (i, comp) in comps.iter().enumerate() {
            let at = dir.as_ref().map_or(self.fd.as_fd(), |d| d.as_fd());
            let fd = if i + 1 == comps.len() {
                rustix::fs::openat(at, *comp, flags, create)?
            } else {
                rustix::fs::openat(
                    at,
                    *comp,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )?
            };
            dir = Some(fd);
        }
        dir.ok_or_else(|| io::Error::from(Errno::INVAL))
    }

    /// Open the file `rel` with `flags` (`create` is the mode of a file
    /// created), never through a symlink.
    pub(crate) fn open_file(
        &self,
        rel: &RelPath,
        flags: OFlags,
        create: Mode,
    ) -> io::Result<OwnedFd> {
        self.open_at(Some(rel), flags, create)
    }

    /// Open the directory `rel` (the root for `None`).
    pub(crate) fn open_dir(&self, rel: Option<&RelPath>) -> io::Result<OwnedFd> {
        self.open_at(rel, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())
    }

    /// Open the parent directory of `rel`, and give the last component.
    fn parent<'r>(&self, rel: &'r RelPath) -> io::Result<(OwnedFd, &'r str)> {
        let name = rel.components().next_back().unwrap_or_default();
        let fd = self.open_dir(rel.parent().as_ref())?;
        Ok((fd, name))
    }

    /// `lstat` of `rel`; `None` when it does not exist.
    pub(crate) fn lstat(&self, rel: &RelPath) -> io::Result<Option<Meta>> {
        let (dir, name) = match self.parent(rel) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(Meta::from_stat(&st))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The target of the symlink `rel`.
    pub(crate) fn read_link(&self, rel: &RelPath) -> io::Result<PathBuf> {
        let (dir, name) = self.parent(rel)?;
        let target = rustix::fs::readlinkat(&dir, name, Vec::new())?;
        Ok(PathBuf::from(OsString::from_vec(target.into_bytes())))
    }

    /// Read the regular file `rel` whole; `None` when it does not exist.
    pub(crate) fn read(&self, rel: &RelPath) -> io::Result<Option<(Vec<u8>, Meta)>> {
        use std::io::Read;
        let fd = match self.open_at(Some(rel), OFlags::RDONLY | OFlags::NONBLOCK, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = Meta::from_stat(&rustix::fs::fstat(&fd)?);
        if meta.kind != Kind::File {
            return Err(io::Error::other("not a regular file"));
        }
        let mut bytes = Vec::new();
        std::fs::File::from(fd).read_to_end(&mut bytes)?;
        Ok(Some((bytes, meta)))
    }

    /// Write `contents` to `rel` atomically and durably: a temporary file
    /// beside it (created exclusively, never through a symlink), written,
    /// given its owner and then its exact mode through the descriptor,
    /// fsynced, renamed over `rel` within the same opened directory, and
    /// the directory fsynced. A symlink at `rel` is replaced, not written
    /// through.
    pub(crate) fn atomic_write(
        &self,
        rel: &RelPath,
        contents: &[u8],
        bits: u32,
        owner: Option<(u32, u32)>,
    ) -> io::Result<()> {
        use std::io::Write;
        let (dir, name) = self.parent(rel)?;
        let tmp = temp_name(name);
        remove_entry(&dir, &tmp)?;
        let result = (|| -> io::Result<()> {
            let fd = rustix::fs::openat(
                &dir,
                tmp.as_str(),
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                mode(0o600),
            )?;
            let mut f = std::fs::File::from(fd);
            f.write_all(contents)?;
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
            }
            // After chown, which clears setuid and setgid bits.
            rustix::fs::fchmod(&f, mode(bits))?;
            f.sync_all()?;
            drop(f);
            crate::host::failpoint("rename")?;
            rustix::fs::renameat(&dir, tmp.as_str(), &dir, name)?;
            rustix::fs::fsync(&dir)?;
            Ok(())
        })();
        if result.is_err() {
            // Best effort: a failed write leaves no temporary behind.
            let _ = remove_entry(&dir, &tmp);
        }
        result
    }

    /// Create (or replace) the symlink `rel -> target` atomically.
    pub(crate) fn atomic_symlink(&self, rel: &RelPath, target: &Path) -> io::Result<()> {
        let (dir, name) = self.parent(rel)?;
        let tmp = temp_name(name);
        remove_entry(&dir, &tmp)?;
        let result = (|| -> io::Result<()> {
            rustix::fs::symlinkat(target, &dir, tmp.as_str())?;
            crate::host::failpoint("rename")?;
            rustix::fs::renameat(&dir, tmp.as_str(), &dir, name)?;
            rustix::fs::fsync(&dir)?;
            Ok(())
        })();
        if result.is_err() {
            let _ = remove_entry(&dir, &tmp);
        }
        result
    }

    /// Create the directory `rel` with exactly `bits` (whatever the umask;
    /// `mkdir` never sets the sticky bit), or give an existing one that
    /// mode. A symlink in its place is refused.
    pub(crate) fn make_dir(&self, rel: &RelPath, bits: u32) -> io::Result<()> {
        let (dir, name) = self.parent(rel)?;
        match rustix::fs::mkdirat(&dir, name, mode(0o700)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
        let fd = rustix::fs::openat(
            &dir,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        rustix::fs::fchmod(&fd, mode(bits))?;
        rustix::fs::fsync(&dir)?;
        Ok(())
    }

    /// Open an existing file or directory to change its mode or owner.
    fn open_entry(&self, rel: &RelPath) -> io::Result<OwnedFd> {
        self.open_at(Some(rel), OFlags::RDONLY | OFlags::NONBLOCK, Mode::empty())
    }

    /// Set the mode of an existing file or directory, through its
    /// descriptor.
    pub(crate) fn set_mode(&self, rel: &RelPath, bits: u32) -> io::Result<()> {
        let fd = self.open_entry(rel)?;
        rustix::fs::fchmod(&fd, mode(bits))?;
        Ok(())
    }

    /// Set the owner of an existing file or directory, through its
    /// descriptor.
    pub(crate) fn set_owner(&self, rel: &RelPath, uid: u32, gid: u32) -> io::Result<()> {
        let fd = self.open_entry(rel)?;
        std::os::unix::fs::fchown(&fd, Some(uid), Some(gid))
    }

    /// Remove an empty directory. `Ok(false)` when it is not empty,
    /// `Ok(true)` when it was removed or was already gone.
    pub(crate) fn remove_empty_dir(&self, rel: &RelPath) -> io::Result<bool> {
        let (dir, name) = match self.parent(rel) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
            Err(e) => return Err(e),
        };
        match rustix::fs::unlinkat(&dir, name, AtFlags::REMOVEDIR) {
            Ok(()) => {
                rustix::fs::fsync(&dir)?;
                Ok(true)
            }
            Err(Errno::NOENT) => Ok(true),
            Err(Errno::NOTEMPTY | Errno::EXIST) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Remove a file or symlink durably; already gone is fine.
    pub(crate) fn remove_file(&self, rel: &RelPath) -> io::Result<()> {
        let (dir, name) = match self.parent(rel) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if remove_entry(&dir, name)? {
            rustix::fs::fsync(&dir)?;
        }
        Ok(())
    }

    /// The names in directory `rel`, with their kinds.
    pub(crate) fn list(&self, rel: &RelPath) -> io::Result<Vec<(String, Kind)>> {
        self.list_fd(&self.open_dir(Some(rel))?)
    }

    fn list_fd(&self, fd: &OwnedFd) -> io::Result<Vec<(String, Kind)>> {
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(fd)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == "." || name == ".." {
                continue;
            }
            let kind = match entry.file_type() {
                FileType::RegularFile => Kind::File,
                FileType::Directory => Kind::Dir,
                FileType::Symlink => Kind::Symlink,
                FileType::Unknown => {
                    match rustix::fs::statat(fd, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) => Meta::from_stat(&st).kind,
                        Err(_) => Kind::Other,
                    }
                }
                _ => Kind::Other,
            };
            out.push((name, kind));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// The names in the root directory itself, with their kinds.
    pub(crate) fn list_root(&self) -> io::Result<Vec<(String, Kind)>> {
        self.list_fd(&self.open_dir(None)?)
    }

    /// Rename `from` to `to` (both under the root, never through a
    /// symlink on the way), then fsync their directories.
    pub(crate) fn rename(&self, from: &RelPath, to: &RelPath) -> io::Result<()> {
        crate::host::failpoint("rename")?;
        let (from_dir, from_name) = self.parent(from)?;
        let (to_dir, to_name) = self.parent(to)?;
        rustix::fs::renameat(&from_dir, from_name, &to_dir, to_name)?;
        rustix::fs::fsync(&to_dir)?;
        rustix::fs::fsync(&from_dir)?;
        Ok(())
    }

    /// Remove a whole tree of ours (a temporary state chain): directories,
    /// files and symlinks, never following a symlink.
    pub(crate) fn remove_temp_tree(&self, rel: &RelPath) -> io::Result<()> {
        for (name, kind) in self.list(rel)? {
            let child = rel.join(&name);
            if kind == Kind::Dir {
                self.remove_temp_tree(&child)?;
            } else {
                self.remove_file(&child)?;
            }
        }
        self.remove_empty_dir(rel).map(|_| ())
    }

    /// Remove the temporary a killed write may have left beside `rel`.
    /// `Ok(true)` when there was one.
    pub(crate) fn remove_temp_of(&self, rel: &RelPath) -> io::Result<bool> {
        let (dir, name) = match self.parent(rel) {
            Ok(p) => p,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let removed = remove_entry(&dir, &temp_name(name))?;
        if removed {
            rustix::fs::fsync(&dir)?;
        }
        Ok(removed)
    }
}

/// The temporary name used while writing `name`: in the same directory (so
/// the rename is atomic) and fixed (so a leftover from a crash is found and
/// replaced by the next run rather than accumulating).
pub(crate) fn temp_name(name: &str) -> String {
    format!(".{name}.nixconf-tmp")
}

/// Unlink `name` in `dir` if present (never a directory). `Ok(true)` when
/// something was removed.
fn remove_entry(dir: &OwnedFd, name: &str) -> io::Result<bool> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) => Ok(true),
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn rel(s: &str) -> RelPath {
        RelPath::parse(s).unwrap()
    }

    /// Each layout puts a symlink to an outside directory on the way; no
    /// operation may touch the outside, with openat2 or the walk.
    #[test]
    fn symlinks_on_the_way_are_refused_both_with_openat2_and_the_walk() {
        for walk in [false, true] {
            FORCE_WALK.store(walk, Ordering::Relaxed);
            let outside = tempfile::tempdir().unwrap();
            std::fs::create_dir(outside.path().join("nix")).unwrap();
            std::fs::write(outside.path().join("nix/nix.conf"), "keep\n").unwrap();
            let root = tempfile::tempdir().unwrap();
            std::fs::create_dir(root.path().join("etc")).unwrap();
            symlink(outside.path(), root.path().join("etc/nix")).unwrap();
            symlink(
                outside.path().join("nix/nix.conf"),
                root.path().join("etc/f"),
            )
            .unwrap();
            let r = RootDir::open(root.path()).unwrap();
            let conf = rel("etc/nix/nix/nix.conf");
            assert!(r.atomic_write(&conf, b"x", 0o644, None).is_err());
            assert!(r.set_mode(&conf, 0o777).is_err());
            assert!(r.read(&conf).is_err());
            assert!(r.set_mode(&rel("etc/f"), 0o777).is_err());
            assert!(r.make_dir(&rel("etc/nix/new"), 0o755).is_err());
            assert!(r.remove_file(&conf).is_err());
            assert!(r.lstat(&conf).is_err());
            let err = r.error(&conf, r.read(&conf).unwrap_err()).to_string();
            assert!(
                err.starts_with(&format!(
                    "{}: a symlink is in the way",
                    root.path().join("etc/nix").display()
                )),
                "{err}"
            );
            // Replacing the symlink itself is fine, and leaves its target.
            r.atomic_write(&rel("etc/f"), b"new\n", 0o644, None)
                .unwrap();
            assert_eq!(
                std::fs::read(outside.path().join("nix/nix.conf")).unwrap(),
                b"keep\n"
            );
            assert_eq!(
                std::fs::read_dir(outside.path().join("nix"))
                    .unwrap()
                    .count(),
                1
            );
        }
        FORCE_WALK.store(false, Ordering::Relaxed);
    }
}
