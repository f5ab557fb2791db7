//! The operations of an apply ([`Step`]) and the attribute changes they
//! carry: what the planner decides and the editor and apply carry out.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An account attribute the planner converges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attribute {
    /// The uid.
    Uid,
    /// The primary group id.
    PrimaryGroup,
    /// The GECOS description.
    Description,
    /// The home directory.
    Home,
    /// The login shell.
    Shell,
    /// Membership of the build-users group (`to` is the group's name).
    Membership,
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Attribute::Uid => "uid",
            Attribute::PrimaryGroup => "primary group",
            Attribute::Description => "description",
            Attribute::Home => "home",
            Attribute::Shell => "shell",
            Attribute::Membership => "membership",
        })
    }
}

/// One attribute of one account going from one value to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Which attribute.
    pub attribute: Attribute,
    /// The current value (empty for a missing membership).
    pub from: String,
    /// The value the plan sets.
    pub to: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.attribute == Attribute::Membership {
            write!(f, "add to group {}", self.to)
        } else {
            write!(f, "{} {:?} -> {:?}", self.attribute, self.from, self.to)
        }
    }
}

/// One operation of an apply, in the order the plan runs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Step {
    /// `groupadd -g GID NAME`.
    CreateGroup {
        /// Group name.
        name: String,
        /// Group id.
        gid: u32,
    },
    /// `usermod` of the attributes in `changes` (never membership).
    ModifyUser {
        /// User name.
        name: String,
        /// What changes.
        changes: Vec<Change>,
    },
    /// `useradd` of a system user in the group.
    CreateUser {
        /// User name.
        name: String,
        /// User id.
        uid: u32,
        /// Primary (and only supplementary) group's name.
        group: String,
        /// Its gid.
        gid: u32,
        /// GECOS description.
        description: String,
        /// Home directory.
        home: String,
        /// Login shell.
        shell: String,
    },
    /// `usermod -a -G GROUP USER`.
    AddMember {
        /// Group name.
        group: String,
        /// User name.
        user: String,
    },
    /// `userdel NAME` (without `--remove`: the home is `/var/empty`, never
    /// the user's own): the account, its shadow entry, its place in every
    /// group's member list and its subordinate ids go.
    RemoveUser {
        /// User name.
        name: String,
    },
    /// Add the `etc/shadow` entry (`NAME:!:DAY::::::`, as `useradd`
    /// writes it) a build user lacks: a run killed between writing
    /// passwd and shadow leaves one.
    RepairShadow {
        /// User name.
        name: String,
    },
    /// Give the group the `etc/gshadow` entry it lacks (`NAME:!::MEMBERS`),
    /// or add to its gshadow member list the build users `etc/group`
    /// names as members.
    RepairGshadow {
        /// Group name.
        name: String,
        /// The members to add (all of them when the entry is created).
        members: Vec<String>,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::CreateGroup { name, gid } => write!(f, "create group {name} (gid {gid})"),
            Step::ModifyUser { name, changes } => {
                write!(f, "change user {name}: ")?;
                for (i, c) in changes.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c}")?;
                }
                Ok(())
            }
            Step::CreateUser { name, uid, gid, .. } => {
                write!(f, "create user {name} (uid {uid}, gid {gid})")
            }
            Step::AddMember { group, user } => write!(f, "add {user} to group {group}"),
            Step::RemoveUser { name } => write!(f, "remove user {name}"),
            Step::RepairShadow { name } => {
                write!(f, "add the etc/shadow entry user {name} lacks")
            }
            Step::RepairGshadow { name, members } if members.is_empty() => {
                write!(f, "add group {name}'s etc/gshadow entry")
            }
            Step::RepairGshadow { name, members } => write!(
                f,
                "list {} in group {name}'s etc/gshadow entry",
                members.join(",")
            ),
        }
    }
}
