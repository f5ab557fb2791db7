//! Applying: a plan made afresh, validated as a whole, then carried out
//! action by action under the root's lock.

use std::path::Path;

use crate::action::{self, daemon};
use crate::beneath::RootDir;
use crate::error::{in_action, Error, Result};
use crate::fsops::{self, Ids};
use crate::installation::Installation;
use crate::lock;
use crate::plan;
use crate::planned::{Plan, PlanOptions, Status, Step};
use crate::report::{Outcome, Report};
use crate::run::Run;
use crate::state::{tidy_after_kill, tighten_state};

/// How to apply.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// Plan and validate, change nothing.
    pub dry_run: bool,
    /// Overwrite files edited by hand since we wrote them (a copy of each
    /// is kept under `nix/var/nixconf/edited/`).
    pub force: bool,
    /// Restart the Nix daemon when a file it reads changed (only on `/`,
    /// and only when systemd is running).
    pub restart_daemon: bool,
    /// How to plan.
    pub plan: PlanOptions,
    /// Test hook: fail as if killed right after this many durable steps
    /// (receipt writes, directories made, backups, files written).
    #[doc(hidden)]
    pub fail_after: Option<usize>,
    /// How long to wait for another nixconf applying or reverting the
    /// same root; `None` is 10 seconds.
    pub lock_timeout: Option<std::time::Duration>,
}

impl ApplyOptions {
    /// Only plan and validate.
    pub fn dry_run(mut self, yes: bool) -> ApplyOptions {
        self.dry_run = yes;
        self
    }

    /// Overwrite hand edits (keeping copies).
    pub fn force(mut self, yes: bool) -> ApplyOptions {
        self.force = yes;
        self
    }

    /// Restart the daemon when a file it reads changed.
    pub fn restart_daemon(mut self, yes: bool) -> ApplyOptions {
        self.restart_daemon = yes;
        self
    }

    /// Set the planning options.
    pub fn plan_options(mut self, plan: PlanOptions) -> ApplyOptions {
        self.plan = plan;
        self
    }
}

/// Apply `installation` to `root`: plan it afresh, validate everything
/// (refusing with every problem listed, before anything is touched), then
/// carry the pending actions out in order, recording each in the receipt.
/// Applying an installation that is up to date changes nothing.
pub fn apply(root: &Path, installation: &Installation, options: &ApplyOptions) -> Result<Report> {
    let ids = Ids::current();
    require_privileges(root, &ids)?;
    let plan = plan::plan(root, installation, &options.plan)?;
    validate(&plan, &ids, options.force)?;
    let mut report = Report::new(options.dry_run);
    if options.dry_run {
        for a in plan.actions().iter().filter(|a| a.status != Status::Done) {
            report.push(a.summary.clone(), Outcome::Skipped("dry run".to_owned()));
        }
        return Ok(report);
    }
    let dir = RootDir::open(root)?;
    tighten_state(&dir)?;
    if plan.is_up_to_date() {
        tidy_after_kill(&dir);
        return Ok(report);
    }
    let mut run = Run::start(
        root,
        options.fail_after,
        ids.is_privileged(),
        options.lock_timeout.unwrap_or(lock::DEFAULT_TIMEOUT),
    )?;
    // Planned again under the lock: another run may have changed the
    // tree since.
    let plan = plan::plan(root, installation, &options.plan)?;
    validate(&plan, &ids, options.force)?;
    let restart_wanted = plan
        .actions()
        .iter()
        .any(|a| matches!(a.step, Step::RestartDaemon));
    if restart_wanted && options.restart_daemon && !run.receipt.daemon_restart_pending {
        run.receipt.daemon_restart_pending = true;
        run.save()?;
    }
    for action in plan.actions().iter().filter(|a| a.status != Status::Done) {
        if let Step::RestartDaemon = action.step {
            let outcome = daemon::restart(root, options.restart_daemon);
            if run.receipt.daemon_restart_pending {
                run.receipt.daemon_restart_pending = false;
                run.save()?;
            }
            report.push(action.summary.clone(), outcome);
            continue;
        }
        let note = action::execute(&mut run, &action.step, installation, options.force)
            .map_err(|e| in_action(&action.summary, e))?;
        report.push(
            action.summary.clone(),
            note.map_or(Outcome::Done, Outcome::DoneWithNote),
        );
    }
    Ok(report)
}

/// Changing the host's own `/` needs root: say so before doing anything
/// rather than failing half-way.
pub(crate) fn require_privileges(root: &Path, ids: &Ids) -> Result<()> {
    if fsops::is_host_root(root) && !ids.is_privileged() {
        return Err(Error::NeedsRoot);
    }
    Ok(())
}

/// Refuse, before touching anything, a plan with blocked actions,
/// conflicts (unless `force`), or places we could not write to.
fn validate(plan: &Plan, ids: &Ids, force: bool) -> Result<()> {
    let mut problems = plan.problems(force);
    if !ids.is_privileged() {
        let dirs = plan
            .actions()
            .iter()
            .filter(|a| a.status != Status::Done)
            .filter_map(|a| a.writes_in.as_ref())
            .chain(plan.state_writes_in.as_ref());
        for dir in dirs {
            let writable = std::fs::metadata(dir).is_ok_and(|m| ids.can_write_dir(&m));
            let what = format!(
                "{} is not writable by this user; run as root",
                dir.display()
            );
            if !writable && !problems.contains(&what) {
                problems.push(what);
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::DesiredFile;
    use std::os::unix::fs::PermissionsExt;

    fn unprivileged() -> Ids {
        Ids {
            euid: 4242,
            egid: 4242,
            groups: Vec::new(),
        }
    }

    #[test]
    fn host_root_without_privileges_is_refused_with_a_clear_message() {
        let err = require_privileges(Path::new("/"), &unprivileged()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "applying to / needs root privileges: run as root (for example with sudo), or pass another root directory"
        );
        let root = tempfile::tempdir().unwrap();
        assert!(require_privileges(root.path(), &unprivileged()).is_ok());
        let root_ids = Ids {
            euid: 0,
            egid: 0,
            groups: Vec::new(),
        };
        assert!(require_privileges(Path::new("/"), &root_ids).is_ok());
    }

    #[test]
    fn unwritable_directory_is_refused_before_anything_changes() {
        let root = tempfile::tempdir().unwrap();
        let etc = root.path().join("etc");
        std::fs::create_dir(&etc).unwrap();
        let inst = Installation::new().file(DesiredFile::new("etc/nix/nix.conf", "x = 1\n"));
        let p = plan(root.path(), &inst, &PlanOptions::default()).unwrap();
        // Not ours (uid 4242 is not the owner) and not writable by others.
        std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = validate(&p, &unprivileged(), false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "{} is not writable by this user; run as root",
                etc.display()
            )),
            "{err}"
        );
        std::fs::set_permissions(&etc, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(validate(&p, &unprivileged(), false).is_ok());
    }
}
