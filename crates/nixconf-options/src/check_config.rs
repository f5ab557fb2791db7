//! `nix.checkConfig`: the module's build-time check of the generated
//! nix.conf, and running the real `nix show-config` for it.
//!
//! The module runs `nix show-config` with `NIX_CONF_DIR` on the generated
//! file, turns every `warning:` into `error:`, and fails when a line starts
//! with `error: unknown setting`, or, with `nix.checkAllErrors`, with any
//! `error:`. [`check_config`] applies exactly that verdict to findings from
//! any checker: [`check_with_nix`] gets them from real Nix; a schema check
//! of the target version (nixconf-format) can supply them too.

use std::path::Path;
use std::process::Command;

use crate::error::Error;
use crate::output::Evaluation;

/// How serious a checker's finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckSeverity {
    /// A setting the target Nix does not know (`unknown setting 'x'`).
    UnknownSetting,
    /// Any other warning (a bad value Nix ignores, a deprecated name, ...).
    Warning,
    /// An error.
    Error,
}

/// One thing a checker said about the generated nix.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckFinding {
    /// How serious it is.
    pub severity: CheckSeverity,
    /// The checker's words.
    pub message: String,
}

/// The module's verdict on a checker's findings: with `nix.checkConfig`
/// off nothing fails; otherwise unknown settings fail, and with
/// `nix.checkAllErrors` every finding does.
pub fn check_config(eval: &Evaluation, findings: &[CheckFinding]) -> Result<(), Error> {
    if !eval.check_config {
        return Ok(());
    }
    let failing: Vec<String> = findings
        .iter()
        .filter(|f| eval.check_all_errors || f.severity == CheckSeverity::UnknownSetting)
        .map(|f| f.message.clone())
        .collect();
    if failing.is_empty() {
        Ok(())
    } else {
        Err(Error::CheckFailed(failing))
    }
}

/// Run `nix show-config` (the program `nix`, e.g. `/usr/bin/nix`) on the
/// evaluation's nix.conf, as the module's checkPhase does, and return what
/// it reported. The user's own configuration files are kept out.
pub fn check_with_nix(eval: &Evaluation, nix: &Path) -> Result<Vec<CheckFinding>, Error> {
    let Some(conf) = &eval.nix_conf else {
        return Ok(Vec::new());
    };
    let program = nix.display().to_string();
    let fail = |message: String| Error::Checker {
        program: program.clone(),
        message,
    };
    let version = nixconf_format::installed_version(nix).map_err(&fail)?;
    let dir = tempfile::Builder::new()
        .prefix("nixconf-check-")
        .tempdir()
        .map_err(|e| fail(format!("cannot create a temporary directory: {e}")))?;
    std::fs::write(dir.path().join("nix.conf"), conf)
        .map_err(|e| fail(format!("cannot write the nix.conf to check: {e}")))?;
    let mut cmd = Command::new(nix);
    cmd.arg("show-config");
    // The flags depend on the Nix that runs, not on the target: a newer
    // Nix refuses `show-config` without the nix-command feature.
    if version.is_at_least("2.3pre") {
        cmd.arg("--no-net");
    }
    if version.is_at_least("2.4pre") {
        cmd.args(["--option", "experimental-features", "nix-command"]);
    }
    let output = cmd
        .env("NIX_CONF_DIR", dir.path())
        .env("NIX_USER_CONF_FILES", "")
        .env("HOME", dir.path())
        .env_remove("NIX_CONFIG")
        .output()
        .map_err(|e| fail(e.to_string()))?;
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    let mut findings = parse_findings(&text);
    if !output.status.success() && !findings.iter().any(|f| f.severity == CheckSeverity::Error) {
        findings.push(CheckFinding {
            severity: CheckSeverity::Error,
            message: format!("error: nix show-config failed ({})", output.status),
        });
    }
    Ok(findings)
}

/// Check the evaluation's nix.conf against the target version's settings
/// schema (nixconf-format), as the module's checkPhase does with real Nix:
/// every line Nix would refuse is an error, every unknown setting and every
/// other warning a finding. The file is read as `/etc/nix/nix.conf`, so
/// includes resolve as they will on the machine.
///
/// `Ok(None)` when the schema does not cover the target version (it knows
/// Nix 2.0 to the newest release it was generated from); the caller says
/// so, and can still check with the real Nix.
pub fn check_with_schema(eval: &Evaluation) -> Result<Option<Vec<CheckFinding>>, Error> {
    let (Some(conf), Some(version)) = (&eval.nix_conf, &eval.nix_version) else {
        return Ok(Some(Vec::new()));
    };
    let path = Path::new("/etc/nix/nix.conf");
    let diagnostics =
        match nixconf_format::check_conf(&nixconf_format::FsSource, path, conf.as_bytes(), version)
        {
            Ok(d) => d,
            Err(nixconf_format::ConfError::UnsupportedVersion(_)) => return Ok(None),
            Err(e) => {
                return Err(Error::Checker {
                    program: "the settings schema".to_owned(),
                    message: e.to_string(),
                })
            }
        };
    Ok(Some(
        diagnostics
            .into_iter()
            .map(|d| {
                let severity = match d.severity {
                    nixconf_format::Severity::Error => CheckSeverity::Error,
                    nixconf_format::Severity::Warning
                        if d.message.starts_with("unknown setting") =>
                    {
                        CheckSeverity::UnknownSetting
                    }
                    _ => CheckSeverity::Warning,
                };
                let prefix = match severity {
                    CheckSeverity::Error => "error",
                    _ => "warning",
                };
                CheckFinding {
                    severity,
                    message: format!(
                        "{prefix}: {} (nix.conf line {})",
                        d.message,
                        d.span.as_ref().map_or(0, |s| s.line)
                    ),
                }
            })
            .collect(),
    ))
}

/// The `warning:` and `error:` lines of Nix's output.
pub(crate) fn parse_findings(text: &str) -> Vec<CheckFinding> {
    text.lines()
        .filter_map(|line| {
            let line = strip_ansi(line);
            let severity = if let Some(rest) = line.strip_prefix("warning:") {
                if rest.trim_start().starts_with("unknown setting") {
                    CheckSeverity::UnknownSetting
                } else {
                    CheckSeverity::Warning
                }
            } else if line.starts_with("error:") {
                CheckSeverity::Error
            } else {
                return None;
            };
            Some(CheckFinding {
                severity,
                message: line,
            })
        })
        .collect()
}

/// Nix colours its messages on a terminal; a pipe gets none, but be safe.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_are_classified() {
        let f = parse_findings(
            "warning: unknown setting 'foo'\n\u{1b}[33;1mwarning:\u{1b}[0m something else\nerror: bad\nplain\n",
        );
        let sev: Vec<CheckSeverity> = f.iter().map(|f| f.severity).collect();
        assert_eq!(
            sev,
            [
                CheckSeverity::UnknownSetting,
                CheckSeverity::Warning,
                CheckSeverity::Error
            ]
        );
        assert_eq!(f[1].message, "warning: something else");
    }
}
