//! The `nixbld` build-user pool, planned against the machine's real accounts.
//!
//! This crate reads `/etc/passwd`, `/etc/group`, `/etc/subuid` and
//! `/etc/subgid` under a root directory (and checks `/etc/shadow` and
//! `/etc/gshadow` agree with them), plans the build users and group a
//! configuration asks for (Linux and macOS conventions), reports every
//! clash with a fix, and applies the plan by editing the files as the
//! shadow tools do (their lock protocol, `-` backups, atomic replacement)
//! in one batch, recording the entries it changed so it can undo exactly
//! those.
//!
//! ```
//! use nixconf_users::{plan_accounts, Accounts, Platform, PoolRequest, UserAction};
//!
//! let accounts = Accounts::parse(
//!     Some(b"root:x:0:0:root:/root:/bin/sh\nalice:x:30002:100::/home/alice:/bin/sh\n"),
//!     Some(b"root:x:0:\n"),
//!     None,
//!     None,
//! );
//! let request = PoolRequest::builder(Platform::Linux).count(3).build()?;
//! let plan = plan_accounts(&accounts, &request);
//! assert_eq!(plan.users[0].name, "nixbld1");
//! assert_eq!(plan.users[0].action, UserAction::Create);
//! // alice holds uid 30002: the pool cannot be placed, and the fix says where it can.
//! assert_eq!(plan.conflicts[0].message, "uid 30002 for build user nixbld2 is held by account alice");
//! assert_eq!(
//!     plan.conflicts[0].fix.as_deref(),
//!     Some("set ids.uids.nixbld = 30002: uids 30003-30005 are free \
//!           (`nixconf users free-range --count 3` finds such a base)"),
//! );
//! # Ok::<(), nixconf_users::Error>(())
//! ```
//!
//! Against a root directory, [`plan`] reads the files, [`apply`] carries a
//! plan out and returns a [`Journal`] ([`preview`] computes it without
//! writing, for a caller to record first), and [`undo`] takes it back.
//! A journal holds only the [`EntryChange`]s nixconf made, never a whole
//! file, another account or a password hash, so it can be stored where
//! anyone may read it; undo takes back exactly those entries and keeps
//! accounts added since.
//! [`plan_with_managed`] is told which users earlier applies created: those
//! the request no longer asks for (a smaller pool, `auto-allocate-uids`)
//! are removed, as NixOS removes the users it no longer declares; no other
//! account ever is.
//!
//! Problems that point at an account file's line (conflicts, lints,
//! malformed lines) carry a [`nixconf_diagnostic::Span`] of the whole
//! line, which is never quoted (it may hold a password hash), and become
//! [`nixconf_diagnostic::Diagnostic`]s through `to_diagnostic` and
//! [`Plan::diagnostics`]; in a plan's JSON a line is `{"file", "line"}`.
//!
//! Modules, each using only those listed before it:
//! `error` (the [`Error`]), `ranges` (free id intervals), `request` (the
//! [`PoolRequest`]), `accounts` (the account files, parsed byte for
//! byte), `location` (a line's JSON form), `fingerprint` (SHA-256 of an
//! input file), `step` (the [`Step`]s of an apply); `plan` plans (its
//! `types` are the [`Plan`] and its parts, `describe` their text,
//! `planner`, `users`, `lints`, `order`, `ids` and `repairs` the
//! planning); `edit` carries steps out on account-file text in memory,
//! `journal` records and takes back the entries that changed, `etcdir`
//! and `lock` reach `ROOT/etc` without following links and take the
//! shadow tools' locks, and `apply` executes a plan on disk.
#![deny(missing_docs)]

mod accounts;
mod apply;
mod edit;
mod error;
mod etcdir;
mod fingerprint;
mod journal;
mod location;
mod lock;
mod plan;
mod ranges;
mod request;
mod step;

pub use accounts::{Accounts, GroupEntry, Malformed, PasswdEntry, SubIdEntry, Table};
pub use apply::{apply, preview, undo};
pub use error::Error;
pub use journal::{EntryChange, FieldEdit, Journal, Member};
pub use plan::types::{
    Conflict, ConflictKind, GroupAction, GroupPlan, IdRange, Lint, LintKind, Plan, Removal,
    UserAction, UserPlan,
};
pub use plan::{free_range, plan, plan_accounts, plan_accounts_with_managed, plan_with_managed};
pub use request::{MaxJobs, Platform, PoolRequest, PoolRequestBuilder, MAX_BUILD_USERS};
pub use step::{Attribute, Change, Step};
