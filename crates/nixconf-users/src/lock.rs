//! The shadow tools' locks: glibc's `lckpwdf(3)` record lock on
//! `/etc/.pwd.lock` (on `/` only) and each account file's `FILE.lock`,
//! hard-linked from a file holding our pid; a lock whose process is gone
//! is stale and taken over.

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::accounts::ACCOUNT_FILES;
use crate::etcdir::{file_name, Etc};
use crate::Error;

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
pub(crate) struct Locks {
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
pub(crate) fn lock_files(root: &Path, etc: &Etc) -> Result<Locks, Error> {
    let pwd = if root == Path::new("/") {
        Some(lock_pwd_file(etc, ".pwd.lock", PWD_LOCK_WAIT)?)
    } else {
        None
    };
    let mut files = Vec::new();
    for rel in ACCOUNT_FILES {
        if etc.kind(file_name(rel))?.is_none() {
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
    let n = file_name(rel);
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
