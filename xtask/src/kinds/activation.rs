//! `fixtures/activation/<case>/`: an installation applied to a starting
//! tree, then reverted.
//!
//! A case holds:
//! - `before/`: the starting root tree. Files are copied with mode 0644
//!   (0755 when executable in the checkout); a `.keep` file stands for an
//!   otherwise empty directory and is not copied.
//! - `before.setup` (optional): what git cannot hold, one per line:
//!   `mode <octal> <path>`, `symlink <path> <target>`, `dir <path>`.
//! - `installation.json`: the installation (`Installation::from_json`).
//! - `plan.txt`: the expected `Plan::describe()` against `before/`.
//! - `after.txt`: the expected tree after apply (`Tree::manifest()`, the
//!   receipt's hash masked, as it records machine-dependent owners). Absent
//!   when the plan is refused: then apply must fail and change nothing.
//!
//! Every case is also applied again and planned again (nothing to do),
//! reverted (the tree must equal `before/` byte for byte, modes and owners
//! included), and interrupted after each durable step in turn: the next
//! apply must converge on `after.txt`, and a revert straight after the
//! interruption must give `before/` back. The revert is interrupted after
//! each of its steps in turn too: reverting again must give `before/`
//! back.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nixconf_activation::{
    apply, plan, revert, revert_with, ApplyOptions, Error, Installation, PlanOptions,
    RevertOptions, Tree,
};

pub(super) const RECEIPT: &str = "/nix/var/nixconf/receipt.json";

pub fn check(dir: &Path, update: bool) -> Result<(), String> {
    let json_path = dir.join("installation.json");
    let json = read(&json_path)?;
    let installation =
        Installation::from_json(&json).map_err(|e| format!("{}:{e}", json_path.display()))?;

    let scratch = scratch()?;
    let root = scratch.path().join("root");
    materialize(dir, &root)?;
    let before = capture(&root)?;

    let planned =
        plan(&root, &installation, &PlanOptions::default()).map_err(|e| format!("plan: {e}"))?;
    expect_text(&dir.join("plan.txt"), &planned.describe(), update)?;

    let options = ApplyOptions::default();
    let after_path = dir.join("after.txt");
    if !planned.problems(false).is_empty() {
        match apply(&root, &installation, &options) {
            Err(Error::Refused { .. }) => {}
            Ok(_) => {
                return Err("apply succeeded, expected it refused as the plan has problems".into())
            }
            Err(e) => return Err(format!("apply failed other than by refusing: {e}")),
        }
        let diffs = capture(&root)?.differences(&before);
        if !diffs.is_empty() {
            return Err(format!(
                "a refused apply changed the tree: {}",
                diffs.join("; ")
            ));
        }
        if after_path.exists() {
            return Err("after.txt exists but the plan is refused; remove it".into());
        }
        return Ok(());
    }

    let report = apply(&root, &installation, &options).map_err(|e| format!("apply: {e}"))?;
    if !report.is_success() {
        return Err(format!(
            "apply reported failures: {}",
            report.failures().join("; ")
        ));
    }
    let after = capture(&root)?;
    expect_text(&after_path, &manifest(&after), update)?;

    let again = plan(&root, &installation, &PlanOptions::default())
        .map_err(|e| format!("second plan: {e}"))?;
    if !again.is_up_to_date() {
        return Err(format!(
            "second plan is not up to date:\n{}",
            again.describe()
        ));
    }
    let report = apply(&root, &installation, &options).map_err(|e| format!("second apply: {e}"))?;
    if report.changed_anything() {
        return Err(format!(
            "second apply changed something:\n{}",
            report.describe()
        ));
    }
    let diffs = capture(&root)?.differences(&after);
    if !diffs.is_empty() {
        return Err(format!(
            "second apply changed the tree: {}",
            diffs.join("; ")
        ));
    }

    revert_to(&root, &before, "revert")?;
    interrupted(dir, &installation, &before, &after)?;
    interrupted_revert(dir, &installation, &before)
}

/// Interrupt the revert after each step in turn, on fresh applied copies:
/// reverting again must give `before/` back.
fn interrupted_revert(
    dir: &Path,
    installation: &Installation,
    before: &Tree,
) -> Result<(), String> {
    for step in 1.. {
        let scratch = scratch()?;
        let root = scratch.path().join("root");
        materialize(dir, &root)?;
        apply(&root, installation, &ApplyOptions::default()).map_err(|e| format!("apply: {e}"))?;
        let mut failing = RevertOptions::default();
        failing.fail_after = Some(step);
        match revert_with(&root, &failing) {
            Ok(_) => return Ok(()),
            Err(Error::InjectedFailure(_)) => {}
            Err(e) => {
                return Err(format!(
                    "revert interrupted after step {step}: unexpected error: {e}"
                ))
            }
        }
        if step > 1000 {
            return Err("revert never finished under failure injection".into());
        }
        revert_to(
            &root,
            before,
            &format!("revert again after an interrupted revert at step {step}"),
        )?;
    }
    Ok(())
}

/// Interrupt the apply after each step in turn, on fresh copies.
fn interrupted(
    dir: &Path,
    installation: &Installation,
    before: &Tree,
    after: &Tree,
) -> Result<(), String> {
    for step in 1.. {
        let scratch = scratch()?;
        let resumed = scratch.path().join("resumed");
        let reverted = scratch.path().join("reverted");
        materialize(dir, &resumed)?;
        materialize(dir, &reverted)?;
        let mut failing = ApplyOptions::default();
        failing.fail_after = Some(step);
        match apply(&resumed, installation, &failing) {
            Ok(_) => return Ok(()),
            Err(Error::InjectedFailure(_)) => {}
            Err(e) => {
                return Err(format!(
                    "apply interrupted after step {step}: unexpected error: {e}"
                ))
            }
        }
        if step > 1000 {
            return Err("apply never finished under failure injection".into());
        }
        let _ = apply(&reverted, installation, &failing);

        apply(&resumed, installation, &ApplyOptions::default())
            .map_err(|e| format!("apply after an interruption at step {step}: {e}"))?;
        let diffs = capture(&resumed)?.differences(after);
        let diffs: Vec<String> = diffs
            .into_iter()
            .filter(|d| !d.starts_with(RECEIPT))
            .collect();
        if !diffs.is_empty() {
            return Err(format!(
                "interrupted after step {step}, the next apply did not converge: {}",
                diffs.join("; ")
            ));
        }
        let again =
            plan(&resumed, installation, &PlanOptions::default()).map_err(|e| e.to_string())?;
        if !again.is_up_to_date() {
            return Err(format!(
                "interrupted after step {step}, then applied: not up to date:\n{}",
                again.describe()
            ));
        }
        revert_to(
            &resumed,
            before,
            &format!("revert after an interruption at step {step} and a resumed apply"),
        )?;
        revert_to(
            &reverted,
            before,
            &format!("revert right after an interruption at step {step}"),
        )?;
    }
    Ok(())
}

/// A temporary directory, in memory when `/dev/shm` is there: every
/// interrupted run fsyncs dozens of times, which on a disk takes seconds
/// and tests nothing more.
pub(super) fn scratch() -> Result<tempfile::TempDir, String> {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm).or_else(|_| tempfile::tempdir())
    } else {
        tempfile::tempdir()
    };
    dir.map_err(|e| format!("cannot make a temporary directory: {e}"))
}

fn revert_to(root: &Path, before: &Tree, what: &str) -> Result<(), String> {
    let report = revert(root).map_err(|e| format!("{what}: {e}"))?;
    if !report.is_success() {
        return Err(format!(
            "{what} reported failures: {}",
            report.failures().join("; ")
        ));
    }
    let diffs = capture(root)?.differences(before);
    if !diffs.is_empty() {
        return Err(format!(
            "{what} did not restore the tree: {}",
            diffs.join("; ")
        ));
    }
    Ok(())
}

pub(super) fn capture(root: &Path) -> Result<Tree, String> {
    Tree::capture(root).map_err(|e| format!("cannot read the tree: {e}"))
}

/// The manifest with the receipt's hash masked.
pub(super) fn manifest(tree: &Tree) -> String {
    tree.manifest()
        .lines()
        .map(|line| match line.strip_prefix(RECEIPT) {
            Some(rest) => {
                let kind: Vec<&str> = rest.split_whitespace().take(2).collect();
                format!("{RECEIPT} {} (receipt)\n", kind.join(" "))
            }
            None => format!("{line}\n"),
        })
        .collect()
}

pub(super) fn expect_text(path: &Path, got: &str, update: bool) -> Result<(), String> {
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

pub(super) fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Build the starting tree of a case at `root`.
pub(super) fn materialize(case: &Path, root: &Path) -> Result<(), String> {
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

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
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

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}
