//! What the installation should contain, entry by entry: files,
//! directories and symlinks (a leaf: planning, the receipt and the
//! installation all name them).

use serde::{Deserialize, Serialize};

/// A file the installation should contain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DesiredFile {
    /// Path relative to the root (a leading `/` is allowed and ignored).
    pub path: String,
    /// The exact contents.
    pub contents: String,
    /// Permission bits, `0o644` unless set.
    #[serde(with = "octal", default = "default_file_mode")]
    pub mode: u32,
    /// Write the file only when nothing is at its path, and never touch it
    /// afterwards (the module's `/root/.nix-channels`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub only_if_absent: bool,
    /// The Nix daemon reads this file: a change to it restarts the daemon.
    #[serde(default, skip_serializing_if = "is_false")]
    pub restarts_daemon: bool,
}

fn default_file_mode() -> u32 {
    0o644
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl DesiredFile {
    /// A file with mode `0644`, always kept equal to `contents`.
    pub fn new(path: impl Into<String>, contents: impl Into<String>) -> DesiredFile {
        DesiredFile {
            path: path.into(),
            contents: contents.into(),
            mode: default_file_mode(),
            only_if_absent: false,
            restarts_daemon: false,
        }
    }

    /// Set the permission bits.
    pub fn mode(mut self, mode: u32) -> DesiredFile {
        self.mode = mode;
        self
    }

    /// Write it only when its path is free, as the module does with
    /// `/root/.nix-channels`.
    pub fn only_if_absent(mut self) -> DesiredFile {
        self.only_if_absent = true;
        self
    }

    /// Mark it as read by the Nix daemon.
    pub fn restarts_daemon(mut self) -> DesiredFile {
        self.restarts_daemon = true;
        self
    }
}

/// A directory the installation should contain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DesiredDir {
    /// Path relative to the root.
    pub path: String,
    /// Permission bits, including the sticky bit where wanted (`0o1777`).
    #[serde(with = "octal")]
    pub mode: u32,
    /// Owning user (name in the root's `etc/passwd`, or a number); `None`
    /// leaves the owner alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Owning group (name in the root's `etc/group`, or a number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Created with `mode` and the owner when missing; an existing
    /// directory is kept as it is (a distribution's stricter permissions,
    /// such as Debian's `0770 root:nix-users` daemon socket directory).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_existing: bool,
}

impl DesiredDir {
    /// A directory with `mode`, owner left alone.
    pub fn new(path: impl Into<String>, mode: u32) -> DesiredDir {
        DesiredDir {
            path: path.into(),
            mode,
            owner: None,
            group: None,
            keep_existing: false,
        }
    }

    /// Only create the directory; an existing one keeps its mode and
    /// owner.
    pub fn keep_existing(mut self) -> DesiredDir {
        self.keep_existing = true;
        self
    }

    /// Set the owning user and group.
    pub fn owned_by(mut self, owner: impl Into<String>, group: impl Into<String>) -> DesiredDir {
        self.owner = Some(owner.into());
        self.group = Some(group.into());
        self
    }
}

/// A symlink the installation should contain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DesiredSymlink {
    /// Path of the link, relative to the root.
    pub path: String,
    /// What it points to, written as is (absolute targets are read from
    /// the root by the installed system).
    pub target: String,
}

impl DesiredSymlink {
    /// The link `path -> target`.
    pub fn new(path: impl Into<String>, target: impl Into<String>) -> DesiredSymlink {
        DesiredSymlink {
            path: path.into(),
            target: target.into(),
        }
    }
}

/// Modes as octal strings in JSON (`"0755"`, `"1777"`), as people write
/// them.
pub(crate) mod octal {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{mode:04o}"))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let text = String::deserialize(d)?;
        u32::from_str_radix(&text, 8)
            .ok()
            .filter(|m| *m <= 0o7777 && !text.is_empty())
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "invalid mode \"{text}\": expected octal permission bits such as \"0644\" or \"1777\""
                ))
            })
    }
}
