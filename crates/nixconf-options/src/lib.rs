//! The NixOS `nix.*` option tree: load, type-check and evaluate.
//!
//! This crate reads a configuration written in the NixOS option tree (TOML
//! or JSON), checks every option against the types of the NixOS `nix.*`
//! modules of its generation ([`ModuleGeneration`]), applies their
//! defaults, merges and renames, and produces what they produce:
//! `nix.conf`, `machines`, `registry.json`, the build users, the daemon's
//! service settings, session variables and tmpfiles rules, byte for byte.
//!
//! A configuration names its generation with the top-level key
//! `generation` (`"2013"`, `"2023"`, `"2026"`), or the caller does with
//! [`EvalOptions::generation`]. Without either, Nix 2.2 and later get the
//! modules of 2026 (the default): `extra-*` settings last, `nix.gc`,
//! `nix.optimise`, `nix.channel.enable`, `nix.sshServe`, the unprivileged
//! daemon, `nix.firewall`, `nix.package`; their units, users, channel and
//! firewall outputs are in [`Nixos2026`]. Generation 2023 is the
//! nix-daemon module of NixOS 23.05.
//!
//! Priorities and order are written as `nix eval --json` prints them:
//! `{ _type = "override", priority = N, content = X }` (`mkForce` is 50,
//! `mkDefault` 1000) and `{ _type = "order", priority = N, content = X }`
//! (`mkBefore` 500, `mkAfter` 1500), in TOML or JSON, and merged with the
//! modules' own definitions as the module system merges them. TOML has no
//! null: `{ _type = "null" }` is one.
//!
//! A Nix 1.x target (`nixVersion` below 2.0) is evaluated with the NixOS
//! module of 2013 instead: its options
//! (`nix.useChroot`, `nix.binaryCaches`, `nix.proxy`, ...), its nix.conf,
//! `/etc/nix.machines` for `build-remote.pl`, and `NIX_REMOTE=daemon` in
//! the shell. Options of the later module are refused there with the 2013
//! option to use instead; Nix 2.0 and 2.1, which no generation takes, are
//! refused.
//!
//! nixconf's own options, which no NixOS module has (like nix-darwin's
//! `# Not in NixOS module` ones), are declared in one table and read by
//! the same checker in every generation: `users.platform`
//! (`"linux"`/`"macos"`), `users.adoptExistingGroup`, `users.renumber`,
//! `users.namePrefix`, `users.home`, `users.shell` and `ids.gids.nixbld`.
//! [`Evaluation::build_users`] carries them ([`BuildUsersOptions`]).
//!
//! Every problem is a [`Diagnostic`] (option path, [`Span`], rendered with
//! a caret by [`Diagnostic::render`]) in [`Error::Invalid`].
//!
//! [`Evaluation::files`] lists what a render writes (nix.conf, machines,
//! registry.json, a nix-daemon drop-in, the tmpfiles rule, a profile
//! script, root's channel subscription) and [`render_into`] writes them
//! all or nothing. The module's `checkConfig` step is [`check_config`]: it
//! judges findings about the generated nix.conf from any checker, such as
//! [`check_with_nix`] (the real `nix show-config`).
//!
//! ```
//! use nixconf_options::{evaluate, Format};
//!
//! let config = r#"
//! nixVersion = "2.18.1"
//! [nix.settings]
//! substituters = ["https://cache.example.org/"]
//! max-jobs = 8
//! "#;
//! let eval = evaluate(config, Format::Toml, "nixconf.toml").unwrap();
//! let conf = eval.nix_conf.as_deref().unwrap();
//! assert!(conf.contains("\nsubstituters = https://cache.example.org/ https://cache.nixos.org/\n"));
//! assert!(conf.contains("\nmax-jobs = 8\n"));
//! assert_eq!(eval.nr_build_users, Some(32));
//!
//! let err = evaluate("[nix.setings]\ncores = 1\n", Format::Toml, "bad.toml").unwrap_err();
//! assert_eq!(err.option_errors()[0].option.as_deref(), Some("nix.setings"));
//! assert!(err.to_string().contains("did you mean `nix.settings`?"));
//!
//! let legacy = evaluate("nixVersion = \"1.11.16\"\nnix.useChroot = true\n", Format::Toml, "old.toml").unwrap();
//! assert!(legacy.nix_conf.as_deref().unwrap().contains("\nbuild-use-chroot = true\n"));
//! assert_eq!(legacy.users().len(), 10);
//! ```
//!
//! # Layout
//!
//! - `tree`: TOML (toml_edit, with spans) and JSON into one value tree;
//!   `prio`: `mkForce`/`mkOrder` wrappers resolved.
//! - `evaluator`: the `Evaluator` every generation extends;
//!   `eval`: picks the generation (`generation`) and runs it; `top`: the
//!   top-level keys of each generation, in one table.
//! - `module`: one generation per file: `nixos2013` (Nix 1.x),
//!   `nixos2023`, `nixos2026` with its option tables (`options2026`),
//!   their reader (`read2026`), units and outputs.
//! - Shared readers: `typecheck` (option types), `settings` and
//!   `user_settings` (`nix.settings` merging), `renames`, `machines`,
//!   `registry`, `own` (nixconf's own options, typed in `build_users`).
//! - Leaf types: `output` ([`Evaluation`]), `error`; after evaluation:
//!   `validate` (line safety), `check_config` (NixOS's `checkConfig`),
//!   `render`.
#![deny(missing_docs)]

mod arch;
mod build_users;
mod check_config;
mod error;
mod eval;
mod evaluator;
mod generation;
mod machines;
mod module;
mod output;
mod own;
mod prio;
mod registry;
mod renames;
mod render;
mod settings;
mod top;
mod tree;
mod typecheck;
mod user_settings;
mod validate;

use std::path::Path;

pub use build_users::{BuildUsersOptions, BuildUsersPlatform};
pub use check_config::{
    check_config, check_with_nix, check_with_schema, CheckFinding, CheckSeverity,
};
pub use error::{option_error_json, Error};
pub use module::nixos2013::DEFAULT_BINARY_CACHE_2013;
pub use module::nixos2023::NIX_CONF_HEADER;
pub use module::nixos2023::{CACHE_NIXOS_ORG, CACHE_NIXOS_ORG_KEY, DEFAULT_CHANNEL};
pub use module::nixos2026::DEFAULT_CHANNEL_2026;
pub use module::Nixos2026;
pub use nixconf_diagnostic::{Diagnostic, Span};
pub use output::{
    systemd_quote, BuildUser, Evaluation, FailedAssertion, ModuleGeneration, RefValue,
    RegistryEntry, RenderedFile, ServiceConfig, SessionValue, Warning, WritePolicy, DROP_IN_PATH,
    PROFILE_SCRIPT_PATH,
};
pub use render::render_into;
pub use tree::Format;

/// How to evaluate, beyond what the configuration itself says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvalOptions {
    /// The module generation to follow, overriding the configuration's
    /// `generation` key (`--generation` on the command line).
    pub generation: Option<ModuleGeneration>,
}

/// Evaluate a configuration given as text. `file_name` names it in
/// messages.
pub fn evaluate(text: &str, format: Format, file_name: &str) -> Result<Evaluation, Error> {
    evaluate_with(text, format, file_name, EvalOptions::default())
}

/// [`evaluate`] with [`EvalOptions`].
pub fn evaluate_with(
    text: &str,
    format: Format,
    file_name: &str,
    options: EvalOptions,
) -> Result<Evaluation, Error> {
    let eval = evaluate_unchecked(text, format, file_name, options)?;
    let unsafe_strings = validate::line_safety(&eval);
    if unsafe_strings.is_empty() {
        Ok(eval)
    } else {
        let source = tree::Source {
            name: file_name,
            text,
        };
        Err(Error::Invalid(validate::locate(
            unsafe_strings,
            &source,
            format,
        )))
    }
}

/// [`evaluate_with`] without the check that every string fits the
/// line-based file it goes into.
fn evaluate_unchecked(
    text: &str,
    format: Format,
    file_name: &str,
    options: EvalOptions,
) -> Result<Evaluation, Error> {
    let source = tree::Source {
        name: file_name,
        text,
    };
    let mut root = tree::parse(&source, format)?;
    match (
        eval::evaluate(&source, &root, format == Format::Toml, options),
        format,
    ) {
        // Positions in JSON cost a second walk over the text: only spend
        // it on a configuration that has errors to point at.
        (Err(Error::Invalid(_)), Format::Json) => {
            tree::locate_json(text, &mut root);
            eval::evaluate(&source, &root, true, options)
        }
        (result, _) => result,
    }
}

/// Where a configuration defines one string of a setting's value: the
/// option path of that definition (`nix.settings.trusted-users[1]`, or
/// `nix.settings.extra-substituters[0]`) and, where the format gives
/// positions, `file:line:col`. The evaluated value may hold the module's
/// own entries before the user's, so its indices are not the file's.
///
/// ```
/// use nixconf_options::{find_definition, Format};
/// let text = "[nix.settings]\ntrusted-users = [\"root\", \"alice\"]\n";
/// let (path, at) = find_definition(text, Format::Toml, "c.toml", "trusted-users", "alice").unwrap();
/// assert_eq!(path, "nix.settings.trusted-users[1]");
/// assert_eq!(at.unwrap().to_string(), "c.toml:2:26");
/// ```
pub fn find_definition(
    text: &str,
    format: Format,
    file_name: &str,
    setting: &str,
    value: &str,
) -> Option<(String, Option<Span>)> {
    let source = tree::Source {
        name: file_name,
        text,
    };
    let root = validate::parsed(&source, format)?;
    validate::definition(&root, &source, setting, value)
}

/// [`Error::FailedAssertions`] when NixOS would refuse to build the
/// evaluated configuration: every command that installs, plans or
/// explains refuses it alike (`eval` shows it).
pub fn assertions_hold(eval: &Evaluation) -> Result<(), Error> {
    if eval.failed_assertions.is_empty() {
        Ok(())
    } else {
        Err(Error::FailedAssertions(
            eval.failed_assertions.iter().map(|a| a.message()).collect(),
        ))
    }
}

/// Read and evaluate a configuration file; its extension (`.toml`,
/// `.json`) chooses the format.
pub fn evaluate_file(path: &Path) -> Result<Evaluation, Error> {
    evaluate_file_with(path, EvalOptions::default())
}

/// [`evaluate_file`] with [`EvalOptions`].
pub fn evaluate_file_with(path: &Path, options: EvalOptions) -> Result<Evaluation, Error> {
    let file = path.display().to_string();
    let format =
        Format::from_path(path).ok_or_else(|| Error::UnknownFormat { file: file.clone() })?;
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        file: file.clone(),
        source,
    })?;
    evaluate_with(&text, format, &file, options)
}
