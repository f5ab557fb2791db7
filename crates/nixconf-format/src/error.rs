//! The crate's error type, and the [`Span`] of a problem on a line.

use nixconf_diagnostic::Span;

/// Why a nix.conf could not be read the way Nix reads it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfError {
    /// An error Nix itself reports; `message` is Nix's own text for the
    /// target version (without the `error: ` prefix).
    #[error("{message}")]
    Nix {
        /// Nix's message.
        message: String,
        /// Where, when the problem is on a line.
        location: Option<Span>,
    },
    /// Files that include each other. Real Nix overflows its stack here.
    #[error("include cycle: {}", chain.join(" -> "))]
    IncludeCycle {
        /// The files in the cycle, the first one repeated at the end.
        chain: Vec<String>,
        /// The include line that closes the cycle.
        location: Option<Span>,
    },
    /// A Nix version outside the schema.
    #[error("unsupported Nix version '{0}': nixconf models Nix 2.0 to 2.35; pass --nix-version")]
    UnsupportedVersion(String),
    /// A file nixconf cannot address with 32-bit offsets.
    #[error("{0}: file larger than 4 GiB")]
    TooLarge(String),
}

impl ConfError {
    /// The location, when the error is about a line.
    pub fn location(&self) -> Option<&Span> {
        match self {
            ConfError::Nix { location, .. } | ConfError::IncludeCycle { location, .. } => {
                location.as_ref()
            }
            _ => None,
        }
    }
}

/// The [`Span`] of `len` bytes at byte `at` of a line whose bytes are
/// `line` (1-based line number `line_no`): columns and length in
/// characters of the line as decoded (invalid UTF-8 shows as U+FFFD).
pub(crate) fn line_span(file: String, line_no: usize, line: &[u8], at: usize, len: usize) -> Span {
    let at = at.min(line.len());
    let end = (at + len).min(line.len());
    let chars = |b: &[u8]| String::from_utf8_lossy(b).chars().count();
    let text = line.strip_suffix(b"\r").unwrap_or(line);
    Span {
        file,
        line: line_no,
        column: chars(&line[..at]) + 1,
        len: chars(&line[at..end]).max(1),
        line_text: String::from_utf8_lossy(text).into_owned(),
    }
}
