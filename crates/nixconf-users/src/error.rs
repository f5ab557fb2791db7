//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading, planning, applying or
/// undoing a build-user pool.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file under the root could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The request itself is unusable (a name with a `:`, a pool whose
    /// uids run past the largest uid, ...).
    #[error("invalid build-user request: {0}")]
    InvalidRequest(String),
    /// `apply` was handed a plan that still has conflicts.
    #[error("the pool cannot be placed: {count} conflict(s); run the plan to see them")]
    Conflicts {
        /// How many conflicts the plan has.
        count: usize,
    },
    /// An account file changed between planning and applying.
    #[error("{path} changed since the plan was made; plan again")]
    StalePlan {
        /// The file, relative to the root (`etc/passwd`).
        path: String,
    },
    /// Another program holds the lock of an account file.
    #[error("{path} is locked ({lock} exists): another program is editing the accounts; try again later")]
    Locked {
        /// The file, relative to the root.
        path: String,
        /// The lock file, relative to the root.
        lock: String,
    },
    /// A shadow tool (`groupadd`, `useradd`, `usermod`) failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Tool {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it wrote to stderr, trimmed.
        stderr: String,
    },
    /// A shadow tool was asked for but is not installed.
    #[error("{0} not found on PATH, /usr/sbin or /sbin (install the shadow tools: the `passwd` package)")]
    ToolMissing(String),
    /// Undo found files that changed after the apply it would revert.
    #[error("cannot undo: {} changed after the apply; undoing would discard those changes", paths.join(", "))]
    ChangedSinceApply {
        /// Every such file, relative to the root.
        paths: Vec<String>,
    },
    /// The file editor could not carry a step out (the files no longer
    /// hold what the plan expects).
    #[error("cannot apply the plan to the files: {0}")]
    Edit(String),
    /// The operation is not possible on this platform.
    #[error("{0}")]
    Unsupported(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
