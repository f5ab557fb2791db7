//! Reverting: every record of the receipt undone, latest first, then our
//! state taken away.

use std::path::Path;

use crate::action::{self, describe_record};
use crate::apply::require_privileges;
use crate::beneath::RootDir;
use crate::error::{failed, Error, Result};
use crate::fsops::{self, Ids};
use crate::lock::{self, Lock};
use crate::receipt::{receipt_rel, Receipt, Record};
use crate::relpath::RelPath;
use crate::report::{Outcome, Report};
use crate::run::Run;
use crate::state::{
    clean_stale_chains, remove_empty_tree, state_chain_only, state_dir_check, state_rel,
};

/// How to revert.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RevertOptions {
    /// Also revert files edited by hand since we wrote them (a copy of
    /// each is kept under `nix/var/nixconf/edited/`).
    pub force: bool,
    /// How long to wait for another nixconf applying or reverting the
    /// same root; `None` is 10 seconds.
    pub lock_timeout: Option<std::time::Duration>,
    /// Test hook: fail as if killed right after this many durable steps.
    #[doc(hidden)]
    pub fail_after: Option<usize>,
}

impl RevertOptions {
    /// Revert hand-edited files too.
    pub fn force(mut self, yes: bool) -> RevertOptions {
        self.force = yes;
        self
    }
}

/// Revert everything the receipt under `root` records, with the default
/// options (hand-edited files are left in place and reported).
pub fn revert(root: &Path) -> Result<Report> {
    revert_with(root, &RevertOptions::default())
}

/// Revert everything the receipt under `root` records, latest first:
/// restore backed-up files and symlinks, remove what was created
/// (directories only when empty), restore directory modes and owners, then
/// remove the receipt and our state directory. Every failure is reported
/// and the rest carried on with; the failed records stay in the receipt so
/// that reverting again retries them.
pub fn revert_with(root: &Path, options: &RevertOptions) -> Result<Report> {
    let ids = Ids::current();
    require_privileges(root, &ids)?;
    let dir = RootDir::open(root)?;
    // What a revert killed after taking our directories away left.
    clean_stale_chains(&dir);
    let no_receipt = || Error::NoReceipt {
        path: receipt_rel().under(root),
    };
    // No state directory: nothing to lock, nothing to revert.
    let lock = Lock::acquire(
        &dir,
        options.lock_timeout.unwrap_or(lock::DEFAULT_TIMEOUT),
        || {
            if state_dir_check(&dir).map_err(failed)? != state_rel().under(root) {
                return Err(no_receipt());
            }
            Ok(())
        },
    )?;
    let receipt = Receipt::load_in(&dir)?.ok_or_else(no_receipt)?;
    let mut run = Run {
        root,
        dir,
        receipt,
        steps: 0,
        fail_after: options.fail_after,
        privileged: ids.is_privileged(),
        lock: Some(lock),
    };
    let mut report = Report::default();
    let records = std::mem::take(&mut run.receipt.records);
    let mut failed: Vec<Record> = Vec::new();
    for record in records.iter().rev() {
        let name = describe_record(record);
        match action::undo(&mut run, record, options.force) {
            Ok(note) => {
                report.push(name, note.map_or(Outcome::Done, Outcome::DoneWithNote));
                run.checkpoint()?;
            }
            Err(why) => {
                report.push(name, Outcome::Failed(why));
                failed.push(record.clone());
            }
        }
    }
    failed.reverse();
    if !failed.is_empty() {
        run.receipt.records = failed;
        if let Err(e) = run.receipt.save_in(&run.dir) {
            report.push("update the receipt", Outcome::Failed(e.to_string()));
        }
        return Ok(report);
    }
    finish_revert(&mut run, &mut report);
    Ok(report)
}

/// After every record is undone: directories left over because they
/// were not empty, our backups directory, the receipt, and the state
/// directories we made.
fn finish_revert(run: &mut Run<'_>, report: &mut Report) {
    let mut leftovers = std::mem::take(&mut run.receipt.leftover_dirs);
    // Deepest first, so a parent is tried after its children.
    leftovers.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in &leftovers {
        match fsops::remove_empty_dir(&run.dir, dir) {
            Ok(true) => report.push(format!("remove directory {}", dir.display()), Outcome::Done),
            Ok(false) => report.push(
                format!("remove directory {}", dir.display()),
                Outcome::Skipped("not empty".to_owned()),
            ),
            Err(e) => report.push(
                format!("remove directory {}", dir.display()),
                Outcome::Failed(e.to_string()),
            ),
        }
    }
    let backups = state_rel().join("backups");
    if let Err(e) = remove_empty_tree(&run.dir, &backups) {
        report.push(
            "remove the backups directory",
            Outcome::Failed(e.to_string()),
        );
    }
    for copy in &run.receipt.kept_copies {
        report.push(
            format!("copy of a hand edit {}", copy.display()),
            Outcome::Skipped("kept: remove it yourself once you no longer need it".to_owned()),
        );
    }
    // When our directories hold nothing but each other, the receipt
    // and the lock, they go in one step, still locked: renamed away
    // with the receipt, then removed. A run killed before the rename
    // finds the receipt and reverts again; after it, a temporary the
    // next run removes. A run starting meanwhile finds either all of
    // them (and waits for the lock) or none, never a half-removed
    // chain to adopt.
    if let Some(top) = run.receipt.state_dirs_created.first().cloned() {
        if state_chain_only(&run.dir, &run.receipt.state_dirs_created) {
            let name = top.components().next_back().unwrap_or_default().to_owned();
            let tmp_name = format!(".{name}.nixconf-tmp.{}-revert", std::process::id());
            let tmp = match top.parent() {
                Some(p) => p.join(&tmp_name),
                None => RelPath::from_components(std::slice::from_ref(&tmp_name)),
            };
            if run.dir.rename(&top, &tmp).is_ok() {
                report.push("remove the receipt", Outcome::Done);
                if let Some(lock) = run.lock.take() {
                    lock.release();
                }
                if let Err(e) = run.dir.remove_temp_tree(&tmp) {
                    report.push(
                        format!("remove directory {}", tmp.display()),
                        Outcome::Failed(run.dir.error(&tmp, e).to_string()),
                    );
                }
                return;
            }
        }
    }
    let receipt = receipt_rel();
    let removed = fsops::remove_file(&run.dir, &receipt).and_then(|()| {
        run.dir
            .remove_temp_of(&receipt)
            .map_err(|e| run.dir.error(&receipt, e))
    });
    match removed {
        Ok(_) => report.push("remove the receipt", Outcome::Done),
        Err(e) => report.push("remove the receipt", Outcome::Failed(e.to_string())),
    }
    // The lock file goes before our directory can.
    if let Some(lock) = run.lock.take() {
        lock.release();
    }
    for dir in run.receipt.state_dirs_created.iter().rev() {
        match fsops::remove_empty_dir(&run.dir, dir) {
            Ok(true) => {}
            Ok(false) if *dir == state_rel() => {
                // Only kept copies of hand edits may stay.
                let stray: Vec<String> = run
                    .dir
                    .list(dir)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(name, _)| name != "edited" || run.receipt.kept_copies.is_empty())
                    .map(|(name, _)| format!("{}/{name}", dir.display()))
                    .collect();
                if !stray.is_empty() {
                    report.push(
                        format!("remove directory {}", dir.display()),
                        Outcome::Failed(format!(
                            "left over, not made by this apply or not removable: {}; remove them yourself if they are not needed",
                            stray.join(", ")
                        )),
                    );
                }
            }
            Ok(false) => {}
            Err(e) => report.push(
                format!("remove directory {}", dir.display()),
                Outcome::Failed(e.to_string()),
            ),
        }
    }
}
