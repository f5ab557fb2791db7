//! What the checks look at, the same for a configuration and a live
//! installation.

use std::collections::BTreeMap;

use nixconf_format::ConfValue;
use nixconf_machines::{Item, Located};
use nixconf_options::Evaluation;

/// One token of a setting's value and where it was written.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub text: String,
    pub at: String,
}

/// A setting as the daemon reads it.
#[derive(Clone, Debug)]
pub(crate) struct Setting {
    /// Where the value (its last assignment) was written.
    pub at: String,
    /// The value's tokens, `extra-` appends included.
    pub tokens: Vec<Token>,
}

impl Setting {
    pub fn value(&self) -> String {
        self.tokens
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A file that holds (or may hold) secrets.
#[derive(Clone, Debug)]
pub(crate) struct SecretFile {
    /// Where it is named.
    pub at: String,
    /// Its path.
    pub path: String,
    /// What refers to it (`netrc-file`, `an !include holding access-tokens`).
    pub what: String,
    /// Readable by every user (`None`: not known, e.g. a configuration).
    pub world_readable: Option<bool>,
}

/// The build users.
#[derive(Clone, Debug)]
pub(crate) struct BuildUsers {
    pub at: String,
    pub count: i64,
    pub uids: Vec<(String, u32)>,
}

/// The daemon socket's directory.
#[derive(Clone, Debug)]
pub(crate) struct Socket {
    pub path: String,
    pub mode: u32,
    pub group: String,
}

/// Everything the checks read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Subject {
    /// Canonical setting name -> value.
    pub settings: BTreeMap<String, Setting>,
    /// Remote builders: where each is written, and the machine as the
    /// machines file holds it.
    pub machines: Vec<(String, Located)>,
    /// The Nix version that reads them.
    pub version: Option<nixconf_format::NixVersion>,
    /// A list-valued `builders` the NixOS module joins into one line.
    pub builders_list: Option<(String, usize)>,
    pub build_users: Option<BuildUsers>,
    pub socket: Option<Socket>,
    pub secret_files: Vec<SecretFile>,
    /// Whether nix.conf itself is readable by every user, and where it is.
    pub nix_conf_world_readable: Option<(String, bool)>,
    /// Paths that must exist and do not: (where, path, what).
    pub missing: Vec<(String, String, String)>,
    /// Option paths (configuration) or `file:line` (live) of a setting
    /// written inline, for findings about the file holding it.
    pub is_config: bool,
    /// The build users are macOS accounts (`users.platform = "macos"`).
    pub macos: bool,
}

impl Subject {
    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.settings.get(name)
    }

    pub fn from_evaluation(eval: &Evaluation) -> Subject {
        let mut subject = Subject {
            is_config: true,
            ..Subject::default()
        };
        let Some(settings) = &eval.settings else {
            return subject;
        };
        // Plain settings first, then `extra-` appends, as Nix reads the
        // file the module writes (2026 writes them last; 2023's sorted
        // order can put them first, a bug the module generation owns).
        let mut extras = Vec::new();
        for (key, value) in settings {
            let path = format!("nix.settings.{key}");
            let tokens = tokens_of(value, &path);
            match key.strip_prefix("extra-") {
                Some(base) if !is_own_setting(key) => extras.push((base.to_owned(), tokens)),
                _ => {
                    subject.settings.insert(
                        key.clone(),
                        Setting {
                            at: path.clone(),
                            tokens,
                        },
                    );
                }
            }
            if key == "builders" {
                if let ConfValue::List(items) = value {
                    let columns: usize = items
                        .iter()
                        .map(|i| i.render().split_whitespace().count())
                        .sum();
                    subject.builders_list = Some((path.clone(), columns));
                }
            }
        }
        for (base, tokens) in extras {
            let at = format!("nix.settings.extra-{base}");
            subject
                .settings
                .entry(base)
                .or_insert_with(|| Setting {
                    at,
                    tokens: Vec::new(),
                })
                .tokens
                .extend(tokens);
        }
        subject.version = eval.nix_version.clone();
        if let Some(text) = &eval.machines {
            if let Some(version) = &eval.nix_version {
                if let Ok(file) = nixconf_machines::parse(text, "/etc/nix/machines", version) {
                    let machines = file.items.iter().filter_map(|item| match item {
                        Item::Machine { line, machine, .. } => Some((*line, machine)),
                        _ => None,
                    });
                    for (i, (line, machine)) in machines.enumerate() {
                        subject.machines.push((
                            format!("nix.buildMachines[{i}]"),
                            Located {
                                file: "/etc/nix/machines".to_owned(),
                                line,
                                machine: machine.clone(),
                            },
                        ));
                    }
                }
            }
        }
        if let Some(count) = eval.nr_build_users {
            subject.build_users = Some(BuildUsers {
                at: "nix.nrBuildUsers".to_owned(),
                count,
                uids: (1..=count)
                    .map(|i| {
                        let uid = u32::try_from(eval.nixbld_uid + i).unwrap_or(u32::MAX);
                        (format!("nixbld{i}"), uid)
                    })
                    .collect(),
            });
        }
        // The module writes nix.conf 0644: whatever it holds, every user
        // reads.
        subject.nix_conf_world_readable = Some(("nix.settings".to_owned(), true));
        for key in ["netrc-file", "secret-key-files"] {
            if let Some(s) = subject.settings.get(key) {
                for t in &s.tokens {
                    subject.secret_files.push(SecretFile {
                        at: t.at.clone(),
                        path: t.text.clone(),
                        what: key.to_owned(),
                        world_readable: None,
                    });
                }
            }
        }
        subject
    }
}

/// Settings whose own name starts with `extra-` (not an append).
pub(crate) fn is_own_setting(name: &str) -> bool {
    name == "extra-platforms"
}

fn tokens_of(value: &ConfValue, path: &str) -> Vec<Token> {
    match value {
        ConfValue::List(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| Token {
                text: item.render(),
                at: format!("{path}[{i}]"),
            })
            .collect(),
        other => other
            .render()
            .split_whitespace()
            .map(|t| Token {
                text: t.to_owned(),
                at: path.to_owned(),
            })
            .collect(),
    }
}
