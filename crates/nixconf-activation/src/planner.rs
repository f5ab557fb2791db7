//! The planner: what every action kind needs to look at the live tree and
//! add its planned action (a leaf below the action kinds).

use std::path::PathBuf;

use crate::beneath::RootDir;
use crate::observe::Current;
use crate::path::{Entry, Resolved};
use crate::planned::{ActionKind, PlannedAction, Status, Step};
use crate::receipt::{Receipt, Record};
use crate::relpath::RelPath;

/// The deepest existing directory on the way to a resolved path: where
/// creating it writes.
pub(crate) fn existing_dir(root: &RootDir, r: &Resolved) -> PathBuf {
    let comps: Vec<String> = r.real.components().map(str::to_owned).collect();
    let keep = match r.entry {
        Entry::Missing => r.existing,
        _ => comps.len().saturating_sub(1),
    };
    root.path().join(comps[..keep.min(comps.len())].join("/"))
}

/// A plan being made: the root's handle, its receipt, and the actions
/// planned so far, in order.
pub(crate) struct Planner<'a> {
    pub(crate) root: &'a RootDir,
    pub(crate) receipt: Option<&'a Receipt>,
    pub(crate) actions: Vec<PlannedAction>,
}

/// Text for a diff: the file's bytes when they are UTF-8.
pub(crate) fn text_of(current: &Current) -> Option<&str> {
    match current {
        Current::File { bytes, .. } => std::str::from_utf8(bytes).ok(),
        Current::Missing => Some(""),
        _ => None,
    }
}

impl Planner<'_> {
    pub(crate) fn record(&self, path: &RelPath) -> Option<&Record> {
        self.receipt.and_then(|r| r.find(path))
    }

    pub(crate) fn blocked(&mut self, kind: ActionKind, path: &RelPath, why: String) {
        self.actions.push(PlannedAction {
            kind,
            path: Some(path.display()),
            status: Status::Blocked,
            summary: format!("{}: {why}", path.display()),
            diff: None,
            step: Step::Refused,
            writes_in: None,
            restarts_daemon: false,
        });
    }
}

/// ` (at /real/path)` when a symlink on the way leads elsewhere.
pub(crate) fn through(path: &RelPath, real: &RelPath) -> String {
    if path == real {
        String::new()
    } else {
        format!(" (at {}, through a symlink)", real.display())
    }
}
