//! The receipt: what we changed under a root, enough to undo it.
//!
//! It lives at `nix/var/nixconf/receipt.json` under the root, next to the
//! backups of the files we replaced (`nix/var/nixconf/backups/<path>`) and
//! the copies of hand edits overwritten with `force`
//! (`nix/var/nixconf/edited/<path>.<n>`). It is rewritten atomically before
//! and after every action: before, with the action's intent (what it will
//! create, the hash it will write), so that a run killed half-way leaves a
//! receipt that still describes everything on disk; after, with the
//! outcome.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::beneath::RootDir;
use crate::error::{Error, Result};
use crate::fsops;
use crate::relpath::RelPath;

/// The receipt format this crate writes; older or newer ones are refused
/// rather than misread.
pub(crate) const RECEIPT_VERSION: u32 = 1;

/// Our own directory under the root.
pub(crate) const STATE_DIR: &str = "nix/var/nixconf";

/// Where the receipt lives, relative to the root.
pub(crate) fn receipt_rel() -> RelPath {
    RelPath::from_components(&[STATE_DIR.to_owned(), "receipt.json".to_owned()])
}

/// Where the backup of the original at `path` is kept.
pub(crate) fn backup_rel(path: &RelPath) -> RelPath {
    RelPath::from_components(&[format!("{STATE_DIR}/backups"), path.as_str().to_owned()])
}

/// The receipt file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Receipt {
    pub(crate) version: u32,
    pub(crate) written_by: String,
    /// Directories made to hold the receipt itself, outermost first.
    pub(crate) state_dirs_created: Vec<RelPath>,
    /// Every action carried out (or under way), in the order first done.
    pub(crate) records: Vec<Record>,
    /// Directories we created that could not be removed when what they
    /// were created for was retired (they were not empty); revert tries
    /// them again at the end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) leftover_dirs: Vec<RelPath>,
    /// Copies of hand edits overwritten with `force`; never deleted by us.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) kept_copies: Vec<RelPath>,
    /// A daemon restart was asked for and has not happened yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) daemon_restart_pending: bool,
}

/// What was at a path before we first changed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Original {
    /// Nothing.
    Absent,
    /// A regular file, backed up (by content) under `backups/`.
    File {
        sha256: String,
        #[serde(with = "crate::desired::octal")]
        mode: u32,
        uid: u32,
        gid: u32,
    },
    /// A symlink, recorded here by its target.
    Symlink { target: PathBuf },
}

/// Mode and owner of an existing directory before we changed them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DirMeta {
    #[serde(with = "crate::desired::octal")]
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// One action's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Record {
    Directory {
        path: RelPath,
        /// Directories created on the way (parents and the directory
        /// itself), outermost first, as real paths.
        created: Vec<RelPath>,
        /// Mode and owner before we first changed an existing directory.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<DirMeta>,
    },
    File {
        path: RelPath,
        /// Parent directories created for it, outermost first.
        created: Vec<RelPath>,
        original: Original,
        /// Hash of the contents we last finished writing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        written: Option<String>,
        /// Hash of contents being written (an action under way).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        writing: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        restarts_daemon: bool,
    },
    Symlink {
        path: RelPath,
        created: Vec<RelPath>,
        original: Original,
        target: PathBuf,
    },
    /// A journal of the build users (`action` is
    /// [`BUILD_USERS`](crate::BUILD_USERS)); the name is kept so that a
    /// journal of something this program does not know is reported
    /// rather than misread.
    External {
        action: String,
        journal: serde_json::Value,
    },
}

impl Record {
    /// The managed path, for the records that have one.
    pub(crate) fn path(&self) -> Option<&RelPath> {
        match self {
            Record::Directory { path, .. }
            | Record::File { path, .. }
            | Record::Symlink { path, .. } => Some(path),
            Record::External { .. } => None,
        }
    }

    /// Directories this record created, outermost first.
    pub(crate) fn created_dirs(&self) -> &[RelPath] {
        match self {
            Record::Directory { created, .. }
            | Record::File { created, .. }
            | Record::Symlink { created, .. } => created,
            Record::External { .. } => &[],
        }
    }
}

impl Receipt {
    pub(crate) fn new() -> Receipt {
        Receipt {
            version: RECEIPT_VERSION,
            written_by: concat!("nixconf-activation ", env!("CARGO_PKG_VERSION")).to_owned(),
            ..Receipt::default()
        }
    }

    /// Read the receipt under `root`; `None` when there is none.
    pub(crate) fn load(root: &Path) -> Result<Option<Receipt>> {
        Receipt::load_in(&RootDir::open(root)?)
    }

    /// Read the receipt through the root's handle (never through a
    /// symlink); `None` when there is none.
    pub(crate) fn load_in(root: &RootDir) -> Result<Option<Receipt>> {
        let rel = receipt_rel();
        let path = root.host(&rel);
        let Some(bytes) = fsops::read(root, &rel)? else {
            return Ok(None);
        };
        let text = String::from_utf8(bytes).map_err(|_| Error::Receipt {
            path: path.clone(),
            message: "not UTF-8; it was not written by nixconf, or was edited".to_owned(),
        })?;
        // Check the version first, so a future format is named as such
        // rather than reported as a field we do not know.
        let version = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("version").and_then(serde_json::Value::as_u64));
        if let Some(v) = version.filter(|v| *v != u64::from(RECEIPT_VERSION)) {
            return Err(Error::Receipt {
                path,
                message: format!(
                    "version {v} is not the version {RECEIPT_VERSION} this nixconf understands; use the nixconf that wrote it"
                ),
            });
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::Receipt {
                path,
                message: format!("{e}; it was not written by nixconf, or was edited"),
            })
    }

    /// Write it atomically to `root` (the state directory must exist).
    #[cfg(test)]
    pub(crate) fn save(&self, root: &Path) -> Result<()> {
        self.save_in(&RootDir::open(root)?)
    }

    /// Write it atomically through the root's handle, mode 0600 (the state
    /// directory must exist).
    pub(crate) fn save_in(&self, root: &RootDir) -> Result<()> {
        self.save_at(root, &receipt_rel())
    }

    /// Write it to `rel` under the root (a receipt being prepared in a
    /// temporary state directory).
    pub(crate) fn save_at(&self, root: &RootDir, rel: &RelPath) -> Result<()> {
        let rel = rel.clone();
        let mut text = serde_json::to_string_pretty(self).map_err(|e| Error::Receipt {
            path: root.host(&rel),
            message: e.to_string(),
        })?;
        text.push('\n');
        // Only root may read it: it holds what nixconf replaced.
        fsops::atomic_write(root, &rel, text.as_bytes(), 0o600, None)
    }

    /// The record of the entry at `path`, if any.
    pub(crate) fn find(&self, path: &RelPath) -> Option<&Record> {
        self.records.iter().find(|r| r.path() == Some(path))
    }

    /// Replace the record of its path, or append it.
    pub(crate) fn upsert(&mut self, record: Record) {
        let path = record.path().cloned();
        match self
            .records
            .iter_mut()
            .find(|r| path.is_some() && r.path() == path.as_ref())
        {
            Some(slot) => *slot = record,
            None => self.records.push(record),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_round_trips_and_refuses_other_versions() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(STATE_DIR)).unwrap();
        let mut r = Receipt::new();
        r.records.push(Record::File {
            path: RelPath::parse("etc/nix/nix.conf").unwrap(),
            created: vec![RelPath::parse("etc/nix").unwrap()],
            original: Original::File {
                sha256: "ab".into(),
                mode: 0o644,
                uid: 0,
                gid: 0,
            },
            written: Some("cd".into()),
            writing: None,
            restarts_daemon: true,
        });
        r.save(root.path()).unwrap();
        assert_eq!(Receipt::load(root.path()).unwrap(), Some(r));

        let path = receipt_rel().under(root.path());
        std::fs::write(&path, r#"{"version": 2, "future": true}"#).unwrap();
        let err = Receipt::load(root.path()).unwrap_err().to_string();
        assert!(err.contains("version 2 is not the version 1"), "{err}");
    }
}
