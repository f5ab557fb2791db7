//! What `etc/shadow` and `etc/gshadow` lack for the pool (a run killed
//! half-way), read from the root and added to a plan as repair steps.

use std::collections::HashSet;

use super::types::{GroupAction, Plan, UserAction};
use crate::accounts::{Accounts, Table};
use crate::step::Step;

/// The steps that make `etc/shadow` and `etc/gshadow` agree with passwd
/// and group for the pool (pwck and grpck clean), inserted before the
/// users are created or changed (whose memberships go to gshadow too).
pub(super) fn add_repairs(
    plan: &mut Plan,
    accounts: &Accounts,
    shadow: Option<Vec<u8>>,
    gshadow: Option<Vec<u8>>,
) {
    let mut repairs = Vec::new();
    if let Some(bytes) = shadow {
        let t: Table<Vec<String>> = Table::from_vec("etc/shadow", Some(bytes));
        let names: HashSet<&str> = t.first_entries().into_iter().map(|(_, n, _)| n).collect();
        for u in &plan.users {
            if u.action != UserAction::Create && !names.contains(u.name.as_str()) {
                repairs.push(Step::RepairShadow {
                    name: u.name.clone(),
                });
            }
        }
    }
    if let (Some(bytes), true) = (gshadow, plan.group.action != GroupAction::Create) {
        let t: Table<Vec<String>> = Table::from_vec("etc/gshadow", Some(bytes));
        let group = &plan.group.name;
        let in_group: Vec<String> = accounts
            .group
            .find(group)
            .map(|(_, g)| g.members)
            .unwrap_or_default();
        match t.find(group) {
            None => repairs.push(Step::RepairGshadow {
                name: group.clone(),
                members: in_group,
            }),
            Some((_, f)) => {
                let have: HashSet<&str> = f
                    .get(3)
                    .map(|m| m.split(',').filter(|m| !m.is_empty()).collect())
                    .unwrap_or_default();
                let pool: HashSet<&str> = plan.users.iter().map(|u| u.name.as_str()).collect();
                let missing: Vec<String> = in_group
                    .into_iter()
                    .filter(|m| pool.contains(m.as_str()) && !have.contains(m.as_str()))
                    .collect();
                if !missing.is_empty() {
                    repairs.push(Step::RepairGshadow {
                        name: group.clone(),
                        members: missing,
                    });
                }
            }
        }
    }
    if repairs.is_empty() {
        return;
    }
    let at = plan
        .steps
        .iter()
        .position(|s| !matches!(s, Step::RemoveUser { .. } | Step::CreateGroup { .. }))
        .unwrap_or(plan.steps.len());
    plan.steps.splice(at..at, repairs);
}
