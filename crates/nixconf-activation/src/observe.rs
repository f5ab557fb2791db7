//! Looking at what is on disk and whose it is.

use std::path::PathBuf;

use crate::beneath::RootDir;
use crate::error::Result;
use crate::fsops::sha256_hex;
use crate::fsops::MODE_MASK;
use crate::path::Entry;
use crate::receipt::{Original, Record};
use crate::relpath::RelPath;

/// What is at a managed path now.
#[derive(Debug)]
pub(crate) enum Current {
    Missing,
    File {
        bytes: Vec<u8>,
        sha256: String,
        mode: u32,
        uid: u32,
        gid: u32,
    },
    Symlink(PathBuf),
    Dir,
    /// A device, socket or fifo.
    Other,
}

impl Current {
    /// Read what `entry` (found at `real` under `root`) is; files are
    /// read whole, through the root's handle.
    pub(crate) fn read(root: &RootDir, real: &RelPath, entry: &Entry) -> Result<Current> {
        Ok(match entry {
            Entry::Missing => Current::Missing,
            Entry::Dir(_) => Current::Dir,
            Entry::Other => Current::Other,
            Entry::Symlink(target) => Current::Symlink(target.clone()),
            Entry::File(_) => {
                let Some((bytes, meta)) = root.read(real).map_err(|e| root.error(real, e))? else {
                    return Ok(Current::Missing);
                };
                Current::File {
                    sha256: sha256_hex(&bytes),
                    bytes,
                    mode: meta.mode() & MODE_MASK,
                    uid: meta.uid(),
                    gid: meta.gid(),
                }
            }
        })
    }

    /// The record of this as an original, for a path we have no record of.
    pub(crate) fn as_original(&self) -> Option<Original> {
        match self {
            Current::Missing => Some(Original::Absent),
            Current::File {
                sha256,
                mode,
                uid,
                gid,
                ..
            } => Some(Original::File {
                sha256: sha256.clone(),
                mode: *mode,
                uid: *uid,
                gid: *gid,
            }),
            Current::Symlink(target) => Some(Original::Symlink {
                target: target.clone(),
            }),
            Current::Dir | Current::Other => None,
        }
    }

    /// Whether this is what `original` recorded.
    pub(crate) fn matches(&self, original: &Original) -> bool {
        match (self, original) {
            (Current::Missing, Original::Absent) => true,
            (Current::File { sha256, .. }, Original::File { sha256: o, .. }) => sha256 == o,
            (Current::Symlink(t), Original::Symlink { target }) => t == target,
            _ => false,
        }
    }
}

/// Whose is the entry at a managed file or symlink path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Nothing there.
    Missing,
    /// Something we have no record of: to be backed up before replacing.
    Foreign,
    /// What we wrote (or were writing when interrupted).
    Ours,
    /// Still what was there before we first touched the path.
    Original,
    /// Neither: edited by hand since we wrote it.
    Edited,
}

pub(crate) fn classify(record: Option<&Record>, current: &Current) -> Class {
    if matches!(current, Current::Missing) {
        return Class::Missing;
    }
    match record {
        Some(Record::File {
            original,
            written,
            writing,
            ..
        }) => match current {
            // The original first: when what we write equals it, treating
            // it as the original keeps its backup (and its mode) in play.
            _ if current.matches(original) => Class::Original,
            Current::File { sha256, .. }
                if Some(sha256) == written.as_ref() || Some(sha256) == writing.as_ref() =>
            {
                Class::Ours
            }
            _ => Class::Edited,
        },
        Some(Record::Symlink {
            original, target, ..
        }) => match current {
            _ if current.matches(original) => Class::Original,
            Current::Symlink(t) if t == target => Class::Ours,
            _ => Class::Edited,
        },
        _ => Class::Foreign,
    }
}

/// The mode and owner a managed file is written with. A file that
/// replaces an existing one is never more readable than what it replaces
/// (a nix.conf holding `access-tokens` at 0600 stays 0600): its mode is
/// the configured mode narrowed to the original's (`desired & original`),
/// and it keeps the original's owner and group. A new file gets the
/// configured mode. Computed from the recorded original, so it stays the
/// same on every later apply.
pub(crate) fn effective_mode(desired: u32, original: &Original) -> (u32, Option<(u32, u32)>) {
    match original {
        Original::File { mode, uid, gid, .. } => (desired & mode, Some((*uid, *gid))),
        Original::Absent | Original::Symlink { .. } => (desired, None),
    }
}
