//! Planning the pool against the accounts a machine already has.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::accounts::{
    read_optional, Accounts, Location, Malformed, Record, SubIdEntry, Table, INPUT_FILES,
};
use crate::ranges::{first_gap, Interval};
use crate::request::{MaxJobs, Platform, PoolRequest};
use crate::Error;

/// What happens to the build-users group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupAction {
    /// The group does not exist yet.
    Create,
    /// The group exists with the requested gid.
    UpToDate,
    /// The group exists with another gid, and the request says to adopt it.
    Adopt,
}

/// The build-users group's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPlan {
    /// The group's name.
    pub name: String,
    /// The gid the pool uses: the requested one, or the existing group's
    /// when it is adopted.
    pub gid: u32,
    /// What happens to it.
    pub action: GroupAction,
}

/// What happens to one build user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserAction {
    /// The account does not exist yet.
    Create,
    /// The account exists and matches.
    UpToDate,
    /// The account exists; the attributes in `changes` are converged.
    Converge,
}

/// An account attribute the planner converges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attribute {
    /// The uid.
    Uid,
    /// The primary group id.
    PrimaryGroup,
    /// The GECOS description.
    Description,
    /// The home directory.
    Home,
    /// The login shell.
    Shell,
    /// Membership of the build-users group (`to` is the group's name).
    Membership,
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Attribute::Uid => "uid",
            Attribute::PrimaryGroup => "primary group",
            Attribute::Description => "description",
            Attribute::Home => "home",
            Attribute::Shell => "shell",
            Attribute::Membership => "membership",
        })
    }
}

/// One attribute of one account going from one value to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Which attribute.
    pub attribute: Attribute,
    /// The current value (empty for a missing membership).
    pub from: String,
    /// The value the plan sets.
    pub to: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.attribute == Attribute::Membership {
            write!(f, "add to group {}", self.to)
        } else {
            write!(f, "{} {:?} -> {:?}", self.attribute, self.from, self.to)
        }
    }
}

/// One build user's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPlan {
    /// The user's name.
    pub name: String,
    /// The uid it gets.
    pub uid: u32,
    /// What happens to it.
    pub action: UserAction,
    /// With [`UserAction::Converge`], what changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
}

/// A build user nixconf created earlier that the request no longer asks
/// for (the pool shrank, its prefix changed, or `auto-allocate-uids`
/// replaced it): the apply removes the account and its group memberships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    /// The user's name.
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// The groups whose member lists name it, in `etc/group` order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Its line.
    pub location: Location,
}

/// One operation of an apply, in the order the plan runs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Step {
    /// `groupadd -g GID NAME`.
    CreateGroup {
        /// Group name.
        name: String,
        /// Group id.
        gid: u32,
    },
    /// `usermod` of the attributes in `changes` (never membership).
    ModifyUser {
        /// User name.
        name: String,
        /// What changes.
        changes: Vec<Change>,
    },
    /// `useradd` of a system user in the group.
    CreateUser {
        /// User name.
        name: String,
        /// User id.
        uid: u32,
        /// Primary (and only supplementary) group's name.
        group: String,
        /// Its gid.
        gid: u32,
        /// GECOS description.
        description: String,
        /// Home directory.
        home: String,
        /// Login shell.
        shell: String,
    },
    /// `usermod -a -G GROUP USER`.
    AddMember {
        /// Group name.
        group: String,
        /// User name.
        user: String,
    },
    /// `userdel NAME` (without `--remove`: the home is `/var/empty`, never
    /// the user's own): the account, its shadow entry, its place in every
    /// group's member list and its subordinate ids go.
    RemoveUser {
        /// User name.
        name: String,
    },
    /// Add the `etc/shadow` entry (`NAME:!:DAY::::::`, as `useradd`
    /// writes it) a build user lacks: a run killed between writing
    /// passwd and shadow leaves one.
    RepairShadow {
        /// User name.
        name: String,
    },
    /// Give the group the `etc/gshadow` entry it lacks (`NAME:!::MEMBERS`),
    /// or add to its gshadow member list the build users `etc/group`
    /// names as members.
    RepairGshadow {
        /// Group name.
        name: String,
        /// The members to add (all of them when the entry is created).
        members: Vec<String>,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateGroup { name, gid } => write!(f, "create group {name} (gid {gid})"),
            Step::ModifyUser { name, changes } => {
                write!(f, "change user {name}: ")?;
                for (i, c) in changes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c}")?;
                }
                Ok(())
            }
            Step::CreateUser { name, uid, gid, .. } => {
                write!(f, "create user {name} (uid {uid}, gid {gid})")
            }
            Step::AddMember { group, user } => write!(f, "add {user} to group {group}"),
            Step::RemoveUser { name } => write!(f, "remove user {name}"),
            Step::RepairShadow { name } => {
                write!(f, "add the etc/shadow entry user {name} lacks")
            }
            Step::RepairGshadow { name, members } if members.is_empty() => {
                write!(f, "add group {name}'s etc/gshadow entry")
            }
            Step::RepairGshadow { name, members } => write!(
                f,
                "list {} in group {name}'s etc/gshadow entry",
                members.join(",")
            ),
        }
    }
}

/// Why the pool cannot be placed as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ConflictKind {
    /// A build user's uid belongs to another account.
    UidTaken,
    /// A build user's uid lies in a subordinate-uid range.
    UidInSubordinateRange,
    /// A build user's uid is reserved by the platform.
    UidReserved,
    /// A build user's name is held by a malformed line.
    NameOnMalformedLine,
    /// The group exists with another gid and the request does not adopt it.
    GroupGidMismatch,
    /// The group's gid belongs to another group.
    GidTaken,
    /// The group's gid lies in a subordinate-gid range.
    GidInSubordinateRange,
    /// Two build users would have to trade uids.
    UidSwap,
    /// The `auto-allocate-uids` range overlaps existing ids.
    AutoRangeOverlap,
    /// The `auto-allocate-uids` range is one Nix refuses.
    AutoRangeInvalid,
}

/// A reason the pool cannot be placed, with where and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// What kind of clash.
    pub kind: ConflictKind,
    /// What is wrong, in a sentence.
    pub message: String,
    /// Where the clashing account is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// A configuration change that resolves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// Something that works but that a user regrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LintKind {
    /// `max-jobs` exceeds the builds the pool can run at once.
    Capacity,
    /// No build users and no `auto-allocate-uids`.
    NoBuildUsers,
    /// The group lists an account that is not a build user.
    ForeignGroupMember,
    /// The group lists a user that does not exist.
    MissingGroupMember,
    /// An existing group with another gid is adopted.
    GroupAdopted,
    /// NIS lines pull in accounts whose ids cannot be checked.
    NisAccounts,
    /// macOS build users with uids of 500 or more show in the login window.
    MacosVisibleUids,
    /// Accounts named like build users beyond the configured count that
    /// nixconf did not create: left in place.
    SurplusUser,
    /// An existing build user keeps its uid, which is not the pool's
    /// (`users.renumber` moves it).
    KeptUid,
}

/// A warning about a plan that can be applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lint {
    /// What kind of warning.
    pub kind: LintKind,
    /// What is wrong, in a sentence.
    pub message: String,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The `auto-allocate-uids` id range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRange {
    /// First id.
    pub start: u32,
    /// How many ids.
    pub count: u32,
}

/// The pool planned against one root's accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// What was asked for.
    pub request: PoolRequest,
    /// The group.
    pub group: GroupPlan,
    /// The build users, in order.
    pub users: Vec<UserPlan>,
    /// Build users nixconf created that are no longer asked for, in
    /// `etc/passwd` order: removed first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removals: Vec<Removal>,
    /// With `auto-allocate-uids`, the range Nix allocates from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_allocate: Option<IdRange>,
    /// What an apply does, in order.
    pub steps: Vec<Step>,
    /// Why the pool cannot be placed (apply refuses while there are any).
    pub conflicts: Vec<Conflict>,
    /// Warnings.
    pub lints: Vec<Lint>,
    /// Malformed lines of the account files (kept unchanged).
    pub malformed: Vec<Malformed>,
    /// A fingerprint of every input file (`None`: absent), so an apply
    /// can refuse a plan the machine has moved away from.
    pub inputs: BTreeMap<String, Option<String>>,
}

impl Plan {
    /// Every file (relative to the root) that applying this plan may
    /// touch: the account files and their `-` backups. Sorted.
    pub fn tracked_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = crate::apply::ACCOUNT_FILES
            .iter()
            .flat_map(|f| [(*f).to_owned(), format!("{f}-")])
            .collect();
        paths.sort();
        paths
    }

    /// Nothing to do (no account to create, converge or remove) and
    /// nothing in the way.
    pub fn is_up_to_date(&self) -> bool {
        self.conflicts.is_empty() && self.steps.is_empty()
    }

    /// Whether the pool cannot be placed as asked.
    pub fn has_conflicts(&self) -> bool {
        !self.conflicts.is_empty()
    }
}

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
/// user: one beyond the pool is reported as a [`LintKind::SurplusUser`].
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

/// The steps that make `etc/shadow` and `etc/gshadow` agree with passwd
/// and group for the pool (pwck and grpck clean), inserted before the
/// users are created or changed (whose memberships go to gshadow too).
fn add_repairs(
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

/// FNV-1a, 64 bits: enough to notice that a file changed under us.
pub(crate) fn fingerprint(bytes: &[u8]) -> String {
    // FNV-1a over 8-byte words: a file of megabytes hashes in a blink.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(b)).wrapping_mul(0x0100_0000_01b3);
    }
    for &b in words.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:016x}-{}", h, bytes.len())
}

/// Sequoia's accounts (`_aonsensed` and friends) took uids 301 to 304,
/// where the old macOS installer put `_nixbld1..4`.
const MACOS_SEQUOIA_UIDS: Interval = (301, 305);
/// `(uint16_t) -1`: old interfaces read it as "no id".
const UID_16BIT_MINUS_ONE: u32 = 65535;

/// The uids a platform reserves, as intervals, with why.
fn reserved(platform: Platform) -> Vec<(Interval, &'static str)> {
    let mut r = vec![(
        (
            u64::from(UID_16BIT_MINUS_ONE),
            u64::from(UID_16BIT_MINUS_ONE) + 1,
        ),
        "uid 65535 is (uint16_t)-1, which 16-bit interfaces read as \"no uid\"",
    )];
    if platform == Platform::Macos {
        r.push((
            MACOS_SEQUOIA_UIDS,
            "macOS 15 Sequoia claims uids 301-304 for its own accounts",
        ));
    }
    r
}

/// The first base uid `>= from` at which `count` build users (uids
/// `base + 1 ..= base + count`) clash with no account, no subordinate-uid
/// range and no uid the platform reserves.
pub fn free_range(accounts: &Accounts, count: u32, from: u32, platform: Platform) -> Option<u32> {
    free_base(accounts, count, from, platform, &|_| false)
}

fn free_base(
    accounts: &Accounts,
    count: u32,
    from: u32,
    platform: Platform,
    ignore: &dyn Fn(&str) -> bool,
) -> Option<u32> {
    let t = &accounts.passwd;
    let mut occupied: Vec<Interval> = (0..t.lines.len())
        .filter_map(|i| match t.holder(i)? {
            // Ids at or below the base cannot block a pool above it.
            (name, Some(id), _) if id > from && !name.is_some_and(ignore) => {
                Some((u64::from(id), u64::from(id) + 1))
            }
            _ => None,
        })
        .collect();
    occupied.extend(subid_intervals(&accounts.subuid));
    occupied.extend(reserved(platform).into_iter().map(|(i, _)| i));
    let first = first_gap(
        &mut occupied,
        u64::from(from) + 1,
        u64::from(count),
        1,
        u64::from(platform.max_uid()),
    )?;
    u32::try_from(first - 1).ok()
}

fn subid_intervals(t: &Table<SubIdEntry>) -> Vec<Interval> {
    t.entries()
        .map(|(_, s)| (s.start, s.start.saturating_add(s.count)))
        .collect()
}

/// The sub-id range containing `id`, with its line.
fn subid_containing(t: &Table<SubIdEntry>, id: u32) -> Option<(usize, SubIdEntry)> {
    let id = u64::from(id);
    t.entries()
        .find(|(_, s)| s.start <= id && id < s.start.saturating_add(s.count))
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
    Planner::new(acc, req, managed).run()
}

struct Planner<'a> {
    acc: &'a Accounts,
    req: &'a PoolRequest,
    /// For pool index `i`, the 0-based passwd line of the first entry
    /// named like build user `i` (index 0 unused).
    pool_lines: Vec<Option<usize>>,
    /// uid -> 0-based passwd lines holding it, for the pool's uids only.
    pool_uid_holders: HashMap<u32, Vec<usize>>,
    /// Names on malformed passwd lines.
    malformed_names: HashSet<&'a str>,
    /// Managed users the request no longer asks for: 0-based passwd
    /// lines in file order, and their names.
    removal_lines: Vec<usize>,
    removal_names: HashSet<&'a str>,
    /// Accounts named like build users beyond the pool that nixconf did
    /// not create: 0-based passwd lines in file order, and their names.
    surplus_lines: Vec<usize>,
    surplus_names: HashSet<&'a str>,
    conflicts: Vec<Conflict>,
    lints: Vec<Lint>,
    /// The group's members (parsed once: a pool of thousands would
    /// otherwise parse the group's long line once per user).
    group_members: HashSet<String>,
}

impl<'a> Planner<'a> {
    /// One pass over passwd, keeping only what the pool can touch: the
    /// planner never builds a map of every account.
    fn new(acc: &'a Accounts, req: &'a PoolRequest, managed: &'a BTreeSet<String>) -> Self {
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
    fn pool_index(&self, name: &str) -> Option<u32> {
        self.name_index(name)
            .filter(|i| (1..=self.req.count()).contains(i))
    }

    /// The index `name` would have in a pool of any size (`nixbld40` ->
    /// 40), when it is the prefix followed by a number from 1.
    fn name_index(&self, name: &str) -> Option<u32> {
        let digits = name.strip_prefix(self.req.name_prefix())?;
        if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u32>().ok().filter(|i| *i > 0)
    }

    /// The uid build user `i` ends up with: the pool's (base + i) for a
    /// user to create or with `renumber`; an existing user keeps its own.
    fn target_uid(&self, i: u32) -> u32 {
        let existing = (!self.req.renumber())
            .then(|| self.pool_lines.get(i as usize).copied().flatten())
            .flatten()
            .and_then(|l| self.acc.passwd.entry(l));
        existing.map_or_else(|| self.req.user_uid(i), |e| e.uid)
    }

    /// Whether 0-based passwd line `line` holds a user the plan removes.
    fn is_removed_line(&self, line: usize) -> bool {
        // A handful of lines at most: a scan beats a set.
        self.removal_lines.contains(&line)
    }

    fn passwd_line_name(&self, line: usize) -> Option<&'a str> {
        self.acc.passwd.holder(line).and_then(|(name, _, _)| name)
    }

    /// Every (id, 0-based line) of `table` with an id in `[start, end)`.
    fn ids_in<T: Record>(table: &Table<T>, start: u64, end: u64) -> Vec<(u32, usize)> {
        (0..table.lines.len())
            .filter_map(|i| match table.holder(i)? {
                (_, Some(id), _) if (start..end).contains(&u64::from(id)) => Some((id, i)),
                _ => None,
            })
            .collect()
    }

    fn conflict(
        &mut self,
        kind: ConflictKind,
        message: String,
        location: Option<Location>,
        fix: Option<String>,
    ) {
        self.conflicts.push(Conflict {
            kind,
            message,
            location,
            fix,
        });
    }

    fn lint(
        &mut self,
        kind: LintKind,
        message: String,
        location: Option<Location>,
        fix: Option<String>,
    ) {
        self.lints.push(Lint {
            kind,
            message,
            location,
            fix,
        });
    }

    fn run(mut self) -> Plan {
        let req = self.req;
        let (group, group_line) = self.plan_group();
        self.group_members = group_line
            .and_then(|l| self.acc.group.entry(l))
            .map(|g| g.members.into_iter().collect())
            .unwrap_or_default();
        let mut users = Vec::new();
        let mut uid_conflict = false;
        // uid -> the pool user that holds it now and moves away.
        let mut moving_from: HashMap<u32, String> = HashMap::new();
        for i in 1..=req.count() {
            let (plan, clash) = self.plan_user(i, &group, group_line, &mut moving_from);
            uid_conflict |= clash;
            users.push(plan);
        }
        if uid_conflict {
            self.add_free_base_fix();
        }
        let auto_allocate = req.auto_allocate_uids().then(|| IdRange {
            start: req.start_id(),
            count: req.id_count(),
        });
        if req.auto_allocate_uids() {
            self.check_auto_range(&group);
        }
        let removals = self.removals();
        self.lint_surplus(&group, group_line);
        self.lint_group_members(&group, group_line);
        self.lint_capacity(&group, group_line);
        self.lint_nis();
        let steps = self.steps(&group, &users, &removals, &moving_from);
        Plan {
            request: req.clone(),
            group,
            users,
            removals,
            auto_allocate,
            steps,
            conflicts: self.conflicts,
            lints: self.lints,
            malformed: self.acc.malformed(),
            inputs: BTreeMap::new(),
        }
    }

    /// The group's plan, and its 0-based line when it exists.
    fn plan_group(&mut self) -> (GroupPlan, Option<usize>) {
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

    fn free_gid(&self, from: u32) -> Option<u32> {
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
    fn plan_user(
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

    fn add_free_base_fix(&mut self) {
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

    fn check_auto_range(&mut self, group: &GroupPlan) {
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

        let mut overlaps: Vec<(String, Option<Location>)> = Vec::new();
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

    fn free_auto_start(&self) -> Option<u64> {
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

    /// The managed users no longer asked for, with the groups listing
    /// them.
    fn removals(&self) -> Vec<Removal> {
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

    /// Accounts named like build users beyond the pool that nixconf did
    /// not create: never removed, but worth knowing about, above all
    /// while the build-users group still lists them.
    fn lint_surplus(&mut self, group: &GroupPlan, group_line: Option<usize>) {
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

    fn lint_group_members(&mut self, group: &GroupPlan, group_line: Option<usize>) {
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

    fn lint_capacity(&mut self, group: &GroupPlan, group_line: Option<usize>) {
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

    fn lint_nis(&mut self) {
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

    /// The steps: remove the users no longer asked for, create the
    /// group, move existing users (a user whose target uid another pool
    /// user still holds moves after it), create the missing users, then
    /// add memberships.
    fn steps(
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

/// When `holder` looks like build user `i` of a pool with another prefix
/// (`_nixbld3` for `nixbld3`), that prefix.
fn other_pool_prefix(holder: &str, i: u32) -> Option<&str> {
    let prefix = holder.strip_suffix(&i.to_string())?;
    (prefix.contains("nixbld") && !prefix.ends_with(|c: char| c.is_ascii_digit())).then_some(prefix)
}

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
