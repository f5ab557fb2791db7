//! The build users and their group as an external action: planned by
//! `nixconf-users` against the root's accounts when the installation is
//! made, carried out through its `apply` (all or nothing), undone through
//! its `undo`.
//!
//! Every apply that changes the accounts appends its own journal to the
//! receipt, and revert undoes them latest first. A journal holds only the
//! entries that apply changed (the lines it added, the fields it edited,
//! the lines it removed), never a whole account file, another account's
//! line or a password hash: the receipt can be read by anyone. Undoing
//! one takes back exactly those entries on the files as they are then,
//! so accounts added since (a `useradd dave`) survive and do not block
//! the revert.
//!
//! Before the apply runs, its preview (the same journal, computed without
//! writing) is recorded as an intent: a run killed half-way leaves it,
//! and undoing it takes back whatever part of the apply happened.
//!
//! The same journals say which users nixconf created: replayed in order,
//! each `CreateUser` step adds a name and each `RemoveUser` step takes it
//! away. Only those users are ever removed when the configuration no
//! longer asks for them.

use std::collections::BTreeSet;
use std::path::Path;

use nixconf_users::{Journal, PoolRequest, Step};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::installation::ExternalAction;
use crate::receipt::{receipt_rel, Receipt, Record};

/// The kind the build users' journals are recorded and undone under.
pub const BUILD_USERS: &str = "build users";

/// The build users and group a configuration asks for, planned against
/// one root's accounts.
#[derive(Debug)]
pub struct BuildUsers {
    plan: nixconf_users::Plan,
}

impl BuildUsers {
    /// Plan `request` against the accounts under `root` (read now: the
    /// apply refuses if they change before it runs). The users earlier
    /// applies created ([`managed_build_users`]) that the request no
    /// longer asks for are removed.
    pub fn plan(root: &Path, request: &PoolRequest) -> Result<BuildUsers> {
        let managed = managed_build_users(root)?;
        let plan = nixconf_users::plan_with_managed(root, request, &managed).map_err(|e| {
            Error::Users {
                message: e.to_string(),
            }
        })?;
        Ok(BuildUsers { plan })
    }

    /// The users crate's plan.
    pub fn users_plan(&self) -> &nixconf_users::Plan {
        &self.plan
    }
}
impl ExternalAction for BuildUsers {
    fn kind(&self) -> &str {
        BUILD_USERS
    }

    fn is_done(&self) -> bool {
        self.plan.steps.is_empty()
    }

    fn describe(&self) -> Vec<String> {
        // The users crate's own account of its plan, without its final
        // count line: the plan has its own.
        let text = self.plan.to_string();
        let lines: Vec<&str> = text.lines().collect();
        let keep = lines.len().saturating_sub(1);
        lines[..keep]
            .iter()
            .map(|l| format!("build users: {l}"))
            .collect()
    }

    fn problems(&self) -> Vec<String> {
        self.plan
            .conflicts
            .iter()
            .map(|c| {
                let mut line = format!("build users: {}", c.message);
                if let Some(l) = &c.location {
                    line.push_str(&format!(" ({l})"));
                }
                if let Some(fix) = &c.fix {
                    line.push_str(&format!("; fix: {fix}"));
                }
                line
            })
            .collect()
    }

    fn intent(&self, root: &Path) -> std::result::Result<Value, String> {
        // The journal the apply will return, recorded ahead: its steps
        // (a run killed after creating some users leaves them, and they
        // are ours to remove later like any other) and its entries.
        let journal = nixconf_users::preview(root, &self.plan).map_err(|e| e.to_string())?;
        let mut value = serde_json::to_value(&journal).map_err(|e| e.to_string())?;
        if let Value::Object(map) = &mut value {
            map.insert("intent".to_owned(), Value::Bool(true));
        }
        Ok(value)
    }

    fn execute(&self, root: &Path) -> std::result::Result<Value, String> {
        let journal = nixconf_users::apply(root, &self.plan).map_err(|e| e.to_string())?;
        serde_json::to_value(&journal).map_err(|e| e.to_string())
    }
}

/// The build users nixconf created under `root` and has not removed
/// since, from the journals in its receipt (none without a receipt).
///
/// A journal's `CreateUser` steps add names and its `RemoveUser` steps
/// take them away, in the order the applies ran. The intent of a run
/// killed half-way adds the users it meant to create (those it did create
/// are ours; one it did not is absent and so never removed) and takes
/// none away (a removal it did not get to leaves a user that is still
/// ours).
pub fn managed_build_users(root: &Path) -> Result<BTreeSet<String>> {
    let Some(receipt) = Receipt::load(root)? else {
        return Ok(BTreeSet::new());
    };
    let mut managed = BTreeSet::new();
    for (i, record) in receipt.records.iter().enumerate() {
        let Record::External { action, journal } = record else {
            continue;
        };
        if action != BUILD_USERS {
            continue;
        }
        let bad = |e: serde_json::Error| Error::Receipt {
            path: receipt_rel().under(root),
            message: format!("record {i} ({BUILD_USERS}) has unreadable steps: {e}"),
        };
        let intent = journal.get("intent").is_some();
        let steps: Vec<Step> = match journal.get("steps") {
            Some(steps) => serde_json::from_value(steps.clone()).map_err(bad)?,
            // Intents recorded before they carried their steps.
            None if intent => Vec::new(),
            None => {
                return Err(Error::Receipt {
                    path: receipt_rel().under(root),
                    message: format!("record {i} ({BUILD_USERS}) has no steps"),
                })
            }
        };
        for step in steps {
            match step {
                Step::CreateUser { name, .. } => {
                    managed.insert(name);
                }
                Step::RemoveUser { name } if !intent => {
                    managed.remove(&name);
                }
                _ => {}
            }
        }
    }
    Ok(managed)
}

/// Undo a build-users journal recorded in the receipt: a finished apply's
/// journal, or the intent of an apply killed while it worked (whatever
/// part of it happened is taken back), through `nixconf_users::undo`.
pub fn undo_build_users(root: &Path, journal: &Value) -> std::result::Result<(), String> {
    if journal.get("files").is_some() || journal.get("intent").is_some_and(Value::is_array) {
        return Err("this build-users record was written by an older nixconf, which kept whole account files; it cannot be undone entry by entry (remove the build users with userdel, then remove the record from the receipt)".to_owned());
    }
    let journal: Journal =
        serde_json::from_value(journal.clone()).map_err(|e| format!("bad journal: {e}"))?;
    nixconf_users::undo(root, &journal).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::STATE_DIR;

    fn create(name: &str) -> Value {
        serde_json::json!({"op": "create-user", "name": name, "uid": 30001, "group": "nixbld",
            "gid": 30000, "description": "d", "home": "/var/empty", "shell": "/sbin/nologin"})
    }

    fn remove(name: &str) -> Value {
        serde_json::json!({"op": "remove-user", "name": name})
    }

    fn root_with(journals: Vec<Value>) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(STATE_DIR)).unwrap();
        let mut receipt = Receipt::new();
        for journal in journals {
            receipt.records.push(Record::External {
                action: BUILD_USERS.to_owned(),
                journal,
            });
        }
        receipt.save(root.path()).unwrap();
        root
    }

    fn managed(root: &Path) -> Vec<String> {
        managed_build_users(root).unwrap().into_iter().collect()
    }

    #[test]
    fn journals_replay_in_order_and_intents_only_add() {
        let root = root_with(vec![
            serde_json::json!({"steps": [create("nixbld1"), create("nixbld2"), create("nixbld3")]}),
            serde_json::json!({"steps": [remove("nixbld3")]}),
            // A run killed half-way: nixbld2's removal may not have
            // happened, nixbld4 may exist.
            serde_json::json!({"intent": true, "steps": [remove("nixbld2"), create("nixbld4")]}),
            // An intent from before intents carried their steps.
            serde_json::json!({"intent": []}),
        ]);
        assert_eq!(managed(root.path()), ["nixbld1", "nixbld2", "nixbld4"]);
    }

    #[test]
    fn no_receipt_means_no_managed_users() {
        let root = tempfile::tempdir().unwrap();
        assert!(managed(root.path()).is_empty());
    }

    #[test]
    fn a_journal_without_readable_steps_is_an_error_naming_the_record() {
        let root = root_with(vec![serde_json::json!({"entries": []})]);
        let err = managed_build_users(root.path()).unwrap_err().to_string();
        assert!(
            err.ends_with("receipt.json: record 0 (build users) has no steps"),
            "{err}"
        );
        let root = root_with(vec![
            serde_json::json!({"steps": [{"op": "teleport-user"}]}),
        ]);
        let err = managed_build_users(root.path()).unwrap_err().to_string();
        assert!(
            err.contains(
                "record 0 (build users) has unreadable steps: unknown variant `teleport-user`"
            ),
            "{err}"
        );
    }
}
