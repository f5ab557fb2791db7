//! What no other Nix tool tells you: security and capacity findings for a
//! Nix installation or a nixconf configuration.
//!
//! The same checks run on two subjects: a configuration in the NixOS option
//! tree ([`lint_config`], findings at option paths such as
//! `nix.settings.trusted-users[1]`) and a live installation under a root
//! ([`lint_root`], findings at `file:line:col` of the nix.conf line that set
//! the value, read through its includes as the installed Nix reads it). Each
//! [`Finding`] has a severity, where it is, what is wrong and the exact fix.
//!
//! ```
//! use nixconf_lint::{lint_source, Host, Severity};
//! use nixconf_options::{EvalOptions, Format};
//!
//! let findings = lint_source(
//!     "nixVersion = \"2.18.1\"\n[nix.settings]\ntrusted-users = [\"root\", \"*\"]\nrequire-sigs = false\n",
//!     Format::Toml,
//!     "host.toml",
//!     EvalOptions::default(),
//!     &Host { cpus: 4, uid_min: 1000 },
//! )?;
//! let everyone = findings.iter().find(|f| f.code == "trusted-everyone").unwrap();
//! assert_eq!(everyone.at, "nix.settings.trusted-users[1]");
//! assert_eq!(everyone.severity, Severity::Error);
//! assert_eq!(findings[0].code, "require-sigs-off");
//! assert_eq!(findings[0].fix, "set nix.settings.require-sigs = true");
//! # Ok::<(), String>(())
//! ```
//!
//! Modules: `subject` (what the checks look at, the same for a
//! configuration, read through nixconf-options' one schema, and a live
//! installation), `live` (a live installation under a root, read as its
//! Nix reads it) and `checks` (the checks, each a function of the
//! subject).
#![deny(missing_docs)]

mod checks;
mod live;
mod subject;

use std::fmt;
use std::path::Path;

use serde::Serialize;

pub use live::lint_root;

/// How bad a finding is. `nixconf lint` exits 1 when there is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Unsafe or broken: fix it.
    Error,
    /// Probably not what you want.
    Warning,
    /// Worth knowing.
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// A stable name for the kind of finding (`trusted-everyone`).
    pub code: &'static str,
    /// Where: an option path (`nix.settings.trusted-users[1]`) or
    /// `file:line:col`.
    pub at: String,
    /// What is wrong.
    pub message: String,
    /// The exact fix.
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}: {}\n  fix: {}",
            self.severity, self.code, self.at, self.message, self.fix
        )
    }
}

/// Facts about the machine the installation runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host {
    /// Online CPUs (what `max-jobs = auto` and `cores = 0` mean).
    pub cpus: usize,
    /// The first uid of login accounts (`UID_MIN` of `login.defs`).
    pub uid_min: u32,
}

impl Host {
    /// This machine's CPUs and the root's `etc/login.defs` (`UID_MIN`,
    /// 1000 when unset).
    pub fn of_root(root: &Path) -> Host {
        let uid_min = std::fs::read_to_string(root.join("etc/login.defs"))
            .ok()
            .and_then(|text| {
                text.lines().find_map(|l| {
                    let mut words = l.split_whitespace();
                    (words.next() == Some("UID_MIN"))
                        .then(|| words.next()?.parse().ok())
                        .flatten()
                })
            })
            .unwrap_or(1000);
        Host {
            cpus: nixconf_format::online_cpus(),
            uid_min,
        }
    }
}

/// Lint an evaluated configuration. Findings are sorted by severity, then
/// by where they are. List elements are indexed as in the evaluated value,
/// which may hold the module's own entries first; [`lint_source`] points
/// at the configuration's own definitions instead.
pub fn lint_config(eval: &nixconf_options::Evaluation, host: &Host) -> Vec<Finding> {
    let subject = subject::Subject::from_evaluation(eval);
    sorted(checks::run(&subject, host))
}

/// Evaluate a configuration's text (the option tree and nixconf's own
/// `users` and `ids.gids` options, as every command reads it) and lint it, each
/// finding about a setting's value pointing at the definition in the text
/// that wrote it
/// (`nix.settings.trusted-users[1]` is the second element of the list
/// the file gives). `Err`: why the configuration does not evaluate.
pub fn lint_source(
    text: &str,
    format: nixconf_options::Format,
    file_name: &str,
    options: nixconf_options::EvalOptions,
    host: &Host,
) -> Result<Vec<Finding>, String> {
    let eval = nixconf_options::evaluate_with(text, format, file_name, options)
        .and_then(|eval| nixconf_options::assertions_hold(&eval).map(|()| eval))
        .map_err(|e| e.to_string())?;
    let mut subject = subject::Subject::from_evaluation(&eval);
    subject.macos = eval.build_users.platform == Some(nixconf_options::BuildUsersPlatform::Macos);
    let mut findings = sorted(checks::run(&subject, host));
    let settings = eval.settings.unwrap_or_default();
    for f in &mut findings {
        let Some(rest) = f.at.strip_prefix("nix.settings.") else {
            continue;
        };
        let (key, index) = match rest.split_once('[') {
            Some((key, i)) => (key, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (rest, None),
        };
        let value = match (settings.get(key), index) {
            (Some(nixconf_format::ConfValue::List(items)), Some(i)) => {
                items.get(i).map(|v| v.render())
            }
            (Some(v), None) => Some(v.render()),
            _ => None,
        };
        let found =
            value.and_then(|v| nixconf_options::find_definition(text, format, file_name, key, &v));
        if let Some((path, _)) = found {
            f.at = path;
        }
    }
    Ok(sorted(findings))
}

/// Evaluate and lint many configuration files at once (in parallel); each
/// file's findings, or the message of why it does not evaluate.
pub fn lint_files(
    paths: &[std::path::PathBuf],
    options: nixconf_options::EvalOptions,
    host: &Host,
) -> Vec<Result<Vec<Finding>, String>> {
    use rayon::prelude::*;
    paths
        .par_iter()
        .map(|path| {
            let name = path.display().to_string();
            let format = nixconf_options::Format::from_path(path)
                .ok_or_else(|| format!("{name}: use a .toml or .json file"))?;
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
            lint_source(&text, format, &name, options, host)
        })
        .collect()
}

fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| a.at.cmp(&b.at)));
    findings
}
