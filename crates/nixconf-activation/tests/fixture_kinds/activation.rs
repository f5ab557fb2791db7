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
//!
//! Run by `cargo test -p nixconf-activation --test fixtures` and by `cargo xtask
//! test-fixtures`, which includes this file.
#![allow(dead_code)]

use std::path::Path;

use nixconf_activation::{
    apply, plan, revert, revert_with, ApplyOptions, Error, Installation, PlanOptions,
    RevertOptions, Tree,
};

use nixconf_fixtures::support::{expect_text, materialize, read, scratch};
use nixconf_fixtures::Kind;

pub(super) const RECEIPT: &str = "/nix/var/nixconf/receipt.json";

/// `fixtures/activation`.
pub const KIND: Kind = Kind {
    dir: "activation",
    vendored: false,
    check,
    pending: None,
};

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
