//! Planning: every action of an installation looked at against the live
//! tree, in the order apply carries them out.

use std::collections::BTreeSet;
use std::path::Path;

use crate::action::{self, build_users, daemon, directory, file, symlink};
use crate::beneath::RootDir;
use crate::error::{Error, Result};
use crate::fsops::Ids;
use crate::installation::Installation;
use crate::planned::{ActionKind, Ownership, Plan, PlanOptions, PlannedAction, Status, Step};
use crate::planner::Planner;
use crate::receipt::{Receipt, Record, STATE_DIR};
use crate::relpath::RelPath;
use crate::state::state_dir_check;

/// Plan `installation` against the tree under `root`: each action is
/// looked at on disk and marked done, pending, conflicting or blocked.
/// Reads only; never changes anything.
pub fn plan(root: &Path, installation: &Installation, options: &PlanOptions) -> Result<Plan> {
    let meta = std::fs::metadata(root).map_err(|e| Error::Root {
        path: root.to_path_buf(),
        message: e.to_string(),
    })?;
    if !meta.is_dir() {
        return Err(Error::Root {
            path: root.to_path_buf(),
            message: "not a directory".to_owned(),
        });
    }
    let desired = installation.validate()?;
    let ids = Ids::current();
    let enforce_ownership = match options.ownership {
        Ownership::Auto => ids.is_privileged(),
        Ownership::Enforce => true,
        Ownership::Ignore => false,
    };
    let dir = RootDir::open(root)?;
    let receipt = Receipt::load_in(&dir)?;
    let mut planner = Planner {
        root: &dir,
        receipt: receipt.as_ref(),
        actions: Vec::new(),
    };

    // Records of what is no longer configured (or configured as another
    // kind of entry) are retired first, latest first, as revert would.
    let mut wanted: BTreeSet<(&'static str, &RelPath)> = BTreeSet::new();
    wanted.extend(desired.directories.iter().map(|(p, _)| ("directory", p)));
    wanted.extend(desired.symlinks.iter().map(|(p, _)| ("symlink", p)));
    wanted.extend(desired.files.iter().map(|(p, _)| ("file", p)));
    for record in receipt.iter().flat_map(|r| r.records.iter().rev()) {
        let key = match record {
            Record::Directory { path, .. } => ("directory", path),
            Record::Symlink { path, .. } => ("symlink", path),
            Record::File { path, .. } => ("file", path),
            Record::External { action, .. } => {
                if action == build_users::BUILD_USERS && installation.retires_build_users() {
                    build_users::plan_retire(&mut planner, record);
                }
                continue;
            }
        };
        if !wanted.contains(&key) {
            action::plan_retire(&mut planner, record)?;
        }
    }
    // The build users and their group come before the directories and
    // files, which may be owned by them.
    if let Some(users) = installation.planned_build_users() {
        build_users::plan(&mut planner, users, root);
    }
    for (path, d) in &desired.directories {
        let owner = if enforce_ownership {
            directory::owner_ids(&dir, d)?
        } else {
            None
        };
        directory::plan(&mut planner, path, d, owner)?;
    }
    for (path, link) in &desired.symlinks {
        symlink::plan(&mut planner, path, link)?;
    }
    for (path, f) in &desired.files {
        file::plan(&mut planner, path, f)?;
    }
    daemon::plan(
        &mut planner,
        receipt.as_ref().is_some_and(|r| r.daemon_restart_pending),
    );
    let mut actions = planner.actions;
    // The receipt goes under the root too: if its directory is missing,
    // its nearest existing parent must be writable.
    let mut state_writes_in = None;
    if actions.iter().any(|a| a.status != Status::Done) {
        let state = RelPath::parse(STATE_DIR).map_err(|m| Error::Root {
            path: root.to_path_buf(),
            message: m,
        })?;
        match state_dir_check(&dir) {
            Ok(writes_in) => state_writes_in = Some(writes_in),
            Err(refusal) => actions.insert(
                0,
                PlannedAction {
                    kind: ActionKind::Directory,
                    path: Some(state.display()),
                    status: Status::Blocked,
                    summary: format!(
                        "cannot keep the receipt under {}: {}",
                        state.display(),
                        refusal
                    ),
                    diff: None,
                    step: Step::Refused,
                    writes_in: None,
                    restarts_daemon: false,
                },
            ),
        }
    }
    Ok(Plan {
        root: root.to_path_buf(),
        up_to_date: actions.iter().all(|a| a.status == Status::Done),
        actions,
        state_writes_in,
    })
}
