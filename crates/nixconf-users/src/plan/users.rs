//! Planning the group and each build user: names and uids, what holds
//! them, the fix that frees them, and the managed users to remove.

use std::collections::HashMap;

use super::ids::{free_base, reserved, subid_containing, subid_intervals};
use super::planner::Planner;
use super::types::{ConflictKind, GroupAction, GroupPlan, LintKind, Removal, UserAction, UserPlan};
use crate::ranges::{first_gap, Interval};
use crate::request::PoolRequest;
use crate::step::{Attribute, Change};

impl Planner<'_> {
    /// The group's plan, and its 0-based line when it exists.
    pub(super) fn plan_group(&mut self) -> (GroupPlan, Option<usize>) {
        let req = self.req;
        let name = req.group().to_owned();
        let table = &self.acc.group;
        let existing = table.find(&name);
        if let Some((line, g)) = existing {
            let location = Some(table.location(line + 1));
            if g.gid == req.gid() {
                return (
                    GroupPlan {
                        name,
                        gid: g.gid,
                        action: GroupAction::UpToDate,
                    },
                    Some(line),
                );
            }
            if req.adopt_existing_group() {
                self.lint(
                    LintKind::GroupAdopted,
                    format!(
                        "group {name} exists with gid {} (the configuration asks for {}); the pool adopts gid {}",
                        g.gid,
                        req.gid(),
                        g.gid
                    ),
                    location,
                    Some(format!(
                        "set ids.gids.nixbld = {} to make the configuration say so",
                        g.gid
                    )),
                );
                return (
                    GroupPlan {
                        name,
                        gid: g.gid,
                        action: GroupAction::Adopt,
                    },
                    Some(line),
                );
            }
            self.conflict(
                ConflictKind::GroupGidMismatch,
                format!(
                    "group {name} already exists with gid {}, not {}",
                    g.gid,
                    req.gid()
                ),
                location,
                Some(format!(
                    "set users.adoptExistingGroup = true to adopt gid {}, or ids.gids.nixbld = {}",
                    g.gid, g.gid
                )),
            );
            return (
                GroupPlan {
                    name,
                    gid: req.gid(),
                    action: GroupAction::Create,
                },
                Some(line),
            );
        }
        let gid = req.gid();
        let mut clash = false;
        for (_, i) in Self::ids_in(table, u64::from(gid), u64::from(gid) + 1) {
            let Some((holder, _, valid)) = table.holder(i) else {
                continue;
            };
            let holder = match (holder, valid) {
                (Some(h), true) => format!("group {h}"),
                (Some(h), false) => format!("the malformed line of {h}"),
                (None, _) => "a malformed line".to_owned(),
            };
            clash = true;
            self.conflict(
                ConflictKind::GidTaken,
                format!("gid {gid} for group {name} is held by {holder}"),
                Some(table.location(i + 1)),
                None,
            );
        }
        if let Some((line, s)) = subid_containing(&self.acc.subgid, gid) {
            clash = true;
            self.conflict(
                ConflictKind::GidInSubordinateRange,
                format!(
                    "gid {gid} for group {name} lies in {}'s subordinate gids {}-{}",
                    s.owner,
                    s.start,
                    s.start + s.count.saturating_sub(1)
                ),
                Some(self.acc.subgid.location(line)),
                None,
            );
        }
        if clash {
            if let Some(free) = self.free_gid(gid) {
                let fix = format!("set ids.gids.nixbld = {free} (a free gid)");
                for c in self.conflicts.iter_mut().filter(|c| {
                    matches!(
                        c.kind,
                        ConflictKind::GidTaken | ConflictKind::GidInSubordinateRange
                    )
                }) {
                    c.fix = Some(fix.clone());
                }
            }
        }
        (
            GroupPlan {
                name,
                gid,
                action: GroupAction::Create,
            },
            None,
        )
    }

    pub(super) fn free_gid(&self, from: u32) -> Option<u32> {
        let mut occupied: Vec<Interval> = Self::ids_in(&self.acc.group, 0, u64::MAX)
            .into_iter()
            .map(|(g, _)| (u64::from(g), u64::from(g) + 1))
            .collect();
        occupied.extend(subid_intervals(&self.acc.subgid));
        occupied.extend(reserved(self.req.platform()).into_iter().map(|(i, _)| i));
        first_gap(
            &mut occupied,
            u64::from(from),
            1,
            1,
            u64::from(self.req.platform().max_uid()),
        )
        .and_then(|g| u32::try_from(g).ok())
    }

    /// Plan build user `i`; the bool says whether its uid clashes.
    pub(super) fn plan_user(
        &mut self,
        i: u32,
        group: &GroupPlan,
        group_line: Option<usize>,
        moving_from: &mut HashMap<u32, String>,
    ) -> (UserPlan, bool) {
        let req = self.req;
        let name = req.user_name(i);
        let uid = self.target_uid(i);
        let mut clash = false;

        let holders: Vec<usize> = self.pool_uid_holders.get(&uid).cloned().unwrap_or_default();
        for line in holders {
            let holder = self.passwd_line_name(line);
            // A user the plan removes frees its uid before anything is
            // created or moved.
            if holder == Some(name.as_str()) || self.is_removed_line(line) {
                continue;
            }
            let is_entry = self
                .acc
                .passwd
                .holder(line)
                .is_some_and(|(_, _, valid)| valid);
            // A pool user that sits on this uid but moves to its own is no
            // clash: the steps move it first.
            if let Some(h) = holder.filter(|_| is_entry) {
                if let Some(h_index) = self.pool_index(h) {
                    if self.target_uid(h_index) != uid {
                        moving_from.insert(uid, h.to_owned());
                        continue;
                    }
                }
            }
            clash = true;
            let holder_desc = match holder {
                Some(h) if is_entry => format!("account {h}"),
                Some(h) => format!("the malformed line of {h}"),
                None => "a malformed line".to_owned(),
            };
            let mut fix = (uid != req.user_uid(i)).then(|| {
                format!("{name} has this uid already; set users.renumber = true to move the build users to ids.uids.nixbld + 1 and up")
            });
            if let Some(h) = holder {
                if let Some(prefix) = other_pool_prefix(h, i) {
                    fix = Some(format!(
                        "it looks like a pool with prefix `{prefix}`: set users.namePrefix = \"{prefix}\" to adopt it"
                    ));
                }
            }
            self.conflict(
                ConflictKind::UidTaken,
                format!("uid {uid} for build user {name} is held by {holder_desc}"),
                Some(self.acc.passwd.location(line + 1)),
                fix,
            );
        }
        // An existing user keeping a uid of its own: what that uid
        // collides with was so before nixconf, and moving the user is the
        // administrator's call, so it is a warning, not a refusal.
        let kept = uid != req.user_uid(i);
        if kept {
            self.lint(
                LintKind::KeptUid,
                format!(
                    "build user {name} keeps its uid {uid} (the pool's would be {})",
                    req.user_uid(i)
                ),
                None,
                Some("set users.renumber = true to move existing build users to ids.uids.nixbld + 1 and up".to_owned()),
            );
        }
        if let Some((line, s)) = subid_containing(&self.acc.subuid, uid).filter(|_| !kept) {
            clash = true;
            self.conflict(
                ConflictKind::UidInSubordinateRange,
                format!(
                    "uid {uid} for build user {name} lies in {}'s subordinate uids {}-{}",
                    s.owner,
                    s.start,
                    s.start + s.count.saturating_sub(1)
                ),
                Some(self.acc.subuid.location(line)),
                None,
            );
        }
        for ((start, end), why) in reserved(req.platform()) {
            if !kept && (start..end).contains(&u64::from(uid)) {
                clash = true;
                self.conflict(
                    ConflictKind::UidReserved,
                    format!("uid {uid} for build user {name} is reserved: {why}"),
                    None,
                    None,
                );
            }
        }

        let existing = self
            .pool_lines
            .get(i as usize)
            .copied()
            .flatten()
            .and_then(|l| self.acc.passwd.entry(l));
        let Some(e) = existing else {
            if self.malformed_names.contains(name.as_str()) {
                let line = (0..self.acc.passwd.lines.len())
                    .find(|&l| matches!(self.acc.passwd.holder(l), Some((Some(n), _, false)) if n == name))
                    .unwrap_or_default();
                self.conflict(
                    ConflictKind::NameOnMalformedLine,
                    format!("the name of build user {name} is on a malformed line"),
                    Some(self.acc.passwd.location(line + 1)),
                    Some("repair or remove the line".to_owned()),
                );
            }
            return (
                UserPlan {
                    name,
                    uid,
                    action: UserAction::Create,
                    changes: Vec::new(),
                },
                clash,
            );
        };
        let mut changes = Vec::new();
        let mut change = |attribute, from: String, to: String| {
            if from != to {
                changes.push(Change {
                    attribute,
                    from,
                    to,
                });
            }
        };
        change(Attribute::Uid, e.uid.to_string(), uid.to_string());
        change(
            Attribute::PrimaryGroup,
            e.gid.to_string(),
            group.gid.to_string(),
        );
        change(
            Attribute::Description,
            e.gecos.clone(),
            PoolRequest::user_description(i),
        );
        change(Attribute::Home, e.home.clone(), req.home().to_owned());
        change(Attribute::Shell, e.shell.clone(), req.shell().to_owned());
        let member = group_line.is_some() && self.group_members.contains(&name);
        if !member {
            changes.push(Change {
                attribute: Attribute::Membership,
                from: String::new(),
                to: group.name.clone(),
            });
        }
        let action = if changes.is_empty() {
            UserAction::UpToDate
        } else {
            UserAction::Converge
        };
        (
            UserPlan {
                name,
                uid,
                action,
                changes,
            },
            clash,
        )
    }

    pub(super) fn add_free_base_fix(&mut self) {
        let req = self.req;
        let ignore = |n: &str| self.pool_index(n).is_some() || self.removal_names.contains(n);
        let Some(base) = free_base(
            self.acc,
            req.count(),
            req.base_uid(),
            req.platform(),
            &ignore,
        ) else {
            return;
        };
        let fix = format!(
            "set ids.uids.nixbld = {base}: uids {}-{} are free (`nixconf users free-range --count {}` finds such a base)",
            u64::from(base) + 1,
            u64::from(base) + u64::from(req.count()),
            req.count()
        );
        for c in &mut self.conflicts {
            if matches!(
                c.kind,
                ConflictKind::UidTaken
                    | ConflictKind::UidInSubordinateRange
                    | ConflictKind::UidReserved
            ) {
                c.fix = Some(match c.fix.take() {
                    Some(other) => format!("{fix}; or {other}"),
                    None => fix.clone(),
                });
            }
        }
    }

    /// The managed users no longer asked for, with the groups listing
    /// them.
    pub(super) fn removals(&self) -> Vec<Removal> {
        if self.removal_lines.is_empty() {
            return Vec::new();
        }
        let mut groups: HashMap<&str, Vec<String>> = HashMap::new();
        let table = &self.acc.group;
        // Most groups have no members (their line ends in `:`): only the
        // others are worth parsing.
        let listing = (0..table.lines.len()).filter(|&i| !table.text(i).ends_with(b":"));
        for g in listing.filter_map(|i| table.entry(i)) {
            for m in &g.members {
                if let Some(name) = self.removal_names.get(m.as_str()) {
                    let list = groups.entry(name).or_default();
                    if !list.contains(&g.name) {
                        list.push(g.name.clone());
                    }
                }
            }
        }
        self.removal_lines
            .iter()
            .filter_map(|&line| {
                let e = self.acc.passwd.entry(line)?;
                Some(Removal {
                    groups: groups.remove(e.name.as_str()).unwrap_or_default(),
                    name: e.name,
                    uid: e.uid,
                    location: self.acc.passwd.location(line + 1),
                })
            })
            .collect()
    }
}

/// When `holder` looks like build user `i` of a pool with another prefix
/// (`_nixbld3` for `nixbld3`), that prefix.
fn other_pool_prefix(holder: &str, i: u32) -> Option<&str> {
    let prefix = holder.strip_suffix(&i.to_string())?;
    (prefix.contains("nixbld") && !prefix.ends_with(|c: char| c.is_ascii_digit())).then_some(prefix)
}
