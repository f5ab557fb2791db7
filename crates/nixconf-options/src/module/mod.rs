//! The module generations, each in its own files: `nixos2013` (Nix 1.x),
//! `nixos2023` (NixOS 23.05's nix-daemon module) and `nixos2026` with
//! its option tables (`options2026`), their reader (`read2026`), units
//! and outputs.

mod arch2026;
pub(crate) mod nixos2013;
pub(crate) mod nixos2023;
pub(crate) mod nixos2026;
mod options2026;
mod output2026;
mod read2026;
mod units2026;

pub use output2026::Nixos2026;
