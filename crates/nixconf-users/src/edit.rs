//! Applying steps to the account files in memory, the way the shadow tools
//! would: new entries before the first NIS line, every other line kept
//! byte for byte.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::accounts::{Accounts, GroupEntry, PasswdEntry, SubIdEntry, Table};
use crate::step::{Attribute, Step};

/// A shadow-style file (`etc/shadow`, `etc/gshadow`) as `:`-split fields.
pub(crate) type Fields = Vec<String>;

/// The account files being edited.
#[derive(Clone)]
pub(crate) struct Files {
    pub passwd: Table<PasswdEntry>,
    pub group: Table<GroupEntry>,
    pub shadow: Table<Fields>,
    pub gshadow: Table<Fields>,
    pub subuid: Table<SubIdEntry>,
    pub subgid: Table<SubIdEntry>,
}

impl Files {
    pub fn new(accounts: Accounts, shadow: Option<&[u8]>, gshadow: Option<&[u8]>) -> Files {
        Files {
            passwd: accounts.passwd,
            group: accounts.group,
            shadow: Table::parse("etc/shadow", shadow),
            gshadow: Table::parse("etc/gshadow", gshadow),
            subuid: accounts.subuid,
            subgid: accounts.subgid,
        }
    }

    /// Apply `steps`; `days` is today in days since the epoch (the
    /// shadow file's last-change field). Errors name the step that cannot
    /// be carried out on these files.
    ///
    /// Work is batched so a pool of thousands is linear, not quadratic:
    /// new users are looked up in a set of the names present, their
    /// memberships are added to each group's line once, and a run of
    /// removals is one pass over each file.
    pub fn apply(&mut self, steps: &[Step], days: u64) -> Result<(), String> {
        let names = |t: &[(usize, &str, &[u8])]| -> HashSet<String> {
            t.iter().map(|(_, n, _)| (*n).to_owned()).collect()
        };
        let mut users = names(&self.passwd.first_entries());
        let mut shadowed = names(&self.shadow.first_entries());
        let mut pending: Vec<(String, String)> = Vec::new();
        let mut removals: Vec<String> = Vec::new();
        for step in steps {
            match step {
                Step::CreateUser { .. } | Step::AddMember { .. } => {}
                _ => self.flush_members(&mut pending)?,
            }
            if !matches!(step, Step::RemoveUser { .. }) && !removals.is_empty() {
                self.remove_users(&removals)?;
                for r in removals.drain(..) {
                    users.remove(&r);
                    shadowed.remove(&r);
                }
            }
            match step {
                Step::CreateGroup { name, gid } => {
                    if self.group.find(name).is_some() {
                        return Err(format!("group {name} already exists"));
                    }
                    let entry = GroupEntry {
                        name: name.clone(),
                        password: "x".to_owned(),
                        gid: *gid,
                        members: Vec::new(),
                    };
                    self.group.insert(entry.to_line());
                    // A gshadow line left by a run killed half-way stays.
                    if self.gshadow.exists && self.gshadow.find(name).is_none() {
                        let f = [name.clone(), "!".into(), String::new(), String::new()];
                        self.gshadow.insert(f.join(":"));
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
                    if users.contains(name) {
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
                    self.passwd.insert(entry.to_line());
                    users.insert(name.clone());
                    if self.shadow.exists && !shadowed.contains(name) {
                        let mut f = vec![name.clone(), "!".into(), days.to_string()];
                        f.resize(9, String::new());
                        self.shadow.insert(f.join(":"));
                        shadowed.insert(name.clone());
                    }
                    pending.push((group.clone(), name.clone()));
                }
                Step::ModifyUser { name, changes } => {
                    let (i, mut e) = self
                        .passwd
                        .find(name)
                        .ok_or_else(|| format!("user {name} does not exist"))?;
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
                    self.passwd.replace(i, e.to_line());
                }
                Step::AddMember { group, user } => pending.push((group.clone(), user.clone())),
                Step::RemoveUser { name } => removals.push(name.clone()),
                Step::RepairShadow { name } => {
                    if self.shadow.exists && !shadowed.contains(name) {
                        let mut f = vec![name.clone(), "!".into(), days.to_string()];
                        f.resize(9, String::new());
                        self.shadow.insert(f.join(":"));
                        shadowed.insert(name.clone());
                    }
                }
                Step::RepairGshadow { name, members } => {
                    if !self.gshadow.exists {
                        continue;
                    }
                    match self.gshadow.find(name) {
                        None => {
                            let f = [name.clone(), "!".into(), String::new(), members.join(",")];
                            self.gshadow.insert(f.join(":"));
                        }
                        Some((i, mut f)) => {
                            f.resize(f.len().max(4), String::new());
                            let mut list: Vec<&str> =
                                f[3].split(',').filter(|m| !m.is_empty()).collect();
                            let before = list.len();
                            for m in members {
                                if !list.contains(&m.as_str()) {
                                    list.push(m);
                                }
                            }
                            if list.len() != before {
                                f[3] = list.join(",");
                                self.gshadow.replace(i, f.join(":"));
                            }
                        }
                    }
                }
            }
        }
        if !removals.is_empty() {
            self.remove_users(&removals)?;
        }
        self.flush_members(&mut pending)
    }

    /// Add the deferred `(group, user)` memberships: each group's line
    /// (and gshadow line) is rewritten once.
    fn flush_members(&mut self, pending: &mut Vec<(String, String)>) -> Result<(), String> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for (g, u) in pending.drain(..) {
            match groups.iter_mut().find(|(n, _)| *n == g) {
                Some((_, us)) => us.push(u),
                None => groups.push((g, vec![u])),
            }
        }
        for (group, add) in groups {
            let (i, mut g) = self
                .group
                .find(&group)
                .ok_or_else(|| format!("group {group} does not exist"))?;
            let mut have: HashSet<String> = g.members.iter().cloned().collect();
            let before = g.members.len();
            for u in &add {
                if have.insert(u.clone()) {
                    g.members.push(u.clone());
                }
            }
            if g.members.len() != before {
                self.group.replace(i, g.to_line());
            }
            if let Some((i, mut f)) = self.gshadow.find(&group) {
                f.resize(f.len().max(4), String::new());
                let mut members: Vec<&str> = f[3].split(',').filter(|m| !m.is_empty()).collect();
                let mut have: HashSet<&str> = members.iter().copied().collect();
                let before = members.len();
                for u in &add {
                    if have.insert(u) {
                        members.push(u);
                    }
                }
                if members.len() != before {
                    f[3] = members.join(",");
                    self.gshadow.replace(i, f.join(":"));
                }
            }
        }
        Ok(())
    }

    fn add_member(&mut self, group: &str, user: &str) -> Result<(), String> {
        let (i, mut g) = self
            .group
            .find(group)
            .ok_or_else(|| format!("group {group} does not exist"))?;
        if !g.members.iter().any(|m| m == user) {
            g.members.push(user.to_owned());
            self.group.replace(i, g.to_line());
        }
        if let Some((i, mut f)) = self.gshadow.find(group) {
            f.resize(f.len().max(4), String::new());
            let mut members: Vec<&str> = f[3].split(',').filter(|m| !m.is_empty()).collect();
            if !members.contains(&user) {
                members.push(user);
                f[3] = members.join(",");
                self.gshadow.replace(i, f.join(":"));
            }
        }
        Ok(())
    }

    /// What `userdel NAME` does without `--remove`, for every name at
    /// once: the passwd and shadow entries go, the names leave every
    /// group's member list (and gshadow's administrators), and their
    /// subordinate id ranges go.
    fn remove_users(&mut self, names: &[String]) -> Result<(), String> {
        let gone: HashSet<&str> = names.iter().map(String::as_str).collect();
        let first = |t: &[(usize, &str, &[u8])]| -> HashMap<String, usize> {
            t.iter().map(|(i, n, _)| ((*n).to_owned(), *i)).collect()
        };
        let in_passwd = first(&self.passwd.first_entries());
        let mut drop = HashSet::new();
        for n in names {
            let i = in_passwd
                .get(n)
                .ok_or_else(|| format!("user {n} does not exist"))?;
            drop.insert(*i);
        }
        self.passwd.remove_lines(&drop);
        let in_shadow = first(&self.shadow.first_entries());
        let drop: HashSet<usize> = names
            .iter()
            .filter_map(|n| in_shadow.get(n))
            .copied()
            .collect();
        self.shadow.remove_lines(&drop);
        for (number, mut g) in self.group.entries().collect::<Vec<_>>() {
            if g.members.iter().any(|m| gone.contains(m.as_str())) {
                g.members.retain(|m| !gone.contains(m.as_str()));
                self.group.replace(number - 1, g.to_line());
            }
        }
        for (number, mut f) in self.gshadow.entries().collect::<Vec<_>>() {
            let mut changed = false;
            // Fields 3 and 4: administrators and members.
            for field in f.iter_mut().skip(2).take(2) {
                let all: Vec<&str> = field.split(',').filter(|m| !m.is_empty()).collect();
                let kept: Vec<&str> = all.iter().copied().filter(|m| !gone.contains(m)).collect();
                if kept.len() != all.len() {
                    *field = kept.join(",");
                    changed = true;
                }
            }
            if changed {
                self.gshadow.replace(number - 1, f.join(":"));
            }
        }
        for table in [&mut self.subuid, &mut self.subgid] {
            let owned: HashSet<usize> = table
                .entries()
                .filter(|(_, s)| gone.contains(s.owner.as_str()))
                .map(|(number, _)| number - 1)
                .collect();
            table.remove_lines(&owned);
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
        if self.subuid.exists {
            out.insert("etc/subuid", self.subuid.to_bytes());
        }
        if self.subgid.exists {
            out.insert("etc/subgid", self.subgid.to_bytes());
        }
        out
    }
}
