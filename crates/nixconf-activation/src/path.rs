//! Paths under the root, and resolving them without ever leaving it.
//!
//! Every path we touch is resolved one component at a time with `lstat`,
//! never with `canonicalize` (which would follow symlinks through the host's
//! `/`). A symlink met on the way is followed as the installed system would
//! follow it: an absolute target starts again at the root, a relative one at
//! the link's directory. A target that climbs above the root with `..`, or
//! that does not exist under the root, is refused: we never create
//! directories or write files through a symlink we cannot see the end of.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

/// Symlinks followed while resolving one path before giving up, as the
/// kernel's `MAXSYMLINKS`.
const MAX_HOPS: usize = 40;

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

/// Why a path cannot be used safely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal(pub(crate) String);

/// What is at a resolved path.
#[derive(Debug)]
pub(crate) enum Entry {
    Missing,
    File(Metadata),
    Dir(Metadata),
    Symlink(PathBuf),
    /// A device, socket or fifo.
    Other,
}

/// A path resolved under the root.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// The real location, relative to the root, with every symlink on the
    /// way replaced by its target (and the last one too when asked).
    pub(crate) real: RelPath,
    /// How many leading components of `real` exist; the others are to be
    /// created.
    pub(crate) existing: usize,
    /// What is at the path.
    pub(crate) entry: Entry,
}

impl Resolved {
    /// The host path of the real location.
    pub(crate) fn host(&self, root: &Path) -> PathBuf {
        self.real.under(root)
    }

    /// The directories that `real` needs and that do not exist yet,
    /// outermost first.
    pub(crate) fn missing_parents(&self) -> Vec<RelPath> {
        let comps: Vec<String> = self.real.components().map(str::to_owned).collect();
        let parents = comps.len().saturating_sub(1);
        (self.existing.min(parents)..parents)
            .map(|n| RelPath::from_components(&comps[..=n]))
            .collect()
    }
}

fn lstat(path: &Path) -> io::Result<Option<Metadata>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Resolve `path` under `root`. With `follow_last`, a symlink in the last
/// component is followed too (for directories we only need to exist);
/// without it the last component is looked at itself (for files and links
/// we replace).
pub(crate) fn resolve(root: &Path, path: &RelPath, follow_last: bool) -> Result<Resolved, Refusal> {
    let io_refusal =
        |at: &[String], e: io::Error| Refusal(format!("cannot look at /{}: {e}", at.join("/")));
    // A stack of components still to walk; the original path's components
    // are at the bottom, symlink targets are pushed on top.
    let mut todo: Vec<String> = path.components().rev().map(str::to_owned).collect();
    let mut original_left = todo.len();
    let mut done: Vec<String> = Vec::new();
    let mut hops = 0;
    // The link whose target is being walked, for messages.
    let mut via_link: Option<(String, PathBuf)> = None;
    while let Some(comp) = todo.pop() {
        let from_link = todo.len() >= original_left;
        if !from_link {
            original_left -= 1;
            via_link = None;
        }
        if comp == ".." {
            if done.pop().is_none() {
                let (link, target) = via_link.clone().unwrap_or_default();
                return Err(Refusal(format!(
                    "{link} is a symlink to {}, which points outside the root; refusing to follow it",
                    target.display()
                )));
            }
            continue;
        }
        done.push(comp);
        let host = root.join(done.join("/"));
        let meta = lstat(&host).map_err(|e| io_refusal(&done, e))?;
        let is_last = todo.is_empty();
        let Some(meta) = meta else {
            if from_link {
                let (link, target) = via_link.clone().unwrap_or_default();
                return Err(Refusal(format!(
                    "{link} is a symlink to {}, which does not exist under the root; refusing to follow it",
                    target.display()
                )));
            }
            let existing = done.len() - 1;
            // Nothing below a missing directory exists either; the rest of
            // the original path comes from a validated RelPath (no `..`).
            while let Some(rest) = todo.pop() {
                done.push(rest);
            }
            return Ok(Resolved {
                real: RelPath::from_components(&done),
                existing,
                entry: Entry::Missing,
            });
        };
        let ft = meta.file_type();
        if ft.is_symlink() && (!is_last || follow_last) {
            hops += 1;
            let link_display = format!("/{}", done.join("/"));
            if hops > MAX_HOPS {
                return Err(Refusal(format!(
                    "{link_display}: too many levels of symlinks; refusing to follow them"
                )));
            }
            let target = std::fs::read_link(&host).map_err(|e| io_refusal(&done, e))?;
            done.pop();
            if target.is_absolute() {
                done.clear();
            }
            let target_comps: Vec<String> = target
                .to_string_lossy()
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .map(str::to_owned)
                .collect();
            todo.extend(target_comps.into_iter().rev());
            via_link = Some((link_display, target));
            continue;
        }
        if is_last {
            let entry = if ft.is_symlink() {
                let target = std::fs::read_link(&host).map_err(|e| io_refusal(&done, e))?;
                Entry::Symlink(target)
            } else if ft.is_dir() {
                Entry::Dir(meta)
            } else if ft.is_file() {
                Entry::File(meta)
            } else {
                Entry::Other
            };
            let existing = done.len();
            return Ok(Resolved {
                real: RelPath::from_components(&done),
                existing,
                entry,
            });
        }
        if !ft.is_dir() {
            return Err(Refusal(format!(
                "/{} is not a directory, but {} needs it to be one",
                done.join("/"),
                path.display()
            )));
        }
    }
    // Only reached when the path resolves to the root itself, for example
    // through a symlink to `/`.
    Err(Refusal(format!(
        "{} resolves to the root directory itself",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn rel(s: &str) -> RelPath {
        RelPath::parse(s).unwrap()
    }

    #[test]
    fn parse_normalizes_and_refuses_dot_dot() {
        assert_eq!(rel("/etc/nix/nix.conf").as_str(), "etc/nix/nix.conf");
        assert_eq!(rel("etc/nix").as_str(), "etc/nix");
        assert!(RelPath::parse("etc/../x").unwrap_err().contains("'..'"));
        assert!(RelPath::parse("/").unwrap_err().contains("root itself"));
        assert!(RelPath::parse("etc//nix")
            .unwrap_err()
            .contains("empty component"));
        assert!(RelPath::parse("etc/nix/")
            .unwrap_err()
            .contains("empty component"));
    }

    #[test]
    fn missing_path_lists_parents_to_create() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        let r = resolve(root.path(), &rel("etc/nix/nix.conf"), false).unwrap();
        assert!(matches!(r.entry, Entry::Missing));
        assert_eq!(r.existing, 1);
        assert_eq!(r.missing_parents(), vec![rel("etc/nix")]);
    }

    #[test]
    fn relative_symlink_inside_root_is_followed() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc/static/nix")).unwrap();
        symlink("static/nix", root.path().join("etc/nix")).unwrap();
        let r = resolve(root.path(), &rel("etc/nix/nix.conf"), false).unwrap();
        assert_eq!(r.real.as_str(), "etc/static/nix/nix.conf");
        assert_eq!(r.missing_parents(), Vec::<RelPath>::new());
    }

    #[test]
    fn absolute_symlink_is_read_from_the_root() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc/static/nix")).unwrap();
        symlink("/etc/static/nix", root.path().join("etc/nix")).unwrap();
        let r = resolve(root.path(), &rel("etc/nix/nix.conf"), false).unwrap();
        assert_eq!(r.real.as_str(), "etc/static/nix/nix.conf");
    }

    #[test]
    fn symlinked_etc_nix_pointing_outside_the_root_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        symlink(outside.path(), root.path().join("etc/nix")).unwrap();
        let err = resolve(root.path(), &rel("etc/nix/nix.conf"), false).unwrap_err();
        assert!(err.0.starts_with("/etc/nix is a symlink to "), "{}", err.0);
        assert!(err.0.contains("does not exist under the root"), "{}", err.0);

        let climbing = tempfile::tempdir().unwrap();
        std::fs::create_dir(climbing.path().join("etc")).unwrap();
        symlink(
            "../../../../../../../../tmp",
            climbing.path().join("etc/nix"),
        )
        .unwrap();
        let err = resolve(climbing.path(), &rel("etc/nix/nix.conf"), false).unwrap_err();
        assert!(err.0.contains("points outside the root"), "{}", err.0);
    }

    #[test]
    fn symlink_loop_is_refused() {
        let root = tempfile::tempdir().unwrap();
        symlink("b", root.path().join("a")).unwrap();
        symlink("a", root.path().join("b")).unwrap();
        let err = resolve(root.path(), &rel("a/x"), false).unwrap_err();
        assert!(err.0.contains("too many levels of symlinks"), "{}", err.0);
    }

    #[test]
    fn last_symlink_is_not_followed_for_files() {
        let root = tempfile::tempdir().unwrap();
        symlink("/nowhere", root.path().join("f")).unwrap();
        let r = resolve(root.path(), &rel("f"), false).unwrap();
        assert!(matches!(r.entry, Entry::Symlink(ref t) if t == Path::new("/nowhere")));
    }

    #[test]
    fn file_in_the_middle_is_refused() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("etc"), "").unwrap();
        let err = resolve(root.path(), &rel("etc/nix/nix.conf"), false).unwrap_err();
        assert!(err.0.contains("/etc is not a directory"), "{}", err.0);
    }
}
