//! Planning the pool against the accounts a machine already has.
//!
//! [`types`] holds the plan and its parts (their serde form is the JSON
//! of `nixconf users plan --json`) and [`describe`] its text. The
//! planning itself: [`planner`] reads what the pool can touch in one pass
//! over passwd, [`users`] plans the group and each user, [`lints`] adds
//! warnings and the `auto-allocate-uids` range's conflicts, [`order`]
//! orders the steps, [`ids`] chooses free ids, and [`repairs`] adds what
//! a killed run left out of the shadow files (read here, never kept).

mod describe;
mod ids;
mod lints;
mod order;
mod planner;
mod repairs;
pub(crate) mod types;
mod users;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use self::planner::Planner;
use self::repairs::add_repairs;
use self::types::{IdRange, Plan};
use crate::accounts::{read_optional, Accounts, INPUT_FILES};
use crate::fingerprint::fingerprint;
use crate::request::PoolRequest;
use crate::Error;

pub use self::ids::free_range;

/// Plan `request` against the account files under `root`, for a pool
/// nixconf has not created any user of (nothing is removed; see
/// [`plan_with_managed`]).
pub fn plan(root: &Path, request: &PoolRequest) -> Result<Plan, Error> {
    plan_with_managed(root, request, &BTreeSet::new())
}

/// Plan `request` against the account files under `root`; `managed`
/// names the users earlier applies created (and not removed since).
///
/// Those of them the request no longer asks for are removed, as NixOS
/// removes the users it created once they are no longer declared. No
/// other account is ever removed, however much it looks like a build
/// user: one beyond the pool is reported as a
/// [`LintKind::SurplusUser`](crate::LintKind::SurplusUser).
pub fn plan_with_managed(
    root: &Path,
    request: &PoolRequest,
    managed: &BTreeSet<String>,
) -> Result<Plan, Error> {
    let [passwd, group, subuid, subgid] = INPUT_FILES.map(|f| read_optional(&root.join(f)));
    let files = [passwd?, group?, subuid?, subgid?];

    let inputs = INPUT_FILES
        .iter()
        .zip(&files)
        .map(|(f, b)| ((*f).to_owned(), b.as_deref().map(fingerprint)))
        .collect();
    let accounts = Accounts::from_vecs(files);
    let mut plan = plan_accounts_with_managed(&accounts, request, managed);
    plan.inputs = inputs;
    // The shadow files are checked too (a user without its shadow line is
    // not up to date), but never kept: they hold hashes. One that cannot
    // be read (not root) is not checked.
    let unreadable_is_none = |rel: &str| match read_optional(&root.join(rel)) {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::PermissionDenied => {
            Ok(None)
        }
        other => other,
    };
    let shadow = unreadable_is_none("etc/shadow")?;
    let gshadow = unreadable_is_none("etc/gshadow")?;
    add_repairs(&mut plan, &accounts, shadow, gshadow);
    Ok(plan)
}

/// Plan `request` against already-parsed accounts. [`plan`] reads the
/// files and fills in [`Plan::inputs`]; this leaves it empty.
pub fn plan_accounts(acc: &Accounts, req: &PoolRequest) -> Plan {
    plan_accounts_with_managed(acc, req, &BTreeSet::new())
}

/// [`plan_accounts`] for a pool of which `managed` names the users
/// earlier applies created (see [`plan_with_managed`]).
pub fn plan_accounts_with_managed(
    acc: &Accounts,
    req: &PoolRequest,
    managed: &BTreeSet<String>,
) -> Plan {
    run(Planner::new(acc, req, managed))
}

/// The whole planning, in order.
fn run(mut p: Planner<'_>) -> Plan {
    let req = p.req;
    let (group, group_line) = p.plan_group();
    p.group_members = group_line
        .and_then(|l| p.acc.group.entry(l))
        .map(|g| g.members.into_iter().collect())
        .unwrap_or_default();
    let mut users = Vec::new();
    let mut uid_conflict = false;
    // uid -> the pool user that holds it now and moves away.
    let mut moving_from: HashMap<u32, String> = HashMap::new();
    for i in 1..=req.count() {
        let (plan, clash) = p.plan_user(i, &group, group_line, &mut moving_from);
        uid_conflict |= clash;
        users.push(plan);
    }
    if uid_conflict {
        p.add_free_base_fix();
    }
    let auto_allocate = req.auto_allocate_uids().then(|| IdRange {
        start: req.start_id(),
        count: req.id_count(),
    });
    if req.auto_allocate_uids() {
        p.auto_range_conflicts(&group);
    }
    let removals = p.removals();
    p.lint_surplus(&group, group_line);
    p.lint_group_members(&group, group_line);
    p.lint_capacity(&group, group_line);
    p.lint_nis();
    let steps = p.steps(&group, &users, &removals, &moving_from);
    Plan {
        request: req.clone(),
        group,
        users,
        removals,
        auto_allocate,
        steps,
        conflicts: p.conflicts,
        lints: p.lints,
        malformed: p.acc.malformed(),
        inputs: BTreeMap::new(),
    }
}
