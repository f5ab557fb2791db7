//! nixconf's own state directory under the root (`nix/var/nixconf`):
//! made without ever going through a symlink, checked, kept private, and
//! taken away again by revert.

use std::path::{Path, PathBuf};

use crate::beneath::{Kind, RootDir};
use crate::error::failed;
use crate::error::{Error, Result};
use crate::fsops;
use crate::lock::{self, Lock};
use crate::path::{resolve, Entry, Resolved};
use crate::receipt::{receipt_rel, Receipt, STATE_DIR};
use crate::relpath::RelPath;

/// A receipt (or our state directory) left readable by others, by an
/// older nixconf or by hand, is made private again: it holds what nixconf
/// replaced, which may be secret.
pub(crate) fn tighten_state(root: &RootDir) -> Result<()> {
    let state = RelPath::from_components(&[STATE_DIR.to_owned()]);
    for (rel, private) in [(receipt_rel(), 0o600), (state, 0o700)] {
        if let Ok(Resolved {
            entry: Entry::File(meta) | Entry::Dir(meta),
            real,
            ..
        }) = resolve(root, &rel, false)
        {
            if real == rel && meta.mode() & 0o077 != 0 {
                fsops::set_mode(root, &rel, meta.mode() & private & fsops::MODE_MASK)?;
            }
        }
    }
    Ok(())
}

/// With nothing to do, what a run killed at its very end left: the lock
/// file and the receipt's temporary (only when no other run holds the
/// lock), and temporary state chains.
pub(crate) fn tidy_after_kill(dir: &RootDir) {
    clean_stale_chains(dir);
    let receipt = receipt_rel();
    let tmp = receipt
        .parent()
        .map(|p| p.join(&crate::beneath::temp_name("receipt.json")));
    let present = |rel: &RelPath| matches!(dir.lstat(rel), Ok(Some(_)));
    if present(&lock::lock_rel()) || tmp.as_ref().is_some_and(present) {
        if let Ok(lock) = Lock::acquire(dir, std::time::Duration::ZERO, || Ok(())) {
            let _ = dir.remove_temp_of(&receipt);
            lock.release();
        }
    }
}

/// Our state directory, relative to the root.
pub(crate) fn state_rel() -> RelPath {
    RelPath::from_components(&[STATE_DIR.to_owned()])
}

/// Make sure our state directory exists, never reaching it through a
/// symlink. When only `nix/var/nixconf` is missing, it is made (0700); a
/// run killed before its first receipt leaves it empty, and the next run
/// adopts it. When `nix` or `nix/var` is missing too, the whole chain is
/// built under a temporary name beside it, with a first receipt recording
/// it, and renamed into place in one step: a kill at any point leaves
/// either nothing of ours (but a temporary the next run removes) or a
/// receipt that says which directories revert removes.
pub(crate) fn ensure_state_dir(dir: &RootDir) -> Result<()> {
    let comps: Vec<String> = STATE_DIR.split('/').map(str::to_owned).collect();
    clean_stale_chains(dir);
    'retry: loop {
        let mut first_missing = None;
        for n in 1..=comps.len() {
            let rel = RelPath::from_components(&comps[..n]);
            match dir.lstat(&rel).map_err(|e| dir.error(&rel, e))? {
                None => {
                    first_missing = Some(n);
                    break;
                }
                Some(m) if m.kind == Kind::Dir => {}
                Some(m) if m.kind == Kind::Symlink => {
                    return Err(Error::Symlink {
                        path: dir.host(&rel),
                        message: format!(
                            "is a symlink; nixconf keeps its state in {} and never reaches it through one: replace the symlink with a directory",
                            state_rel().display()
                        ),
                    })
                }
                Some(_) => {
                    return Err(failed(format!(
                        "{} is not a directory; nixconf keeps its state under it",
                        rel.display()
                    )))
                }
            }
        }
        let Some(n) = first_missing else {
            return Ok(());
        };
        let mode = |depth: usize| if depth == comps.len() { 0o700 } else { 0o755 };
        if n == comps.len() {
            return fsops::make_dir(dir, &state_rel(), mode(n));
        }
        // Build `nix/...` (or `nix/var/...`) as `.nix.nixconf-tmp.PID/...`.
        let parent = (n > 1).then(|| RelPath::from_components(&comps[..n - 1]));
        // PID and a counter: unique among processes and among the
        // threads of one.
        static CHAINS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let tmp_name = format!(
            ".{}.nixconf-tmp.{}-{}",
            comps[n - 1],
            std::process::id(),
            CHAINS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let tmp = match &parent {
            Some(p) => p.join(&tmp_name),
            None => RelPath::from_components(std::slice::from_ref(&tmp_name)),
        };
        let _ = dir.remove_temp_tree(&tmp);
        let mut inner = tmp.clone();
        fsops::make_dir(dir, &inner, mode(n))?;
        for (depth, comp) in comps.iter().enumerate().skip(n) {
            inner = inner.join(comp);
            fsops::make_dir(dir, &inner, mode(depth + 1))?;
        }
        let mut receipt = Receipt::new();
        receipt.state_dirs_created = (n..=comps.len())
            .map(|k| RelPath::from_components(&comps[..k]))
            .collect();
        receipt.save_at(dir, &inner.join("receipt.json"))?;
        let top = RelPath::from_components(&comps[..n]);
        match dir.rename(&tmp, &top) {
            Ok(()) => return Ok(()),
            // Another run put its own in place first: use it.
            Err(e) if matches!(e.raw_os_error(), Some(17 | 39)) => {
                let _ = dir.remove_temp_tree(&tmp);
                continue 'retry;
            }
            Err(e) => {
                let _ = dir.remove_temp_tree(&tmp);
                return Err(dir.error(&top, e));
            }
        }
    }
}

/// Remove the temporary state chains that killed runs left at each level
/// of `nix/var/nixconf`.
pub(crate) fn clean_stale_chains(dir: &RootDir) {
    let comps: Vec<String> = STATE_DIR.split('/').map(str::to_owned).collect();
    for n in 0..comps.len() {
        let parent = (n > 0).then(|| RelPath::from_components(&comps[..n]));
        remove_stale_chains(dir, parent.as_ref(), &comps[n]);
    }
}

/// Remove the temporary state chains (`.nix.nixconf-tmp.PID`) that runs
/// killed while building them left behind.
pub(crate) fn remove_stale_chains(dir: &RootDir, parent: Option<&RelPath>, name: &str) {
    let prefix = format!(".{name}.nixconf-tmp.");
    let entries = match parent {
        Some(p) => dir.list(p),
        None => dir.list_root(),
    };
    for (entry, kind) in entries.unwrap_or_default() {
        let Some(pid) = entry
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let alive = Path::new("/proc").join(pid).exists();
        if kind == Kind::Dir && !alive {
            let rel = match parent {
                Some(p) => p.join(&entry),
                None => RelPath::from_components(std::slice::from_ref(&entry)),
            };
            let _ = dir.remove_temp_tree(&rel);
        }
    }
}

/// Whether the state directories we created (outermost first) hold
/// nothing but the next of them, and the last nothing but the lock.
pub(crate) fn state_chain_only(dir: &RootDir, created: &[RelPath]) -> bool {
    created.iter().enumerate().all(|(i, d)| {
        let Ok(entries) = dir.list(d) else {
            return false;
        };
        match created.get(i + 1) {
            Some(next) => {
                let want = next.components().next_back().unwrap_or_default();
                entries.len() == 1 && entries[0].0 == want && entries[0].1 == Kind::Dir
            }
            None => {
                *d == state_rel()
                    && entries.iter().all(|(n, k)| {
                        *k == Kind::File
                            && matches!(
                                n.as_str(),
                                "lock" | "receipt.json" | ".receipt.json.nixconf-tmp"
                            )
                    })
            }
        }
    })
}

/// Whether our state directory holds nothing but the lock and
/// temporaries: made by a run killed before it wrote its first receipt.
pub(crate) fn adoptable_state_dir(dir: &RootDir) -> bool {
    dir.list(&state_rel()).is_ok_and(|entries| {
        entries
            .iter()
            .all(|(name, _)| name == "lock" || name.ends_with(".nixconf-tmp"))
    })
}

/// Remove a directory tree under the root that holds only (possibly
/// nested) empty directories and temporaries of ours; anything else
/// stays, with the directories holding it.
pub(crate) fn remove_empty_tree(dir: &RootDir, rel: &RelPath) -> Result<bool> {
    let entries = match dir.list(rel) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(dir.error(rel, e)),
    };
    let mut empty = true;
    for (name, kind) in entries {
        let child = rel.join(&name);
        let gone = match kind {
            Kind::Dir => remove_empty_tree(dir, &child)?,
            Kind::File if name.ends_with(".nixconf-tmp") => {
                fsops::remove_file(dir, &child)?;
                true
            }
            _ => false,
        };
        empty &= gone;
    }
    if empty {
        fsops::remove_empty_dir(dir, rel)
    } else {
        Ok(false)
    }
}

/// Where creating our state directory writes (the deepest of `nix`,
/// `nix/var`, `nix/var/nixconf` that exists), or why it cannot be used: a
/// symlink or a non-directory on the way. Our own state is never reached
/// through a symlink, even one inside the root.
pub(crate) fn state_dir_check(root: &RootDir) -> std::result::Result<PathBuf, String> {
    let comps: Vec<String> = STATE_DIR.split('/').map(str::to_owned).collect();
    let mut deepest = root.path().to_path_buf();
    for n in 1..=comps.len() {
        let rel = RelPath::from_components(&comps[..n]);
        match root.lstat(&rel) {
            Ok(None) => break,
            Ok(Some(m)) if m.kind == Kind::Dir => deepest = root.host(&rel),
            Ok(Some(m)) if m.kind == Kind::Symlink => {
                return Err(format!(
                    "{} is a symlink; nixconf never keeps its state through one: replace it with a directory",
                    rel.display()
                ))
            }
            Ok(Some(_)) => return Err(format!("{} is not a directory", rel.display())),
            Err(e) => return Err(format!("cannot look at {}: {e}", rel.display())),
        }
    }
    // Where the backups and copies of hand edits go.
    for sub in ["backups", "edited", "receipt.json", "lock"] {
        let rel = RelPath::from_components(&[STATE_DIR.to_owned(), sub.to_owned()]);
        if let Ok(Some(m)) = root.lstat(&rel) {
            if m.kind == Kind::Symlink {
                return Err(format!(
                    "{} is a symlink; nixconf never keeps its state through one: remove it",
                    rel.display()
                ));
            }
        }
    }
    Ok(deepest)
}
