//! The one error type of this crate.

use std::path::PathBuf;

/// Why planning, applying or reverting could not go ahead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The installation description is invalid; `location` is the JSON
    /// position (`line:col`) or the field (`files[2].path`).
    #[error("{location}: {message}")]
    Installation {
        /// Where in the description.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A problem at a place in a file (the installation's JSON): its
    /// one-line form is `file:line:col: message`, and
    /// [`Diagnostic::render`](nixconf_diagnostic::Diagnostic::render)
    /// shows the line with a caret.
    #[error("{0}")]
    Located(Box<nixconf_diagnostic::Diagnostic>),
    /// The root directory itself is unusable.
    #[error("root {}: {message}", path.display())]
    Root {
        /// The root as given.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Applying to the host's `/` needs root privileges.
    #[error("applying to / needs root privileges: run as root (for example with sudo), or pass another root directory")]
    NeedsRoot,
    /// Validation found problems; nothing was changed.
    #[error("nothing was changed, because:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Refused {
        /// Every problem found, one line each.
        problems: Vec<String>,
    },
    /// An action failed while applying. What was done before it is in the
    /// receipt: applying again resumes, reverting undoes it.
    #[error(
        "{action}: {message} (what was done so far is recorded: apply again to resume, or revert)"
    )]
    Failed {
        /// The action, as the plan names it.
        action: String,
        /// What went wrong.
        message: String,
    },
    /// The receipt under the root cannot be read or has an unknown version.
    #[error("receipt {}: {message}", path.display())]
    Receipt {
        /// The receipt's host path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `revert` found no receipt: nothing was applied to this root.
    #[error("no receipt at {}: nixconf has not applied anything to this root", path.display())]
    NoReceipt {
        /// Where the receipt was looked for.
        path: PathBuf,
    },
    /// A symlink is where nixconf will not follow one: leading out of the
    /// root, on the way to its own state, or appeared while it ran.
    #[error("{}: {message}", path.display())]
    Symlink {
        /// The host path of the symlink (or of the path refused).
        path: std::path::PathBuf,
        /// Why, and what to do.
        message: String,
    },
    /// Another nixconf holds the root's lock.
    #[error("{}: {message}", path.display())]
    Locked {
        /// The lock file.
        path: std::path::PathBuf,
        /// Who holds it, and what to do.
        message: String,
    },
    /// A filesystem operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The host path operated on.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The configuration is invalid, or NixOS would refuse it.
    #[error(transparent)]
    Options(#[from] nixconf_options::Error),
    /// One of nixconf's own options (the `users` table, `ids.gids`) is
    /// wrong.
    #[error("`{option}`: {message}")]
    Option {
        /// The option path, such as `users.platform`.
        option: String,
        /// What is wrong.
        message: String,
    },
    /// The build users cannot be planned.
    #[error("build users: {message}")]
    Users {
        /// What the users crate said.
        message: String,
    },
    /// The failure injected by `ApplyOptions::fail_after` (tests only).
    #[error("injected failure after step {0}")]
    InjectedFailure(usize),
}

/// Name the action an error happened in (the injected failure stays as
/// it is: tests match on it).
pub(crate) fn in_action(summary: &str, error: Error) -> Error {
    let message = match error {
        Error::InjectedFailure(_) => return error,
        Error::Failed { message, .. } => message,
        other => other.to_string(),
    };
    Error::Failed {
        action: summary.to_owned(),
        message,
    }
}

/// A problem found while carrying an action out (the tree changed since
/// it was planned, or undoing a retired entry failed).
pub(crate) fn failed(why: String) -> Error {
    Error::Failed {
        action: "apply".to_owned(),
        message: why,
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
