//! Why a configuration was refused.

use nixconf_diagnostic::{Diagnostic, Span};

/// Why a configuration could not be evaluated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file's name as given.
        file: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file's extension names no format we read.
    #[error("{file}: cannot tell the format from the file name: use a .toml or .json file")]
    UnknownFormat {
        /// The file's name as given.
        file: String,
    },
    /// The file is not valid TOML or JSON.
    #[error("{span}: {message}")]
    Syntax {
        /// Where the parser stopped.
        span: Span,
        /// What the parser expected.
        message: String,
    },
    /// One or more options are wrong; every problem found is listed, in
    /// file order where positions are known, then in the order of the
    /// option tree. Each is an error [`Diagnostic`] with its option path
    /// (empty for a failed module assertion, about no one option) and,
    /// where the format tells, its [`Span`].
    #[error("{}", display_all(.0))]
    Invalid(Vec<Diagnostic>),
    /// The configuration evaluates, but NixOS would refuse to build it.
    #[error("the configuration fails NixOS's assertions:\n{}", .0.join("\n"))]
    FailedAssertions(Vec<String>),
    /// The rendered nix.conf failed its check (`nix.checkConfig`).
    #[error("the generated nix.conf fails its check (nix.checkConfig):\n{}", .0.join("\n"))]
    CheckFailed(Vec<String>),
    /// Running a checker (such as the real `nix`) failed.
    #[error("cannot run {program}: {message}")]
    Checker {
        /// The program.
        program: String,
        /// What went wrong.
        message: String,
    },
    /// A rendered file could not be written.
    #[error("cannot write {file}: {source}")]
    Write {
        /// The file.
        file: String,
        /// What the system said.
        source: std::io::Error,
    },
}

fn display_all(errors: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&e.to_string());
    }
    out
}

/// A problem with the option at `path` (an empty path: about no one
/// option), located at `span` when the format tells.
pub(crate) fn option_error(
    path: &str,
    message: impl Into<String>,
    span: Option<Span>,
) -> Diagnostic {
    Diagnostic::error(message)
        .with_option(path)
        .with_span_opt(span)
}

/// An option error as the conformance corpus writes it:
/// `{"error": {"option": ..., "message": ...}}`, the message after
/// `file:line:col: ` when located.
pub fn option_error_json(error: &Diagnostic) -> serde_json::Value {
    let message = match &error.span {
        Some(span) => format!("{span}: {}", error.message),
        None => error.message.clone(),
    };
    let option = error.option.as_deref().unwrap_or_default();
    serde_json::json!({ "error": { "option": option, "message": message } })
}

impl Error {
    /// The option errors, if this is one.
    pub fn option_errors(&self) -> &[Diagnostic] {
        match self {
            Error::Invalid(errors) => errors,
            _ => &[],
        }
    }

    /// The error as one JSON object, `{"error": {"option", "message"}}`:
    /// the first option error (the option path is empty for a file that
    /// could not be read or parsed).
    pub fn to_json(&self) -> serde_json::Value {
        match self.option_errors().first() {
            Some(e) => option_error_json(e),
            None => serde_json::json!({ "error": { "option": "", "message": self.to_string() } }),
        }
    }

    /// The error as diagnostics, for [`Diagnostic::render`]: each option
    /// error, or the one syntax error with its place, or the message.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        match self {
            Error::Invalid(errors) => errors.clone(),
            Error::Syntax { span, message } => {
                vec![Diagnostic::error(message.clone()).with_span(span.clone())]
            }
            other => vec![Diagnostic::error(other.to_string())],
        }
    }
}
