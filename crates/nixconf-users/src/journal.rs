//! What an apply changed, entry by entry, and how to take exactly that
//! back.
//!
//! A journal never holds a whole account file: only the entries nixconf
//! added, removed or edited, and of an edited entry only the fields that
//! changed (of a member list, only the names added or removed). The
//! password field of `etc/shadow` and `etc/gshadow` lines is never
//! recorded (it is stored empty; a line put back gets `!`, locked), and
//! one of `etc/passwd` or `etc/group` only when it holds no hash (`x`,
//! `*`, `!`, `!!` or nothing; anything else is stored as `!`).
//!
//! Undo works on the files as they are now: the entries nixconf added are
//! removed, the fields it edited are put back, the lines it removed
//! return to their place, and everything else (accounts added since, such
//! as a `useradd dave`) is kept.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::accounts::{Record, Table};
use crate::step::Step;

/// What an apply did: its steps, the entries it changed, and the `-`
/// backups it created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// The steps it carried out.
    pub steps: Vec<Step>,
    /// The entries it added, removed or edited, file by file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<EntryChange>,
    /// The backups (`etc/passwd-`, ...) it created where there were none:
    /// undo removes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backups: Vec<String>,
}

impl Journal {
    /// Whether the apply changed nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.backups.is_empty()
    }
}

/// One account-file entry an apply changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum EntryChange {
    /// A line nixconf added.
    Added {
        /// The file, relative to the root (`etc/passwd`).
        file: String,
        /// The entry's name.
        name: String,
        /// The line, without terminator (password field as the module
        /// documentation says).
        line: String,
    },
    /// A line nixconf removed (a build user no longer asked for).
    Removed {
        /// The file, relative to the root.
        file: String,
        /// The entry's name.
        name: String,
        /// The line, without terminator (password field as the module
        /// documentation says).
        line: String,
        /// Its 0-based line number before the removal.
        index: usize,
        /// It was the file's last line and had no newline.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        unterminated: bool,
    },
    /// Fields nixconf changed in a line it kept.
    Edited {
        /// The file, relative to the root.
        file: String,
        /// The entry's name.
        name: String,
        /// The fields that changed.
        fields: Vec<FieldEdit>,
    },
}

impl EntryChange {
    /// The file, relative to the root.
    pub fn file(&self) -> &str {
        match self {
            EntryChange::Added { file, .. }
            | EntryChange::Removed { file, .. }
            | EntryChange::Edited { file, .. } => file,
        }
    }

    /// The entry's name.
    pub fn name(&self) -> &str {
        match self {
            EntryChange::Added { name, .. }
            | EntryChange::Removed { name, .. }
            | EntryChange::Edited { name, .. } => name,
        }
    }
}

/// One field of an edited entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldEdit {
    /// The field's name (`uid`, `gid`, `description`, `home`, `shell`,
    /// `members`, `administrators`, ...).
    pub field: String,
    /// A plain field: its value before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// A plain field: its value after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// A member list: the names added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<String>,
    /// A member list: the names removed, with their 0-based place in the
    /// list before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<Member>,
}

/// A name removed from a member list, and where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The user name.
    pub name: String,
    /// Its 0-based place in the list.
    pub index: usize,
}

/// The names of each file's `:`-separated fields.
fn field_names(file: &str) -> &'static [&'static str] {
    match file {
        "etc/passwd" => &[
            "name",
            "password",
            "uid",
            "gid",
            "description",
            "home",
            "shell",
        ],
        "etc/group" => &["name", "password", "gid", "members"],
        "etc/shadow" => &[
            "name",
            "password",
            "last-change",
            "min-age",
            "max-age",
            "warn",
            "inactive",
            "expire",
            "reserved",
        ],
        "etc/gshadow" => &["name", "password", "administrators", "members"],
        _ => &["owner", "start", "count"],
    }
}

fn field_name(file: &str, i: usize) -> String {
    field_names(file)
        .get(i)
        .map_or_else(|| format!("field-{}", i + 1), |s| (*s).to_owned())
}

fn field_index(file: &str, name: &str) -> Option<usize> {
    if let Some(i) = field_names(file).iter().position(|n| *n == name) {
        return Some(i);
    }
    name.strip_prefix("field-")?
        .parse::<usize>()
        .ok()?
        .checked_sub(1)
}

fn is_list(file: &str, i: usize) -> bool {
    matches!(
        (file, i),
        ("etc/group", 3) | ("etc/gshadow", 2) | ("etc/gshadow", 3)
    )
}

fn has_secret(file: &str) -> bool {
    matches!(file, "etc/shadow" | "etc/gshadow")
}

/// `text` as a journal may hold it: no password hash.
pub(crate) fn recorded(file: &str, text: &str) -> String {
    let mut f: Vec<&str> = text.split(':').collect();
    if let Some(p) = f.get_mut(1) {
        if has_secret(file) {
            *p = "";
        } else if matches!(file, "etc/passwd" | "etc/group")
            && !matches!(*p, "x" | "*" | "!" | "!!" | "")
        {
            *p = "!";
        }
    }
    f.join(":")
}

/// A recorded line as it goes back into its file.
fn restored(file: &str, line: &str) -> String {
    if !has_secret(file) {
        return line.to_owned();
    }
    let mut f: Vec<&str> = line.split(':').collect();
    if let Some(p) = f.get_mut(1) {
        if p.is_empty() {
            *p = "!";
        }
    }
    f.join(":")
}

fn members(field: &str) -> Vec<&str> {
    field.split(',').filter(|m| !m.is_empty()).collect()
}

/// The fields that differ between two versions of one entry.
fn field_edits(file: &str, before: &str, after: &str) -> Vec<FieldEdit> {
    let b: Vec<&str> = before.split(':').collect();
    let a: Vec<&str> = after.split(':').collect();
    let mut out = Vec::new();
    for i in 0..a.len().max(b.len()) {
        // Never the password field: nixconf does not change it.
        if i == 1 {
            continue;
        }
        let (bv, av) = (
            b.get(i).copied().unwrap_or_default(),
            a.get(i).copied().unwrap_or_default(),
        );
        if bv == av {
            continue;
        }
        let mut edit = FieldEdit {
            field: field_name(file, i),
            before: None,
            after: None,
            added: Vec::new(),
            removed: Vec::new(),
        };
        if is_list(file, i) {
            let (bm, am) = (members(bv), members(av));
            let (bs, as_): (HashSet<&str>, HashSet<&str>) =
                (bm.iter().copied().collect(), am.iter().copied().collect());
            edit.added = am
                .iter()
                .filter(|m| !bs.contains(*m))
                .map(|m| (*m).to_owned())
                .collect();
            edit.removed = bm
                .iter()
                .enumerate()
                .filter(|(_, m)| !as_.contains(*m))
                .map(|(index, m)| Member {
                    name: (*m).to_owned(),
                    index,
                })
                .collect();
        } else {
            edit.before = Some(bv.to_owned());
            edit.after = Some(av.to_owned());
        }
        out.push(edit);
    }
    out
}

fn utf8(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

/// The entries that differ between two versions of one file, by name:
/// removed and edited ones in the old file's order, then added ones in
/// the new file's.
pub(crate) fn diff<T: Record>(before: &Table<T>, after: &Table<T>, out: &mut Vec<EntryChange>) {
    let file = before.file().to_owned();
    let old = before.first_entries();
    let new = after.first_entries();
    let new_by_name: std::collections::HashMap<&str, &[u8]> =
        new.iter().map(|(_, n, t)| (*n, *t)).collect();
    let old_names: HashSet<&str> = old.iter().map(|(_, n, _)| *n).collect();
    for (index, name, text) in &old {
        match new_by_name.get(name) {
            None => out.push(EntryChange::Removed {
                file: file.clone(),
                name: (*name).to_owned(),
                line: recorded(&file, utf8(text)),
                index: *index,
                unterminated: before.is_unterminated(*index),
            }),
            Some(t) if t != text => out.push(EntryChange::Edited {
                file: file.clone(),
                name: (*name).to_owned(),
                fields: field_edits(&file, utf8(text), utf8(t)),
            }),
            Some(_) => {}
        }
    }
    for (_, name, text) in &new {
        if !old_names.contains(name) {
            out.push(EntryChange::Added {
                file: file.clone(),
                name: (*name).to_owned(),
                line: recorded(&file, utf8(text)),
            });
        }
    }
}

/// Take `changes` (all of `table`'s file) back on `table`, as it is now.
/// What cannot be taken back without discarding someone else's change
/// is described in `conflicts` (the table is then not to be written).
pub(crate) fn undo<T: Record>(
    table: &mut Table<T>,
    changes: &[&EntryChange],
    conflicts: &mut Vec<String>,
) {
    let file = table.file().to_owned();
    let id_field = match file.as_str() {
        "etc/passwd" | "etc/group" => Some(2),
        _ => None,
    };
    // 1. Entries nixconf added go (all at once: one pass over the file).
    let mut drop: HashSet<usize> = HashSet::new();
    {
        let now: std::collections::HashMap<&str, (usize, &[u8])> = table
            .first_entries()
            .into_iter()
            .map(|(i, n, t)| (n, (i, t)))
            .collect();
        for c in changes {
            let EntryChange::Added { name, line, .. } = c else {
                continue;
            };
            let Some((i, text)) = now.get(name.as_str()) else {
                continue;
            };
            let text = utf8(text);
            let ours = recorded(&file, text) == *line
                || match id_field {
                    // Edited since, but still the account nixconf made.
                    Some(f) => text.split(':').nth(f) == line.split(':').nth(f),
                    None => has_secret(&file),
                };
            if ours {
                drop.insert(*i);
            } else {
                conflicts.push(format!(
                    "{file}: {name} is no longer the entry nixconf added"
                ));
            }
        }
    }
    table.remove_lines(&drop);
    // 2. Fields nixconf edited go back (replacing a line keeps every
    // line's number, so one index serves them all).
    let at: std::collections::HashMap<String, usize> = if changes
        .iter()
        .any(|c| matches!(c, EntryChange::Edited { .. }))
    {
        table
            .first_entries()
            .into_iter()
            .map(|(i, n, _)| (n.to_owned(), i))
            .collect()
    } else {
        std::collections::HashMap::new()
    };
    for c in changes {
        let EntryChange::Edited { name, fields, .. } = c else {
            continue;
        };
        let Some((i, text)) = at.get(name).map(|i| (*i, utf8(table.text(*i)).to_owned())) else {
            conflicts.push(format!("{file}: {name} was removed after the apply"));
            continue;
        };
        let mut f: Vec<String> = text.split(':').map(str::to_owned).collect();
        for e in fields {
            let Some(k) = field_index(&file, &e.field) else {
                conflicts.push(format!("{file}: {name}: unknown field {}", e.field));
                continue;
            };
            if f.len() <= k {
                f.resize(k + 1, String::new());
            }
            if is_list(&file, k) {
                let mut m: Vec<String> = members(&f[k])
                    .into_iter()
                    .filter(|m| !e.added.iter().any(|a| a == m))
                    .map(str::to_owned)
                    .collect();
                for r in &e.removed {
                    if !m.contains(&r.name) {
                        m.insert(r.index.min(m.len()), r.name.clone());
                    }
                }
                f[k] = m.join(",");
            } else {
                let (before, after) = (
                    e.before.as_deref().unwrap_or_default(),
                    e.after.as_deref().unwrap_or_default(),
                );
                if f[k] == after {
                    f[k] = before.to_owned();
                } else if f[k] != before {
                    conflicts.push(format!(
                        "{file}: {name}: {} is `{}`, neither what nixconf set (`{after}`) nor what it was (`{before}`)",
                        e.field, f[k]
                    ));
                }
            }
        }
        let new = f.join(":");
        if new != text {
            table.replace(i, new);
        }
    }
    // 3. Lines nixconf removed come back to their place.
    let mut removed: Vec<(&usize, &String, &String, bool)> = changes
        .iter()
        .filter_map(|c| match c {
            EntryChange::Removed {
                name,
                line,
                index,
                unterminated,
                ..
            } => Some((index, name, line, *unterminated)),
            _ => None,
        })
        .collect();
    removed.sort();
    if !removed.is_empty() {
        let now: std::collections::HashMap<String, String> = table
            .first_entries()
            .into_iter()
            .map(|(_, n, t)| (n.to_owned(), utf8(t).to_owned()))
            .collect();
        for (index, name, line, unterminated) in removed {
            match now.get(name) {
                None => table.insert_at(*index, restored(&file, line), unterminated),
                Some(t) if recorded(&file, t) == *line => {}
                Some(_) => conflicts.push(format!(
                    "{file}: {name} was removed by nixconf and another entry of that name was added since"
                )),
            }
        }
    }
}
