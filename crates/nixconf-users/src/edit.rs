//! Applying steps to the account files in memory, the way the shadow tools
//! would: new entries before the first NIS line, every other line kept
//! byte for byte.

use std::collections::BTreeMap;

use crate::accounts::{Accounts, GroupEntry, Kind, Line, PasswdEntry, Table};
use crate::plan::{Attribute, Step};

/// A shadow-style file (`etc/shadow`, `etc/gshadow`) as `:`-split fields.
pub(crate) type Fields = Vec<String>;

pub(crate) fn parse_fields(file: &str, bytes: Option<&[u8]>) -> Table<Fields> {
    let lines = bytes
        .map(|b| {
            b.split_inclusive(|&c| c == b'\n')
                .map(|raw| {
                    let text = raw.strip_suffix(b"\n").unwrap_or(raw);
                    let text = text.strip_suffix(b"\r").unwrap_or(text);
                    let kind = match std::str::from_utf8(text) {
                        Ok(t) if t.trim().is_empty() || t.starts_with('#') => Kind::Ignored,
                        Ok(t) if t.starts_with('+') || t.starts_with('-') => Kind::Nis,
                        Ok(t) if t.contains(':') => {
                            Kind::Entry(t.split(':').map(str::to_owned).collect())
                        }
                        _ => Kind::Malformed {
                            reason: String::new(),
                            name: None,
                            id: None,
                        },
                    };
                    Line {
                        raw: raw.to_vec(),
                        kind,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Table {
        file: file.to_owned(),
        exists: bytes.is_some(),
        lines,
    }
}

/// The account files being edited.
pub(crate) struct Files {
    pub passwd: Table<PasswdEntry>,
    pub group: Table<GroupEntry>,
    pub shadow: Table<Fields>,
    pub gshadow: Table<Fields>,
}

fn find<T>(t: &Table<T>, pred: impl Fn(&T) -> bool) -> Option<(usize, &T)> {
    t.lines.iter().enumerate().find_map(|(i, l)| match &l.kind {
        Kind::Entry(e) if pred(e) => Some((i, e)),
        _ => None,
    })
}

impl Files {
    pub fn new(accounts: Accounts, shadow: Option<&[u8]>, gshadow: Option<&[u8]>) -> Files {
        Files {
            passwd: accounts.passwd,
            group: accounts.group,
            shadow: parse_fields("etc/shadow", shadow),
            gshadow: parse_fields("etc/gshadow", gshadow),
        }
    }

    /// Apply `steps`; `days` is today in days since the epoch (the
    /// shadow file's last-change field). Errors name the step that cannot
    /// be carried out on these files.
    pub fn apply(&mut self, steps: &[Step], days: u64) -> Result<(), String> {
        for step in steps {
            match step {
                Step::CreateGroup { name, gid } => {
                    if find(&self.group, |g| g.name == *name).is_some() {
                        return Err(format!("group {name} already exists"));
                    }
                    let entry = GroupEntry {
                        name: name.clone(),
                        password: "x".to_owned(),
                        gid: *gid,
                        members: Vec::new(),
                    };
                    self.group.insert(entry.to_line(), Kind::Entry(entry));
                    if self.gshadow.exists {
                        let f = vec![name.clone(), "!".into(), String::new(), String::new()];
                        self.gshadow.insert(f.join(":"), Kind::Entry(f));
                    }
                }
                Step::CreateUser {
                    name,
                    uid,
                    group,
                    gid,
                    description,
                    home,
                    shell,
                } => {
                    if find(&self.passwd, |u| u.name == *name).is_some() {
                        return Err(format!("user {name} already exists"));
                    }
                    let entry = PasswdEntry {
                        name: name.clone(),
                        password: if self.shadow.exists { "x" } else { "!" }.to_owned(),
                        uid: *uid,
                        gid: *gid,
                        gecos: description.clone(),
                        home: home.clone(),
                        shell: shell.clone(),
                    };
                    self.passwd.insert(entry.to_line(), Kind::Entry(entry));
                    if self.shadow.exists {
                        let mut f = vec![name.clone(), "!".into(), days.to_string()];
                        f.resize(9, String::new());
                        self.shadow.insert(f.join(":"), Kind::Entry(f));
                    }
                    self.add_member(group, name)?;
                }
                Step::ModifyUser { name, changes } => {
                    let (i, e) = find(&self.passwd, |u| u.name == *name)
                        .ok_or_else(|| format!("user {name} does not exist"))?;
                    let mut e = e.clone();
                    for c in changes {
                        let number = || {
                            c.to.parse::<u32>()
                                .map_err(|_| format!("{} `{}` is not a number", c.attribute, c.to))
                        };
                        match c.attribute {
                            Attribute::Uid => e.uid = number()?,
                            Attribute::PrimaryGroup => e.gid = number()?,
                            Attribute::Description => e.gecos.clone_from(&c.to),
                            Attribute::Home => e.home.clone_from(&c.to),
                            Attribute::Shell => e.shell.clone_from(&c.to),
                            Attribute::Membership => self.add_member(&c.to, name)?,
                        }
                    }
                    self.passwd.replace(i, e.to_line(), e);
                }
                Step::AddMember { group, user } => self.add_member(group, user)?,
            }
        }
        Ok(())
    }

    fn add_member(&mut self, group: &str, user: &str) -> Result<(), String> {
        let (i, g) = find(&self.group, |g| g.name == group)
            .ok_or_else(|| format!("group {group} does not exist"))?;
        if !g.members.iter().any(|m| m == user) {
            let mut g = g.clone();
            g.members.push(user.to_owned());
            self.group.replace(i, g.to_line(), g);
        }
        if let Some((i, f)) = find(&self.gshadow, |f| f.first().is_some_and(|n| n == group)) {
            let mut f = f.clone();
            f.resize(f.len().max(4), String::new());
            let mut members: Vec<&str> = f[3].split(',').filter(|m| !m.is_empty()).collect();
            if !members.contains(&user) {
                members.push(user);
                f[3] = members.join(",");
                self.gshadow.replace(i, f.join(":"), f);
            }
        }
        Ok(())
    }

    /// The files' new contents, only for files that exist or were created.
    pub fn contents(&self) -> BTreeMap<&'static str, Vec<u8>> {
        let mut out = BTreeMap::new();
        if self.passwd.exists {
            out.insert("etc/passwd", self.passwd.to_bytes());
        }
        if self.group.exists {
            out.insert("etc/group", self.group.to_bytes());
        }
        if self.shadow.exists {
            out.insert("etc/shadow", self.shadow.to_bytes());
        }
        if self.gshadow.exists {
            out.insert("etc/gshadow", self.gshadow.to_bytes());
        }
        out
    }
}
