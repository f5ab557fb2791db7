//! One apply or revert at a time per root: an exclusive `flock` on
//! `nix/var/nixconf/lock`, which holds the holder's PID.
//!
//! The lock file exists only while a run holds it: the holder removes it
//! when done (so a finished tree has no trace of it, and revert can remove
//! the state directory). A run that was waiting on the removed file sees
//! that the name no longer leads to the file it locked, and starts over.
//! A run that was killed leaves the file behind, but the kernel has
//! released its lock: the next run takes it over.

use std::io::{Read, Seek, Write};
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use crate::beneath::RootDir;
use crate::error::{Error, Result};
use crate::receipt::STATE_DIR;
use crate::relpath::RelPath;

/// How long a run waits for another to finish, unless told otherwise.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the lock lives, relative to the root.
pub(crate) fn lock_rel() -> RelPath {
    RelPath::from_components(&[STATE_DIR.to_owned(), "lock".to_owned()])
}

/// A held lock. Dropping it removes the lock file and releases it.
#[derive(Debug)]
pub(crate) struct Lock {
    file: std::fs::File,
    released: bool,
    ino: (u64, u64),
    dir: Option<OwnedFd>,
}

impl Lock {
    /// Take the lock of the root (its state directory must exist), waiting
    /// up to `timeout` for another run to finish.
    ///
    /// `prepare` runs before each attempt: it makes the state directory
    /// (apply), or fails when there is none (revert). A run that finishes
    /// while we wait may have removed the directory.
    pub(crate) fn acquire(
        root: &RootDir,
        timeout: Duration,
        prepare: impl Fn() -> Result<()>,
    ) -> Result<Lock> {
        let rel = lock_rel();
        let io = |e: std::io::Error| root.error(&rel, e);
        let deadline = Instant::now() + timeout;
        loop {
            prepare()?;
            let fd = match root.open_file(
                &rel,
                OFlags::RDWR | OFlags::CREATE,
                Mode::from_raw_mode(0o600),
            ) {
                Ok(fd) => fd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && Instant::now() < deadline => {
                    continue
                }
                Err(e) => return Err(io(e)),
            };
            loop {
                match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
                    Ok(()) => break,
                    Err(Errno::WOULDBLOCK) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(Errno::WOULDBLOCK) => {
                        let mut text = String::new();
                        let _ = std::fs::File::from(fd).read_to_string(&mut text);
                        let holder = match text.trim().parse::<u32>() {
                            Ok(pid) => format!("another nixconf (PID {pid})"),
                            Err(_) => "another nixconf".to_owned(),
                        };
                        return Err(Error::Locked {
                            path: root.host(&rel),
                            message: format!(
                                "{holder} is applying or reverting this root; waited {} s for it: try again once it has finished",
                                timeout.as_secs_f32()
                            ),
                        });
                    }
                    Err(e) => return Err(io(e.into())),
                }
            }
            // The holder we waited for removes the file when done: make
            // sure the name still leads to the file we locked.
            let st = rustix::fs::fstat(&fd).map_err(|e| io(e.into()))?;
            let ino = (st.st_dev, st.st_ino);
            match root.lstat(&rel) {
                Ok(Some(m)) if (m.dev, m.ino) == ino => {}
                _ => continue,
            }
            let mut file = std::fs::File::from(fd);
            let pid = format!("{}\n", std::process::id());
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(pid.as_bytes()))
                .map_err(io)?;
            let dir = root.open_dir(rel.parent().as_ref()).ok();
            return Ok(Lock {
                file,
                released: false,
                ino,
                dir,
            });
        }
    }

    /// Remove the lock file (if it is still ours) and release the lock.
    pub(crate) fn release(mut self) {
        self.remove();
    }

    fn remove(&mut self) {
        if self.released {
            return;
        }
        self.released = true;
        if let Some(dir) = &self.dir {
            let ours = rustix::fs::statat(dir, "lock", rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|st| (st.st_dev, st.st_ino) == self.ino);
            if ours {
                let _ = rustix::fs::unlinkat(dir, "lock", rustix::fs::AtFlags::empty());
            }
        }
        let _ = rustix::fs::flock(&self.file, FlockOperation::Unlock);
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.remove();
    }
}
