//! The build-user pool a configuration asks for through nixconf's own
//! options (read in [`crate::own`]): a type of the [`crate::Evaluation`].

use serde_json::json;

/// Whose account conventions the build users follow (`users.platform`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildUsersPlatform {
    /// Linux: `nixbld1..`, gid 30000, `/sbin/nologin`.
    Linux,
    /// macOS: `_nixbld1..`, hidden users, gid 350.
    Macos,
}

impl BuildUsersPlatform {
    /// The name `users.platform` gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildUsersPlatform::Linux => "linux",
            BuildUsersPlatform::Macos => "macos",
        }
    }
}

/// The build-user pool a configuration asks for, beyond the NixOS
/// options (`nix.nrBuildUsers`, `ids.uids.nixbld`, `nix.settings`):
/// nixconf's own options, each `None` when not set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BuildUsersOptions {
    /// `users.platform`: whose account conventions (`linux` by default).
    pub platform: Option<BuildUsersPlatform>,
    /// `users.adoptExistingGroup`: adopt a `nixbld` group with another gid.
    pub adopt_existing_group: Option<bool>,
    /// `users.renumber`: move existing build users to the pool's uids.
    pub renumber: Option<bool>,
    /// `users.namePrefix`: the build users' names without their number.
    pub name_prefix: Option<String>,
    /// `users.home`: the build users' home directory.
    pub home: Option<String>,
    /// `users.shell`: the build users' login shell.
    pub shell: Option<String>,
    /// `ids.gids.nixbld`: the build users' group's gid.
    pub gid: Option<u32>,
}

impl BuildUsersOptions {
    /// Whether any of them is set.
    pub fn is_set(&self) -> bool {
        *self != BuildUsersOptions::default()
    }

    /// The options that are set, as the configuration writes them:
    /// `{"users": {"platform": "macos", ...}, "ids": {"gids": {"nixbld": 350}}}`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut users = serde_json::Map::new();
        let mut put = |key: &str, value: serde_json::Value| {
            users.insert(key.to_owned(), value);
        };
        if let Some(p) = self.platform {
            put("platform", json!(p.as_str()));
        }
        if let Some(b) = self.adopt_existing_group {
            put("adoptExistingGroup", json!(b));
        }
        if let Some(b) = self.renumber {
            put("renumber", json!(b));
        }
        for (key, value) in [
            ("namePrefix", &self.name_prefix),
            ("home", &self.home),
            ("shell", &self.shell),
        ] {
            if let Some(v) = value {
                put(key, json!(v));
            }
        }
        let mut out = serde_json::Map::new();
        if !users.is_empty() {
            out.insert("users".to_owned(), serde_json::Value::Object(users));
        }
        if let Some(gid) = self.gid {
            out.insert("ids".to_owned(), json!({ "gids": { "nixbld": gid } }));
        }
        serde_json::Value::Object(out)
    }
}
