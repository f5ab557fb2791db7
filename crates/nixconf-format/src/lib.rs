//! nix.conf exactly as Nix reads it.
//!
//! This crate parses nix.conf text into a lossless document (every line,
//! comment and blank kept, with byte spans), applies it with the target Nix
//! version's semantics (includes, `extra-`, aliases, typed values and
//! Nix's own error texts), and renders values the way the NixOS module
//! writes them. It also parses and compares Nix versions, and `conf check`
//! lints one nix.conf into [`Diagnostic`]s (the workspace's one
//! diagnostic type, from `nixconf-diagnostic`).
//!
//! Modules, leaves first: `lex` (the line grammar over bytes; `grammar`
//! states it with nom for the property tests) and `scan` (its one-pass
//! SIMD scanner); `schema_types`, `schema_generated` (the generated
//! tables, read only by `schema`), `name_hash` (the table's hash, shared
//! with the generator) and `schema` (which settings exist in which
//! version); `typed` (values); `source` (where files are read from);
//! `state` (applying one setting); `settings` (the result type);
//! `include` (the include tree and each version's order of lines);
//! `history` (what [`trace`] returns); `eval` (the entry points [`show`],
//! [`apply`], [`trace`]); `check` ([`check_conf`]), `show`, `document`,
//! `value`, `version`, `xp` and `error`.
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
mod include;
mod lex;
mod name_hash;
mod scan;
mod schema;
#[rustfmt::skip]
mod schema_generated;
mod history;
mod schema_types;
mod settings;
mod show;
mod source;
mod state;
mod typed;
mod value;
mod version;
mod xp;

pub use check::check_conf;
pub use document::{Document, EditError, Line, LineKind};
pub use error::ConfError;
pub use eval::{apply, apply_with, show, show_with, trace, ShowOptions};
pub use history::{Trace, TraceStep};
pub use nixconf_diagnostic::{Diagnostic, Severity, Span};
pub use schema::{setting_default, setting_info, SettingKind};
pub use settings::{Effective, Network, Settings};
pub use show::{as_logged, newest_version, show_json};
pub use source::{FsSource, MemSource, Source};
pub use typed::online_cpus;
pub use value::{float_to_string, render_key, render_setting, ConfValue};
pub use version::{
    compare_versions, dpkg_version, installed_version, store_path_version, NixVersion, VersionError,
};
