//! Remote-builder machines files for every Nix generation.
//!
//! This crate reads `/etc/nix/machines` files and `builders` strings into
//! typed machines exactly as the target Nix version does, writes them back
//! the way the NixOS module writes them (the 2023 line format and the 2013
//! `/etc/nix.machines` format of `build-remote.pl`), lints what Nix accepts
//! but users regret, and answers which machines may build a derivation.
#![deny(missing_docs)]
