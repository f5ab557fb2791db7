//! Strings that end up in line-based files, checked for their format.
//!
//! NixOS writes whatever a string holds: a settings value
//! `"x\ntrusted-users = attacker"` becomes a second nix.conf line, a
//! `hostName` with a newline a second build machine. nixconf refuses such
//! strings, at their option path, before anything is rendered or written:
//! no newline, carriage return or NUL in nix.conf keys and values; no
//! whitespace in a nix.conf key; no whitespace (nor, in list columns, a
//! comma) in a machines-file field; no NUL, `=` or whitespace in an
//! environment variable's name and no NUL in its value; no newline, NUL
//! or whitespace in the channel written to `/root/.nix-channels`.

use nixconf_format::ConfValue;

use nixconf_diagnostic::Diagnostic;

use crate::error::option_error;
use crate::output::{Evaluation, SessionValue};
use crate::tree::{self, Format, Node, Value};

/// A string that would break its file: the error, and for a setting the
/// setting and the offending string, to find where it was written.
pub(crate) struct Unsafe {
    pub error: Diagnostic,
    pub setting: Option<(String, String)>,
}

/// Every string of `eval` that would break the line-based file it goes
/// into, as option errors.
pub(crate) fn line_safety(eval: &Evaluation) -> Vec<Unsafe> {
    let mut errors = Vec::new();
    let mut refuse = |option: String, message: String, setting: Option<(String, String)>| {
        errors.push(Unsafe {
            error: option_error(&option, message, None),
            setting,
        });
    };

    if let Some(settings) = &eval.settings {
        for (key, value) in settings {
            let path = format!("nix.settings.{}", path_key(key));
            if let Some(what) = bad_char(key, LINE_BREAKS)
                .or_else(|| key.chars().any(char::is_whitespace).then_some("whitespace"))
            {
                refuse(
                    path.clone(),
                    format!("a nix.conf setting name cannot hold {what}: Nix would not read it as one name"),
                    None,
                );
            }
            let mut check = |at: String, s: &str| {
                if let Some(what) = bad_char(s, LINE_BREAKS) {
                    refuse(
                        at,
                        format!("a nix.conf value cannot hold {what}: it would start another line of nix.conf"),
                        Some((key.clone(), s.to_owned())),
                    );
                }
            };
            match value {
                ConfValue::Str(s) => check(path, s),
                ConfValue::List(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let ConfValue::Str(s) = item {
                            check(format!("{path}[{i}]"), s);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    for (i, m) in eval.build_machines.iter().enumerate() {
        let at = |field: &str| format!("nix.buildMachines[{i}].{field}");
        let mut field = |name: &str, value: &str, list: bool| {
            let bad = bad_char(value, "\0")
                .or_else(|| {
                    value
                        .chars()
                        .any(char::is_whitespace)
                        .then_some("whitespace")
                })
                .or_else(|| (list && value.contains(',')).then_some("a comma"));
            if let Some(what) = bad {
                refuse(
                    at(name),
                    format!(
                        "a machines-file field cannot hold {what}: the file splits {} on it, so `{}` would not be read as written",
                        if what == "a comma" { "its lists" } else { "lines and columns" },
                        value.escape_debug()
                    ),
                    None,
                );
            }
        };
        field("hostName", &m.host_name, false);
        if let Some(p) = &m.protocol {
            field("protocol", p, false);
        }
        if let Some(s) = &m.system {
            field("system", s, true);
        }
        for (j, s) in m.systems.iter().enumerate() {
            field(&format!("systems[{j}]"), s, true);
        }
        if let Some(u) = &m.ssh_user {
            field("sshUser", u, false);
        }
        if let Some(k) = &m.ssh_key {
            field("sshKey", k, false);
        }
        for (j, f) in m.supported_features.iter().enumerate() {
            field(&format!("supportedFeatures[{j}]"), f, true);
        }
        for (j, f) in m.mandatory_features.iter().enumerate() {
            field(&format!("mandatoryFeatures[{j}]"), f, true);
        }
        if let Some(k) = &m.public_host_key {
            field("publicHostKey", k, false);
        }
    }

    let env_sources = eval
        .service_environment
        .iter()
        .flat_map(|env| env.iter().map(|(k, v)| (k, Some(v.as_str()), None)))
        .chain(eval.session_variables.iter().map(|(k, v)| match v {
            SessionValue::Str(s) => (k, Some(s.as_str()), None),
            SessionValue::List(items) => (k, None, Some(items)),
        }));
    let mut seen = std::collections::BTreeSet::new();
    for (name, value, list) in env_sources {
        let path = env_path(name);
        if seen.insert((name, value)) {
            if let Some(what) = bad_char(name, "\0=").or_else(|| {
                name.chars()
                    .any(char::is_whitespace)
                    .then_some("whitespace")
            }) {
                refuse(
                    path.clone(),
                    format!("an environment variable's name cannot hold {what}"),
                    None,
                );
            }
            if let Some(what) = value.and_then(|v| bad_char(v, "\0")) {
                refuse(
                    path.clone(),
                    format!("an environment variable cannot hold {what}"),
                    None,
                );
            }
        }
        for (i, item) in list.into_iter().flatten().enumerate() {
            if let Some(what) = bad_char(item, LINE_BREAKS) {
                refuse(
                    format!("{path}[{i}]"),
                    format!("a search-path entry cannot hold {what}"),
                    None,
                );
            }
        }
    }

    if let Some(channel) = &eval.default_channel {
        if let Some(what) = bad_char(channel, LINE_BREAKS).or_else(|| {
            channel
                .chars()
                .any(char::is_whitespace)
                .then_some("whitespace")
        }) {
            refuse(
                "system.defaultChannel".to_owned(),
                format!("a channel URL cannot hold {what}: /root/.nix-channels is one `URL NAME` per line"),
                None,
            );
        }
    }

    if let Some(conf) = &eval.nix_conf {
        if conf.contains('\0') {
            refuse(
                "nix.extraOptions".to_owned(),
                "nix.conf cannot hold a NUL byte".to_owned(),
                None,
            );
        }
    }
    errors
}

/// The errors, a setting's pointing at the definition that wrote the
/// string (the module may have merged its own values before it), with
/// `file:line:col` where the format gives positions.
pub(crate) fn locate(
    found: Vec<Unsafe>,
    source: &tree::Source<'_>,
    format: Format,
) -> Vec<Diagnostic> {
    let root = parsed(source, format);
    found
        .into_iter()
        .map(|u| {
            let hit = match (&u.setting, &root) {
                (Some((key, text)), Some(root)) => definition(root, source, key, text),
                _ => None,
            };
            match hit {
                Some((option, span)) => Diagnostic {
                    option: Some(option),
                    span,
                    ..u.error
                },
                None => u.error,
            }
        })
        .collect()
}

/// The tree of a configuration, with positions.
pub(crate) fn parsed(source: &tree::Source<'_>, format: Format) -> Option<Node> {
    tree::parse(source, format).ok().map(|mut root| {
        if format == Format::Json {
            tree::locate_json(source.text, &mut root);
        }
        root
    })
}

/// Where the configuration defines the string `text` of setting `key`
/// (in `nix.settings.KEY` or `nix.settings.extra-KEY`): its option path
/// and position.
pub(crate) fn definition(
    root: &Node,
    source: &tree::Source<'_>,
    key: &str,
    text: &str,
) -> Option<(String, Option<nixconf_diagnostic::Span>)> {
    let member = |node: &Node, name: &str| match &node.value {
        Value::Attrs(attrs) => attrs.get(name).cloned(),
        _ => None,
    };
    let settings = member(root, "nix").and_then(|n| member(&n, "settings"))?;
    for candidate in [key.to_owned(), format!("extra-{key}")] {
        let Some(node) = member(&settings, &candidate) else {
            continue;
        };
        let path = format!("nix.settings.{}", path_key(&candidate));
        let hit = match &node.value {
            Value::Str(s) if s == text => Some((path, node.span.clone())),
            Value::List(items) => items
                .iter()
                .position(|i| matches!(&i.value, Value::Str(s) if s == text))
                .map(|i| (format!("{path}[{i}]"), items[i].span.clone())),
            _ => None,
        };
        if let Some((option, span)) = hit {
            return Some((option, span.map(|s| source.locate(&s))));
        }
    }
    None
}

const LINE_BREAKS: &str = "\n\r\0";

/// The first character of `s` that is one of `chars`, named.
fn bad_char(s: &str, chars: &str) -> Option<&'static str> {
    s.chars().find(|c| chars.contains(*c)).map(|c| match c {
        '\n' => "a newline",
        '\r' => "a carriage return",
        '\0' => "a NUL byte",
        '=' => "`=`",
        _ => "a character it splits on",
    })
}

/// An attribute name in an option path: quoted when it is not a plain
/// Nix identifier-like name.
fn path_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '\'' | '='))
    {
        key.to_owned()
    } else {
        format!("\"{}\"", key.escape_default())
    }
}

/// Where an environment variable of the evaluation comes from.
fn env_path(name: &str) -> String {
    match name {
        "NIX_PATH" => "nix.nixPath".to_owned(),
        _ => format!("nix.envVars.{}", path_key(name)),
    }
}

#[cfg(test)]
mod tests {
    use crate::{evaluate, Format};

    fn refused(json: &str) -> Vec<(String, String)> {
        match evaluate(json, Format::Json, "case.json") {
            Ok(_) => Vec::new(),
            Err(e) => e
                .option_errors()
                .iter()
                .map(|e| (e.option.clone().unwrap_or_default(), e.message.clone()))
                .collect(),
        }
    }

    #[test]
    fn injected_lines_are_refused_at_their_option() {
        let got = refused(
            r#"{"nixVersion": "2.18.1", "nix": {"settings": {
                "foo\nbar": "x",
                "post-build-hook": "x\ntrusted-users = attacker",
                "trusted-users": ["root", "eve\r"]
            }}}"#,
        );
        let options: Vec<&str> = got.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(
            options,
            [
                "nix.settings.\"foo\\nbar\"",
                "nix.settings.post-build-hook",
                "nix.settings.trusted-users[1]"
            ]
        );
        assert_eq!(
            got[1].1,
            "a nix.conf value cannot hold a newline: it would start another line of nix.conf"
        );
    }

    #[test]
    fn machines_fields_are_refused_where_the_file_splits() {
        let got = refused(
            r#"{"nixVersion": "2.18.1", "nix": {"distributedBuilds": true, "buildMachines": [
                {"hostName": "a\nb", "system": "x86_64-linux"},
                {"hostName": "c", "systems": ["x86_64-linux,aarch64-linux"], "sshKey": "/k ey"}
            ]}}"#,
        );
        let options: Vec<&str> = got.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(
            options,
            [
                "nix.buildMachines[0].hostName",
                "nix.buildMachines[1].systems[0]",
                "nix.buildMachines[1].sshKey"
            ]
        );
        assert_eq!(
            got[2].1,
            "a machines-file field cannot hold whitespace: the file splits lines and columns on it, so `/k ey` would not be read as written"
        );
    }

    #[test]
    fn environment_and_channel_strings_are_checked() {
        let got = refused(
            r#"{"nixVersion": "2.18.1", "nix": {"envVars": {"A B": "x"},
                "nixPath": ["nixpkgs=/x\n/y"]},
                "system": {"defaultChannel": "https://x/ y"}}"#,
        );
        let options: Vec<&str> = got.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(
            options,
            [
                "nix.envVars.\"A B\"",
                "nix.nixPath[0]",
                "system.defaultChannel"
            ]
        );
    }

    #[test]
    fn ordinary_strings_pass() {
        assert!(refused(
            r#"{"nixVersion": "2.18.1", "nix": {"settings": {"trusted-users": ["he llo", "tab\there"],
                "weird=key": "a=b"}, "envVars": {"http_proxy": "http://p:3128"}}}"#
        )
        .is_empty());
    }
}
