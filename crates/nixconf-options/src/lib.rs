//! The NixOS `nix.*` option tree: load, type-check and evaluate.
//!
//! This crate reads a configuration written in the NixOS option tree (TOML
//! or JSON), checks every option against the 2023 NixOS nix-daemon module's
//! types, applies its defaults, merges and renames, and produces what that
//! module produces: `nix.conf`, `machines`, `registry.json`, the build
//! users, the daemon's service settings, session variables and tmpfiles
//! rules, byte for byte.
#![deny(missing_docs)]
