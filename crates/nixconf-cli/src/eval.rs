//! `nixconf eval` and `nixconf render`: the NixOS `nix.*` option tree,
//! evaluated as the NixOS `nix.*` modules of its generation do (2026 by
//! default, 2023 when asked, 2013 for Nix 1.x).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use nixconf_options::{Error, Evaluation, FailedAssertion, ModuleGeneration};

use crate::Outcome;

/// The option-tree subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate a configuration (TOML or JSON, in the NixOS option tree)
    /// and show what the NixOS modules of its generation (--generation)
    /// produce for it. Renamed options and
    /// failed assertions are reported; an invalid option exits with 1.
    Eval(EvalArgs),
    /// Evaluate a configuration and write the files NixOS would write
    /// (nix.conf, machines, registry.json, the nix-daemon drop-in, the
    /// tmpfiles rule, the profile script; for Nix 1.x the 2013 module's
    /// nix.conf, /etc/nix.machines, drop-in and shell init) under a
    /// directory. Nothing is written when the configuration is invalid.
    Render(RenderArgs),
}

/// Arguments of `nixconf eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The configuration: a .toml or .json file.
    #[arg(long, value_name = "FILE", default_value = crate::generation::DEFAULT_CONFIG)]
    config: PathBuf,
    /// The module generation and output flavour.
    #[command(flatten)]
    module: crate::generation::GenerationArgs,
    /// Print the result as one JSON object (the keys of the conformance
    /// corpus), or `{"error": {"option", "message"}}`.
    #[arg(long)]
    json: bool,
}

/// Arguments of `nixconf render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The configuration: a .toml or .json file.
    #[arg(long, value_name = "FILE", default_value = crate::generation::DEFAULT_CONFIG)]
    config: PathBuf,
    /// The module generation and output flavour.
    #[command(flatten)]
    module: crate::generation::GenerationArgs,
    /// The root to write under (e.g. `/` or a staging directory); files go
    /// to DIR/etc/nix/nix.conf and so on.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Also check the generated nix.conf with the real `nix show-config`,
    /// as the module's checkPhase does (needs Nix installed).
    #[arg(long)]
    check_with_nix: bool,
    /// The `nix` program for --check-with-nix.
    #[arg(long, value_name = "PATH", default_value = "nix")]
    nix: PathBuf,
}

/// Run an option-tree subcommand.
pub fn run(command: Command) -> Result<Outcome, String> {
    match command {
        Command::Eval(args) => eval(&args),
        Command::Render(args) => render(&args),
    }
}

fn eval(args: &EvalArgs) -> Result<Outcome, String> {
    crate::generation::require_config(&args.config)?;
    let result = nixconf_options::evaluate_file_with(&args.config, args.module.eval_options());
    if args.json {
        let (value, failed) = match &result {
            Ok(e) => (e.to_json(), false),
            Err(e) => (e.to_json(), true),
        };
        let mut stdout = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        stdout.push('\n');
        return Ok(Outcome { stdout, failed });
    }
    let eval = result.map_err(|e| describe_error(&e))?;
    Ok(Outcome {
        stdout: summary(&args.config, &eval),
        failed: false,
    })
}

fn render(args: &RenderArgs) -> Result<Outcome, String> {
    crate::generation::require_config(&args.config)?;
    let eval = nixconf_options::evaluate_file_with(&args.config, args.module.eval_options())
        .map_err(|e| describe_error(&e))?;
    let note = check_config_step(&eval, args.check_with_nix.then_some(args.nix.as_path()))?;
    let written = nixconf_options::render_into(&eval, &args.out).map_err(|e| describe_error(&e))?;
    let mut stdout = String::new();
    if let Some(note) = note {
        let _ = writeln!(stdout, "note: {note}");
    }
    for w in &eval.warnings {
        let _ = writeln!(
            stdout,
            "warning: `{}` has been renamed to `{}`",
            w.from, w.to
        );
    }
    if !eval.enabled {
        stdout.push_str("nix.enable is false: nothing to write\n");
    }
    for path in written {
        let _ = writeln!(stdout, "wrote {}", path.display());
    }
    Ok(Outcome {
        stdout,
        failed: false,
    })
}

/// The `check_config` step of a render: collect findings about the
/// generated nix.conf and apply the module's verdict (`nix.checkConfig`,
/// `nix.checkAllErrors`) with [`nixconf_options::check_config`].
///
/// Findings come from the target version's settings schema, and also from
/// the real `nix show-config` when asked. Returns a note for the user when
/// the schema does not cover the target version.
fn check_config_step(eval: &Evaluation, nix: Option<&Path>) -> Result<Option<String>, String> {
    if eval.module == ModuleGeneration::Nixos2013 {
        return check_2013(eval, nix).map(|()| None);
    }
    if !eval.enabled || !eval.check_config {
        return Ok(None);
    }
    let mut findings = Vec::new();
    let mut note = None;
    match nixconf_options::check_with_schema(eval).map_err(|e| e.to_string())? {
        Some(found) => findings.extend(found),
        None => {
            note = Some(format!(
                "the settings schema does not cover Nix {}; nix.conf was not checked \
                 against it (use --check-with-nix to check with the real Nix)",
                eval.nix_version
                    .as_ref()
                    .map_or_else(String::new, ToString::to_string)
            ))
        }
    }
    if let Some(nix) = nix {
        findings.extend(nixconf_options::check_with_nix(eval, nix).map_err(|e| e.to_string())?);
    }
    nixconf_options::check_config(eval, &findings).map_err(|e| e.to_string())?;
    Ok(note)
}

/// The 2013 module wrote nix.conf unchecked (`nix.checkConfig` came with
/// Nix 2), so nothing is checked by default; `--check-with-nix` asks the
/// installed Nix to read the file, and anything it says fails the render.
fn check_2013(eval: &Evaluation, nix: Option<&Path>) -> Result<(), String> {
    let Some(nix) = nix else {
        return Ok(());
    };
    let findings = nixconf_options::check_with_nix(eval, nix).map_err(|e| e.to_string())?;
    if findings.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = findings.into_iter().map(|f| f.message).collect();
    Err(format!(
        "{} does not read the generated nix.conf cleanly (asked by --check-with-nix; \
         the 2013 module had no nix.checkConfig):\n{}",
        nix.display(),
        lines.join("\n")
    ))
}

/// An error for people: each problem rendered as rustc renders one (the
/// offending line of the file and a caret where the format tells the
/// position), without the first `error: `, which the caller prints.
pub(crate) fn describe_error(e: &Error) -> String {
    let diagnostics = e.diagnostics();
    let mut out: String = diagnostics.iter().map(|d| d.render()).collect();
    if diagnostics.len() > 1 {
        let _ = writeln!(out, "{} problems in the configuration", diagnostics.len());
    }
    let out = out.strip_prefix("error: ").unwrap_or(&out);
    out.strip_suffix('\n').unwrap_or(out).to_owned()
}

/// A readable account of an evaluation.
fn summary(config: &Path, eval: &Evaluation) -> String {
    let mut out = String::new();
    let version = eval
        .nix_version
        .as_ref()
        .map_or_else(|| "unknown".to_owned(), ToString::to_string);
    let generation = match eval.module {
        ModuleGeneration::Nixos2013 => " (the 2013 NixOS module, for Nix 1.x)",
        ModuleGeneration::Nixos2023 => " (the 2023 NixOS module)",
        // The default needs no note.
        _ => "",
    };
    let _ = writeln!(
        out,
        "{}: Nix {version}{generation}, {}",
        config.display(),
        if eval.enabled {
            "enabled"
        } else {
            "disabled (nix.enable = false)"
        }
    );
    for w in &eval.warnings {
        let _ = writeln!(out, "warning: `{}` has been renamed to `{}`", w.from, w.to);
    }
    for a in &eval.failed_assertions {
        let text = match a {
            FailedAssertion::Assertion { message } => message.replace('\n', " "),
            other => other.message(),
        };
        let _ = writeln!(out, "failed assertion: {text}");
    }
    if !eval.enabled {
        return out;
    }
    if let Some(n) = eval.nr_build_users {
        let uids = if n > 0 {
            format!(
                ", uids {}-{}",
                eval.nixbld_uid.saturating_add(1),
                eval.nixbld_uid.saturating_add(n)
            )
        } else {
            String::new()
        };
        let _ = writeln!(out, "build users: {n} (group nixbld{uids})");
    }
    if let Some(x) = &eval.nixos2026 {
        // Units the 2026 modules schedule: evaluated, not written yet.
        let units = x.units();
        for (name, timer) in units["timers"].as_object().into_iter().flatten() {
            let service = &units["services"][name];
            let dates: Vec<&str> = service["startAt"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str())
                .collect();
            let _ = writeln!(
                out,
                "timer: {name} at {} (randomized delay {}; see eval --json `units`, not written by render/apply yet)",
                dates.join(", "),
                timer["timerConfig"]["RandomizedDelaySec"].as_str().unwrap_or("0"),
            );
        }
    }
    for file in eval.files() {
        let _ = writeln!(out, "\n--- /{} ---", file.path);
        out.push_str(&file.contents);
        if !file.contents.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}
