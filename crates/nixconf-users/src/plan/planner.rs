//! The planner's state: one pass over passwd keeps what the pool can
//! touch (its users' lines, who holds its uids, managed users to remove,
//! look-alikes to report), and the lookups and reports every part of the
//! planning shares.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::types::{Conflict, ConflictKind, Lint, LintKind};
use nixconf_diagnostic::Span;

use crate::accounts::{Accounts, Record, Table};
use crate::request::PoolRequest;

pub(super) struct Planner<'a> {
    pub(super) acc: &'a Accounts,
    pub(super) req: &'a PoolRequest,
    /// For pool index `i`, the 0-based passwd line of the first entry
    /// named like build user `i` (index 0 unused).
    pub(super) pool_lines: Vec<Option<usize>>,
    /// uid -> 0-based passwd lines holding it, for the pool's uids only.
    pub(super) pool_uid_holders: HashMap<u32, Vec<usize>>,
    /// Names on malformed passwd lines.
    pub(super) malformed_names: HashSet<&'a str>,
    /// Managed users the request no longer asks for: 0-based passwd
    /// lines in file order, and their names.
    pub(super) removal_lines: Vec<usize>,
    pub(super) removal_names: HashSet<&'a str>,
    /// Accounts named like build users beyond the pool that nixconf did
    /// not create: 0-based passwd lines in file order, and their names.
    pub(super) surplus_lines: Vec<usize>,
    pub(super) surplus_names: HashSet<&'a str>,
    pub(super) conflicts: Vec<Conflict>,
    pub(super) lints: Vec<Lint>,
    /// The group's members (parsed once: a pool of thousands would
    /// otherwise parse the group's long line once per user).
    pub(super) group_members: HashSet<String>,
}

impl<'a> Planner<'a> {
    /// One pass over passwd, keeping only what the pool can touch: the
    /// planner never builds a map of every account.
    pub(super) fn new(
        acc: &'a Accounts,
        req: &'a PoolRequest,
        managed: &'a BTreeSet<String>,
    ) -> Self {
        let mut planner = Planner {
            acc,
            req,
            pool_lines: vec![None; req.count() as usize + 1],
            pool_uid_holders: HashMap::new(),
            malformed_names: HashSet::new(),
            removal_lines: Vec::new(),
            removal_names: HashSet::new(),
            surplus_lines: Vec::new(),
            surplus_names: HashSet::new(),
            conflicts: Vec::new(),
            lints: Vec::new(),
            group_members: HashSet::new(),
        };
        let first = u64::from(req.base_uid()) + 1;
        let pool = first..first + u64::from(req.count());
        // Looked up once per account: hashing beats walking a tree.
        let managed: HashSet<&str> = managed.iter().map(String::as_str).collect();
        let t = &acc.passwd;
        for i in 0..t.lines.len() {
            let Some((name, id, valid)) = t.holder(i) else {
                continue;
            };
            if let Some(id) = id.filter(|id| pool.contains(&u64::from(*id))) {
                planner.pool_uid_holders.entry(id).or_default().push(i);
            }
            match (name, valid) {
                (Some(n), true) => {
                    let index = planner.name_index(n);
                    if let Some(k) = index.filter(|k| *k <= req.count()) {
                        if let Some(slot @ None) = planner.pool_lines.get_mut(k as usize) {
                            *slot = Some(i);
                        }
                        continue;
                    }
                    // Beyond the pool: ours to remove, or someone else's
                    // that looks like a build user. The first entry of
                    // each name counts, as for `getpwnam`.
                    let (names, lines) = if !managed.is_empty() && managed.contains(n) {
                        (&mut planner.removal_names, &mut planner.removal_lines)
                    } else if index.is_some() {
                        (&mut planner.surplus_names, &mut planner.surplus_lines)
                    } else {
                        continue;
                    };
                    if names.insert(n) {
                        lines.push(i);
                    }
                }
                (Some(n), false) => {
                    planner.malformed_names.insert(n);
                }
                _ => {}
            }
        }
        // Existing build users keep their uids (unless renumbered): who
        // else holds those, outside the pool's range.
        if !req.renumber() {
            let kept: HashSet<u32> = (1..=req.count())
                .filter_map(|i| {
                    let e = planner.pool_lines[i as usize].and_then(|l| acc.passwd.entry(l))?;
                    (!pool.contains(&u64::from(e.uid))).then_some(e.uid)
                })
                .collect();
            if !kept.is_empty() {
                for i in 0..t.lines.len() {
                    if let Some((_, Some(id), _)) = t.holder(i) {
                        if kept.contains(&id) {
                            planner.pool_uid_holders.entry(id).or_default().push(i);
                        }
                    }
                }
            }
        }
        planner
    }

    /// The pool index of `name` (`nixbld7` -> 7) when it is one of ours.
    pub(super) fn pool_index(&self, name: &str) -> Option<u32> {
        self.name_index(name)
            .filter(|i| (1..=self.req.count()).contains(i))
    }

    /// The index `name` would have in a pool of any size (`nixbld40` ->
    /// 40), when it is the prefix followed by a number from 1.
    pub(super) fn name_index(&self, name: &str) -> Option<u32> {
        let digits = name.strip_prefix(self.req.name_prefix())?;
        if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u32>().ok().filter(|i| *i > 0)
    }

    /// The uid build user `i` ends up with: the pool's (base + i) for a
    /// user to create or with `renumber`; an existing user keeps its own.
    pub(super) fn target_uid(&self, i: u32) -> u32 {
        let existing = (!self.req.renumber())
            .then(|| self.pool_lines.get(i as usize).copied().flatten())
            .flatten()
            .and_then(|l| self.acc.passwd.entry(l));
        existing.map_or_else(|| self.req.user_uid(i), |e| e.uid)
    }

    /// Whether 0-based passwd line `line` holds a user the plan removes.
    pub(super) fn is_removed_line(&self, line: usize) -> bool {
        // A handful of lines at most: a scan beats a set.
        self.removal_lines.contains(&line)
    }

    pub(super) fn passwd_line_name(&self, line: usize) -> Option<&'a str> {
        self.acc.passwd.holder(line).and_then(|(name, _, _)| name)
    }

    /// Every (id, 0-based line) of `table` with an id in `[start, end)`.
    pub(super) fn ids_in<T: Record>(table: &Table<T>, start: u64, end: u64) -> Vec<(u32, usize)> {
        (0..table.lines.len())
            .filter_map(|i| match table.holder(i)? {
                (_, Some(id), _) if (start..end).contains(&u64::from(id)) => Some((id, i)),
                _ => None,
            })
            .collect()
    }

    pub(super) fn conflict(
        &mut self,
        kind: ConflictKind,
        message: String,
        location: Option<Span>,
        fix: Option<String>,
    ) {
        self.conflicts.push(Conflict {
            kind,
            message,
            location,
            fix,
        });
    }

    pub(super) fn lint(
        &mut self,
        kind: LintKind,
        message: String,
        location: Option<Span>,
        fix: Option<String>,
    ) {
        self.lints.push(Lint {
            kind,
            message,
            location,
            fix,
        });
    }
}
