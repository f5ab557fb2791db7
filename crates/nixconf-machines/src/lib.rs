//! Remote-builder machines files for every Nix generation.
//!
//! This crate reads `/etc/nix/machines` files and `builders` strings into
//! typed machines exactly as the target Nix version does, writes them back
//! the way the NixOS module writes them (the 2023 line format and the 2013
//! `/etc/nix.machines` format of `build-remote.pl`), lints what Nix accepts
//! but users regret, and answers which machines may build a derivation.
//!
//! ```
//! use nixconf_machines::BuildMachine;
//! let mut m = BuildMachine::new("builder");
//! m.system = Some("aarch64-linux".into());
//! assert_eq!(m.to_module_line(&"2.24.9".parse().unwrap()),
//!     "ssh://builder aarch64-linux - 1 1 - - -\n");
//! ```
#![deny(missing_docs)]

mod module;

pub use module::{render_module_machines, BuildMachine};
