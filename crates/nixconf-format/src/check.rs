//! `conf check`: every problem in one nix.conf, located and explained.

use std::path::Path;

use nixconf_diagnostic::{edit_distance, Diagnostic, Severity};

use crate::error::{line_span, ConfError};
use crate::lex::{self, Shape};
use crate::schema::{self, minor_of};
use crate::source::Source;
use crate::state::{Applied, State};
use crate::typed::canon_path;
use crate::version::NixVersion;

/// Every problem in the nix.conf `text` read from `path`, for Nix
/// `version`: syntax errors, bad values, missing `include` targets,
/// unknown settings (with the closest known name) and ignored settings.
/// Includes are checked for existence but not followed; each line is
/// checked as if the lines before it had applied.
pub fn check_conf(
    source: &dyn Source,
    path: &Path,
    text: &[u8],
    version: &NixVersion,
) -> Result<Vec<Diagnostic>, ConfError> {
    let minor = minor_of(version)?;
    let display = path.display().to_string();
    let mut state = State::new(minor);
    let mut out = Vec::new();
    for (i, line) in lex::lines(text).enumerate() {
        let code = &text[line.start..line.code_end];
        let diag = |severity, message: String, at, len, help: Option<String>| {
            let span = line_span(display.clone(), i + 1, &text[line.start..line.end], at, len);
            let d = Diagnostic::new(severity, message).with_span(span);
            match help {
                Some(help) => d.with_help(help),
                None => d,
            }
        };
        match lex::shape(code) {
            Shape::Blank => {}
            Shape::Invalid { why, at } => {
                let code = String::from_utf8_lossy(code);
                let quoted = if minor >= 34 {
                    format!("\"{display}\"")
                } else {
                    format!("'{display}'")
                };
                let message = if minor >= 24 {
                    format!("syntax error in configuration line '{code}' in {quoted}")
                } else {
                    format!("illegal configuration line '{code}' in {quoted}")
                };
                let help = match why {
                    lex::Invalid::OneToken => "a setting is written `name = value`",
                    lex::Invalid::IncludeArity => "`include` and `!include` take exactly one path",
                    lex::Invalid::NoEquals => {
                        "`=` must stand alone, with whitespace on both sides: `name = value`"
                    }
                };
                out.push(diag(Severity::Error, message, at, 1, Some(help.to_owned())));
            }
            Shape::Include {
                ignore_missing,
                path: (p0, p1),
            } => {
                let tok = &code[p0..p1];
                let target = if tok.first() == Some(&b'/') {
                    canon_path(tok)
                } else {
                    let dir = path.parent().unwrap_or(Path::new("/"));
                    let mut joined =
                        std::os::unix::ffi::OsStrExt::as_bytes(dir.as_os_str()).to_vec();
                    joined.push(b'/');
                    joined.extend_from_slice(tok);
                    joined
                };
                let target_path = Path::new(
                    <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&target),
                );
                if !ignore_missing && !source.exists(target_path) {
                    out.push(diag(
                        Severity::Error,
                        format!(
                            "file '{}' included from '{display}' not found",
                            target_path.display()
                        ),
                        p0,
                        p1 - p0,
                        Some("use `!include` for a file that may be missing".to_owned()),
                    ));
                }
            }
            Shape::Setting {
                name: (n0, n1),
                value: (v0, v1),
                value_is_joined,
            } => {
                let name = &code[n0..n1];
                let raw = &code[v0..v1];
                let joined;
                let value = if value_is_joined {
                    raw
                } else {
                    joined = lex::join_tokens(raw);
                    &joined
                };
                match state.set(name, value, None) {
                    Err(message) => {
                        out.push(diag(Severity::Error, message, v0, v1 - v0, None));
                    }
                    Ok(Applied::Unknown) => {
                        let name = String::from_utf8_lossy(name).into_owned();
                        let help = suggest(&name, minor);
                        out.push(diag(
                            Severity::Warning,
                            format!("unknown setting '{name}'"),
                            n0,
                            n1 - n0,
                            help,
                        ));
                    }
                    Ok(Applied::Set | Applied::Ignored) => {}
                }
                for w in state.take_warnings() {
                    let message = w.strip_prefix("warning: ").unwrap_or(&w).to_owned();
                    out.push(diag(Severity::Warning, message, n0, n1 - n0, None));
                }
            }
        }
    }
    Ok(out)
}

/// "did you mean `x`?" for an unknown name.
fn suggest(name: &str, minor: u8) -> Option<String> {
    if let Some(base) = name.strip_prefix("extra-") {
        if let Some(i) = schema::resolve(base.as_bytes(), minor) {
            let def = &schema::defs()[usize::from(i)];
            return Some(if minor < 4 {
                format!(
                    "Nix 2.{minor} has no generic `extra-`; set `{}` itself",
                    def.name
                )
            } else {
                format!(
                    "`{}` is not a list, set or map, so `extra-` cannot append to it; set it directly",
                    def.name
                )
            });
        }
    }
    let known = schema::known_names(minor);
    let (best, distance) = known
        .iter()
        .map(|k| (*k, edit_distance(name, k)))
        // On a tie, a name that merely lacks a suffix (`substituter`) most
        // likely meant the longer name.
        .min_by_key(|&(k, d)| (d, !k.starts_with(name), k))?;
    let limit = (name.chars().count() / 3).max(2);
    (distance <= limit).then(|| format!("did you mean `{best}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;

    fn run(text: &str, version: &str) -> Vec<Diagnostic> {
        check_conf(
            &MemSource::new(),
            Path::new("/etc/nix/nix.conf"),
            text.as_bytes(),
            &version.parse().unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn reports_every_problem_with_locations() {
        let d = run(
            "substituter = https://x\ncores 7\nsandbox = yes\ninclude missing.conf\nextra-max-jobs = 2\n",
            "2.8.0",
        );
        let summary: Vec<(Severity, usize, usize, &str)> = d
            .iter()
            .map(|d| {
                (
                    d.severity,
                    d.span.as_ref().map_or(0, |s| s.line),
                    d.span.as_ref().map_or(0, |s| s.column),
                    d.message.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Severity::Warning, 1, 1, "unknown setting 'substituter'"),
                (
                    Severity::Error,
                    2,
                    7,
                    "illegal configuration line 'cores 7' in '/etc/nix/nix.conf'"
                ),
                (
                    Severity::Error,
                    3,
                    11,
                    "option 'sandbox' has invalid value 'yes'"
                ),
                (
                    Severity::Error,
                    4,
                    9,
                    "file '/etc/nix/missing.conf' included from '/etc/nix/nix.conf' not found"
                ),
                (Severity::Warning, 5, 1, "unknown setting 'extra-max-jobs'"),
            ]
        );
        assert_eq!(d[0].help.as_deref(), Some("did you mean `substituters`?"));
        assert_eq!(
            d[1].render(),
            "error: illegal configuration line 'cores 7' in '/etc/nix/nix.conf'\n --> /etc/nix/nix.conf:2:7\n  |\n2 | cores 7\n  |       ^\n  = help: `=` must stand alone, with whitespace on both sides: `name = value`\n"
        );
    }

    #[test]
    fn far_names_get_no_suggestion() {
        let d = run("completely-unrelated-thing = 1\n", "2.8.0");
        assert_eq!(d[0].help, None);
    }

    #[test]
    fn syntax_wording_follows_version() {
        let d = run("cores 7\n", "2.24.0");
        assert!(d[0]
            .message
            .starts_with("syntax error in configuration line 'cores 7'"));
        let d = run("cores 7\n", "2.34.0");
        assert!(d[0].message.ends_with("in \"/etc/nix/nix.conf\""));
    }
}
