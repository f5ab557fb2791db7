//! Where an account-file line is: a [`Span`] of the whole line, which
//! never quotes it (an account file's line may hold a password hash),
//! and its JSON form in a plan, `{"file": "etc/passwd", "line": 9}`.
//!
//! Fields of type `Span` use it with `#[serde(with = "crate::location")]`
//! (`crate::location::option` for an `Option<Span>`).

use nixconf_diagnostic::Span;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A line as a plan's JSON writes it.
#[derive(Serialize)]
struct LineRef<'a> {
    file: &'a str,
    line: usize,
}

/// A line as a plan's JSON is read.
#[derive(Deserialize)]
struct Line {
    file: String,
    line: usize,
}

/// Write `span` as `{"file": ..., "line": ...}`.
pub(crate) fn serialize<S: Serializer>(span: &Span, s: S) -> Result<S::Ok, S::Error> {
    LineRef {
        file: &span.file,
        line: span.line,
    }
    .serialize(s)
}

/// Read `{"file": ..., "line": ...}` as the whole line's [`Span`].
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
    let l = Line::deserialize(d)?;
    Ok(Span::line(l.file, l.line))
}

/// The same for an `Option<Span>`.
pub(crate) mod option {
    use super::{Line, LineRef};
    use nixconf_diagnostic::Span;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Write `span` as `{"file": ..., "line": ...}` or `null`.
    pub(crate) fn serialize<S: Serializer>(span: &Option<Span>, s: S) -> Result<S::Ok, S::Error> {
        span.as_ref()
            .map(|span| LineRef {
                file: &span.file,
                line: span.line,
            })
            .serialize(s)
    }

    /// Read `{"file": ..., "line": ...}` or `null`.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Span>, D::Error> {
        Ok(Option::<Line>::deserialize(d)?.map(|l| Span::line(l.file, l.line)))
    }
}
