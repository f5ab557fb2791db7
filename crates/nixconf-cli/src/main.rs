//! `nixconf`: manage a Nix installation declaratively.
//!
//! This binary is thin on purpose: it parses arguments, calls the library
//! crates, and prints. Errors go to stderr with exit status 1; a closed
//! stdout (for example `nixconf ... | head`) exits 0. Nothing here panics
//! on a closed or broken stderr: messages that cannot be written are
//! dropped and the exit status still says what happened (1 on an error).
//!
//! One module per command group (`conf`, `machines`, `users`, `eval` with
//! `render`, `activate` with `plan`/`apply`/`revert`, `import`, `lint`,
//! `explain`); every `--config` is read by nixconf-options, and every
//! located error is printed with `nixconf_diagnostic::Diagnostic::render`.

use std::io::{self, Write};
use std::process::ExitCode;

mod activate;
mod eval;

use clap::{Parser, Subcommand};

mod conf;
mod explain;
mod generation;
mod import;
mod lint;
mod machines;
mod users;

/// Manage a Nix installation declaratively: nix.conf, machines, registry,
/// build users and the daemon, as the NixOS module does.
#[derive(Debug, Parser)]
#[command(name = "nixconf", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Options(eval::Command),
    #[command(flatten)]
    Activate(activate::Command),
    /// Read the Nix installation on a root (nix.conf and what it
    /// includes, machines, registry, build users, the daemon's
    /// environment) as its installed Nix reads it, and print a nixconf
    /// configuration that reproduces it; says what made the installation,
    /// what was kept outside the option tree and which settings the NixOS
    /// module sets on purpose.
    Import(import::ImportArgs),
    /// Security and capacity findings, each with where it is and the
    /// exact fix: for configurations (--config, many at once) or the live
    /// installation under --root. Exit status 1 when there is an error.
    Lint(lint::LintArgs),
    /// Why a setting has its value: in a live installation, every line
    /// that touched it in the order Nix applied them (through includes,
    /// aliases and extra- appends) and the result; in a configuration,
    /// your definition, renamed options leading to it, and what the NixOS
    /// module adds.
    Explain(explain::ExplainArgs),
    /// nix.conf as Nix reads it: `show` the effective settings, `check`
    /// a file for problems.
    #[command(subcommand)]
    Conf(conf::ConfCommand),
    /// Remote-builder machines files: parse, render, check, which.
    Machines(machines::MachinesArgs),
    /// The nixbld build-user pool: plan it against a root's accounts, or
    /// find a free uid range for it.
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Compare two Nix versions as `builtins.compareVersions` does: prints
    /// -1, 0 or 1.
    CompareVersions {
        /// The first version, for example 2.4pre20200101.
        a: String,
        /// The second version, for example 2.4.
        b: String,
    },
}

/// What a subcommand hands back: text for stdout, and whether it failed
/// (exit status 1) after printing.
#[derive(Debug, Default)]
struct Outcome {
    stdout: String,
    failed: bool,
}

fn run(cli: Cli) -> Result<Outcome, String> {
    match cli.command {
        Command::Conf(command) => conf::run(command),
        Command::CompareVersions { a, b } => {
            let n = match nixconf_format::compare_versions(&a, &b) {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            };
            Ok(Outcome {
                stdout: format!("{n}\n"),
                failed: false,
            })
        }
        Command::Import(args) => import::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Machines(args) => machines::run(args),
        Command::Users(command) => users::run(command),
        Command::Options(command) => eval::run(command),
        Command::Activate(command) => activate::run(command),
    }
}

/// Write one line to stderr. A closed stderr, or one leading to a full or
/// closed pipe, is not an error worth a panic (`eprintln!` would exit with
/// 101): the line is dropped, and the exit status still tells.
pub(crate) fn warn(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}").and_then(|()| err.flush());
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(outcome) => {
            let mut out = io::stdout().lock();
            if let Err(e) = out
                .write_all(outcome.stdout.as_bytes())
                .and_then(|()| out.flush())
            {
                if e.kind() != io::ErrorKind::BrokenPipe {
                    warn(&format!("error: writing to stdout: {e}"));
                    return ExitCode::from(1);
                }
            }
            if outcome.failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            warn(&format!("error: {message}"));
            ExitCode::from(1)
        }
    }
}
