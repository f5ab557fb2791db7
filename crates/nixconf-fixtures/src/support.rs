//! What fixture checkers share: reading, comparing with an expected file
//! (or rewriting it under `UPDATE_EXPECT=1`), scratch directories and
//! starting trees (`before/` plus `before.setup`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// A temporary directory, in memory when `/dev/shm` is there: every
/// interrupted run fsyncs dozens of times, which on a disk takes seconds
/// and tests nothing more.
pub fn scratch() -> Result<tempfile::TempDir, String> {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).or_else(|_| tempfile::tempdir())
    } else {
        tempfile::tempdir()
    };
    dir.map_err(|e| format!("cannot make a temporary directory: {e}"))
}

/// Compare `got` with the file at `path`, naming the first differing
/// line; with `update`, write `got` there instead.
pub fn expect_text(path: &Path, got: &str, update: bool) -> Result<(), String> {
    if update {
        return std::fs::write(path, got).map_err(|e| format!("{}: {e}", path.display()));
    }
    let expected = read(path)?;
    if expected == got {
        return Ok(());
    }
    let (line, e, g) = expected
        .lines()
        .chain(std::iter::repeat(""))
        .zip(got.lines().chain(std::iter::repeat("")))
        .enumerate()
        .find(|(_, (e, g))| e != g)
        .map(|(i, (e, g))| (i + 1, e, g))
        .unwrap_or((0, "", ""));
    Err(format!(
        "{} differs at line {line}: expected {e:?}, got {g:?}",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ))
}

/// The file at `path` as text, or an error naming it.
pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Build the starting tree of a case at `root`: `before/` copied (files
/// 0644, 0755 when executable in the checkout, directories 0755, `.keep`
/// skipped), then `before.setup` (`mode OCTAL PATH`, `symlink PATH
/// TARGET`, `dir PATH`).
pub fn materialize(case: &Path, root: &Path) -> Result<(), String> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    std::fs::create_dir_all(root).map_err(|e| io(root, e))?;
    set_mode(root, 0o755)?;
    copy_tree(&case.join("before"), root)?;
    let setup_path = case.join("before.setup");
    if !setup_path.exists() {
        return Ok(());
    }
    for (n, line) in read(&setup_path)?.lines().enumerate() {
        let at = format!("{}:{}", setup_path.display(), n + 1);
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["mode", mode, path] => {
                let mode =
                    u32::from_str_radix(mode, 8).map_err(|e| format!("{at}: bad mode: {e}"))?;
                set_mode(&root.join(path), mode)?;
            }
            ["symlink", path, target] => {
                let link = root.join(path);
                if let Some(parent) = link.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
                }
                std::os::unix::fs::symlink(target, &link).map_err(|e| io(&link, e))?;
            }
            ["dir", path] => {
                let d = root.join(path);
                std::fs::create_dir_all(&d).map_err(|e| io(&d, e))?;
            }
            _ => {
                return Err(format!(
                    "{at}: expected `mode OCTAL PATH`, `symlink PATH TARGET` or `dir PATH`"
                ))
            }
        }
    }
    Ok(())
}

/// Copy the tree `from` into the existing directory `to` as
/// [`materialize`] does.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .map_err(|e| io(from, e))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name == ".keep" {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        let meta = std::fs::symlink_metadata(&src).map_err(|e| io(&src, e))?;
        if meta.is_dir() {
            std::fs::create_dir(&dst).map_err(|e| io(&dst, e))?;
            set_mode(&dst, 0o755)?;
            copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| io(&src, e))?;
            let exec = meta.permissions().mode() & 0o100 != 0;
            set_mode(&dst, if exec { 0o755 } else { 0o644 })?;
        }
    }
    Ok(())
}

/// Set the permission bits of `path`.
pub fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}
