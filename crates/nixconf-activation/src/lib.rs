//! Plan, apply and revert a whole Nix installation on a root directory.
//!
//! An evaluated configuration becomes an ordered list of idempotent
//! actions (directories, files, build users, the daemon's units), each
//! planned against the live tree, described in a dry run, executed in
//! order, reverted in reverse, and recorded in a receipt written
//! atomically under the root.
#![deny(missing_docs)]
