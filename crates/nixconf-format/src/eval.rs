//! Applying nix.conf files the way a given Nix version does: the entry
//! points ([`show`], [`apply`], [`trace`]) over the include tree
//! (`include.rs`), the setting semantics (`state.rs`) and the result type
//! (`settings.rs`).

use std::path::Path;

use crate::error::ConfError;
use crate::history::{Trace, TraceStep};
use crate::include::Evaluator;
use crate::schema::{self, minor_of};
use crate::settings::{Effective, Network, Settings};
use crate::source::{conf_dir_bytes, FsSource, Source};
use crate::version::NixVersion;

/// What to evaluate for.
#[derive(Clone, Debug)]
pub struct ShowOptions {
    /// The Nix version whose behaviour to reproduce.
    pub version: NixVersion,
    /// Offline or online `nix`.
    pub network: Network,
}

/// Read `conf_dir/nix.conf` and what it includes from the file system, as
/// `nix show-config` run with `NIX_CONF_DIR=conf_dir` would.
pub fn show(conf_dir: &Path, options: &ShowOptions) -> Result<Effective, ConfError> {
    show_with(&FsSource, conf_dir, options)
}

/// [`show`] over any [`Source`].
pub fn show_with(
    source: &dyn Source,
    conf_dir: &Path,
    options: &ShowOptions,
) -> Result<Effective, ConfError> {
    Ok(apply_with(source, conf_dir, options)?.to_effective())
}

/// Read `conf_dir/nix.conf` and what it includes from the file system and
/// apply them as the target Nix does; values are printed on request (see
/// [`Settings`]).
pub fn apply(conf_dir: &Path, options: &ShowOptions) -> Result<Settings, ConfError> {
    apply_with(&FsSource, conf_dir, options)
}

/// [`apply`] over any [`Source`].
pub fn apply_with(
    source: &dyn Source,
    conf_dir: &Path,
    options: &ShowOptions,
) -> Result<Settings, ConfError> {
    evaluate(source, conf_dir, options, Mode::Fast)
}

/// How to evaluate 2.16+, where experimental-feature lines apply first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// One pass, falling back to [`Mode::Reference`] where it cannot
    /// tell what Nix does (errors, includes in 2.16–2.19).
    Fast,
    /// The passes as Nix makes them: the statement of the semantics that
    /// the fast pass is tested against (the fast pass uses them itself
    /// only as its fallback).
    #[cfg(test)]
    Reference,
    /// Nix's passes, recording every line that touches one setting (see
    /// [`crate::trace`]).
    Trace,
}

fn evaluate(
    source: &dyn Source,
    conf_dir: &Path,
    options: &ShowOptions,
    mode: Mode,
) -> Result<Settings, ConfError> {
    evaluate_tracing(source, conf_dir, options, mode, None).map(|(settings, _)| settings)
}

/// [`evaluate`], recording the lines that touch setting `traced`.
fn evaluate_tracing(
    source: &dyn Source,
    conf_dir: &Path,
    options: &ShowOptions,
    mode: Mode,
    traced: Option<u16>,
) -> Result<(Settings, Vec<TraceStep>), ConfError> {
    let minor = minor_of(&options.version)?;
    let mut dir = conf_dir_bytes(conf_dir);
    let mut top = Vec::with_capacity(dir.len() + 9);
    top.extend_from_slice(&dir);
    top.extend_from_slice(b"/nix.conf");
    if !is_reference(mode) || minor <= 15 {
        let mut eval = Evaluator::new(source, minor, dir);
        eval.traced = traced;
        if eval.run_fast(&top)? {
            let steps = std::mem::take(&mut eval.steps);
            return Ok((eval.finish(options.network), steps));
        }
        dir = eval.conf_dir;
    }
    let mut eval = Evaluator::new(source, minor, dir);
    eval.traced = traced;
    eval.run_reference(top)?;
    let steps = std::mem::take(&mut eval.steps);
    Ok((eval.finish(options.network), steps))
}

fn is_reference(mode: Mode) -> bool {
    #[cfg(test)]
    if mode == Mode::Reference {
        return true;
    }
    mode == Mode::Trace
}

/// Read `conf_dir/nix.conf` and what it includes as `options.version`
/// does, recording every line that touches `name` (canonical, alias or
/// `extra-` spelling). `Ok(None)`: that version has no such setting.
///
/// ```
/// use nixconf_format::{trace, MemSource, Network, ShowOptions};
/// let mut files = MemSource::new();
/// files.insert("/etc/nix/nix.conf", "build-max-jobs = 2\ninclude more.conf\n");
/// files.insert("/etc/nix/more.conf", "max-jobs = 8\n");
/// let options = ShowOptions { version: "2.8.0".parse().unwrap(), network: Network::Offline };
/// let t = trace(&files, "/etc/nix".as_ref(), &options, "max-jobs").unwrap().unwrap();
/// assert_eq!(t.steps.len(), 2);
/// assert!(t.steps[0].alias);
/// assert_eq!((t.steps[1].location.file.as_str(), t.steps[1].location.line), ("more.conf", 1));
/// assert_eq!(t.value.as_deref(), Some("8"));
/// ```
pub fn trace(
    source: &dyn Source,
    conf_dir: &Path,
    options: &ShowOptions,
    name: &str,
) -> Result<Option<Trace>, ConfError> {
    let minor = minor_of(&options.version)?;
    let base = name
        .strip_prefix("extra-")
        .filter(|_| schema::resolve(name.as_bytes(), minor).is_none());
    let Some(setting) = schema::resolve(base.unwrap_or(name).as_bytes(), minor) else {
        return Ok(None);
    };
    let canonical = schema::defs()[usize::from(setting)].name;
    let (settings, steps) =
        evaluate_tracing(source, conf_dir, options, Mode::Trace, Some(setting))?;
    Ok(Some(Trace {
        setting: canonical,
        steps,
        value: settings.get(canonical),
        default: schema::defs()[usize::from(setting)].default_text(minor),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;
    use proptest::prelude::*;

    /// Names that exercise every path of the one pass: feature lines,
    /// gated settings, the deprecated boolean that sets another setting,
    /// `extra-`, aliases, unknown names.
    const NAMES: &[&str] = &[
        "experimental-features",
        "extra-experimental-features",
        "accept-flake-config",
        "flake-registry",
        "commit-lockfile-summary",
        "commit-lock-file-summary",
        "auto-allocate-uids",
        "impure-env",
        "warn-short-path-literals",
        "lint-short-path-literals",
        "max-jobs",
        "build-max-jobs",
        "cores",
        "substituters",
        "extra-substituters",
        "binary-caches",
        "trusted-users",
        "extra-trusted-users",
        "sandbox",
        "sandbox-paths",
        "extra-sandbox-paths",
        "access-tokens",
        "extra-access-tokens",
        "min-free",
        "download-attempts",
        "plugin-files",
        "extra-cores",
        "foo-bar",
    ];

    const VALUES: &[&str] = &[
        "",
        "true",
        "false",
        "1",
        "12K",
        "x",
        "flakes",
        "nix-command flakes",
        "ca-derivations  no-such-feature",
        "auto-allocate-uids configurable-impure-env",
        "/a=/b /c?",
        "a=b c=d",
        "https://cache.nixos.org/",
        "/nix/../store",
    ];

    /// Lines of a file in a tree of `nix.conf`, `a.conf`, `sub/b.conf`.
    /// Lines every version accepts (or ignores with a warning).
    const VALID: &[&str] = &[
        "experimental-features = nix-command flakes",
        "experimental-features = auto-allocate-uids no-such-feature",
        "extra-experimental-features = configurable-impure-env",
        "extra-experimental-features = flakes",
        "experimental-features =",
        "accept-flake-config = true",
        "flake-registry = /etc/registry.json",
        "commit-lockfile-summary = msg",
        "auto-allocate-uids = true",
        "impure-env = A=b",
        "warn-short-path-literals = true",
        "max-jobs = 4",
        "build-max-jobs = 2",
        "cores  =  3",
        "substituters = https://a/ https://b/",
        "extra-substituters = https://c/",
        "trusted-users = root  @wheel",
        "extra-trusted-users = alice",
        "sandbox-paths = /bin/sh=/x",
        "extra-access-tokens = github.com=abc",
        "foo-bar = 1",
    ];

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            24 => (0..VALID.len()).prop_map(|i| VALID[i].to_owned()),
            3 => (0..NAMES.len(), 0..VALUES.len(), 0..4usize).prop_map(|(n, v, ws)| {
                let sep = [" = ", "\t=  ", " = ", " =\t"][ws];
                format!("{}{sep}{}", NAMES[n], VALUES[v])
            }),
            2 => Just("# comment = 1".to_owned()),
            1 => Just(String::new()),
            1 => prop_oneof![
                Just("include a.conf"),
                Just("!include sub/b.conf"),
                Just("!include missing.conf"),
                Just("include missing.conf"),
                Just("include ../nix/nix.conf"),
            ]
            .prop_map(str::to_owned),
            1 => prop_oneof![Just("cores 3"), Just("lonely"), Just("include a b")].prop_map(str::to_owned),
        ]
    }

    fn file() -> impl Strategy<Value = String> {
        proptest::collection::vec(line(), 0..12).prop_map(|lines| lines.join("\n"))
    }

    /// The outcome of evaluating `files` for 2.`minor` with `mode`, and
    /// whether the one pass finished without falling back.
    fn outcome(files: &MemSource, minor: u8, mode: Mode) -> (String, bool) {
        let options = ShowOptions {
            version: NixVersion::from_minor(minor),
            network: Network::Offline,
        };
        let one_pass = mode == Mode::Fast && {
            let mut eval = Evaluator::new(files, minor, b"/etc/nix".to_vec());
            matches!(eval.run_fast(b"/etc/nix/nix.conf"), Ok(true))
        };
        let text = match evaluate(files, "/etc/nix".as_ref(), &options, mode) {
            Ok(settings) => format!("{:?}", settings.to_effective()),
            Err(e) => format!("error {e} at {:?}", e.location()),
        };
        (text, one_pass)
    }

    /// The one pass (with its fallbacks) gives what Nix's passes give, on
    /// random trees; and it does finish on its own often enough for that
    /// to mean something, warnings included.
    #[test]
    fn one_pass_agrees_with_nix_passes() {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(3000));
        let finished = std::cell::Cell::new(0);
        let with_warnings = std::cell::Cell::new(0);
        let minor = prop_oneof![Just(8u8), Just(15), 16..=35u8];
        runner
            .run(&(file(), file(), file(), minor), |(top, a, b, minor)| {
                let mut files = MemSource::new();
                files.insert("/etc/nix/nix.conf", top.as_bytes());
                files.insert("/etc/nix/a.conf", a.as_bytes());
                files.insert("/etc/nix/sub/b.conf", b.as_bytes());
                let (fast, one_pass) = outcome(&files, minor, Mode::Fast);
                let (reference, _) = outcome(&files, minor, Mode::Reference);
                if one_pass && minor >= 16 {
                    finished.set(finished.get() + 1);
                    if fast.contains("warning: ") {
                        with_warnings.set(with_warnings.get() + 1);
                    }
                }
                prop_assert_eq!(
                    fast,
                    reference,
                    "2.{}\n--- nix.conf\n{}\n--- a.conf\n{}\n--- sub/b.conf\n{}",
                    minor,
                    top,
                    a,
                    b
                );
                Ok(())
            })
            .unwrap();
        assert!(
            finished.get() > 500,
            "{} one passes finished",
            finished.get()
        );
        assert!(
            with_warnings.get() > 250,
            "{} with warnings",
            with_warnings.get()
        );
    }
}
