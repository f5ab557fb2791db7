//! A plan and its actions: what planning produces and applying carries
//! out (a leaf below the planner and the action kinds).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::desired::DesiredFile;
use crate::receipt::Record;
use crate::relpath::RelPath;

/// Whether directory owners are checked and set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Ownership {
    /// Enforce owners when running as root, ignore them otherwise (only
    /// root can give a directory away, and a tree built by an unprivileged
    /// user belongs to that user).
    #[default]
    Auto,
    /// Always check and set owners.
    Enforce,
    /// Never look at owners.
    Ignore,
}

/// How to plan.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct PlanOptions {
    /// Whether directory owners are managed.
    pub ownership: Ownership,
}

impl PlanOptions {
    /// Set how owners are handled.
    pub fn ownership(mut self, ownership: Ownership) -> PlanOptions {
        self.ownership = ownership;
        self
    }
}

/// Where an action stands against the live tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Nothing to do.
    Done,
    /// To be carried out.
    Pending,
    /// A file we manage was edited by hand: applying needs `force`.
    Conflict,
    /// Cannot be carried out (a symlink out of the root, a directory where
    /// a file should be); applying is refused.
    Blocked,
}

/// What an action is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActionKind {
    /// A directory with its mode and owner.
    Directory,
    /// A symlink.
    Symlink,
    /// A file with its contents and mode.
    File,
    /// Undo what an earlier apply did for something no longer configured.
    Retire,
    /// The build users and their group (`external` in the plan's JSON,
    /// as before they were built in).
    #[serde(rename = "external")]
    BuildUsers,
    /// Restart the Nix daemon.
    RestartDaemon,
}

/// The internal part of an action: what to carry out.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Directory {
        path: RelPath,
        mode: u32,
        /// Owner and group ids, when owners are managed.
        owner: Option<(u32, u32)>,
    },
    Symlink {
        path: RelPath,
        target: PathBuf,
    },
    File {
        path: RelPath,
        file: DesiredFile,
    },
    Retire {
        record: Record,
    },
    /// The installation's build users.
    BuildUsers,
    RestartDaemon,
    /// Nothing can be done (a blocked action).
    Refused,
}

/// One action of a plan.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct PlannedAction {
    /// What it is about.
    pub kind: ActionKind,
    /// The path it manages, as seen from inside the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Where it stands.
    pub status: Status,
    /// One line saying what it does (or why it cannot).
    pub summary: String,
    /// For files: the change as a unified diff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(skip)]
    pub(crate) step: Step,
    /// A host directory we must be able to write into to carry it out.
    #[serde(skip)]
    pub(crate) writes_in: Option<PathBuf>,
    /// The daemon reads what this action changes.
    #[serde(skip)]
    pub(crate) restarts_daemon: bool,
}

/// A plan: every action of an installation, in order, with its status.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub(crate) root: PathBuf,
    pub(crate) up_to_date: bool,
    pub(crate) actions: Vec<PlannedAction>,
    /// Where creating our state directory writes, when it is needed.
    #[serde(skip)]
    pub(crate) state_writes_in: Option<PathBuf>,
}

impl Plan {
    /// Whether nothing is left to do.
    pub fn is_up_to_date(&self) -> bool {
        self.up_to_date
    }

    /// Every action, done or not, in the order they run.
    pub fn actions(&self) -> &[PlannedAction] {
        &self.actions
    }

    /// The root the plan was made against.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Why applying would be refused: blocked actions, and conflicts
    /// unless `force`.
    pub fn problems(&self, force: bool) -> Vec<String> {
        self.actions
            .iter()
            .filter(|a| a.status == Status::Blocked || (a.status == Status::Conflict && !force))
            .map(|a| a.summary.clone())
            .collect()
    }

    /// The plan for people: one line per action to carry out, each file's
    /// change as a unified diff indented under it, a final count; or
    /// `up to date`.
    pub fn describe(&self) -> String {
        if self.up_to_date {
            return "up to date\n".to_owned();
        }
        let mut out = String::new();
        let mut todo = 0;
        for a in &self.actions {
            let prefix = match a.status {
                Status::Done => continue,
                Status::Pending => "",
                Status::Conflict => "conflict: ",
                Status::Blocked => "refused: ",
            };
            todo += 1;
            out.push_str(prefix);
            out.push_str(&a.summary);
            out.push('\n');
            if let Some(diff) = &a.diff {
                for line in diff.lines() {
                    out.push_str("    ");
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        let done = self.actions.len() - todo;
        out.push_str(&format!("\n{todo} to do, {done} up to date\n"));
        out
    }

    /// The version of the JSON [`Plan::to_json`] prints (the README's
    /// "Plan JSON" section): bumped when a field changes meaning.
    pub const JSON_VERSION: u32 = 1;

    /// The plan as pretty-printed JSON: `{"version", "root", "up_to_date",
    /// "actions": [{"kind", "path", "status", "summary", "diff"}],
    /// "warnings"}`.
    pub fn to_json(&self) -> String {
        self.to_json_with_warnings(&[])
    }

    /// [`Plan::to_json`] with the configuration's warnings (renamed
    /// options and the like), one line each.
    pub fn to_json_with_warnings(&self, warnings: &[String]) -> String {
        #[derive(Serialize)]
        struct Versioned<'a> {
            version: u32,
            #[serde(flatten)]
            plan: &'a Plan,
            warnings: &'a [String],
        }
        serde_json::to_string_pretty(&Versioned {
            version: Plan::JSON_VERSION,
            plan: self,
            warnings,
        })
        .unwrap_or_default()
    }
}

pub(crate) fn mode_str(mode: u32) -> String {
    format!("{mode:04o}")
}
