//! The warnings of a plan that can be applied, and the
//! `auto-allocate-uids` range's conflicts.

use super::ids::subid_intervals;
use super::planner::Planner;
use super::types::{ConflictKind, GroupPlan, LintKind};
use nixconf_diagnostic::Span;

use crate::ranges::{first_gap, Interval};
use crate::request::{MaxJobs, Platform};

impl Planner<'_> {
    /// The `auto-allocate-uids` range's conflicts: a range Nix refuses,
    /// and the ids it overlaps (with a free start as the fix).
    pub(super) fn auto_range_conflicts(&mut self, group: &GroupPlan) {
        let req = self.req;
        let (start, count) = (u64::from(req.start_id()), u64::from(req.id_count()));
        let per = u64::from(req.platform().ids_per_build());
        let end = start + count;
        let mut invalid = Vec::new();
        if start == 0 {
            invalid.push("start-id must be positive".to_owned());
        }
        if start % per != 0 {
            invalid.push(format!(
                "start-id {start} is not a multiple of {per} (one build's ids)"
            ));
        }
        if count % per != 0 || count == 0 {
            invalid.push(format!(
                "id-count {count} is not a positive multiple of {per} (one build's ids)"
            ));
        }
        if end > u64::from(u32::MAX) {
            invalid.push(format!(
                "start-id {start} + id-count {count} runs past the largest id {}",
                u32::MAX
            ));
        }
        for why in invalid {
            self.conflict(
                ConflictKind::AutoRangeInvalid,
                format!("{why}: nix-daemon aborts on the first build with auto-allocate-uids"),
                None,
                None,
            );
        }

        let mut overlaps: Vec<(String, Option<Span>)> = Vec::new();
        let mut in_passwd = Self::ids_in(&self.acc.passwd, start, end);
        in_passwd.retain(|(_, line)| !self.is_removed_line(*line));
        if let Some(&(uid, line)) = in_passwd.first() {
            let who = self.passwd_line_name(line).unwrap_or("a malformed line");
            overlaps.push((
                format!(
                    "{} account uid(s) of etc/passwd, first {who} (uid {uid})",
                    in_passwd.len()
                ),
                Some(self.acc.passwd.location(line + 1)),
            ));
        }
        let in_group = Self::ids_in(&self.acc.group, start, end);
        if let Some(&(gid, line)) = in_group.first() {
            overlaps.push((
                format!(
                    "{} group gid(s) of etc/group, first gid {gid}",
                    in_group.len()
                ),
                Some(self.acc.group.location(line + 1)),
            ));
        }
        for table in [&self.acc.subuid, &self.acc.subgid] {
            let hit: Vec<_> = table
                .entries()
                .filter(|(_, s)| s.start < end && start < s.start.saturating_add(s.count))
                .collect();
            if let Some((line, s)) = hit.first() {
                overlaps.push((
                    format!(
                        "{} range(s) of {}, first {}'s {}-{}",
                        hit.len(),
                        table.file(),
                        s.owner,
                        s.start,
                        s.start + s.count.saturating_sub(1)
                    ),
                    Some(table.location(*line)),
                ));
            }
        }
        let pool = (
            u64::from(req.base_uid()) + 1,
            u64::from(req.base_uid()) + 1 + u64::from(req.count()),
        );
        if req.count() > 0 && pool.0 < end && start < pool.1 {
            overlaps.push((
                format!("the build users' uids {}-{}", pool.0, pool.1 - 1),
                None,
            ));
        }
        if (start..end).contains(&u64::from(group.gid)) {
            overlaps.push((format!("the group's gid {}", group.gid), None));
        }
        if overlaps.is_empty() {
            return;
        }
        let fix = self.free_auto_start().map(|s| {
            format!(
                "set nix.settings.start-id = {s}: ids {s}-{} are free",
                s + count - 1
            )
        });
        for (what, location) in overlaps {
            self.conflict(
                ConflictKind::AutoRangeOverlap,
                format!(
                    "the auto-allocate-uids range {start}-{} overlaps {what}",
                    end.saturating_sub(1)
                ),
                location,
                fix.clone(),
            );
        }
    }

    pub(super) fn free_auto_start(&self) -> Option<u64> {
        let req = self.req;
        let mut occ: Vec<Interval> = Self::ids_in(&self.acc.passwd, 0, u64::MAX)
            .into_iter()
            .filter(|(_, line)| !self.is_removed_line(*line))
            .chain(Self::ids_in(&self.acc.group, 0, u64::MAX))
            .map(|(id, _)| (u64::from(id), u64::from(id) + 1))
            .collect();
        occ.extend(subid_intervals(&self.acc.subuid));
        occ.extend(subid_intervals(&self.acc.subgid));
        occ.push((
            u64::from(req.base_uid()) + 1,
            u64::from(req.base_uid()) + 1 + u64::from(req.count()),
        ));
        occ.push((u64::from(req.gid()), u64::from(req.gid()) + 1));
        let per = u64::from(req.platform().ids_per_build());
        first_gap(
            &mut occ,
            u64::from(req.start_id()).max(1),
            u64::from(req.id_count()),
            per,
            u64::from(u32::MAX) - 1,
        )
    }

    /// Accounts named like build users beyond the pool that nixconf did
    /// not create: never removed, but worth knowing about, above all
    /// while the build-users group still lists them.
    pub(super) fn lint_surplus(&mut self, group: &GroupPlan, group_line: Option<usize>) {
        let Some(&first) = self.surplus_lines.first() else {
            return;
        };
        let names: Vec<&str> = self
            .surplus_lines
            .iter()
            .filter_map(|&l| self.passwd_line_name(l))
            .collect();
        let members: Vec<&str> = group_line
            .and_then(|l| self.acc.group.entry(l))
            .map(|g| {
                names
                    .iter()
                    .copied()
                    .filter(|n| g.members.iter().any(|m| m == n))
                    .collect()
            })
            .unwrap_or_default();
        let one = names.len() == 1;
        let (accounts, are, like, them, they) = if one {
            ("account", "is", "a build user", "it", "it is")
        } else {
            ("accounts", "are", "build users", "them", "they are")
        };
        let mut message = format!(
            "{accounts} {} {are} named like {like} beyond the {} configured, but nixconf did not create {them}: {they} left in place",
            names.join(", "),
            self.req.count(),
        );
        if !members.is_empty() {
            message.push_str(&format!(
                "; group {} lists {}, so nix-daemon still builds as {}",
                group.name,
                members.join(", "),
                if members.len() == 1 { "it" } else { "them" },
            ));
        }
        let highest = self
            .surplus_lines
            .iter()
            .filter_map(|&l| self.passwd_line_name(l).and_then(|n| self.name_index(n)))
            .max()
            .unwrap_or_default();
        let location = Some(self.acc.passwd.location(first + 1));
        self.lint(
            LintKind::SurplusUser,
            message,
            location,
            Some(format!(
                "if nothing else uses {them}, remove {them} by hand (userdel); or set nix.nrBuildUsers = {highest} to keep {them} in the pool"
            )),
        );
    }

    pub(super) fn lint_group_members(&mut self, group: &GroupPlan, group_line: Option<usize>) {
        let Some(line) = group_line else { return };
        let Some(g) = self.acc.group.entry(line) else {
            return;
        };
        let location = Some(self.acc.group.location(line + 1));
        for m in &g.members {
            // Build users, users the plan removes (and so takes out of the
            // group), and surplus ones `lint_surplus` reports.
            if self.pool_index(m).is_some()
                || self.removal_names.contains(m.as_str())
                || self.surplus_names.contains(m.as_str())
            {
                continue;
            }
            if self.acc.passwd.find(m).is_some() {
                self.lint(
                    LintKind::ForeignGroupMember,
                    format!(
                        "group {} lists {m}, which is not a build user: nix-daemon runs builds as every member of the build-users group",
                        group.name
                    ),
                    location.clone(),
                    Some(format!("remove {m} from group {}", group.name)),
                );
            } else {
                self.lint(
                    LintKind::MissingGroupMember,
                    format!(
                        "group {} lists {m}, which has no account: nix-daemon fails builds with \"the user '{m}' in the group '{}' does not exist\"",
                        group.name, group.name
                    ),
                    location.clone(),
                    Some(format!("remove {m} from group {}", group.name)),
                );
            }
        }
    }

    pub(super) fn lint_capacity(&mut self, group: &GroupPlan, group_line: Option<usize>) {
        let req = self.req;
        if req.auto_allocate_uids() {
            let slots = req.id_count() / req.platform().ids_per_build();
            if let MaxJobs::Jobs(j) = req.max_jobs() {
                if j > slots {
                    self.lint(
                        LintKind::Capacity,
                        format!(
                            "max-jobs = {j} but id-count {} gives {slots} build slot(s): builds beyond {slots} wait",
                            req.id_count()
                        ),
                        None,
                        Some(format!(
                            "set nix.settings.id-count = {}",
                            u64::from(j) * u64::from(req.platform().ids_per_build())
                        )),
                    );
                }
            }
            return;
        }
        let n = req.count();
        let last = u64::from(req.base_uid()) + u64::from(n);
        if req.platform() == Platform::Macos && n > 0 && last >= 500 {
            self.lint(
                LintKind::MacosVisibleUids,
                format!(
                    "build users up to uid {last}: macOS lists accounts with uids of 500 and above in the login window"
                ),
                None,
                Some("keep the pool below uid 500 (nix-installer's range starts at 351)".to_owned()),
            );
        }
        if n == 0 {
            let others = group_line
                .and_then(|l| self.acc.group.entry(l))
                .is_some_and(|g| !g.members.is_empty());
            if !others {
                self.lint(
                    LintKind::NoBuildUsers,
                    format!(
                        "nix.nrBuildUsers = 0 without auto-allocate-uids: nix-daemon fails every build with \"the build users group '{}' has no members\"",
                        group.name
                    ),
                    None,
                    Some("leave nix.nrBuildUsers unset (default max(32, max-jobs)) or turn on auto-allocate-uids".to_owned()),
                );
            }
            return;
        }
        if let MaxJobs::Jobs(j) = req.max_jobs() {
            if j > n {
                self.lint(
                    LintKind::Capacity,
                    format!(
                        "max-jobs = {j} but the pool has {n} build users: builds beyond {n} wait with \"all build users are currently in use\""
                    ),
                    None,
                    Some(format!(
                        "set nix.nrBuildUsers = {j}, or leave it unset (the default is max(32, max-jobs))"
                    )),
                );
            }
        }
    }

    pub(super) fn lint_nis(&mut self) {
        let firsts = [
            self.acc
                .passwd
                .nis_lines()
                .next()
                .map(|l| self.acc.passwd.location(l)),
            self.acc
                .group
                .nis_lines()
                .next()
                .map(|l| self.acc.group.location(l)),
        ];
        for location in firsts.into_iter().flatten() {
            self.lint(
                LintKind::NisAccounts,
                format!(
                    "{} includes NIS accounts (+/- lines): their ids are not in the file, so clashes with them cannot be checked",
                    location.file
                ),
                Some(location),
                None,
            );
        }
    }
}
