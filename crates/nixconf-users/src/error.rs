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
    /// A setting of the request is unusable; refused before anything is
    /// written.
    #[error("`{option}`: {message}")]
    InvalidOption {
        /// The configuration option it comes from (`users.home`).
        option: String,
        /// What is wrong, and the fix.
        message: String,
    },
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
    #[error("{path} is locked ({lock} exists{}): another program is editing the accounts; try again when it has finished", holder.map(|p| format!(", held by running process {p}")).unwrap_or_default())]
    Locked {
        /// The file, relative to the root.
        path: String,
        /// The lock file, relative to the root.
        lock: String,
        /// The pid of the running process that holds it, when known.
        holder: Option<u32>,
    },
    /// Undo found some of nixconf's entries changed in a way undoing
    /// would discard; nothing was changed.
    #[error("cannot undo the build users: {}; nothing was changed (put those entries back as nixconf left them, or remove them, and revert again)", entries.join("; "))]
    ChangedSinceApply {
        /// Each such entry, described with its file.
        entries: Vec<String>,
    },
    /// The root has no `etc/passwd`.
    #[error("{}: no such file; is this a Linux root?", path.display())]
    NoPasswd {
        /// The missing file.
        path: PathBuf,
    },
    /// An account file (or `etc`) is a symbolic link.
    #[error("{} is a symbolic link; nixconf edits account files only in place (replace the link with the file it points to)", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
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
