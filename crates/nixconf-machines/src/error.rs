//! The crate's error type; [`Error::diagnostics`] turns it into the
//! workspace's [`Diagnostic`]s for printing.

use std::fmt;
use std::ops::Range;

use nixconf_diagnostic::{Diagnostic, Span};

/// Everything that can go wrong reading, expanding or writing machines.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An entry the target Nix refuses; carries Nix's own message.
    #[error("{0}")]
    Entry(Box<EntryError>),
    /// A chain of `@file` references that comes back to a file already
    /// being read. Nix itself recurses until it runs out of stack.
    #[error("{file}:{line}: cycle in machines file references: {}", chain.join(" -> "))]
    Cycle {
        /// The file holding the reference that closes the cycle.
        file: String,
        /// Its line (1-based).
        line: usize,
        /// The files of the cycle, the first one repeated at the end.
        chain: Vec<String>,
    },
    /// An `@file` reference that exists but cannot be read (Nix only
    /// skips files that do not exist).
    #[error("{file}:{line}: cannot read machines file '{path}': {reason}")]
    Read {
        /// The file holding the reference.
        file: String,
        /// Its line (1-based).
        line: usize,
        /// The path as resolved.
        path: String,
        /// What the system said.
        reason: String,
    },
    /// A value that cannot be written as a machines column.
    #[error("{what}: {reason}")]
    Render {
        /// Which value: `machine 2 column #1`, or an option path such as
        /// `nix.buildMachines[0].sshUser`.
        what: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// Several of the above, in file order.
    #[error("{}", join_lines(.0))]
    Many(Vec<Error>),
}

fn join_lines(errors: &[Error]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// The errors this one stands for: itself, or each of [`Error::Many`].
    pub fn as_list(&self) -> &[Error] {
        match self {
            Error::Many(v) => v,
            other => std::slice::from_ref(other),
        }
    }

    /// Each error as a [`Diagnostic`], in order: entry errors with their
    /// span and help, `@file` errors at their line.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.as_list()
            .iter()
            .map(|e| match e {
                Error::Entry(entry) => entry.to_diagnostic(),
                Error::Cycle { file, line, chain } => Diagnostic::error(format!(
                    "cycle in machines file references: {}",
                    chain.join(" -> ")
                ))
                .with_span(Span::line(file.as_str(), *line)),
                Error::Read {
                    file,
                    line,
                    path,
                    reason,
                } => Diagnostic::error(format!("cannot read machines file '{path}': {reason}"))
                    .with_span(Span::line(file.as_str(), *line)),
                other => Diagnostic::error(other.to_string()),
            })
            .collect()
    }

    pub(crate) fn from_list(mut errors: Vec<Error>) -> Option<Error> {
        match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(Error::Many(errors)),
        }
    }
}

/// What kind of entry error, for programs that match on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryErrorKind {
    /// Column 0 is missing or `-` (Nix ≥ 2.4), or the entry is only
    /// whitespace.
    MissingStoreUri,
    /// A whitespace-only entry in Nix 2.0–2.3.
    BlankEntry,
    /// Column 3 or 4 is not an `unsigned int` (Nix ≥ 2.4).
    NotUnsigned,
    /// Column 4 is not a `float` (Nix ≥ 2.20).
    NotFloat,
    /// Column 3 or 4 has no number at all (`std::stoull`, Nix 2.0–2.3).
    Stoull,
    /// A negative speed factor (Nix ≥ 2.20).
    NegativeSpeedFactor,
    /// The host key has a character outside the base64 alphabet.
    InvalidBase64,
    /// The store URI is not one `StoreReference::parse` accepts (≥ 2.23).
    BadStoreReference,
}

/// One refused entry: where it is, what it said, and Nix's message.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryError {
    /// Where: the file (or `builders`) the entry came from, its line, the
    /// column (in characters) where the entry starts, and the entry's
    /// length without trailing blanks.
    pub location: Span,
    /// Byte span of the entry in its file.
    pub span: Range<usize>,
    /// The entry as Nix quotes it in its message.
    pub entry: String,
    /// What kind of problem.
    pub kind: EntryErrorKind,
    /// Nix's own message for the target version.
    pub message: String,
    /// The trace line Nix adds (`while parsing machine specification …`).
    pub trace: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.headline())?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl EntryError {
    /// Nix's trace line and message: what the first line of the error
    /// says after the location.
    pub fn headline(&self) -> String {
        match &self.trace {
            Some(t) => format!("{t}: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// The error as a [`Diagnostic`]: the headline, a caret under the
    /// entry, and the help.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::error(self.headline()).with_span(self.location.clone());
        match &self.help {
            Some(h) => d.with_help(h.as_str()),
            None => d,
        }
    }
}
