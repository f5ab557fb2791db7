//! The root's `etc` directory as a handle: every account file, backup,
//! lock and temporary file is opened, created, renamed, linked and
//! removed relative to it, never following a symbolic link, so swapping
//! `etc` or a file in it for a link while nixconf works cannot send a
//! read or a write outside the root.

use std::fs;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::Error;

/// The file name of an account file within `etc` (`etc/passwd` ->
/// `passwd`).
pub(crate) fn file_name(rel: &str) -> &str {
    rel.strip_prefix("etc/").unwrap_or(rel)
}

/// `ROOT/etc`, opened.
#[derive(Debug)]
pub(crate) struct Etc {
    fd: OwnedFd,
    /// `ROOT/etc`, for messages.
    path: PathBuf,
}

impl Etc {
    /// Open `root/etc` (the root itself as given; `etc` must be a
    /// directory, not a link). `Ok(None)` when there is no `etc`.
    pub fn open(root: &Path) -> Result<Option<Etc>, Error> {
        let root_fd = rustix::fs::open(
            root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io(root, e.into()))?;
        let path = root.join("etc");
        match rustix::fs::openat(
            &root_fd,
            "etc",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Some(Etc { fd, path })),
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::LOOP | Errno::NOTDIR) if is_link(&root_fd, "etc") => {
                Err(Error::Symlink { path })
            }
            Err(e) => Err(Error::io(path, e.into())),
        }
    }

    /// `ROOT/etc/NAME`, for messages.
    pub fn path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Another handle on the same directory.
    pub fn try_clone(&self) -> Result<Etc, Error> {
        Ok(Etc {
            fd: self.fd.try_clone().map_err(|e| Error::io(&self.path, e))?,
            path: self.path.clone(),
        })
    }

    /// What `NAME` is, without following a link: `None` when absent.
    pub fn kind(&self, name: &str) -> Result<Option<FileType>, Error> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(FileType::from_raw_mode(st.st_mode))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(Error::io(self.path(name), e.into())),
        }
    }

    /// Open `NAME` to read (`None` when absent; a link is refused).
    pub fn open_read(&self, name: &str) -> Result<Option<fs::File>, Error> {
        match rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY,
            Mode::empty(),
        ) {
            Ok(fd) => Ok(Some(fs::File::from(fd))),
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::LOOP) => Err(Error::Symlink {
                path: self.path(name),
            }),
            Err(e) => Err(Error::io(self.path(name), e.into())),
        }
    }

    /// Read all of `NAME` (`None` when absent; a link is refused).
    pub fn read(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        use std::io::Read;
        let Some(mut f) = self.open_read(name)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)
            .map_err(|e| Error::io(self.path(name), e))?;
        Ok(Some(bytes))
    }

    /// Create `NAME`, which must not exist (not even as a link), with
    /// `mode` (before the umask), to write.
    pub fn create_new(&self, name: &str, mode: u32) -> std::io::Result<fs::File> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode),
        )?;
        Ok(fs::File::from(fd))
    }

    /// Open `NAME` to write, creating it with `mode` if missing (never
    /// through a link).
    pub fn open_or_create(&self, name: &str, mode: u32) -> std::io::Result<fs::File> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode),
        )?;
        Ok(fs::File::from(fd))
    }

    /// Rename `from` over `to`, both in `etc` (a link at `to` is replaced,
    /// never followed).
    pub fn rename(&self, from: &str, to: &str) -> std::io::Result<()> {
        rustix::fs::renameat(&self.fd, from, &self.fd, to)?;
        Ok(())
    }

    /// Hard-link `from` as `to`; fails if `to` exists.
    pub fn link(&self, from: &str, to: &str) -> std::io::Result<()> {
        rustix::fs::linkat(&self.fd, from, &self.fd, to, AtFlags::empty())?;
        Ok(())
    }

    /// Remove `NAME` (a link itself, not what it points to).
    pub fn remove(&self, name: &str) -> std::io::Result<()> {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?;
        Ok(())
    }

    /// Make the directory's entries durable.
    pub fn sync(&self) -> std::io::Result<()> {
        rustix::fs::fsync(&self.fd)?;
        Ok(())
    }
}

fn is_link(dir: &OwnedFd, name: &str) -> bool {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
}
