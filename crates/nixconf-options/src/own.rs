//! nixconf's own options: not in any NixOS module (like nix-darwin's
//! `# Not in NixOS module` options), declared here in one table and read
//! with the same checker as the module's, in every generation.
//!
//! They describe the build-user pool nixconf manages outside NixOS: the
//! `users` table (`platform`, `adoptExistingGroup`, `renumber`,
//! `namePrefix`, `home`, `shell`) and `ids.gids.nixbld`. Every one may be
//! `null` (JSON), meaning unset.

use std::collections::BTreeMap;

use crate::build_users::{BuildUsersOptions, BuildUsersPlatform};
use crate::evaluator::Evaluator;
use crate::tree::{quote, Node, Value};

/// The type of one of nixconf's own options.
#[derive(Clone, Copy, Debug)]
enum OwnType {
    Bool,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// An absolute path that fits a passwd field (no `:`, line break or
    /// NUL); the words name it in messages.
    PasswdPath(&'static str),
    /// The start of account names (letters, digits, `_`, `.`, `-`).
    AccountPrefix,
    /// An integer from 0 to `u32::MAX`.
    Id,
}

/// One of nixconf's own options: its path and type (none has a default
/// here: unset means the pool's own default, chosen by the platform).
#[derive(Debug)]
struct OwnOption {
    path: &'static str,
    ty: OwnType,
}

/// nixconf's own options (not in NixOS module), by table.
const OWN_OPTIONS: &[OwnOption] = &[
    OwnOption {
        path: "users.platform",
        ty: OwnType::OneOf(&["linux", "macos"]),
    },
    OwnOption {
        path: "users.adoptExistingGroup",
        ty: OwnType::Bool,
    },
    OwnOption {
        path: "users.renumber",
        ty: OwnType::Bool,
    },
    OwnOption {
        path: "users.namePrefix",
        ty: OwnType::AccountPrefix,
    },
    OwnOption {
        path: "users.home",
        ty: OwnType::PasswdPath("home directory"),
    },
    OwnOption {
        path: "users.shell",
        ty: OwnType::PasswdPath("shell"),
    },
    OwnOption {
        path: "ids.gids.nixbld",
        ty: OwnType::Id,
    },
];

/// The tables holding nixconf's own options.
const OWN_TABLES: [&str; 2] = ["users", "ids.gids"];

/// A value read for one of nixconf's own options.
enum Read {
    Bool(bool),
    Str(String),
    Id(u32),
}

impl Evaluator<'_, '_> {
    /// nixconf's own options, type-checked; `None` when one is wrong
    /// (reported). The `ids` table itself is checked with
    /// `ids.uids.nixbld` by each generation.
    pub(crate) fn own_options(
        &mut self,
        top: &BTreeMap<String, Node>,
    ) -> Option<BuildUsersOptions> {
        let mut out = BuildUsersOptions::default();
        let mut ok = true;
        for table in OWN_TABLES {
            let node = match table.split_once('.') {
                None => top.get(table),
                Some((outer, inner)) => match top.get(outer).map(|n| &n.value) {
                    Some(Value::Attrs(attrs)) => attrs.get(inner),
                    // A wrong `ids` is the generation's to report.
                    _ => None,
                },
            };
            let Some(node) = node else { continue };
            let Some(attrs) = self.c.attrs(table, node) else {
                ok = false;
                continue;
            };
            let declared: Vec<&OwnOption> = OWN_OPTIONS
                .iter()
                .filter(|o| o.path.rsplit_once('.').map(|(t, _)| t) == Some(table))
                .collect();
            let names: Vec<&str> = declared
                .iter()
                .filter_map(|o| o.path.rsplit_once('.').map(|(_, n)| n))
                .collect();
            let before = self.c.errors.len();
            self.c.known_keys(table, attrs, &names);
            ok &= self.c.errors.len() == before;
            for (option, name) in declared.iter().zip(&names) {
                let Some(value) = attrs.get(*name) else {
                    continue;
                };
                match self.read_own(option, value) {
                    Err(()) => ok = false,
                    Ok(None) => {}
                    Ok(Some(read)) => out.set(option.path, read),
                }
            }
        }
        ok.then_some(out)
    }

    fn read_own(&mut self, option: &OwnOption, node: &Node) -> Result<Option<Read>, ()> {
        if matches!(node.value, Value::Null) {
            return Ok(None);
        }
        let path = option.path;
        let wrong = |c: &mut crate::typecheck::Checker<'_>, message: String| {
            c.error(path, Some(node), message);
            Err(())
        };
        match (option.ty, &node.value) {
            (OwnType::Bool, _) => self.c.bool(path, node).map(Read::Bool).ok_or(()).map(Some),
            (OwnType::OneOf(allowed), Value::Str(s)) if allowed.contains(&s.as_str()) => {
                Ok(Some(Read::Str(s.clone())))
            }
            (OwnType::OneOf(allowed), _) => {
                let names: Vec<String> = allowed.iter().map(|a| quote(a)).collect();
                wrong(
                    self.c,
                    format!("expected {}, got {}", names.join(" or "), node.describe()),
                )
            }
            (OwnType::PasswdPath(what), Value::Str(s)) => match passwd_path_problem(s) {
                None => Ok(Some(Read::Str(s.clone()))),
                Some(why) => wrong(self.c, format!("{what} `{}` {why}", s.escape_debug())),
            },
            (OwnType::AccountPrefix, Value::Str(s)) => {
                if account_prefix_ok(s) {
                    Ok(Some(Read::Str(s.clone())))
                } else {
                    wrong(
                        self.c,
                        format!(
                            "user-name prefix `{}` is not a valid account name (letters, \
                             digits, `_`, `.`, `-`, not starting with `-`)",
                            s.escape_debug()
                        ),
                    )
                }
            }
            (OwnType::PasswdPath(_) | OwnType::AccountPrefix, _) => {
                self.c.str(path, node).map(Read::Str).ok_or(()).map(Some)
            }
            (OwnType::Id, Value::Int(i)) => match u32::try_from(*i) {
                Ok(id) => Ok(Some(Read::Id(id))),
                Err(_) => wrong(
                    self.c,
                    format!("expected an integer from 0 to {}, got {i}", u32::MAX),
                ),
            },
            (OwnType::Id, _) => wrong(
                self.c,
                format!(
                    "expected an integer from 0 to {}, got {}",
                    u32::MAX,
                    node.describe()
                ),
            ),
        }
    }
}

impl BuildUsersOptions {
    fn set(&mut self, path: &str, read: Read) {
        match (path, read) {
            ("users.platform", Read::Str(s)) => {
                self.platform = Some(if s == "macos" {
                    BuildUsersPlatform::Macos
                } else {
                    BuildUsersPlatform::Linux
                });
            }
            ("users.adoptExistingGroup", Read::Bool(b)) => self.adopt_existing_group = Some(b),
            ("users.renumber", Read::Bool(b)) => self.renumber = Some(b),
            ("users.namePrefix", Read::Str(s)) => self.name_prefix = Some(s),
            ("users.home", Read::Str(s)) => self.home = Some(s),
            ("users.shell", Read::Str(s)) => self.shell = Some(s),
            ("ids.gids.nixbld", Read::Id(id)) => self.gid = Some(id),
            _ => {}
        }
    }
}

/// Why a string cannot be an absolute path in a passwd field, if it
/// cannot (a `:`, line break or NUL would corrupt the file).
fn passwd_path_problem(value: &str) -> Option<&'static str> {
    if value.contains(['\n', '\r']) {
        Some("holds a line break")
    } else if value.contains('\0') {
        Some("holds a NUL byte")
    } else if value.contains(':') {
        Some("holds a `:`, the passwd field separator")
    } else if !value.starts_with('/') {
        Some("is not an absolute path")
    } else {
        None
    }
}

/// Whether a prefix of account names has only the characters the shadow
/// tools accept (`[A-Za-z0-9_.][A-Za-z0-9_.-]*`); its length with the
/// pool's numbers is the pool's to check.
fn account_prefix_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.starts_with('+')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generation_reads_them_typed() {
        let own = "\n[users]\nplatform = \"macos\"\nrenumber = true\n[ids.gids]\nnixbld = 350\n";
        for head in [
            "nixVersion = \"1.11.16\"",
            "nixVersion = \"2.18.1\"\ngeneration = \"2023\"",
            "nixVersion = \"2.18.1\"",
        ] {
            let eval = crate::evaluate(&format!("{head}{own}"), crate::Format::Toml, "c.toml")
                .unwrap_or_else(|e| panic!("{head}: {e}"));
            let b = &eval.build_users;
            assert_eq!(b.platform, Some(BuildUsersPlatform::Macos));
            assert_eq!(
                (b.renumber, b.gid, b.home.as_deref()),
                (Some(true), Some(350), None)
            );
            assert_eq!(eval.to_json()["nixconf"]["ids"]["gids"]["nixbld"], 350);
        }
        let json = r#"{"nixVersion": "2.18.1", "users": {"shell": null}, "ids": {"gids": {"nixbld": -1}}}"#;
        let err = crate::evaluate(json, crate::Format::Json, "c.json").unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.json:1:79: `ids.gids.nixbld`: expected an integer from 0 to 4294967295, got -1"
        );
    }

    #[test]
    fn every_own_option_is_in_a_table() {
        for o in OWN_OPTIONS {
            let (table, _) = o.path.rsplit_once('.').unwrap();
            assert!(OWN_TABLES.contains(&table), "{}", o.path);
        }
    }
}
