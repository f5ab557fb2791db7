//! `--generation` and `--nixos`: the flags every command that takes
//! `--config` shares.

use std::path::Path;

use clap::Args;
use nixconf_options::{EvalOptions, ModuleGeneration};

/// Which NixOS module generation to follow, and the output flavour.
#[derive(Clone, Copy, Debug, Default, Args)]
pub struct GenerationArgs {
    /// The NixOS `nix.*` module generation to follow: 2013, 2023 or 2026.
    /// Overrides the configuration's top-level `generation` key; without
    /// either, the target Nix decides (2013 for Nix 1.x, else the newest).
    #[arg(long, value_name = "YEAR", value_parser = parse_generation)]
    pub generation: Option<ModuleGeneration>,
    /// Files exactly as NixOS writes them, byte for byte. Without it,
    /// the nix.conf that `plan`/`apply` install says in its header that
    /// nixconf generated it (NixOS's points at
    /// /etc/nixos/configuration.nix); `eval` and `render` always show
    /// NixOS's output.
    #[arg(long)]
    pub nixos: bool,
}

impl GenerationArgs {
    /// The evaluation options these flags ask for.
    pub fn eval_options(self) -> EvalOptions {
        EvalOptions {
            generation: self.generation,
        }
    }
}

fn parse_generation(s: &str) -> Result<ModuleGeneration, String> {
    s.parse()
}

/// Where the configuration is when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "/etc/nixconf/nixconf.toml";

/// Refuse, with the fix, to go on without a configuration when `path` is
/// the default one and there is none.
pub fn require_config(path: &Path) -> Result<(), String> {
    if path == Path::new(DEFAULT_CONFIG) && path.symlink_metadata().is_err() {
        return Err(format!(
            "no configuration at {DEFAULT_CONFIG} (the default of --config)\n  \
             = help: `nixconf import -o {DEFAULT_CONFIG}` writes one that keeps the \
             installation as it is; or pass --config FILE"
        ));
    }
    Ok(())
}
