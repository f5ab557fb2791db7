//! `nixconf conf`: read nix.conf the way Nix does.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use nixconf_format::{
    as_logged, installed_version, newest_version, FsSource, Network, NixVersion, Severity,
    ShowOptions,
};

use crate::Outcome;

/// nix.conf as a given Nix version reads it.
#[derive(Debug, Subcommand)]
pub enum ConfCommand {
    /// Print the settings that DIR/nix.conf (and what it includes) sets,
    /// as `nix show-config` prints them: canonical names, sorted, then
    /// Nix's warnings on stderr.
    ///
    /// Reproduces `nix --extra-experimental-features nix-command
    /// show-config` run with NIX_CONF_DIR=DIR and no user configuration,
    /// as it prints on this host with network access. With --offline, as
    /// a `nix` WITHOUT network access prints it, which is how the
    /// conformance corpus was recorded: substitute = false, tarball-ttl =
    /// 4294967295, download-attempts = 0 and connect-timeout = 1 (2.3+;
    /// also narinfo-cache-meta-ttl from 2.34) whatever the file says.
    /// pure-eval always prints true (2.4+: the `nix` command forces it)
    /// and experimental-features gains nix-command. Only settings the
    /// files touch are listed. Paths in messages are relative to DIR.
    Show(ShowArgs),
    /// Report every problem in one nix.conf: syntax errors, bad values,
    /// missing includes (errors, exit status 1) and unknown or ignored
    /// settings (warnings), each with file:line:col and a caret.
    Check(CheckArgs),
}

/// Arguments of `nixconf conf show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The configuration directory [default: $NIX_CONF_DIR, else /etc/nix]
    #[arg(long, value_name = "DIR")]
    conf_dir: Option<PathBuf>,
    #[command(flatten)]
    version: VersionArg,
    /// Print `{"settings": {...}, "warnings": [...]}` (or `{"error": ...}`).
    #[arg(long)]
    json: bool,
    /// Print what a `nix` without network access prints (the offline
    /// overrides above), as the conformance corpus was recorded.
    #[arg(long, conflicts_with = "online")]
    offline: bool,
    /// Print what a `nix` with network access prints (the default; kept
    /// for scripts written when --offline was the default).
    #[arg(long, hide = true)]
    online: bool,
}

/// Arguments of `nixconf conf check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The nix.conf to check.
    file: PathBuf,
    #[command(flatten)]
    version: VersionArg,
}

/// The target Nix version.
#[derive(Debug, Args)]
pub struct VersionArg {
    /// Nix version to reproduce, e.g. 2.8.0 [default: the version of the
    /// `nix` on PATH, else the newest nixconf knows]
    #[arg(long, value_name = "V")]
    nix_version: Option<NixVersion>,
}

impl VersionArg {
    fn resolve(&self) -> NixVersion {
        self.nix_version
            .clone()
            .or_else(|| installed_version(Path::new("nix")).ok())
            .unwrap_or_else(newest_version)
    }
}

pub fn run(command: ConfCommand) -> Result<Outcome, String> {
    match command {
        ConfCommand::Show(args) => show_cmd(args),
        ConfCommand::Check(args) => check_cmd(args),
    }
}

fn show_cmd(args: ShowArgs) -> Result<Outcome, String> {
    let version = args.version.resolve();
    let network = if args.offline {
        Network::Offline
    } else {
        Network::Online
    };
    let conf_dir = args.conf_dir.unwrap_or_else(default_conf_dir);
    if args.json {
        let (value, ok) = nixconf_format::show_json(&conf_dir, &version, network);
        let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        return Ok(Outcome {
            stdout: text + "\n",
            failed: !ok,
        });
    }
    let options = ShowOptions { version, network };
    let effective =
        nixconf_format::show(&conf_dir, &options).map_err(|e| as_logged(&e.to_string()))?;
    let mut stdout = String::new();
    for (name, value) in &effective.settings {
        stdout.push_str(&format!("{name} = {value}\n"));
    }
    for w in &effective.warnings {
        crate::warn(&as_logged(w));
    }
    Ok(Outcome {
        stdout,
        failed: false,
    })
}

/// Where Nix looks for nix.conf: `$NIX_CONF_DIR`, else `/etc/nix`.
fn default_conf_dir() -> PathBuf {
    std::env::var_os("NIX_CONF_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("/etc/nix"), PathBuf::from)
}

fn check_cmd(args: CheckArgs) -> Result<Outcome, String> {
    let version = args.version.resolve();
    let text = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let diagnostics = nixconf_format::check_conf(&FsSource, &args.file, &text, &version)
        .map_err(|e| e.to_string())?;
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let mut stdout = String::new();
    for d in &diagnostics {
        stdout.push_str(&d.render());
        stdout.push('\n');
    }
    stdout.push_str(&format!(
        "{}: {errors} error(s), {warnings} warning(s) for Nix {version}\n",
        args.file.display()
    ));
    Ok(Outcome {
        stdout,
        failed: errors > 0,
    })
}
