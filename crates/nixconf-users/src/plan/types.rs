//! The plan's types: what happens to the group and each user, the
//! conflicts and lints, and the plan itself (its JSON form is their
//! serde form).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use nixconf_diagnostic::{Diagnostic, Span};

use crate::accounts::{Malformed, ACCOUNT_FILES};
use crate::request::PoolRequest;
use crate::step::{Change, Step};

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
    #[serde(with = "crate::location")]
    pub location: Span,
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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::location::option"
    )]
    pub location: Option<Span>,
    /// A configuration change that resolves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Conflict {
    /// The conflict as an error at the clashing account's line (never
    /// quoted), with its fix as help.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::error(self.message.clone()).with_span_opt(self.location.clone());
        match &self.fix {
            Some(fix) => d.with_help(fix.clone()),
            None => d,
        }
    }
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
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::location::option"
    )]
    pub location: Option<Span>,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Lint {
    /// The lint as a warning at its line (never quoted), with its fix as
    /// help.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let d = Diagnostic::warning(self.message.clone()).with_span_opt(self.location.clone());
        match &self.fix {
            Some(fix) => d.with_help(fix.clone()),
            None => d,
        }
    }
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
        let mut paths: Vec<String> = ACCOUNT_FILES
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

    /// The conflicts (errors), lints and malformed lines (warnings) as
    /// diagnostics, in that order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let conflicts = self.conflicts.iter().map(Conflict::to_diagnostic);
        let lints = self.lints.iter().map(Lint::to_diagnostic);
        let malformed = self.malformed.iter().map(Malformed::to_diagnostic);
        conflicts.chain(lints).chain(malformed).collect()
    }
}
