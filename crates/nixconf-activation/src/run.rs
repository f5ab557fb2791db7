//! An apply or a revert under way: the root's handle, the receipt as on
//! disk, the lock, and the step counter of the failure-injection hook;
//! with what every action kind needs to carry itself out (what it finds
//! at its path, directories made, copies kept under our state directory).

use std::path::Path;

use crate::beneath::RootDir;
use crate::error::{failed, Error, Result};
use crate::fsops;
use crate::lock::Lock;
use crate::observe::{classify, Class, Current};
use crate::path::{resolve, Resolved};
use crate::receipt::{Receipt, Record, STATE_DIR};
use crate::relpath::RelPath;
use crate::state::{adoptable_state_dir, ensure_state_dir, state_rel};

/// An apply or revert under way: the receipt as on disk, and the step
/// counter of the failure-injection hook.
pub(crate) struct Run<'a> {
    pub(crate) root: &'a Path,
    /// The root's handle: every change goes through it.
    pub(crate) dir: RootDir,
    pub(crate) receipt: Receipt,
    pub(crate) steps: usize,
    pub(crate) fail_after: Option<usize>,
    pub(crate) privileged: bool,
    /// The root's lock, held until the run ends.
    pub(crate) lock: Option<Lock>,
}

/// A human-readable note about an action, if any.
pub(crate) type Note = Option<String>;

impl<'a> Run<'a> {
    /// Create our state directory if needed, take the root's lock, and
    /// load or start the receipt.
    pub(crate) fn start(
        root: &'a Path,
        fail_after: Option<usize>,
        privileged: bool,
        timeout: std::time::Duration,
    ) -> Result<Run<'a>> {
        let dir = RootDir::open(root)?;
        let lock = Lock::acquire(&dir, timeout, || ensure_state_dir(&dir))?;
        let existing = Receipt::load_in(&dir)?;
        let fresh = existing.is_none();
        let mut run = Run {
            root,
            receipt: existing.unwrap_or_else(Receipt::new),
            steps: 0,
            fail_after,
            privileged,
            lock: Some(lock),
            dir,
        };
        if fresh {
            if adoptable_state_dir(&run.dir) {
                run.receipt.state_dirs_created = vec![state_rel()];
            }
            run.save()?;
        }
        Ok(run)
    }

    /// Count a durable step; fail here if the test hook says so.
    pub(crate) fn checkpoint(&mut self) -> Result<()> {
        self.steps += 1;
        if self.fail_after == Some(self.steps) {
            return Err(Error::InjectedFailure(self.steps));
        }
        Ok(())
    }

    pub(crate) fn save(&mut self) -> Result<()> {
        self.receipt.save_in(&self.dir)?;
        self.checkpoint()
    }

    /// Create `dirs` (outermost first), all but the last with mode 0755.
    pub(crate) fn make_dirs(&mut self, dirs: &[RelPath], last_mode: u32) -> Result<()> {
        for (i, dir) in dirs.iter().enumerate() {
            let mode = if i + 1 == dirs.len() {
                last_mode
            } else {
                0o755
            };
            fsops::make_dir(&self.dir, dir, mode)?;
        }
        if !dirs.is_empty() {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Look at a file or symlink path and return what is there, whose it
    /// is, and the record to build on.
    pub(crate) fn observe(
        &self,
        path: &RelPath,
        record: Option<&Record>,
    ) -> Result<(Resolved, Current, Class)> {
        let r = resolve(&self.dir, path, false).map_err(|r| failed(r.0))?;
        let current = Current::read(&self.dir, &r.real, &r.entry)?;
        if matches!(current, Current::Dir | Current::Other) {
            return Err(failed(format!(
                "{} exists and is not a file",
                path.display()
            )));
        }
        let class = classify(record, &current);
        Ok((r, current, class))
    }

    /// Write a copy of a file under our state directory, creating its
    /// parents (mode 0700, whatever the umask). The copy keeps the mode,
    /// and when we run as root the owner and group, of the file it copies.
    pub(crate) fn write_state_file(
        &mut self,
        rel: &RelPath,
        bytes: &[u8],
        mode: u32,
        owner: (u32, u32),
    ) -> Result<()> {
        if let Some(parent) = rel.parent() {
            let comps: Vec<String> = parent.components().map(str::to_owned).collect();
            for n in 1..=comps.len() {
                let dir = RelPath::from_components(&comps[..n]);
                let meta = self.dir.lstat(&dir).map_err(|e| self.dir.error(&dir, e))?;
                if meta.is_none() {
                    fsops::make_dir(&self.dir, &dir, 0o700)?;
                }
            }
        }
        let owner = self.privileged.then_some(owner);
        fsops::atomic_write(&self.dir, rel, bytes, mode, owner)
    }

    /// Keep a copy of a hand-edited file under `edited/`, never overwriting
    /// an earlier copy.
    pub(crate) fn keep_copy(
        &mut self,
        path: &RelPath,
        bytes: &[u8],
        mode: u32,
        owner: (u32, u32),
    ) -> Result<RelPath> {
        let base = format!("{STATE_DIR}/edited/{}", path.as_str());
        let mut n = 1;
        let copy = loop {
            let candidate = RelPath::from_components(&[format!("{base}.{n}")]);
            let seen = self
                .dir
                .lstat(&candidate)
                .map_err(|e| self.dir.error(&candidate, e))?;
            if seen.is_none() {
                break candidate;
            }
            n += 1;
        };
        self.write_state_file(&copy, bytes, mode, owner)?;
        self.receipt.kept_copies.push(copy.clone());
        self.save()?;
        Ok(copy)
    }
}

pub(crate) fn extend_unique(list: &mut Vec<RelPath>, more: &[RelPath]) {
    for item in more {
        if !list.contains(item) {
            list.push(item.clone());
        }
    }
}
