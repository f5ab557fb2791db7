//! Restarting the Nix daemon: planned when a file it reads changes (or a
//! restart asked for earlier has not happened yet), carried out with
//! `systemctl` only on the host's `/` under systemd. It changes nothing
//! under the root, so there is nothing to undo.

use std::path::Path;
use std::process::Command;

use crate::fsops;
use crate::planned::{ActionKind, PlannedAction, Status, Step};
use crate::planner::Planner;
use crate::report::Outcome;

/// Plan the restart after the other actions: when one that changes what
/// the daemon reads is to be carried out, or `pending` (asked for earlier
/// and not done yet).
pub(crate) fn plan(planner: &mut Planner<'_>, pending: bool) {
    let changed: Vec<String> = planner
        .actions
        .iter()
        .filter(|a| a.restarts_daemon && a.status != Status::Done)
        .filter_map(|a| a.path.clone())
        .collect();
    if changed.is_empty() && !pending {
        return;
    }
    let why = if changed.is_empty() {
        "a restart asked for earlier has not happened yet".to_owned()
    } else {
        format!("it reads {}", changed.join(", "))
    };
    planner.actions.push(PlannedAction {
        kind: ActionKind::RestartDaemon,
        path: None,
        status: Status::Pending,
        summary: format!("restart nix-daemon.service ({why})"),
        diff: None,
        step: Step::RestartDaemon,
        writes_in: None,
        restarts_daemon: false,
    });
}

/// Restart the daemon, when `requested` and it runs here.
pub(crate) fn restart(root: &Path, requested: bool) -> Outcome {
    if !requested {
        return Outcome::Skipped("not asked to restart the daemon".to_owned());
    }
    if !fsops::is_host_root(root) {
        return Outcome::Skipped("the root is not /, so its daemon is not running here".to_owned());
    }
    if !Path::new("/run/systemd/system").is_dir() {
        return Outcome::Skipped("systemd is not running".to_owned());
    }
    for args in [
        &["daemon-reload"][..],
        &["restart", "nix-daemon.service"][..],
    ] {
        match Command::new("systemctl").args(args).output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return Outcome::Failed(format!(
                    "systemctl {} failed ({}): {}",
                    args.join(" "),
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
            Err(e) => return Outcome::Failed(format!("cannot run systemctl: {e}")),
        }
    }
    Outcome::Done
}
