//! Writing an evaluation's files under a root directory, all or nothing.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path, PathBuf};

use crate::error::Error;
use crate::output::{Evaluation, WritePolicy};

/// Write every file of [`Evaluation::files`] under `root`, creating
/// directories as needed, and return the paths written.
///
/// All or nothing. Nothing is written when NixOS would refuse the
/// configuration (a failed assertion). When `root` does not exist (or is
/// an empty directory), the whole tree is built in a fresh temporary
/// directory beside it and renamed into place in one step. When `root`
/// already holds files, they are staged in a temporary directory inside
/// `root`, then renamed into place one by one; if one fails, those already
/// renamed are put back as they were (replaced files restored, created
/// directories removed). A symlink on the way to a file that leads out of
/// `root` is refused before anything is written. Files with
/// [`WritePolicy::IfAbsent`] are left alone when they exist.
pub fn render_into(eval: &Evaluation, root: &Path) -> Result<Vec<PathBuf>, Error> {
    if !eval.failed_assertions.is_empty() {
        return Err(Error::FailedAssertions(
            eval.failed_assertions.iter().map(|a| a.message()).collect(),
        ));
    }
    let empty = match fs::read_dir(root) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(write_error(root, e)),
    };
    if empty && !fs::symlink_metadata(root).is_ok_and(|m| m.file_type().is_symlink()) {
        render_fresh(eval, root)
    } else {
        render_over(eval, root)
    }
}

fn write_error(file: &Path, source: std::io::Error) -> Error {
    Error::Write {
        file: file.display().to_string(),
        source,
    }
}

/// The relative path of a rendered file, checked to stay under the root.
fn relative(path: &str) -> Result<PathBuf, Error> {
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) || rel.as_os_str().is_empty() {
        return Err(write_error(
            rel,
            std::io::Error::other("not a plain path under the output directory"),
        ));
    }
    Ok(rel.to_path_buf())
}

fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), Error> {
    let io = |e| write_error(path, e);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io)?;
    f.write_all(contents.as_bytes())
        .and_then(|()| f.set_permissions(fs::Permissions::from_mode(mode)))
        .and_then(|()| f.sync_all())
        .map_err(io)
}

/// `root` is missing or empty: build the tree beside it, rename it over.
fn render_fresh(eval: &Evaluation, root: &Path) -> Result<Vec<PathBuf>, Error> {
    let parent = match root.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| write_error(&parent, e))?;
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.nixconf-render-"))
        .tempdir_in(&parent)
        .map_err(|e| write_error(&parent, e))?;
    let mut written = Vec::new();
    for file in eval.files() {
        let rel = relative(&file.path)?;
        let staged = staging.path().join(&rel);
        if let Some(dir) = staged.parent() {
            fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
        }
        write_file(&staged, &file.contents, file.mode)?;
        written.push(root.join(rel));
    }
    fs::set_permissions(staging.path(), fs::Permissions::from_mode(0o755))
        .map_err(|e| write_error(staging.path(), e))?;
    // One rename: the tree appears whole or not at all (an empty
    // directory at `root` is replaced).
    fs::rename(staging.path(), root).map_err(|e| write_error(root, e))?;
    let _ = staging.keep();
    Ok(written)
}

/// What committing one file did, to undo it.
struct Done {
    target: PathBuf,
    /// Where the file it replaced was moved to.
    replaced: Option<PathBuf>,
    /// Directories made for it, outermost first.
    made: Vec<PathBuf>,
}

/// `root` holds files: stage inside it, check every destination, then
/// rename into place, rolling back on failure.
fn render_over(eval: &Evaluation, root: &Path) -> Result<Vec<PathBuf>, Error> {
    let real_root = fs::canonicalize(root).map_err(|e| write_error(root, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".nixconf-render-")
        .tempdir_in(&real_root)
        .map_err(|e| write_error(root, e))?;
    let mut planned = Vec::new();
    for file in eval.files() {
        let rel = relative(&file.path)?;
        let target = real_root.join(&rel);
        check_inside(&real_root, &rel)?;
        if file.policy == WritePolicy::IfAbsent && fs::symlink_metadata(&target).is_ok() {
            continue;
        }
        if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
            return Err(write_error(
                &target,
                std::io::Error::other("a directory is in the way; move it away first"),
            ));
        }
        let staged = staging.path().join(planned.len().to_string());
        write_file(&staged, &file.contents, file.mode)?;
        planned.push((staged, target, root.join(&rel)));
    }
    let mut done: Vec<Done> = Vec::new();
    let mut written = Vec::new();
    for (i, (staged, target, shown)) in planned.into_iter().enumerate() {
        match commit(&staged, &target, &staging.path().join(format!("old{i}"))) {
            Ok(d) => {
                done.push(d);
                written.push(shown);
            }
            Err(e) => {
                rollback(done);
                return Err(e);
            }
        }
    }
    Ok(written)
}

/// Refuse a symlink on the way to `rel` (its existing directories) that
/// leads out of `real_root`.
fn check_inside(real_root: &Path, rel: &Path) -> Result<(), Error> {
    let mut at = real_root.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for comp in &comps[..comps.len().saturating_sub(1)] {
        at.push(comp);
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let real = fs::canonicalize(&at).map_err(|e| write_error(&at, e))?;
                if !real.starts_with(real_root) {
                    return Err(write_error(
                        &at,
                        std::io::Error::other(format!(
                            "a symlink to {}, outside the output directory; refusing to write through it",
                            real.display()
                        )),
                    ));
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

fn commit(staged: &Path, target: &Path, aside: &Path) -> Result<Done, Error> {
    let mut made = Vec::new();
    let mut missing = Vec::new();
    let mut dir = target.parent();
    while let Some(d) = dir {
        if fs::symlink_metadata(d).is_ok() {
            break;
        }
        missing.push(d.to_path_buf());
        dir = d.parent();
    }
    for d in missing.into_iter().rev() {
        if let Err(e) = fs::create_dir(&d) {
            remove_dirs(&made);
            return Err(write_error(&d, e));
        }
        made.push(d);
    }
    let replaced = if fs::symlink_metadata(target).is_ok() {
        if let Err(e) = fs::rename(target, aside) {
            remove_dirs(&made);
            return Err(write_error(target, e));
        }
        Some(aside.to_path_buf())
    } else {
        None
    };
    if let Err(e) = fs::rename(staged, target) {
        if let Some(old) = &replaced {
            let _ = fs::rename(old, target);
        }
        remove_dirs(&made);
        return Err(write_error(target, e));
    }
    Ok(Done {
        target: target.to_path_buf(),
        replaced,
        made,
    })
}

fn remove_dirs(made: &[PathBuf]) {
    for d in made.iter().rev() {
        let _ = fs::remove_dir(d);
    }
}

/// Put back what the committed files replaced, newest first.
fn rollback(done: Vec<Done>) {
    for d in done.into_iter().rev() {
        match &d.replaced {
            Some(old) => {
                let _ = fs::rename(old, &d.target);
            }
            None => {
                let _ = fs::remove_file(&d.target);
            }
        }
        remove_dirs(&d.made);
    }
}
