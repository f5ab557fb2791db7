//! The build users and their group, an action kind like the others:
//! planned by `nixconf-users` against the root's accounts when the
//! installation is made, carried out through its `apply` (all or
//! nothing), undone through its `undo`. In the receipt, its records are
//! `{"kind": "external", "action": "build users", "journal": ...}`, as
//! before the action was built in.
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

use nixconf_users::{Journal, PoolRequest};
use serde_json::Value;

use crate::error::{failed, Error, Result};
use crate::fsops::{self, io_error};
use crate::path::check_account_files;
use crate::planned::{ActionKind, PlannedAction, Status, Step};
use crate::planner::Planner;
use crate::receipt::{receipt_rel, Receipt, Record};
use crate::run::{Note, Run};
use nixconf_users::Step as UserStep;

/// The name the build users' journals are recorded under in the receipt.
pub const BUILD_USERS: &str = "build users";

/// The build users and group a configuration asks for, planned against
/// one root's accounts.
#[derive(Debug)]
pub struct BuildUsers {
    plan: nixconf_users::Plan,
    /// `ROOT/etc/passwd` when the root has none: not a Linux root, and
    /// users created there would live in a passwd without `root`.
    missing_passwd: Option<std::path::PathBuf>,
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
        let passwd = root.join("etc/passwd");
        let missing_passwd = std::fs::symlink_metadata(&passwd)
            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            .then_some(passwd);
        Ok(BuildUsers {
            plan,
            missing_passwd,
        })
    }

    /// The users crate's plan.
    pub fn users_plan(&self) -> &nixconf_users::Plan {
        &self.plan
    }

    /// Whether the accounts are already as planned.
    pub(crate) fn is_done(&self) -> bool {
        self.plan.steps.is_empty()
    }

    /// What it would change, one line each, for the plan.
    pub(crate) fn describe(&self) -> Vec<String> {
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

    /// Why it cannot be carried out (a clash with what the tree holds),
    /// one line each with its fix; applying is refused while there are
    /// any.
    pub(crate) fn problems(&self) -> Vec<String> {
        let missing = self
            .missing_passwd
            .as_ref()
            .filter(|_| !self.plan.steps.is_empty())
            .map(|p| {
                format!(
                    "build users: {}: no such file; is this a Linux root?",
                    p.display()
                )
            });
        missing
            .into_iter()
            .chain(self.plan.conflicts.iter().map(|c| {
                let mut line = format!("build users: {}", c.message);
                if let Some(l) = &c.location {
                    line.push_str(&format!(" ({l})"));
                }
                if let Some(fix) = &c.fix {
                    line.push_str(&format!("; fix: {fix}"));
                }
                line
            }))
            .collect()
    }

    /// The journal recorded in the receipt just before
    /// [`BuildUsers::run`] runs, replaced by its real journal once it
    /// returns: a run killed in between leaves this one, which
    /// [`undo_build_users`] takes back.
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

    /// Carry it out on `root`; the journal is what undoing it needs.
    fn run(&self, root: &Path) -> std::result::Result<Value, String> {
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
        let steps: Vec<UserStep> = match journal.get("steps") {
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
                UserStep::CreateUser { name, .. } => {
                    managed.insert(name);
                }
                UserStep::RemoveUser { name } if !intent => {
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
pub(crate) fn undo_build_users(root: &Path, journal: &Value) -> std::result::Result<(), String> {
    if journal.get("files").is_some() || journal.get("intent").is_some_and(Value::is_array) {
        return undo_whole_files(root, journal);
    }
    let journal: Journal =
        serde_json::from_value(journal.clone()).map_err(|e| format!("bad journal: {e}"))?;
    nixconf_users::undo(root, &journal).map_err(|e| e.to_string())
}

/// Plan the build users: blocked by a clash the users crate found, or by
/// an account file leading out of the root (the shadow tools run on the
/// host and would follow it).
pub(crate) fn plan(planner: &mut Planner<'_>, users: &BuildUsers, root: &Path) {
    let problems = users.problems();
    let (status, summary) = if !problems.is_empty() {
        (Status::Blocked, problems.join("\n"))
    } else if users.is_done() {
        (Status::Done, format!("{BUILD_USERS}: up to date"))
    } else if let Err(refused) = check_account_files(root) {
        (Status::Blocked, format!("{BUILD_USERS}: {refused}"))
    } else {
        (Status::Pending, users.describe().join("\n"))
    };
    planner.actions.push(PlannedAction {
        kind: ActionKind::BuildUsers,
        path: None,
        status,
        summary,
        diff: None,
        step: if status == Status::Blocked {
            Step::Refused
        } else {
            Step::BuildUsers
        },
        writes_in: None,
        restarts_daemon: false,
    });
}

/// Plan taking back the build users of a journal in the receipt: the
/// installation asks for none any more.
pub(crate) fn plan_retire(planner: &mut Planner<'_>, record: &Record) {
    planner.actions.push(PlannedAction {
        kind: ActionKind::Retire,
        path: None,
        status: Status::Pending,
        summary: format!("{BUILD_USERS} are no longer configured: undo what nixconf did for them"),
        diff: None,
        step: Step::Retire {
            record: record.clone(),
        },
        writes_in: None,
        restarts_daemon: false,
    });
}

/// Create and remove the build users: the intent is recorded first (so a
/// run killed while the users crate works leaves something revert can
/// take back), then replaced by the journal it returns.
pub(crate) fn execute(run: &mut Run<'_>, users: &BuildUsers) -> Result<Note> {
    let intent = users.intent(run.root).map_err(failed)?;
    let slot = run.receipt.records.len();
    if !intent.is_null() {
        run.receipt.records.push(Record::External {
            action: BUILD_USERS.to_owned(),
            journal: intent,
        });
        run.save()?;
    }
    // The shadow tools run on the host and follow symlinks from its
    // `/`: none of the files they touch may lead out of the root.
    check_account_files(run.root)?;
    fsops::failpoint("spawn").map_err(|e| io_error(run.root, e))?;
    let journal = users.run(run.root).map_err(failed)?;
    run.receipt.records.truncate(slot);
    run.receipt.records.push(Record::External {
        action: BUILD_USERS.to_owned(),
        journal,
    });
    run.save()?;
    Ok(None)
}

/// Undo a build-users journal of the receipt, after checking the account
/// files once more.
pub(crate) fn undo(run: &Run<'_>, journal: &Value) -> std::result::Result<(), String> {
    check_account_files(run.root).map_err(|e| e.to_string())?;
    fsops::failpoint("spawn").map_err(|e| e.to_string())?;
    undo_build_users(run.root, journal)
}

/// A file as an older nixconf recorded it: bytes, mode, uid, gid.
type WholeFile = (Vec<u8>, u32, u32, u32);

/// Undo a record of an older nixconf, which kept every account file
/// whole before (and after) its apply: each file still as that apply
/// left it (or, for the intent of a run killed half-way, in any state)
/// is put back as it was before; one changed since is refused, changing
/// nothing. Such records hold copies of the shadow files; once undone,
/// they leave the receipt with the rest of it.
fn undo_whole_files(root: &Path, journal: &Value) -> std::result::Result<(), String> {
    let intent = journal.get("files").is_none();
    let records = journal
        .get("files")
        .or_else(|| journal.get("intent"))
        .and_then(Value::as_array)
        .ok_or("bad journal: `files` is not a list")?;
    let contents = |state: &Value| -> std::result::Result<Option<WholeFile>, String> {
        if state.is_null() {
            return Ok(None);
        }
        let bytes = match &state["contents"] {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Array(a) => a
                .iter()
                .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect::<Option<Vec<u8>>>()
                .ok_or("bad journal: contents are not bytes")?,
            _ => return Err("bad journal: a file state has no contents".to_owned()),
        };
        let num = |k: &str| {
            state[k]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("bad journal: a file state has no {k}"))
        };
        Ok(Some((bytes, num("mode")?, num("uid")?, num("gid")?)))
    };
    let mut todo = Vec::new();
    let mut changed = Vec::new();
    for r in records {
        let rel = r["path"]
            .as_str()
            .ok_or("bad journal: a file has no path")?;
        let safe = !rel.is_empty()
            && !rel.starts_with('/')
            && rel
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..")
            && (rel.starts_with("etc/")
                || rel.starts_with("var/mail/")
                || rel.starts_with("var/spool/mail/"));
        if !safe {
            return Err(format!("bad journal: {rel} is not an account file"));
        }
        let path = root.join(rel);
        let now = match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!("{}: a symbolic link; not restored", path.display()))
            }
            Ok(_) => Some(std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let before = contents(&r["before"])?;
        let after = contents(&r["after"])?;
        if now.as_deref() == before.as_ref().map(|b| b.0.as_slice()) {
            continue;
        }
        if !intent && now.as_deref() != after.as_ref().map(|a| a.0.as_slice()) {
            changed.push(rel.to_owned());
            continue;
        }
        todo.push((path, before));
    }
    if !changed.is_empty() {
        return Err(format!(
            "cannot undo: {} changed after the apply (a record of an older nixconf, which can only put whole files back); undoing would discard those changes",
            changed.join(", ")
        ));
    }
    for (path, before) in todo {
        match before {
            None => std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?,
            Some((bytes, mode, uid, gid)) => {
                write_whole(&path, &bytes, mode, uid, gid)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

/// Replace `path` atomically with `bytes`, owned `uid:gid`, mode `mode`.
fn write_whole(path: &Path, bytes: &[u8], mode: u32, uid: u32, gid: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".nixconf-new");
    let tmp = std::path::PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        let meta = f.metadata()?;
        if meta.uid() != uid || meta.gid() != gid {
            std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
        }
        f.set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use crate::action::build_users::*;
    use crate::receipt::{Receipt, Record, STATE_DIR};
    use serde_json::Value;
    use std::path::Path;

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

    /// A record of an older nixconf (whole files before and after) is
    /// still undone, and refused when the file changed since.
    #[test]
    fn records_of_older_versions_are_undone_whole() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        let before = "root:x:0:0::/root:/bin/sh\n";
        let after = "root:x:0:0::/root:/bin/sh\nnixbld1:x:30001:30000::/var/empty:/sbin/nologin\n";
        std::fs::write(r.join("etc/passwd"), after).unwrap();
        std::fs::write(r.join("etc/passwd-"), before).unwrap();
        let state = |c: &str| serde_json::json!({"contents": c, "mode": 0o644, "uid": 0, "gid": 0});
        let journal = serde_json::json!({"method": "shadow-tools", "steps": [create("nixbld1")],
        "files": [
            {"path": "etc/passwd", "before": state(before), "after": state(after)},
            {"path": "etc/passwd-", "before": null, "after": state(before)},
        ]});
        std::fs::write(
            r.join("etc/passwd"),
            format!("{after}dave:x:1:1::/:/bin/sh\n"),
        )
        .unwrap();
        let err = undo_build_users(r, &journal).unwrap_err();
        assert!(
            err.starts_with("cannot undo: etc/passwd changed after the apply"),
            "{err}"
        );
        assert!(
            r.join("etc/passwd-").exists(),
            "a refused undo changed files"
        );
        std::fs::write(r.join("etc/passwd"), after).unwrap();
        undo_build_users(r, &journal).unwrap();
        assert_eq!(
            std::fs::read_to_string(r.join("etc/passwd")).unwrap(),
            before
        );
        assert!(!r.join("etc/passwd-").exists());
        // Run again: already undone.
        undo_build_users(r, &journal).unwrap();
        let bad =
            serde_json::json!({"files": [{"path": "../outside", "before": null, "after": null}]});
        assert!(undo_build_users(r, &bad)
            .unwrap_err()
            .contains("not an account file"));
    }
}
