//! Paths under the root, and resolving them without ever leaving it.
//!
//! Every path we touch is resolved one component at a time with `lstat`
//! relative to a handle of the root ([`crate::beneath`]), never with
//! `canonicalize` (which would follow symlinks through the host's `/`). A symlink met on the way is followed as the installed system would
//! follow it: an absolute target starts again at the root, a relative one at
//! the link's directory. A target that climbs above the root with `..`, or
//! that does not exist under the root, is refused: we never create
//! directories or write files through a symlink we cannot see the end of.

use std::io;
use std::path::{Path, PathBuf};

use crate::beneath::{Kind, Meta, RootDir};
use crate::error::Error;
use crate::host::is_host_root;
use crate::relpath::RelPath;

/// Symlinks followed while resolving one path before giving up, as the
/// kernel's `MAXSYMLINKS`.
const MAX_HOPS: usize = 40;

/// Why a path cannot be used safely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal(pub(crate) String);

/// What is at a resolved path.
#[derive(Debug)]
pub(crate) enum Entry {
    Missing,
    File(Meta),
    Dir(Meta),
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

/// Resolve `path` under `root`. With `follow_last`, a symlink in the last
/// component is followed too (for directories we only need to exist);
/// without it the last component is looked at itself (for files and links
/// we replace).
pub(crate) fn resolve(
    root: &RootDir,
    path: &RelPath,
    follow_last: bool,
) -> Result<Resolved, Refusal> {
    resolve_with(root, path, follow_last, false)
}

/// As [`resolve`]; with `host_semantics`, a symlink to an absolute path is
/// refused (unless the root is the host's `/`): a program run on the host
/// (the shadow tools with `--prefix`) would follow it from the host's `/`,
/// out of the root, where nixconf follows it from the root.
fn resolve_with(
    root: &RootDir,
    path: &RelPath,
    follow_last: bool,
    host_semantics: bool,
) -> Result<Resolved, Refusal> {
    let host_root = host_semantics && is_host_root(root.path());
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
        let here = RelPath::from_components(&done);
        let meta = root.lstat(&here).map_err(|e| io_refusal(&done, e))?;
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
        if meta.kind == Kind::Symlink && (!is_last || follow_last) {
            hops += 1;
            let link_display = format!("/{}", done.join("/"));
            if hops > MAX_HOPS {
                return Err(Refusal(format!(
                    "{link_display}: too many levels of symlinks; refusing to follow them"
                )));
            }
            let target = root.read_link(&here).map_err(|e| io_refusal(&done, e))?;
            if host_semantics && !host_root && target.is_absolute() {
                return Err(Refusal(format!(
                    "{link_display} is a symlink to {}, an absolute path: programs run on the host would follow it outside the root; make it relative, or replace it with the file itself",
                    target.display()
                )));
            }
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
            let entry = match meta.kind {
                Kind::Symlink => {
                    Entry::Symlink(root.read_link(&here).map_err(|e| io_refusal(&done, e))?)
                }
                Kind::Dir => Entry::Dir(meta),
                Kind::File => Entry::File(meta),
                Kind::Other => Entry::Other,
            };
            let existing = done.len();
            return Ok(Resolved {
                real: RelPath::from_components(&done),
                existing,
                entry,
            });
        }
        if meta.kind != Kind::Dir {
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

/// The files the shadow tools (`useradd`, `groupadd`, `userdel`... with
/// `--prefix`) write, back up or lock under the root. (What they only
/// read, such as `etc/login.defs`, may be a NixOS-style absolute symlink.)
pub const ACCOUNT_FILES: &[&str] = &[
    "etc/passwd",
    "etc/passwd-",
    "etc/passwd+",
    "etc/passwd.lock",
    "etc/shadow",
    "etc/shadow-",
    "etc/shadow+",
    "etc/shadow.lock",
    "etc/group",
    "etc/group-",
    "etc/group+",
    "etc/group.lock",
    "etc/gshadow",
    "etc/gshadow-",
    "etc/gshadow+",
    "etc/gshadow.lock",
    "etc/.pwd.lock",
    "etc/subuid",
    "etc/subuid-",
    "etc/subgid",
    "etc/subgid-",
];

/// Check that `rel` (a path under `root`, such as `etc/passwd-`) cannot
/// lead a program run on the host out of the root: no symlink on the way,
/// the last component included, points to an absolute path (unless the
/// root is `/`) or climbs out with `..`. Relative symlinks that stay
/// inside the root are fine. A missing path is fine.
///
/// Call it for every file an external program will touch, right before
/// running it.
pub fn check_beneath(root: &Path, rel: &str) -> Result<(), Error> {
    let path = RelPath::parse(rel).map_err(|message| Error::Root {
        path: root.to_path_buf(),
        message,
    })?;
    let dir = RootDir::open(root)?;
    resolve_with(&dir, &path, true, true)
        .map(|_| ())
        .map_err(|refusal| Error::Symlink {
            path: dir.host(&path),
            message: refusal.0,
        })
}

/// [`check_beneath`] for every one of [`ACCOUNT_FILES`]: what the build
/// users action must pass before it runs the shadow tools.
pub fn check_account_files(root: &Path) -> Result<(), Error> {
    ACCOUNT_FILES
        .iter()
        .try_for_each(|rel| check_beneath(root, rel))
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
        let r = resolve(
            &RootDir::open(root.path()).unwrap(),
            &rel("etc/nix/nix.conf"),
            false,
        )
        .unwrap();
        assert!(matches!(r.entry, Entry::Missing));
        assert_eq!(r.existing, 1);
        assert_eq!(r.missing_parents(), vec![rel("etc/nix")]);
    }

    #[test]
    fn relative_symlink_inside_root_is_followed() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc/static/nix")).unwrap();
        symlink("static/nix", root.path().join("etc/nix")).unwrap();
        let r = resolve(
            &RootDir::open(root.path()).unwrap(),
            &rel("etc/nix/nix.conf"),
            false,
        )
        .unwrap();
        assert_eq!(r.real.as_str(), "etc/static/nix/nix.conf");
        assert_eq!(r.missing_parents(), Vec::<RelPath>::new());
    }

    #[test]
    fn absolute_symlink_is_read_from_the_root() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("etc/static/nix")).unwrap();
        symlink("/etc/static/nix", root.path().join("etc/nix")).unwrap();
        let r = resolve(
            &RootDir::open(root.path()).unwrap(),
            &rel("etc/nix/nix.conf"),
            false,
        )
        .unwrap();
        assert_eq!(r.real.as_str(), "etc/static/nix/nix.conf");
    }

    #[test]
    fn symlinked_etc_nix_pointing_outside_the_root_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        symlink(outside.path(), root.path().join("etc/nix")).unwrap();
        let err = resolve(
            &RootDir::open(root.path()).unwrap(),
            &rel("etc/nix/nix.conf"),
            false,
        )
        .unwrap_err();
        assert!(err.0.starts_with("/etc/nix is a symlink to "), "{}", err.0);
        assert!(err.0.contains("does not exist under the root"), "{}", err.0);

        let climbing = tempfile::tempdir().unwrap();
        std::fs::create_dir(climbing.path().join("etc")).unwrap();
        symlink(
            "../../../../../../../../tmp",
            climbing.path().join("etc/nix"),
        )
        .unwrap();
        let err = resolve(
            &RootDir::open(climbing.path()).unwrap(),
            &rel("etc/nix/nix.conf"),
            false,
        )
        .unwrap_err();
        assert!(err.0.contains("points outside the root"), "{}", err.0);
    }

    #[test]
    fn symlink_loop_is_refused() {
        let root = tempfile::tempdir().unwrap();
        symlink("b", root.path().join("a")).unwrap();
        symlink("a", root.path().join("b")).unwrap();
        let err = resolve(&RootDir::open(root.path()).unwrap(), &rel("a/x"), false).unwrap_err();
        assert!(err.0.contains("too many levels of symlinks"), "{}", err.0);
    }

    #[test]
    fn last_symlink_is_not_followed_for_files() {
        let root = tempfile::tempdir().unwrap();
        symlink("/nowhere", root.path().join("f")).unwrap();
        let r = resolve(&RootDir::open(root.path()).unwrap(), &rel("f"), false).unwrap();
        assert!(matches!(r.entry, Entry::Symlink(ref t) if t == Path::new("/nowhere")));
    }

    #[test]
    fn file_in_the_middle_is_refused() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("etc"), "").unwrap();
        let err = resolve(
            &RootDir::open(root.path()).unwrap(),
            &rel("etc/nix/nix.conf"),
            false,
        )
        .unwrap_err();
        assert!(err.0.contains("/etc is not a directory"), "{}", err.0);
    }
}
