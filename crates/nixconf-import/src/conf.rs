//! The top-level nix.conf as settings of the option tree.

use nixconf_format::{setting_info, Document, LineKind, NixVersion, SettingKind};

use crate::toml::Value;

/// What the top-level nix.conf says, in the option tree's terms.
#[derive(Debug, Default)]
pub(crate) struct ConfImport {
    /// `nix.settings`, in the order the file first touches each.
    pub settings: Vec<(String, Value)>,
    /// Lines kept verbatim for `nix.extraOptions`: includes and settings
    /// the target Nix does not know.
    pub extra_lines: Vec<String>,
    /// Settings unknown to the target Nix (kept in `extra_lines`).
    pub unknown: Vec<String>,
    /// Include lines (kept in `extra_lines`) and the paths they name.
    pub includes: Vec<(String, bool)>,
}

/// One setting's history in the file: the last plain assignment and the
/// `extra-` values appended after it.
struct Touch {
    name: &'static str,
    kind: SettingKind,
    base: Option<Vec<String>>,
    appended: Vec<String>,
    lines: usize,
}

/// Read the settings of `text` (one nix.conf, includes not followed) as
/// `version` reads them. `Err` names the first line Nix cannot read.
pub(crate) fn read(text: &[u8], version: &NixVersion) -> Result<ConfImport, (usize, String)> {
    let doc = Document::parse(text);
    let mut out = ConfImport::default();
    let mut touched: Vec<Touch> = Vec::new();
    let appends = version.is_at_least("2.4pre");
    for (number, line) in doc.lines().iter().enumerate() {
        let code =
            |span: &std::ops::Range<usize>| String::from_utf8_lossy(doc.slice(span)).into_owned();
        match &line.kind {
            LineKind::Blank | LineKind::Comment => {}
            LineKind::Invalid => {
                return Err((number + 1, code(&line.span)));
            }
            LineKind::Include {
                ignore_missing,
                path,
            } => {
                let path = code(path);
                let keyword = if *ignore_missing {
                    "!include"
                } else {
                    "include"
                };
                out.extra_lines.push(format!("{keyword} {path}"));
                out.includes.push((path, *ignore_missing));
            }
            LineKind::Setting { name, value } => {
                let name = code(name);
                let tokens: Vec<String> = code(value)
                    .split([' ', '\t', '\r'])
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect();
                let (base_name, is_extra) = match name.strip_prefix("extra-") {
                    Some(base) if appends && setting_info(&name, version).is_none() => {
                        (base.to_owned(), true)
                    }
                    _ => (name.clone(), false),
                };
                let Some((canonical, kind)) = setting_info(&base_name, version) else {
                    out.unknown.push(name.clone());
                    out.extra_lines
                        .push(format!("{name} = {}", tokens.join(" ")));
                    continue;
                };
                let i = match touched.iter().position(|t| t.name == canonical) {
                    Some(i) => i,
                    None => {
                        touched.push(Touch {
                            name: canonical,
                            kind,
                            base: None,
                            appended: Vec::new(),
                            lines: 0,
                        });
                        touched.len() - 1
                    }
                };
                let t = &mut touched[i];
                t.lines += 1;
                if is_extra {
                    t.appended.extend(tokens);
                } else {
                    t.base = Some(tokens);
                    t.appended.clear();
                }
            }
        }
    }
    for t in touched {
        match t.base {
            Some(mut base) => {
                base.extend(t.appended);
                out.settings.push((t.name.to_owned(), typed(t.kind, base)));
            }
            None => out
                .settings
                .push((format!("extra-{}", t.name), typed(t.kind, t.appended))),
        }
    }
    Ok(out)
}

/// The option-tree value for a setting's tokens: what the NixOS module
/// renders back to the same tokens, typed where the module types it.
fn typed(kind: SettingKind, tokens: Vec<String>) -> Value {
    let one = tokens.join(" ");
    match kind {
        SettingKind::List => Value::List(tokens),
        SettingKind::Bool | SettingKind::BoolOrRelaxed => match one.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::Str(one),
        },
        SettingKind::Int | SettingKind::IntOrAuto => match one.parse::<i64>() {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Str(one),
        },
        _ => Value::Str(one),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str, version: &str) -> Vec<(String, Value)> {
        read(text.as_bytes(), &version.parse().unwrap())
            .unwrap()
            .settings
    }

    #[test]
    fn aliases_extra_and_types() {
        let got = settings(
            "build-max-jobs = 4\nsandbox = relaxed\nextra-substituters = https://a https://b\n\
             trusted-users = root\nextra-trusted-users = alice\nrequire-sigs = true\n",
            "2.18.1",
        );
        assert_eq!(
            got,
            [
                ("max-jobs".to_owned(), Value::Int(4)),
                ("sandbox".to_owned(), Value::Str("relaxed".into())),
                (
                    "extra-substituters".to_owned(),
                    Value::List(vec!["https://a".into(), "https://b".into()])
                ),
                (
                    "trusted-users".to_owned(),
                    Value::List(vec!["root".into(), "alice".into()])
                ),
                ("require-sigs".to_owned(), Value::Bool(true)),
            ]
        );
    }

    #[test]
    fn a_later_assignment_drops_earlier_appends() {
        let got = settings(
            "extra-trusted-users = alice\ntrusted-users = root\n",
            "2.18.1",
        );
        assert_eq!(
            got,
            [("trusted-users".to_owned(), Value::List(vec!["root".into()]))]
        );
    }

    #[test]
    fn unknown_settings_and_includes_are_kept_as_lines() {
        let got = read(
            b"foo-bar = 1  2\n!include nix.custom.conf # mine\ninclude /etc/nix/other.conf\n",
            &"2.18.1".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(
            got.extra_lines,
            [
                "foo-bar = 1 2",
                "!include nix.custom.conf",
                "include /etc/nix/other.conf"
            ]
        );
        assert_eq!(got.unknown, ["foo-bar"]);
    }

    #[test]
    fn a_line_nix_cannot_read_is_an_error() {
        let got = read(b"cores = 1\nthis is wrong\n", &"2.18.1".parse().unwrap());
        assert_eq!(got.unwrap_err(), (2, "this is wrong".to_owned()));
    }
}
