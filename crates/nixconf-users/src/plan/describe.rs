//! The plan as text: what `nixconf users plan` prints.

use std::fmt;

use super::types::{GroupAction, Plan, UserAction};
use crate::step::Step;

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = &self.group;
        let what = match g.action {
            GroupAction::Create => "create",
            GroupAction::UpToDate => "up to date",
            GroupAction::Adopt => "adopt (existing gid)",
        };
        writeln!(f, "group {} (gid {}): {what}", g.name, g.gid)?;
        // Runs of consecutive users with the same simple action share a
        // line, so a 32-user pool reads at a glance.
        let mut i = 0;
        while let Some(u) = self.users.get(i) {
            if u.action == UserAction::Converge {
                write!(f, "user {} (uid {}): converge: ", u.name, u.uid)?;
                for (k, c) in u.changes.iter().enumerate() {
                    if k > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c}")?;
                }
                writeln!(f)?;
                i += 1;
                continue;
            }
            let mut j = i;
            while self
                .users
                .get(j + 1)
                .is_some_and(|n| n.action == u.action && n.uid == self.users[j].uid.wrapping_add(1))
            {
                j += 1;
            }
            let what = if u.action == UserAction::Create {
                "create"
            } else {
                "up to date"
            };
            let last = &self.users[j];
            if i == j {
                writeln!(f, "user {} (uid {}): {what}", u.name, u.uid)?;
            } else {
                writeln!(
                    f,
                    "users {}..{} (uids {}-{}): {what}",
                    u.name, last.name, u.uid, last.uid
                )?;
            }
            i = j + 1;
        }
        let mut i = 0;
        while let Some(r) = self.removals.get(i) {
            let mut j = i;
            while self.removals.get(j + 1).is_some_and(|n| {
                n.uid == self.removals[j].uid.wrapping_add(1) && n.groups == r.groups
            }) {
                j += 1;
            }
            let last = &self.removals[j];
            let (its, it) = if i == j {
                write!(f, "user {} (uid {}): remove", r.name, r.uid)?;
                ("its", "it")
            } else {
                write!(
                    f,
                    "users {}..{} (uids {}-{}): remove",
                    r.name, last.name, r.uid, last.uid
                )?;
                ("their", "them")
            };
            match r.groups.as_slice() {
                [] => {}
                [g] => write!(f, ", with {its} membership of {g}")?,
                gs => write!(f, ", with {its} memberships of {}", gs.join(", "))?,
            }
            writeln!(f, " (nixconf created {it}; no longer configured)")?;
            i = j + 1;
        }
        // What shadow and gshadow lack (a run killed half-way).
        for s in &self.steps {
            if matches!(s, Step::RepairShadow { .. } | Step::RepairGshadow { .. }) {
                writeln!(f, "repair: {s}")?;
            }
        }
        if let Some(r) = self.auto_allocate {
            writeln!(
                f,
                "auto-allocate-uids: ids {}-{}",
                r.start,
                u64::from(r.start) + u64::from(r.count).saturating_sub(1)
            )?;
        }
        for c in &self.conflicts {
            write!(f, "conflict: {}", c.message)?;
            if let Some(l) = &c.location {
                write!(f, " ({l})")?;
            }
            writeln!(f)?;
            if let Some(fix) = &c.fix {
                writeln!(f, "  fix: {fix}")?;
            }
        }
        for l in &self.lints {
            write!(f, "warning: {}", l.message)?;
            if let Some(loc) = &l.location {
                write!(f, " ({loc})")?;
            }
            writeln!(f)?;
            if let Some(fix) = &l.fix {
                writeln!(f, "  fix: {fix}")?;
            }
        }
        for m in &self.malformed {
            writeln!(f, "{m}")?;
        }
        if self.has_conflicts() {
            writeln!(
                f,
                "the pool cannot be placed: {} conflict(s)",
                self.conflicts.len()
            )
        } else if self.steps.is_empty() {
            writeln!(f, "up to date")
        } else {
            writeln!(f, "{} step(s) to apply", self.steps.len())
        }
    }
}
