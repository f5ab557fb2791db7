//! Remote-builder machines files for every Nix generation.
//!
//! This crate reads `/etc/nix/machines` files and `builders` strings into
//! typed machines exactly as the target Nix version does (both of Nix's
//! entry-splitting algorithms, `@file` references, store-URI
//! normalisation, each version's number rules and error texts), keeps what
//! was written so that a canonical file renders back byte for byte, writes
//! machines the way the NixOS module does (the 2023 line format and the
//! 2013 `/etc/nix.machines` format of `build-remote.pl`), lints what Nix
//! accepts but users regret, and answers which machines may build a
//! derivation.
//!
//! Modules: `parse` (entries of a file or `builders` string, and writing
//! the document back), `expand` (following `@file` references), `machine`
//! (one machine, its columns and Nix's view of it), `rules` (what differs
//! by version), `num`, `base64` and `uri` (the column readers), `module`
//! (the NixOS module's formats), `lint`, `eligible`, and `error`, whose
//! [`Error::diagnostics`] gives the workspace's `Diagnostic`s (a caret
//! under each refused entry) for printing.
//!
//! ```
//! use nixconf_machines::{parse, BuildMachine};
//! let v = "2.24.9".parse().unwrap();
//! let mut m = BuildMachine::new("builder");
//! m.system = Some("aarch64-linux".into());
//! let line = m.to_module_line(&v);
//! assert_eq!(line, "ssh://builder aarch64-linux - 1 1 - - -\n");
//!
//! let file = parse(&line, "machines", &v).unwrap();
//! assert_eq!(file.render(&v).unwrap(), line);
//! let view = file.machines().next().unwrap().nix_view(&v, "x86_64-linux");
//! assert_eq!(view.systems, ["aarch64-linux"]);
//! ```
#![deny(missing_docs)]

mod base64;
mod eligible;
mod error;
mod expand;
mod lint;
mod machine;
mod module;
mod num;
mod parse;
mod rules;
mod uri;

pub use eligible::{eligibility, Eligibility};
pub use error::{EntryError, EntryErrorKind, Error};
pub use expand::{expand, Expanded, Located, Missing};
pub use lint::{lint, Lint, LintKind};
pub use machine::{Machine, MachineSpec, NixMachine, SpeedFactor};
pub use module::{render_legacy_machines, render_module_machines, BuildMachine};
pub use parse::{parse, Item, MachinesFile};
