//! A manifest of a directory tree, to check what an apply produced and
//! that a revert gave the tree back byte for byte.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::fsops::sha256_hex;
use crate::fsops::{io_error, MODE_MASK};

/// One entry of a [`Tree`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeEntry {
    /// A directory.
    Dir {
        /// Permission bits.
        mode: u32,
        /// Owner and group.
        owner: (u32, u32),
    },
    /// A regular file.
    File {
        /// Permission bits.
        mode: u32,
        /// Owner and group.
        owner: (u32, u32),
        /// Size in bytes.
        len: u64,
        /// SHA-256 of the contents, in hex.
        sha256: String,
    },
    /// A symlink.
    Symlink {
        /// Its target, as stored.
        target: PathBuf,
        /// Owner and group.
        owner: (u32, u32),
    },
    /// A device, socket or fifo.
    Other {
        /// Permission bits.
        mode: u32,
    },
}

impl TreeEntry {
    /// The manifest form, without the owner.
    fn describe(&self) -> String {
        match self {
            TreeEntry::Dir { mode, .. } => format!("d {mode:04o}"),
            TreeEntry::File {
                mode, len, sha256, ..
            } => format!("f {mode:04o} {len} {sha256}"),
            TreeEntry::Symlink { target, .. } => format!("l -> {}", target.display()),
            TreeEntry::Other { mode } => format!("o {mode:04o}"),
        }
    }

    fn describe_with_owner(&self) -> String {
        match self {
            TreeEntry::Dir { owner, .. }
            | TreeEntry::File { owner, .. }
            | TreeEntry::Symlink { owner, .. } => {
                format!("{} owner {}:{}", self.describe(), owner.0, owner.1)
            }
            TreeEntry::Other { .. } => self.describe(),
        }
    }
}

/// Every entry under a directory, by path (`/` for the directory itself),
/// symlinks not followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree {
    entries: BTreeMap<String, TreeEntry>,
}

impl Tree {
    /// Walk `root` and record every entry.
    pub fn capture(root: &Path) -> Result<Tree> {
        let mut entries = BTreeMap::new();
        walk(root, "", &mut entries)?;
        Ok(Tree { entries })
    }

    /// The entries, by path.
    pub fn entries(&self) -> &BTreeMap<String, TreeEntry> {
        &self.entries
    }

    /// One line per entry: `<path> d 0755`, `<path> f 0644 <size> <sha256>`,
    /// `<path> l -> <target>`; owners are left out, so a manifest does not
    /// depend on who made the tree.
    pub fn manifest(&self) -> String {
        let mut out = String::new();
        for (path, entry) in &self.entries {
            let _ = writeln!(out, "{path} {}", entry.describe());
        }
        out
    }

    /// What differs from `expected`, owners included, one line per path:
    /// `<path>: expected <entry>, got <entry>`.
    pub fn differences(&self, expected: &Tree) -> Vec<String> {
        let mut out = Vec::new();
        let paths: std::collections::BTreeSet<&String> =
            self.entries.keys().chain(expected.entries.keys()).collect();
        for path in paths {
            match (expected.entries.get(path), self.entries.get(path)) {
                (Some(e), Some(g)) if e == g => {}
                (Some(e), Some(g)) => out.push(format!(
                    "{path}: expected {}, got {}",
                    e.describe_with_owner(),
                    g.describe_with_owner()
                )),
                (Some(e), None) => out.push(format!(
                    "{path}: expected {}, got nothing",
                    e.describe_with_owner()
                )),
                (None, Some(g)) => out.push(format!(
                    "{path}: expected nothing, got {}",
                    g.describe_with_owner()
                )),
                (None, None) => {}
            }
        }
        out
    }
}

fn walk(root: &Path, rel: &str, out: &mut BTreeMap<String, TreeEntry>) -> Result<()> {
    let host = if rel.is_empty() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let meta = std::fs::symlink_metadata(&host).map_err(|e| io_error(&host, e))?;
    let key = format!("/{rel}");
    let owner = (meta.uid(), meta.gid());
    let mode = meta.mode() & MODE_MASK;
    let ft = meta.file_type();
    let entry = if ft.is_symlink() {
        TreeEntry::Symlink {
            target: std::fs::read_link(&host).map_err(|e| io_error(&host, e))?,
            owner,
        }
    } else if ft.is_file() {
        let bytes = std::fs::read(&host).map_err(|e| io_error(&host, e))?;
        TreeEntry::File {
            mode,
            owner,
            len: meta.len(),
            sha256: sha256_hex(&bytes),
        }
    } else if ft.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(&host)
            .map_err(|e| io_error(&host, e))?
            .map(|e| {
                e.map(|e| e.file_name().to_string_lossy().into_owned())
                    .map_err(|err| io_error(&host, err))
            })
            .collect::<Result<_>>()?;
        names.sort();
        for name in names {
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            walk(root, &child, out)?;
        }
        TreeEntry::Dir { mode, owner }
    } else {
        TreeEntry::Other { mode }
    };
    out.insert(key, entry);
    Ok(())
}
