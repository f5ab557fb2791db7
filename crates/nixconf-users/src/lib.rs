//! The `nixbld` build-user pool, planned against the machine's real accounts.
//!
//! This crate reads `/etc/passwd`, `/etc/group`, `/etc/subuid` and
//! `/etc/subgid` under a root directory, plans the build users and group a
//! configuration asks for (Linux and macOS conventions), reports every
//! clash with a fix, and applies the plan through the shadow tools or by
//! editing the files, recording what it did so it can be undone.
#![deny(missing_docs)]
