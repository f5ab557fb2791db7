//! nix.conf exactly as Nix reads it.
//!
//! This crate parses nix.conf text into a lossless document (every line,
//! comment and blank kept, with byte spans), applies it with the target Nix
//! version's semantics (includes, `extra-`, aliases, typed values and
//! Nix's own error texts), and renders values the way the NixOS module
//! writes them. It also parses and compares Nix versions.
//!
//! ```
//! use nixconf_format::NixVersion;
//! let v: NixVersion = "2.24.9".parse().unwrap();
//! assert!(v.is_at_least("2.4pre"));
//! assert!(v < "2.25".parse().unwrap());
//! ```
#![deny(missing_docs)]

mod value;
mod version;

pub use value::{float_to_string, render_key, render_setting, ConfValue};
pub use version::{compare_versions, NixVersion, VersionError};
