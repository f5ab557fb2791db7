//! `nixconf lint`: security and capacity findings.

use std::path::PathBuf;

use clap::Args;
use nixconf_format::NixVersion;
use nixconf_lint::{lint_files, lint_root, Finding, Host, Severity};

use crate::generation::GenerationArgs;
use crate::Outcome;

/// Arguments of `nixconf lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Configurations to lint (many at once, in parallel); without any,
    /// the installation under --root.
    #[arg(long = "config", value_name = "FILE", num_args = 1.., conflicts_with = "root")]
    configs: Vec<PathBuf>,
    /// The root of a live installation to lint [default: /]
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Read the live installation as this Nix version [default: the Nix
    /// installed on the root]
    #[arg(long, value_name = "V")]
    nix_version: Option<NixVersion>,
    /// Judge capacity for a machine with this many CPUs [default: this
    /// machine's online CPUs]
    #[arg(long, value_name = "N")]
    cpus: Option<usize>,
    /// Print `[{"file", "findings": [{"severity", "code", "at", "message",
    /// "fix"}]}]` (or `"error"` for a configuration that does not
    /// evaluate).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    module: GenerationArgs,
}

pub fn run(args: LintArgs) -> Result<Outcome, String> {
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("/"));
    let mut host = Host::of_root(&root);
    if let Some(cpus) = args.cpus {
        host.cpus = cpus.max(1);
    }
    let results: Vec<(String, Result<Vec<Finding>, String>)> = if args.configs.is_empty() {
        vec![(
            root.display().to_string(),
            Ok(lint_root(&root, args.nix_version.as_ref(), &host)),
        )]
    } else {
        let linted = lint_files(&args.configs, args.module.eval_options(), &host);
        args.configs
            .iter()
            .map(|p| p.display().to_string())
            .zip(linted)
            .collect()
    };
    let failed = results.iter().any(|(_, r)| match r {
        Ok(findings) => findings.iter().any(|f| f.severity == Severity::Error),
        Err(_) => true,
    });
    let stdout = if args.json {
        let items: Vec<serde_json::Value> = results
            .iter()
            .map(|(file, r)| match r {
                Ok(findings) => serde_json::json!({ "file": file, "findings": findings }),
                Err(e) => serde_json::json!({ "file": file, "error": e }),
            })
            .collect();
        serde_json::to_string_pretty(&items).map_err(|e| e.to_string())? + "\n"
    } else {
        let mut out = String::new();
        let several = results.len() > 1;
        for (file, r) in &results {
            match r {
                Ok(findings) => {
                    for f in findings {
                        if several {
                            out.push_str(&format!("{file}: "));
                        }
                        out.push_str(&format!("{f}\n"));
                    }
                }
                Err(e) => out.push_str(&format!("{file}: error: {e}\n")),
            }
        }
        let (errors, warnings) =
            results
                .iter()
                .flat_map(|(_, r)| r.iter().flatten())
                .fold((0, 0), |(e, w), f| match f.severity {
                    Severity::Error => (e + 1, w),
                    Severity::Warning => (e, w + 1),
                    Severity::Info => (e, w),
                });
        out.push_str(&format!(
            "{} linted: {errors} error{}, {warnings} warning{}\n",
            if several {
                format!("{} configurations", results.len())
            } else {
                "1 subject".to_owned()
            },
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" },
        ));
        out
    };
    Ok(Outcome { stdout, failed })
}
