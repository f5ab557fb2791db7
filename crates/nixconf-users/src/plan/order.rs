//! The order of an apply's steps.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::planner::Planner;
use super::types::{ConflictKind, GroupAction, GroupPlan, Removal, UserAction, UserPlan};
use crate::request::PoolRequest;
use crate::step::{Attribute, Step};

impl Planner<'_> {
    /// The steps: remove the users no longer asked for, create the
    /// group, move existing users (a user whose target uid another pool
    /// user still holds moves after it), create the missing users, then
    /// add memberships.
    pub(super) fn steps(
        &mut self,
        group: &GroupPlan,
        users: &[UserPlan],
        removals: &[Removal],
        moving_from: &HashMap<u32, String>,
    ) -> Vec<Step> {
        // Removals first: they free uids the pool may move to or create.
        let mut steps: Vec<Step> = removals
            .iter()
            .map(|r| Step::RemoveUser {
                name: r.name.clone(),
            })
            .collect();
        if group.action == GroupAction::Create {
            steps.push(Step::CreateGroup {
                name: group.name.clone(),
                gid: group.gid,
            });
        }
        let modifies: BTreeMap<&str, &UserPlan> = users
            .iter()
            .filter(|u| {
                u.changes
                    .iter()
                    .any(|c| c.attribute != Attribute::Membership)
            })
            .map(|u| (u.name.as_str(), u))
            .collect();
        let mut done: HashSet<&str> = HashSet::new();
        for u in users {
            if !modifies.contains_key(u.name.as_str()) || done.contains(u.name.as_str()) {
                continue;
            }
            // Follow the chain of users holding each other's targets.
            let mut chain = vec![u];
            let mut seen: HashSet<&str> = HashSet::from([u.name.as_str()]);
            let mut cur = u;
            while let Some(holder) = moving_from.get(&cur.uid) {
                if done.contains(holder.as_str()) {
                    break;
                }
                let Some(next) = modifies.get(holder.as_str()) else {
                    break;
                };
                if !seen.insert(next.name.as_str()) {
                    self.conflict(
                        ConflictKind::UidSwap,
                        format!(
                            "build users {} and {} would have to trade uids",
                            cur.name, next.name
                        ),
                        None,
                        Some("move one of them to a free uid by hand first".to_owned()),
                    );
                    break;
                }
                chain.push(next);
                cur = next;
            }
            for m in chain.into_iter().rev() {
                if done.insert(m.name.as_str()) {
                    steps.push(Step::ModifyUser {
                        name: m.name.clone(),
                        changes: m
                            .changes
                            .iter()
                            .filter(|c| c.attribute != Attribute::Membership)
                            .cloned()
                            .collect(),
                    });
                }
            }
        }
        for (i, u) in (1u32..).zip(users) {
            if u.action == UserAction::Create {
                steps.push(Step::CreateUser {
                    name: u.name.clone(),
                    uid: u.uid,
                    group: group.name.clone(),
                    gid: group.gid,
                    description: PoolRequest::user_description(i),
                    home: self.req.home().to_owned(),
                    shell: self.req.shell().to_owned(),
                });
            }
        }
        for u in users {
            if u.changes
                .iter()
                .any(|c| c.attribute == Attribute::Membership)
            {
                steps.push(Step::AddMember {
                    group: group.name.clone(),
                    user: u.name.clone(),
                });
            }
        }
        steps
    }
}
