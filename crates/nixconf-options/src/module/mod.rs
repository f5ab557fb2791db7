//! Module generations beyond the 2023 one, each in its own files.

mod arch2026;
pub(crate) mod nixos2026;
mod options2026;
mod output2026;
mod units2026;

pub use output2026::Nixos2026;
