//! Why a configuration was refused.

use std::fmt;

/// A place in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file's name as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The text of that line, for showing it with a caret.
    pub line_text: String,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

impl Location {
    /// The line and a caret under the column, rustc-style:
    ///
    /// ```text
    ///   |
    /// 3 | cores = 2.0
    ///   |         ^
    /// ```
    pub fn snippet(&self) -> String {
        let number = self.line.to_string();
        let pad = " ".repeat(number.len());
        let lead: String = self
            .line_text
            .chars()
            .take(self.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!("{pad} |\n{number} | {}\n{pad} | {lead}^", self.line_text)
    }
}

/// One option that is wrong: its path in the option tree, what is wrong
/// with it, and where it was written when the format tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    /// The option path, list elements as `[i]`:
    /// `nix.buildMachines[0].maxJobs`.
    pub option: String,
    /// What was expected and what was given, in lowercase without a final
    /// period.
    pub message: String,
    /// Where the offending value was written (TOML only).
    pub location: Option<Location>,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        if self.option.is_empty() {
            // About no one option (a failed module assertion).
            write!(f, "{}", self.message)
        } else {
            write!(f, "`{}`: {}", self.option, self.message)
        }
    }
}

impl OptionError {
    /// The error as the conformance corpus writes it:
    /// `{"error": {"option": ..., "message": ...}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let message = match &self.location {
            Some(loc) => format!("{loc}: {}", self.message),
            None => self.message.clone(),
        };
        serde_json::json!({ "error": { "option": self.option, "message": message } })
    }
}

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
    #[error("{location}: {message}")]
    Syntax {
        /// Where the parser stopped.
        location: Location,
        /// What the parser expected.
        message: String,
    },
    /// One or more options are wrong; every problem found is listed, in
    /// file order where positions are known, then in the order of the
    /// option tree.
    #[error("{}", display_all(.0))]
    Invalid(Vec<OptionError>),
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

fn display_all(errors: &[OptionError]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&e.to_string());
    }
    out
}

impl Error {
    /// The option errors, if this is one.
    pub fn option_errors(&self) -> &[OptionError] {
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
            Some(e) => e.to_json(),
            None => serde_json::json!({ "error": { "option": "", "message": self.to_string() } }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_points_at_the_column() {
        let loc = Location {
            file: "c.toml".into(),
            line: 12,
            column: 9,
            line_text: "cores = 2.0".into(),
        };
        assert_eq!(loc.to_string(), "c.toml:12:9");
        assert_eq!(loc.snippet(), "   |\n12 | cores = 2.0\n   |         ^");
    }
}
