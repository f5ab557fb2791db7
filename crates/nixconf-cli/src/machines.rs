//! `nixconf machines`: read, write, check and query remote-builder
//! machines files as a given Nix version does.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use nixconf_format::NixVersion;
use nixconf_machines::{eligibility, expand, lint, parse, Error, Expanded, MachinesFile};

use crate::Outcome;

/// The version assumed when `--nix-version` is not given: the newest
/// release whose behaviour this crate knows.
const DEFAULT_NIX_VERSION: &str = "2.35.2";

/// Remote-builder machines files (/etc/nix/machines, `builders`).
#[derive(Debug, Args)]
pub struct MachinesArgs {
    #[command(subcommand)]
    command: MachinesCommand,
}

#[derive(Debug, Subcommand)]
enum MachinesCommand {
    /// Read a machines file as the target Nix does (following @file
    /// references) and print its machines as Nix understands them.
    Parse {
        /// The machines file.
        file: PathBuf,
        #[command(flatten)]
        target: Target,
        /// Print JSON: the file's entries as written (what `render` reads)
        /// and each machine as Nix understands it.
        #[arg(long)]
        json: bool,
    },
    /// Write a machines file from the JSON that `parse --json` prints.
    Render {
        /// The JSON file.
        file: PathBuf,
        #[command(flatten)]
        target: Target,
        /// Write the 2013 /etc/nix.machines format of build-remote.pl
        /// (Nix 1.x): empty fields, no URI scheme, seven columns.
        #[arg(long)]
        legacy: bool,
    },
    /// Report every entry the target Nix refuses (with Nix's own message)
    /// and everything it accepts but you will regret, each with a fix.
    /// Exit status 1 when there is anything to report.
    Check {
        /// The machines file.
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// List the machines that may build a derivation of a system with
    /// the given required features (and why the others may not).
    Which {
        /// The derivation's system, for example x86_64-linux.
        #[arg(long)]
        system: String,
        /// A feature the derivation requires (repeatable).
        #[arg(long = "feature", value_name = "FEATURE")]
        features: Vec<String>,
        /// The machines file.
        file: PathBuf,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, Args)]
struct Target {
    /// The Nix version that reads the file [default: 2.35.2, the newest
    /// release this knows].
    #[arg(long, value_name = "V")]
    nix_version: Option<String>,
    /// The `system` of the machine running Nix, used for machines whose
    /// systems column is `-` (default: this host's).
    #[arg(long, value_name = "SYSTEM")]
    local_system: Option<String>,
    /// The directory relative `@file` references start from. Nix resolves
    /// them from the working directory of the process reading the
    /// machines, and the build hook always runs in `/`.
    #[arg(long, value_name = "DIR", default_value = "/")]
    cwd: PathBuf,
}

impl Target {
    fn version(&self) -> Result<NixVersion, String> {
        self.nix_version
            .as_deref()
            .unwrap_or(DEFAULT_NIX_VERSION)
            .parse()
            .map_err(|e| format!("--nix-version: {e}"))
    }

    fn local_system(&self) -> String {
        self.local_system.clone().unwrap_or_else(host_system)
    }
}

/// This host's Nix system name, such as `x86_64-linux`.
fn host_system() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("{}-{os}", std::env::consts::ARCH)
}

pub fn run(args: MachinesArgs) -> Result<Outcome, String> {
    match args.command {
        MachinesCommand::Parse { file, target, json } => parse_cmd(&file, &target, json),
        MachinesCommand::Render {
            file,
            target,
            legacy,
        } => render_cmd(&file, &target, legacy),
        MachinesCommand::Check { file, target } => check_cmd(&file, &target),
        MachinesCommand::Which {
            system,
            features,
            file,
            target,
        } => which_cmd(&file, &target, &system, features),
    }
}

/// Read, parse and expand `path`, or the message to print.
fn load(
    path: &Path,
    target: &Target,
    version: &NixVersion,
) -> Result<(String, MachinesFile, Expanded), String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let file = parse(&text, &name, version).map_err(|e| describe(&e))?;
    let expanded = expand(&file, &name, version, &target.cwd).map_err(|e| describe(&e))?;
    Ok((name, file, expanded))
}

/// Every error, rendered rustc-style (entry errors with a caret under
/// the entry and their help), one blank line between them, without the
/// first `error: ` (the caller prints it).
fn describe(error: &Error) -> String {
    let rendered: Vec<String> = error.diagnostics().iter().map(|d| d.render()).collect();
    let all = rendered.join("\n");
    let all = all.strip_prefix("error: ").unwrap_or(&all);
    all.trim_end_matches('\n').to_owned()
}

fn parse_cmd(path: &Path, target: &Target, json: bool) -> Result<Outcome, String> {
    let version = target.version()?;
    let local = target.local_system();
    let (name, file, expanded) = load(path, target, &version)?;
    let views: Vec<_> = expanded
        .machines
        .iter()
        .map(|l| (l, l.machine.nix_view(&version, &local)))
        .collect();
    let stdout = if json {
        let machines: Vec<serde_json::Value> = views
            .iter()
            .map(|(l, view)| serde_json::json!({"file": l.file, "line": l.line, "nix": view}))
            .collect();
        let missing: Vec<serde_json::Value> = expanded
            .missing
            .iter()
            .map(|m| serde_json::json!({"file": m.file, "line": m.line, "path": m.path}))
            .collect();
        let doc = serde_json::json!({
            "file": name,
            "nixVersion": version.as_str(),
            "items": file.items,
            "finalNewline": file.final_newline,
            "machines": machines,
            "missing": missing,
        });
        let mut s = serde_json::to_string_pretty(&doc).map_err(|e| format!("writing JSON: {e}"))?;
        s.push('\n');
        s
    } else {
        let mut s = String::new();
        for (l, m) in &views {
            let join = |v: &BTreeSet<String>| {
                if v.is_empty() {
                    "-".to_owned()
                } else {
                    v.iter().cloned().collect::<Vec<_>>().join(",")
                }
            };
            let _ = writeln!(
                s,
                "{}:{}: {} systems={} maxJobs={} speedFactor={} supported={} mandatory={} sshKey={} hostKey={}",
                l.file,
                l.line,
                m.store_uri,
                m.systems.join(","),
                m.max_jobs,
                m.speed_factor,
                join(&m.supported_features),
                join(&m.mandatory_features),
                if m.ssh_key.is_empty() { "-" } else { &m.ssh_key },
                if m.public_host_key.is_empty() { "-" } else { &m.public_host_key },
            );
        }
        for m in &expanded.missing {
            let _ = writeln!(
                s,
                "{}:{}: note: @{} does not exist; Nix skips it",
                m.file, m.line, m.path
            );
        }
        s
    };
    Ok(Outcome {
        stdout,
        failed: false,
    })
}

fn render_cmd(path: &Path, target: &Target, legacy: bool) -> Result<Outcome, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let file: MachinesFile = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
    let mut version = target.version()?;
    if legacy {
        if version.is_at_least("2.0pre") && target.nix_version.is_some() {
            return Err(format!(
                "--legacy writes the Nix 1.x format, but --nix-version is {version}"
            ));
        }
        version = "1.11.16".parse().map_err(|e| format!("{e}"))?;
    }
    let stdout = file.render(&version).map_err(|e| {
        format!(
            "{name}: {}",
            e.to_string().replace('\n', &format!("\n{name}: "))
        )
    })?;
    Ok(Outcome {
        stdout,
        failed: false,
    })
}

fn check_cmd(path: &Path, target: &Target) -> Result<Outcome, String> {
    let version = target.version()?;
    let (_, _, expanded) = load(path, target, &version)?;
    let lints = lint(&expanded.machines, &version);
    let mut stdout = String::new();
    for l in &lints {
        let _ = writeln!(stdout, "{l}");
    }
    for m in &expanded.missing {
        let _ = writeln!(
            stdout,
            "{}:{}: note: @{} does not exist; Nix skips it",
            m.file, m.line, m.path
        );
    }
    let _ = writeln!(
        stdout,
        "{} machine(s), {} warning(s) for Nix {version}",
        expanded.machines.len(),
        lints.len()
    );
    Ok(Outcome {
        stdout,
        failed: !lints.is_empty(),
    })
}

fn which_cmd(
    path: &Path,
    target: &Target,
    system: &str,
    features: Vec<String>,
) -> Result<Outcome, String> {
    let version = target.version()?;
    let local = target.local_system();
    let (_, _, expanded) = load(path, target, &version)?;
    let required: BTreeSet<String> = features.into_iter().collect();
    let mut stdout = String::new();
    let mut any = false;
    let mut refused = String::new();
    for l in &expanded.machines {
        let view = l.machine.nix_view(&version, &local);
        let e = eligibility(&view, system, &required);
        if e.eligible {
            any = true;
            let _ = writeln!(stdout, "{}:{}: {}", l.file, l.line, view.store_uri);
        } else {
            let _ = writeln!(
                refused,
                "# {}:{}: {}: {}",
                l.file,
                l.line,
                view.store_uri,
                e.reasons.join("; ")
            );
        }
    }
    if !any {
        let _ = writeln!(
            stdout,
            "# no machine may build a {system} derivation with these features"
        );
    }
    stdout.push_str(&refused);
    Ok(Outcome {
        stdout,
        failed: !any,
    })
}
