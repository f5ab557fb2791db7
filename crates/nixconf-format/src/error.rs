//! The crate's error type.

/// Where in a file a problem is: for rustc-style rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file, as messages print it (relative to the configuration
    /// directory when it is inside it).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in bytes.
    pub column: usize,
    /// Length of the offending span in bytes (at least 1).
    pub len: usize,
    /// The whole line, without its newline (lossily decoded).
    pub line_text: String,
}

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
        location: Option<Location>,
    },
    /// Files that include each other. Real Nix overflows its stack here.
    #[error("include cycle: {}", chain.join(" -> "))]
    IncludeCycle {
        /// The files in the cycle, the first one repeated at the end.
        chain: Vec<String>,
        /// The include line that closes the cycle.
        location: Option<Location>,
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
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfError::Nix { location, .. } | ConfError::IncludeCycle { location, .. } => {
                location.as_ref()
            }
            _ => None,
        }
    }
}
