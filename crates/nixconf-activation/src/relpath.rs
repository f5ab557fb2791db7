//! Normalized paths relative to the root (a leaf: every module that
//! touches the tree names paths with it).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A normalized path relative to the root: components joined by `/`, none
/// empty, `.` or `..`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct RelPath(String);

impl RelPath {
    /// Parse a path as written in an installation: relative to the root,
    /// with or without a leading `/`.
    pub(crate) fn parse(text: &str) -> Result<RelPath, String> {
        let trimmed = text.trim_start_matches('/');
        if trimmed.is_empty() {
            return Err(format!(
                "'{text}' names the root itself, not a path under it"
            ));
        }
        if text.contains('\0') {
            return Err(format!("'{}' contains a NUL byte", text.escape_debug()));
        }
        for comp in trimmed.split('/') {
            match comp {
                "" => {
                    return Err(format!(
                        "'{text}' has an empty component (a doubled or trailing '/')"
                    ))
                }
                "." | ".." => {
                    return Err(format!(
                        "'{text}' has a '{comp}' component; write the path without it"
                    ))
                }
                _ => {}
            }
        }
        Ok(RelPath(trimmed.to_owned()))
    }

    /// Build from components already known to be valid.
    pub(crate) fn from_components(comps: &[String]) -> RelPath {
        RelPath(comps.join("/"))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn components(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.0.split('/')
    }

    /// The path under `root` on the host, without resolving anything.
    pub(crate) fn under(&self, root: &Path) -> PathBuf {
        root.join(&self.0)
    }

    /// The path as shown to users: absolute, as seen from inside the root.
    pub(crate) fn display(&self) -> String {
        format!("/{}", self.0)
    }

    /// The path of `name` inside this one (`name` is one valid component).
    pub(crate) fn join(&self, name: &str) -> RelPath {
        RelPath(format!("{}/{name}", self.0))
    }

    /// The parent path, `None` for a top-level entry.
    pub(crate) fn parent(&self) -> Option<RelPath> {
        self.0.rfind('/').map(|i| RelPath(self.0[..i].to_owned()))
    }

    /// Whether `self` is `other` or lies inside it.
    pub(crate) fn starts_with(&self, other: &RelPath) -> bool {
        self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }
}

/// `RelPath` is stored as its string in the receipt.
impl Serialize for RelPath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RelPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<RelPath, D::Error> {
        let text = String::deserialize(d)?;
        RelPath::parse(&text).map_err(serde::de::Error::custom)
    }
}
