//! nix.conf exactly as Nix reads it.
//!
//! This crate parses nix.conf text into a lossless document (every line,
//! comment and blank kept, with byte spans), applies it with the target Nix
//! version's semantics (includes, `extra-`, aliases, typed values and
//! Nix's own error texts), and renders values the way the NixOS module
//! writes them. It also parses and compares Nix versions.
//!
//! ```
//! use nixconf_format::{show_with, MemSource, Network, NixVersion, ShowOptions};
//! let mut files = MemSource::new();
//! files.insert("/etc/nix/nix.conf", "build-max-jobs = 4 # old name\nextra-trusted-users = alice\nfoo = 1\n");
//! let options = ShowOptions { version: "2.8.0".parse().unwrap(), network: Network::Offline };
//! let effective = show_with(&files, "/etc/nix".as_ref(), &options).unwrap();
//! assert_eq!(effective.settings["max-jobs"], "4");
//! assert_eq!(effective.settings["trusted-users"], "root alice");
//! assert_eq!(effective.warnings, ["warning: unknown setting 'foo'"]);
//!
//! let v: NixVersion = "2.24.9".parse().unwrap();
//! assert!(v.is_at_least("2.4pre"));
//! assert!(v < "2.25".parse().unwrap());
//! ```
#![deny(missing_docs)]

mod check;
mod document;
mod error;
mod eval;
mod grammar;
mod lex;
mod schema;
#[rustfmt::skip]
mod schema_generated;
mod show;
mod trace;
mod typed;
mod value;
mod version;
mod xp;

pub use check::{check, edit_distance, Diagnostic, Severity};
pub use document::{Document, EditError, Line, LineKind};
pub use error::{ConfError, Location};
pub use eval::{
    apply, apply_with, show, show_with, Effective, FsSource, MemSource, Network, Settings,
    ShowOptions, Source,
};
pub use schema::{setting_default, setting_info, SettingKind};
pub use show::{as_logged, newest_version, show_json};
pub use trace::{trace, Trace, TraceStep};
pub use typed::online_cpus;
pub use value::{float_to_string, render_key, render_setting, ConfValue};
pub use version::{compare_versions, installed_version, NixVersion, VersionError};
