//! `fixtures/install/<case>/`: a whole configuration (the NixOS option
//! tree plus nixconf's `users` table) installed on a starting root with
//! `nixconf apply`'s pipeline, build users included (through the real
//! shadow tools when they are installed), then reverted.
//!
//! A case holds:
//! - `config.toml`: the configuration.
//! - `before/` and `before.setup`: the starting root, as in
//!   `fixtures/activation` (the account files live in `before/etc`).
//! - `error.txt` instead of everything below when the configuration is
//!   refused: the expected message; nothing may be written.
//! - `plan.txt`: the expected plan against `before/`.
//! - `after.txt`: the expected tree after apply (the receipt's hash, and
//!   `/etc/shadow`'s, which holds the day of the change, masked). Absent
//!   when the plan is refused: apply must then refuse and change nothing.
//! - `config2.toml`, `plan2.txt`, `after2.txt` (optional): a second
//!   configuration applied on top; only the difference may be planned.
//! - `edit/` and `plan-edited.txt` (optional): files copied over the
//!   applied tree as a hand edit; the plan must show it, apply without
//!   force must refuse, apply with force must keep a copy of the edit.
//!
//! Every case is then planned again (up to date), reverted (the tree must
//! equal `before/` byte for byte; only copies of hand edits, which nixconf
//! never deletes, may remain), and its first apply interrupted after each
//! durable step in turn: the next apply must converge, and revert must
//! give `before/` back. With `config2.toml`, so is its apply on top of the
//! first.
//!
//! Run by `cargo test -p nixconf-activation --test fixtures` and by `cargo xtask
//! test-fixtures`, which includes this file.
#![allow(dead_code)]

use std::path::Path;

use nixconf_activation::{
    apply, plan, read_config, revert_with, ApplyOptions, Error, Installation, PlanOptions,
    RevertOptions, Tree,
};

use super::activation::{capture, manifest, RECEIPT};
use nixconf_fixtures::support::{expect_text, materialize, read, scratch};
use nixconf_fixtures::Kind;

/// Kept copies of hand edits live here; revert leaves them.
const STATE: &str = "/nix/var/nixconf";

/// `fixtures/install`.
pub const KIND: Kind = Kind {
    dir: "install",
    vendored: false,
    check,
    pending: None,
};

pub fn check(dir: &Path, update: bool) -> Result<(), String> {
    let scratch = scratch()?;
    let root = scratch.path().join("root");
    materialize(dir, &root)?;
    let before = capture(&root)?;

    let config_path = dir.join("config.toml");
    let inst = match installation(&config_path, &root) {
        Ok(inst) => inst,
        Err(message) => {
            // The message names the configuration by its path; keep the
            // expected text independent of where the checkout lives.
            let message = message.replace(&format!("{}/", dir.display()), "");
            expect_text(&dir.join("error.txt"), &format!("{message}\n"), update)?;
            return unchanged(&root, &before, "a refused configuration");
        }
    };
    if dir.join("error.txt").exists() {
        return Err("error.txt exists but the configuration was accepted".into());
    }
    let planned = plan(&root, &inst, &PlanOptions::default()).map_err(|e| format!("plan: {e}"))?;
    expect_text(&dir.join("plan.txt"), &planned.describe(), update)?;
    if !planned.problems(false).is_empty() {
        match apply(&root, &inst, &ApplyOptions::default()) {
            Err(Error::Refused { .. }) => {}
            Ok(_) => return Err("apply succeeded, expected it refused".into()),
            Err(e) => return Err(format!("apply failed other than by refusing: {e}")),
        }
        if dir.join("after.txt").exists() {
            return Err("after.txt exists but the plan is refused; remove it".into());
        }
        return unchanged(&root, &before, "a refused apply");
    }
    apply_step(&config_path, &root, &dir.join("after.txt"), update)?;
    let config2 = dir.join("config2.toml");

    if config2.exists() {
        let inst2 = installation(&config2, &root)?;
        let p = plan(&root, &inst2, &PlanOptions::default()).map_err(|e| e.to_string())?;
        expect_text(&dir.join("plan2.txt"), &p.describe(), update)?;
        apply_step(&config2, &root, &dir.join("after2.txt"), update)?;
    }
    let second = config2.exists();
    let last_config = if second { config2 } else { config_path.clone() };

    let edit = dir.join("edit");
    let mut kept_copies = false;
    if edit.is_dir() {
        overlay(&edit, &root)?;
        let edited = capture(&root)?;
        let inst = installation(&last_config, &root)?;
        let p = plan(&root, &inst, &PlanOptions::default()).map_err(|e| e.to_string())?;
        expect_text(&dir.join("plan-edited.txt"), &p.describe(), update)?;
        match apply(&root, &inst, &ApplyOptions::default()) {
            Err(Error::Refused { .. }) => {}
            Ok(_) => return Err("apply overwrote a hand edit without force".into()),
            Err(e) => {
                return Err(format!(
                    "apply without force failed other than by refusing: {e}"
                ))
            }
        }
        unchanged(&root, &edited, "apply refused over a hand edit")?;
        let report = apply(&root, &inst, &ApplyOptions::default().force(true))
            .map_err(|e| format!("apply with force: {e}"))?;
        if !report
            .describe()
            .contains("the hand-edited version is kept at")
        {
            return Err(format!(
                "apply with force did not say where the hand edit was kept:\n{}",
                report.describe()
            ));
        }
        up_to_date(&last_config, &root, "after apply with force")?;
        kept_copies = true;
    }

    if planned.is_up_to_date() && !second {
        // Nothing was applied (Nix disabled on a root nixconf never
        // touched): there is no receipt, and the tree is as it was.
        return unchanged(&root, &before, "an apply with nothing to do");
    }
    revert_to(&root, &before, kept_copies, "revert")?;
    interrupted(dir, None, &config_path, &before)?;
    if second {
        // The second apply changes an installation in place (removing
        // build users, retiring files): interrupted anywhere, it too must
        // converge, and revert must still give back `before/`.
        interrupted(dir, Some(&config_path), &dir.join("config2.toml"), &before)?;
    }
    Ok(())
}

/// The installation for a configuration on `root`, or the message the
/// CLI would print, with the case's directory taken out of it so that
/// `error.txt` does not depend on where the repository lives.
pub(super) fn installation(config: &Path, root: &Path) -> Result<Installation, String> {
    let relative = |message: String| match config.parent() {
        Some(dir) => message.replace(&format!("{}/", dir.display()), ""),
        None => message,
    };
    let config = read_config(config).map_err(|e| relative(e.to_string()))?;
    config
        .installation(root)
        .map_err(|e| relative(e.to_string()))
}

/// Apply, compare with the expected tree, apply again (nothing), plan
/// again (up to date).
fn apply_step(config: &Path, root: &Path, expected: &Path, update: bool) -> Result<(), String> {
    let inst = installation(config, root)?;
    let report = apply(root, &inst, &ApplyOptions::default()).map_err(|e| format!("apply: {e}"))?;
    if !report.is_success() {
        return Err(format!("apply failed: {}", report.failures().join("; ")));
    }
    let after = capture(root)?;
    expect_text(expected, &masked(&after), update)?;
    let inst = installation(config, root)?;
    let report =
        apply(root, &inst, &ApplyOptions::default()).map_err(|e| format!("second apply: {e}"))?;
    if report.changed_anything() {
        return Err(format!(
            "second apply changed something:\n{}",
            report.describe()
        ));
    }
    up_to_date(config, root, "after apply")
}

fn up_to_date(config: &Path, root: &Path, when: &str) -> Result<(), String> {
    let inst = installation(config, root)?;
    let p = plan(root, &inst, &PlanOptions::default()).map_err(|e| e.to_string())?;
    if p.is_up_to_date() {
        Ok(())
    } else {
        Err(format!(
            "{when}, the plan is not up to date:\n{}",
            p.describe()
        ))
    }
}

/// The manifest, the hashes of `/etc/shadow` and its backup `/etc/shadow-`
/// masked too: `useradd` writes the day of the change into it, and the
/// next tool run copies that into the backup.
fn masked(tree: &Tree) -> String {
    manifest(tree)
        .lines()
        .map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                [path @ ("/etc/shadow" | "/etc/shadow-"), "f", mode, size, _] => {
                    format!("{path} f {mode} {size} (hash masked: holds the day of the change)\n")
                }
                _ => format!("{line}\n"),
            }
        })
        .collect()
}

fn unchanged(root: &Path, expected: &Tree, what: &str) -> Result<(), String> {
    let diffs = capture(root)?.differences(expected);
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!("{what} changed the tree: {}", diffs.join("; ")))
    }
}

pub(super) fn revert_to(
    root: &Path,
    before: &Tree,
    kept_copies: bool,
    what: &str,
) -> Result<(), String> {
    let options = RevertOptions::default();
    let report = revert_with(root, &options).map_err(|e| format!("{what}: {e}"))?;
    if !report.is_success() {
        return Err(format!(
            "{what} reported failures: {}",
            report.failures().join("; ")
        ));
    }
    let diffs: Vec<String> = capture(root)?
        .differences(before)
        .into_iter()
        .filter(|d| {
            // Copies of hand edits (and the directories holding them) stay.
            let path = d.split(':').next().unwrap_or("");
            let holds_copies = path.starts_with(STATE)
                || ((path == "/nix" || path == "/nix/var") && d.contains("expected nothing"));
            !(kept_copies && holds_copies)
        })
        .collect();
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what} did not restore the tree: {}",
            diffs.join("; ")
        ))
    }
}

/// Copy the files under `from` over the tree at `to` (a hand edit).
fn overlay(from: &Path, to: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        if src.is_dir() {
            overlay(&src, &dst)?;
        } else {
            // Write in place, as an editor saving the file would.
            let text = read(&src)?;
            std::fs::write(&dst, text).map_err(|e| format!("{}: {e}", dst.display()))?;
        }
    }
    Ok(())
}

/// Interrupt an apply of `config` after each durable step in turn, on
/// fresh copies of `before/` (with `first` applied in full beforehand when
/// given): applying again converges, and reverting (straight after the
/// interruption, or after the resumed apply) gives `before/` back.
fn interrupted(
    dir: &Path,
    first: Option<&Path>,
    config: &Path,
    before: &Tree,
) -> Result<(), String> {
    let scratch = scratch()?;
    let fresh = |root: &Path| -> Result<(), String> {
        materialize(dir, root)?;
        if let Some(first) = first {
            apply(root, &installation(first, root)?, &ApplyOptions::default())
                .map_err(|e| format!("apply of {}: {e}", first.display()))?;
        }
        Ok(())
    };
    let reference = scratch.path().join("reference");
    fresh(&reference)?;
    apply(
        &reference,
        &installation(config, &reference)?,
        &ApplyOptions::default(),
    )
    .map_err(|e| format!("reference apply: {e}"))?;
    let after = capture(&reference)?;
    let which = if first.is_some() { "second" } else { "first" };
    for step in 1.. {
        if step > 1000 {
            return Err("apply never finished under failure injection".into());
        }
        let resumed = scratch.path().join(format!("resumed-{step}"));
        let reverted = scratch.path().join(format!("reverted-{step}"));
        fresh(&resumed)?;
        fresh(&reverted)?;
        let mut failing = ApplyOptions::default();
        failing.fail_after = Some(step);
        match apply(&resumed, &installation(config, &resumed)?, &failing) {
            Ok(_) => return Ok(()),
            Err(Error::InjectedFailure(_)) => {}
            Err(e) => {
                return Err(format!(
                    "{which} apply interrupted after step {step}: unexpected error: {e}"
                ))
            }
        }
        let _ = apply(&reverted, &installation(config, &reverted)?, &failing);

        apply(
            &resumed,
            &installation(config, &resumed)?,
            &ApplyOptions::default(),
        )
        .map_err(|e| format!("{which} apply after an interruption at step {step}: {e}"))?;
        let diffs: Vec<String> = capture(&resumed)?
            .differences(&after)
            .into_iter()
            .filter(|d| !d.starts_with(RECEIPT))
            .collect();
        if !diffs.is_empty() {
            return Err(format!(
                "{which} apply interrupted after step {step}, the next apply did not converge: {}",
                diffs.join("; ")
            ));
        }
        up_to_date(
            config,
            &resumed,
            &format!("{which} apply interrupted after step {step}, then applied"),
        )?;
        revert_to(
            &resumed,
            before,
            false,
            &format!("revert after an interruption of the {which} apply at step {step} and a resumed apply"),
        )?;
        revert_to(
            &reverted,
            before,
            false,
            &format!("revert right after an interruption of the {which} apply at step {step}"),
        )?;
        for d in [&resumed, &reverted] {
            std::fs::remove_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
    }
    Ok(())
}
