//! Plan, apply and revert a whole Nix installation on a root directory.
//!
//! An [`Installation`] (files, directories, symlinks, and the build users)
//! becomes a [`Plan`]: an ordered list of
//! idempotent actions, each looked at against the live tree and marked
//! done, pending, conflicting (a managed file edited by hand) or blocked (a
//! symlink leading out of the root). [`apply`] validates everything before
//! touching anything, then carries the pending actions out in order:
//! files are written atomically (temporary file, fsync, rename, fsync of
//! the directory) with their mode, anything replaced that we did not write
//! is backed up, and each step is recorded in a versioned JSON receipt
//! written atomically under the root. [`revert`] undoes what the receipt
//! records, latest first, and leaves the tree as it was before the first
//! apply, byte for byte.
//!
//! It is declarative: applying again after a change to the installation
//! carries out only the difference, and what is no longer configured is
//! put back as it was. That includes build users: those an earlier apply
//! created ([`managed_build_users`]) are removed once the configuration
//! no longer asks for them (a smaller `nix.nrBuildUsers`,
//! `auto-allocate-uids`), and revert still gives back the accounts as
//! they were before the first apply.
//!
//! A configuration file (evaluated by nixconf-options: the NixOS option
//! tree and nixconf's own `users.*` and `ids.gids.nixbld`) becomes an
//! installation with [`read_config`] and
//! [`Config::installation`]: every file the module renders, the state
//! layout of the target Nix, the socket's enablement, the build users
//! ([`BuildUsers`], planned by `nixconf-users` against the root's
//! accounts) and, for `nix.gc.automatic` and `nix.optimise.automatic`,
//! their service and timer units in `/etc/systemd/system` (timers enabled
//! in `timers.target.wants`, calling the root's own Nix). Every kind of action the receipt records is built in:
//! [`revert`] undoes them all, the build users included, with nothing to
//! register.
//!
//! Under the root, nixconf keeps its own state in `nix/var/nixconf/`
//! (mode 0700, as are the directories under it): `receipt.json` (mode
//! 0600), `backups/<path>` (originals of replaced files, restored by
//! revert) and `edited/<path>.<n>` (hand edits overwritten with `force`,
//! never deleted by nixconf); copies keep the original's mode, owner and
//! group whatever the umask. A managed file that replaces an existing one
//! is never more readable than it: it gets the configured mode narrowed
//! to the replaced file's (`desired & original`), and its owner and group
//! (the plan says so).
//!
//! Nothing outside the root is ever touched: the root is opened once, and
//! every path under it is opened relative to that handle with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` (component by
//! component with `O_NOFOLLOW` where the kernel lacks it); writes,
//! renames, mode and owner changes, directories and removals act on the
//! opened descriptors. Symlinks inside the root that the system relies on
//! (`/etc/nix -> /etc/static/nix`) are resolved by nixconf itself, and
//! refused, with their path, when they lead out of the root; nixconf's own
//! state is never reached through a symlink. The files the shadow tools
//! touch are checked with [`check_account_files`] before the build users
//! action runs.
//!
//! Apply and revert hold an exclusive lock (`flock` on
//! `nix/var/nixconf/lock`, holding the PID); a second run waits up to
//! [`ApplyOptions::lock_timeout`] (10 s), then names the holder. A run
//! killed at any point converges: applying again finishes the work, and
//! revert removes every temporary and directory nixconf made.
//!
//! ```
//! use nixconf_activation::{apply, plan, revert, ApplyOptions, DesiredFile, Installation, PlanOptions};
//!
//! let root = tempfile::tempdir()?;
//! let nix_conf = DesiredFile::new("/etc/nix/nix.conf", "sandbox = true\n").restarts_daemon();
//! let installation = Installation::new()
//!     .nix_state_layout(&"2.18.1".parse()?)
//!     .file(nix_conf);
//!
//! let before = plan(root.path(), &installation, &PlanOptions::default())?;
//! assert!(before.describe().starts_with("create directory /nix/var/nix/gcroots/per-user (mode 0755, owner root:root)\n"));
//! assert!(before.describe().contains("create file /etc/nix/nix.conf (mode 0644)\n    --- /dev/null\n"));
//!
//! apply(root.path(), &installation, &ApplyOptions::default())?;
//! assert_eq!(std::fs::read_to_string(root.path().join("etc/nix/nix.conf"))?, "sandbox = true\n");
//! assert!(plan(root.path(), &installation, &PlanOptions::default())?.is_up_to_date());
//!
//! let report = revert(root.path())?;
//! assert!(report.is_success());
//! assert_eq!(std::fs::read_dir(root.path())?.count(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules, leaves first: `relpath`, `host`, `desired`, `report` and
//! `error` name things; `beneath` (the root's handle), `path` (resolving
//! under it), `fsops` (atomic writes, modes, owners), `observe` (what is
//! at a path, and whose) and `receipt` work on the tree; `state` keeps
//! nixconf's own directory and `lock` its lock; `planned` (the plan's
//! types), `planner` and `run` (an apply or revert under way) are what the
//! action kinds build on. `action` holds one module per kind, each with
//! its planning, carrying out and undoing: `directory`, `symlink`, `file`
//! (those two sharing `replaced`), `build_users` and `daemon`. On top,
//! `plan`, `apply` and `revert` put them in order; `installation` and
//! `nixos` describe what to install (`timers` the units of `nix.gc` and
//! `nix.optimise`); `diff` writes the plan's unified
//! diffs; `tree` captures a tree for tests.
#![deny(missing_docs)]

mod action;
mod apply;
mod beneath;
mod desired;
mod diff;
mod error;
mod fsops;
mod host;
mod installation;
mod lock;
mod nixos;
mod observe;
mod path;
mod plan;
mod planned;
mod planner;
mod receipt;
mod relpath;
mod report;
mod revert;
mod run;
mod state;
mod timers;
mod tree;

pub use action::build_users::{managed_build_users, BuildUsers, BUILD_USERS};
pub use apply::{apply, ApplyOptions};
pub use desired::{DesiredDir, DesiredFile, DesiredSymlink};
pub use error::{Error, Result};
pub use installation::{state_layout, Installation, StateLayout};
pub use nixos::{
    parse_config, parse_config_with, read_config, read_config_with, Config, NIXCONF_HEADER,
    SOCKET_WANTS_PATH,
};
pub use path::{check_account_files, check_beneath, ACCOUNT_FILES};
pub use plan::plan;
pub use planned::{ActionKind, Ownership, Plan, PlanOptions, PlannedAction, Status};
pub use report::{Outcome, Report, ReportEntry};
pub use revert::{revert, revert_with, RevertOptions};
pub use tree::{Tree, TreeEntry};
