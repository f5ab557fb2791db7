//! Where nix.conf files are read from: the [`Source`] trait, the real file
//! system ([`FsSource`]) and files held in memory ([`MemSource`]), and the
//! path bytes evaluation works in.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::typed;

/// Where nix.conf files come from.
pub trait Source {
    /// Nix's `pathExists`: whether anything (even a dangling symlink or a
    /// directory) is at `path`.
    fn exists(&self, path: &Path) -> bool;
    /// The file's bytes, or `None` when it cannot be read (a directory,
    /// no permission): Nix skips such files silently.
    fn read(&self, path: &Path) -> Option<Rc<Vec<u8>>>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct FsSource;

impl Source for FsSource {
    fn exists(&self, path: &Path) -> bool {
        path.symlink_metadata().is_ok()
    }

    fn read(&self, path: &Path) -> Option<Rc<Vec<u8>>> {
        std::fs::read(path).ok().map(Rc::new)
    }
}

/// Files held in memory, keyed by absolute path (for tests and benches).
#[derive(Clone, Debug, Default)]
pub struct MemSource {
    files: BTreeMap<PathBuf, Rc<Vec<u8>>>,
}

impl MemSource {
    /// An empty set of files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add (or replace) a file.
    pub fn insert(&mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), Rc::new(contents.into()));
    }
}

impl Source for MemSource {
    fn exists(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    fn read(&self, path: &Path) -> Option<Rc<Vec<u8>>> {
        self.files.get(path).cloned()
    }
}

/// `conf_dir` absolute and lexically canonical, copied once when it
/// already is.
pub(crate) fn conf_dir_bytes(conf_dir: &Path) -> Vec<u8> {
    let bytes = conf_dir.as_os_str().as_bytes();
    if typed::is_canon_path(bytes) {
        return bytes.to_vec();
    }
    typed::canon_path(&absolute(conf_dir))
}

fn absolute(p: &Path) -> Vec<u8> {
    let bytes = p.as_os_str().as_bytes();
    if bytes.first() == Some(&b'/') {
        return bytes.to_vec();
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let mut out = cwd.as_os_str().as_bytes().to_vec();
    out.push(b'/');
    out.extend_from_slice(bytes);
    out
}

pub(crate) fn as_path(b: &[u8]) -> &Path {
    Path::new(std::ffi::OsStr::from_bytes(b))
}
