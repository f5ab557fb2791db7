//! `nixconf plan`, `nixconf apply` and `nixconf revert`: a configuration
//! carried out on a root directory, and taken back.
//!
//! Without `--yes`, `apply` shows the plan and asks for confirmation when
//! stdin is a terminal; when it is not (a script, CI), it refuses rather
//! than guess, as nix-installer does without `--no-confirm`: pass `--yes`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use nixconf_activation::{
    apply, plan, revert_with, ApplyOptions, Config, Error, Installation, PlanOptions, RevertOptions,
};

use crate::Outcome;

/// The activation subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what applying a configuration to a root would change: a diff
    /// per file and one line per other action, or "up to date". Exits 1
    /// when apply would refuse (a blocked action, a hand edit without
    /// --force); NixOS and nix-darwin roots are refused.
    Plan(PlanArgs),
    /// Carry a configuration out on a root: validate everything, then
    /// write each file atomically, back up what it replaces, create the
    /// build users, and record it all in a receipt.
    Apply(ApplyArgs),
    /// Undo what the receipt under a root records, latest first, leaving
    /// the tree as it was before the first apply.
    Revert(RevertArgs),
}

/// Arguments of `nixconf plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The configuration: a .toml or .json file in the NixOS option tree.
    #[arg(long, value_name = "FILE", default_value = crate::generation::DEFAULT_CONFIG)]
    config: PathBuf,
    /// The module generation and output flavour.
    #[command(flatten)]
    module: crate::generation::GenerationArgs,
    /// The root directory to plan against.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `nixconf apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The configuration: a .toml or .json file in the NixOS option tree.
    #[arg(long, value_name = "FILE", default_value = crate::generation::DEFAULT_CONFIG)]
    config: PathBuf,
    /// The module generation and output flavour.
    #[command(flatten)]
    module: crate::generation::GenerationArgs,
    /// The root directory to apply to (`/` needs root privileges).
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Plan and validate only; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Apply without asking (needed when stdin is not a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Overwrite files edited by hand since nixconf wrote them (a copy of
    /// each is kept under nix/var/nixconf/edited/).
    #[arg(long)]
    force: bool,
    /// Restart nix-daemon.service when a file it reads changed (on `/`
    /// with systemd running).
    #[arg(long)]
    restart_daemon: bool,
}

/// Arguments of `nixconf revert`.
#[derive(Debug, Args)]
pub struct RevertArgs {
    /// The root directory whose receipt is reverted (`/` needs root
    /// privileges).
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Also revert files edited by hand since nixconf wrote them (a copy
    /// of each is kept).
    #[arg(long)]
    force: bool,
}

/// Run an activation subcommand.
pub fn run(command: Command) -> Result<Outcome, String> {
    match command {
        Command::Plan(args) => run_plan(&args),
        Command::Apply(args) => run_apply(&args),
        Command::Revert(args) => run_revert(&args),
    }
}

/// An activation error for people; configuration errors with their
/// snippets.
pub(crate) fn describe(e: Error) -> String {
    match e {
        Error::Options(e) => crate::eval::describe_error(&e),
        other => other.to_string(),
    }
}

/// Read the configuration and turn it into the installation for `root`.
fn installation(
    config: &Path,
    module: crate::generation::GenerationArgs,
    root: &Path,
) -> Result<Installation, String> {
    refuse_self_managed(root)?;
    read_config(config, module)
        .map_err(describe)?
        .installation(root)
        .map_err(describe)
}

/// The configuration at `path`, evaluated; unless `--nixos` asks for
/// NixOS's files byte for byte, the nix.conf it installs says in its
/// header that nixconf made it (NixOS's points at
/// `/etc/nixos/configuration.nix`).
fn read_config(
    path: &Path,
    module: crate::generation::GenerationArgs,
) -> nixconf_activation::Result<Config> {
    let config = nixconf_activation::read_config_with(path, module.eval_options())?;
    if module.nixos {
        return Ok(config);
    }
    Ok(config.with_nixconf_header())
}

/// NixOS and nix-darwin manage their Nix themselves: nixconf refuses
/// to plan or apply on such a root.
fn refuse_self_managed(root: &Path) -> Result<(), String> {
    match nixconf_import::detect(root).installer.refusal() {
        Some(why) => Err(why.to_owned()),
        None => Ok(()),
    }
}

/// What made the installation on `root`, for people (stderr) and tools
/// (the plan JSON's `installer`).
fn installer(root: &Path) -> (String, Vec<String>) {
    let d = nixconf_import::detect(root);
    (d.installer.to_string(), d.evidence)
}

fn run_plan(args: &PlanArgs) -> Result<Outcome, String> {
    crate::generation::require_config(&args.config)?;
    let (made_by, evidence) = installer(&args.root);
    if !args.json {
        eprintln!(
            "note: this Nix installation was made by {made_by}{}",
            if evidence.is_empty() {
                String::new()
            } else {
                format!(" ({})", evidence.join(", "))
            }
        );
        let inst = installation(&args.config, args.module, &args.root)?;
        let p = plan(&args.root, &inst, &PlanOptions::default()).map_err(describe)?;
        // Exit 1 when apply would refuse (a blocked action, or a hand
        // edit without --force), so scripts notice.
        let refused = !p.problems(false).is_empty();
        return Ok(Outcome {
            stdout: p.describe(),
            failed: refused,
        });
    }
    // With --json, a refusal is JSON on stdout too, so that tools get the
    // option path without parsing messages.
    if let Err(why) = refuse_self_managed(&args.root) {
        let json = serde_json::json!({
            "version": nixconf_activation::Plan::JSON_VERSION,
            "error": {"option": "", "message": why},
            "errors": [{"option": "", "message": why}],
        });
        return Ok(Outcome {
            stdout: format!(
                "{}\n",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            ),
            failed: true,
        });
    }
    let planned = read_config(&args.config, args.module).and_then(|config| {
        let inst = config.installation(&args.root)?;
        let p = plan(&args.root, &inst, &PlanOptions::default())?;
        let warnings: Vec<String> = config
            .evaluation
            .warnings
            .iter()
            .map(|w| format!("`{}` has been renamed to `{}`", w.from, w.to))
            .collect();
        Ok((
            p.to_json_with_warnings(&warnings),
            !p.problems(false).is_empty(),
        ))
    });
    Ok(match planned {
        Ok((json, refused)) => {
            // The installer goes beside the plan's own fields.
            let mut value: serde_json::Value =
                serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
            if let Some(o) = value.as_object_mut() {
                o.insert(
                    "installer".to_owned(),
                    serde_json::json!({"name": made_by, "evidence": evidence}),
                );
            }
            Outcome {
                stdout: format!("{}\n", serde_json::to_string_pretty(&value).unwrap_or(json)),
                failed: refused,
            }
        }
        Err(e) => Outcome {
            stdout: format!("{}\n", error_json(&e)),
            failed: true,
        },
    })
}

/// `{"version", "error": {"option", "message"}, "errors": [...]}`: every
/// problem (the option path is empty when the problem is not one
/// option's), the first of them as `error`, like `eval --json`.
fn error_json(e: &Error) -> String {
    let one =
        |option: &str, message: String| serde_json::json!({ "option": option, "message": message });
    let errors: Vec<serde_json::Value> = match e {
        Error::Options(o) if !o.option_errors().is_empty() => o
            .option_errors()
            .iter()
            .map(|oe| nixconf_options::option_error_json(oe)["error"].clone())
            .collect(),
        Error::Option { option, message } => vec![one(option, message.clone())],
        other => vec![one("", other.to_string())],
    };
    serde_json::to_string_pretty(&serde_json::json!({
        "version": nixconf_activation::Plan::JSON_VERSION,
        "error": errors[0],
        "errors": errors,
    }))
    .unwrap_or_default()
}

fn run_apply(args: &ApplyArgs) -> Result<Outcome, String> {
    crate::generation::require_config(&args.config)?;
    let inst = installation(&args.config, args.module, &args.root)?;
    let options = ApplyOptions::default()
        .dry_run(args.dry_run)
        .force(args.force)
        .restart_daemon(args.restart_daemon);
    let p = plan(&args.root, &inst, &options.plan).map_err(describe)?;
    if p.is_up_to_date() {
        // Nothing to change; apply still tidies what a killed run left
        // (its lock file, temporaries).
        if !args.dry_run {
            apply(&args.root, &inst, &options).map_err(describe)?;
        }
        return Ok(Outcome {
            stdout: p.describe(),
            failed: false,
        });
    }
    let mut stdout = p.describe();
    let problems = p.problems(args.force);
    if !args.dry_run && !args.yes && problems.is_empty() {
        if !std::io::stdin().is_terminal() {
            return Err(
                "nothing was changed: stdin is not a terminal, so nixconf cannot ask for confirmation; pass --yes to apply (`nixconf plan` shows what would change)".to_owned(),
            );
        }
        let mut out = std::io::stdout().lock();
        write!(
            out,
            "{stdout}\nApply these changes to {}? [y/N] ",
            args.root.display()
        )
        .and_then(|()| out.flush())
        .map_err(|e| format!("nothing was changed: cannot ask for confirmation on stdout: {e}"))?;
        drop(out);
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| format!("reading the answer: {e}"))?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Ok(Outcome {
                stdout: "nothing was changed\n".to_owned(),
                failed: true,
            });
        }
        stdout.clear();
    }
    // Apply plans again and validates everything (conflicts, places it
    // cannot write, privileges) before touching anything.
    let report = apply(&args.root, &inst, &options).map_err(describe)?;
    if !stdout.is_empty() {
        stdout.push('\n');
    }
    stdout.push_str(&report.describe());
    Ok(Outcome {
        stdout,
        failed: !report.is_success(),
    })
}

fn run_revert(args: &RevertArgs) -> Result<Outcome, String> {
    let options = RevertOptions::default().force(args.force);
    let report = revert_with(&args.root, &options).map_err(describe)?;
    let mut stdout = report.describe();
    let failures = report.failures();
    if !failures.is_empty() {
        stdout.push_str(&format!(
            "\n{} action(s) could not be reverted; they stay in the receipt, so `nixconf revert` can be run again:\n",
            failures.len()
        ));
        for f in &failures {
            stdout.push_str(&format!("  - {f}\n"));
        }
    }
    Ok(Outcome {
        stdout,
        failed: !failures.is_empty(),
    })
}
