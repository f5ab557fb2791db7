//! Reading `/etc/passwd`, `/etc/group`, `/etc/subuid` and `/etc/subgid`
//! without losing a byte: every line is kept as it was, so a rewrite
//! changes only the lines it means to.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Where something is: a file relative to the root and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// The file, relative to the root (`etc/passwd`).
    pub file: String,
    /// The line, 1-based.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A line that is not a valid entry. It is reported, kept unchanged on
/// rewrite, and whatever name or id it seems to hold counts as taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Malformed {
    /// Where the line is.
    pub location: Location,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: malformed line (kept unchanged): {}",
            self.location, self.reason
        )
    }
}

/// One `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub name: String,
    /// Password field (`x` when the hash is in `/etc/shadow`).
    pub password: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// GECOS field: the description.
    pub gecos: String,
    /// Home directory.
    pub home: String,
    /// Login shell.
    pub shell: String,
}

impl PasswdEntry {
    /// The entry as a line, without its terminator.
    pub fn to_line(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}:{}:{}",
            self.name, self.password, self.uid, self.gid, self.gecos, self.home, self.shell
        )
    }
}

/// One `/etc/group` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Group name.
    pub name: String,
    /// Password field.
    pub password: String,
    /// Group id.
    pub gid: u32,
    /// Member user names (supplementary membership).
    pub members: Vec<String>,
}

impl GroupEntry {
    /// The entry as a line, without its terminator.
    pub fn to_line(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.name,
            self.password,
            self.gid,
            self.members.join(",")
        )
    }
}

/// One `/etc/subuid` or `/etc/subgid` entry: `owner:start:count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubIdEntry {
    /// The user (name or uid) the range belongs to.
    pub owner: String,
    /// First subordinate id.
    pub start: u64,
    /// How many ids.
    pub count: u64,
}

/// What one line of an account file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind<T> {
    Entry(T),
    /// Blank or `#` comment: ignored by the C library, kept.
    Ignored,
    /// NIS compat `+`/`-` line: its accounts are not in the file.
    Nis,
    /// Not an entry: kept, reported, and its apparent name and id count as
    /// taken.
    Malformed {
        reason: String,
        name: Option<String>,
        id: Option<u32>,
    },
}

/// One line: its exact bytes (terminator included) and what it is.
#[derive(Debug, Clone)]
pub(crate) struct Line<T> {
    pub raw: Vec<u8>,
    pub kind: Kind<T>,
}

/// A parsed account file that remembers every byte.
#[derive(Debug, Clone)]
pub struct Table<T> {
    pub(crate) file: String,
    pub(crate) exists: bool,
    pub(crate) lines: Vec<Line<T>>,
}

impl<T> Table<T> {
    /// The file, relative to the root.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Whether the file exists (a missing file reads as empty).
    pub fn exists(&self) -> bool {
        self.exists
    }

    /// The entries with their 1-based line numbers, in file order.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &T)> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match &l.kind {
                Kind::Entry(e) => Some((i + 1, e)),
                _ => None,
            })
    }

    /// The malformed lines.
    pub fn malformed(&self) -> impl Iterator<Item = Malformed> + '_ {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match &l.kind {
                Kind::Malformed { reason, .. } => Some(Malformed {
                    location: self.location(i + 1),
                    reason: reason.clone(),
                }),
                _ => None,
            })
    }

    /// The 1-based line numbers of NIS `+`/`-` lines.
    pub fn nis_lines(&self) -> impl Iterator<Item = usize> + '_ {
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(l.kind, Kind::Nis))
            .map(|(i, _)| i + 1)
    }

    pub(crate) fn location(&self, line: usize) -> Location {
        Location {
            file: self.file.clone(),
            line,
        }
    }

    /// The file's bytes, rebuilt from its lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.lines
            .iter()
            .flat_map(|l| l.raw.iter().copied())
            .collect()
    }

    /// Append `line` (no terminator) the way the shadow tools do: before
    /// the first NIS line, else at the end, adding a missing final newline.
    pub(crate) fn insert(&mut self, text: String, kind: Kind<T>) {
        let at = self
            .lines
            .iter()
            .position(|l| matches!(l.kind, Kind::Nis))
            .unwrap_or(self.lines.len());
        if at == self.lines.len() {
            if let Some(last) = self.lines.last_mut() {
                if !last.raw.ends_with(b"\n") {
                    last.raw.push(b'\n');
                }
            }
        }
        let mut raw = text.into_bytes();
        raw.push(b'\n');
        self.lines.insert(at, Line { raw, kind });
        self.exists = true;
    }

    /// Replace the entry on 0-based line `index`, keeping its terminator.
    pub(crate) fn replace(&mut self, index: usize, text: String, entry: T) {
        if let Some(line) = self.lines.get_mut(index) {
            let terminator: &[u8] = if line.raw.ends_with(b"\r\n") {
                b"\r\n"
            } else if line.raw.ends_with(b"\n") {
                b"\n"
            } else {
                b""
            };
            let mut raw = text.into_bytes();
            raw.extend_from_slice(terminator);
            line.raw = raw;
            line.kind = Kind::Entry(entry);
        }
    }
}

/// Split `bytes` into lines, each keeping its `\n`.
fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let end = memchr_newline(&bytes[start..]).map_or(bytes.len(), |i| start + i + 1);
        out.push(&bytes[start..end]);
        start = end;
    }
    out
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// A line's content: without its `\n` and a `\r` before it (a CRLF file
/// still parses; the terminator is kept on rewrite).
fn content(raw: &[u8]) -> &[u8] {
    let mut c = raw;
    if let Some(s) = c.strip_suffix(b"\n") {
        c = s;
    }
    if let Some(s) = c.strip_suffix(b"\r") {
        c = s;
    }
    c
}

fn parse_table<T>(
    file: &str,
    bytes: Option<&[u8]>,
    fields: usize,
    parse: impl Fn(&[&str]) -> Result<T, String>,
    id_field: usize,
) -> Table<T> {
    let exists = bytes.is_some();
    let bytes = bytes.unwrap_or_default();
    let lines = split_lines(bytes)
        .into_iter()
        .map(|raw| {
            let kind = classify(content(raw), fields, &parse, id_field);
            Line {
                raw: raw.to_vec(),
                kind,
            }
        })
        .collect();
    Table {
        file: file.to_owned(),
        exists,
        lines,
    }
}

// line := blank | '#' comment | ('+' | '-') nis | field (':' field){n-1}
fn classify<T>(
    text: &[u8],
    fields: usize,
    parse: &impl Fn(&[&str]) -> Result<T, String>,
    id_field: usize,
) -> Kind<T> {
    let Ok(text) = std::str::from_utf8(text) else {
        return Kind::Malformed {
            reason: "not valid UTF-8".to_owned(),
            name: None,
            id: None,
        };
    };
    if text.trim().is_empty() || text.starts_with('#') {
        return Kind::Ignored;
    }
    if text.starts_with('+') || text.starts_with('-') {
        return Kind::Nis;
    }
    let parts: Vec<&str> = text.split(':').collect();
    let malformed = |reason: String| Kind::Malformed {
        reason,
        name: parts
            .first()
            .filter(|n| !n.is_empty())
            .map(|n| (*n).to_owned()),
        id: parts.get(id_field).and_then(|s| s.parse().ok()),
    };
    if text.starts_with('\u{feff}') {
        return malformed("starts with a byte-order mark".to_owned());
    }
    if parts.len() != fields {
        return malformed(format!(
            "expected {fields} `:`-separated fields, found {}",
            parts.len()
        ));
    }
    if parts[0].is_empty() {
        return malformed("empty name".to_owned());
    }
    match parse(&parts) {
        Ok(entry) => Kind::Entry(entry),
        Err(reason) => malformed(reason),
    }
}

fn parse_id(what: &str, s: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} `{s}` is not a number"));
    }
    s.parse()
        .map_err(|_| format!("{what} `{s}` is larger than {}", u32::MAX))
}

fn parse_passwd_fields(p: &[&str]) -> Result<PasswdEntry, String> {
    let get = |i: usize| p.get(i).copied().unwrap_or_default();
    Ok(PasswdEntry {
        name: get(0).to_owned(),
        password: get(1).to_owned(),
        uid: parse_id("uid", get(2))?,
        gid: parse_id("gid", get(3))?,
        gecos: get(4).to_owned(),
        home: get(5).to_owned(),
        shell: get(6).to_owned(),
    })
}

fn parse_group_fields(p: &[&str]) -> Result<GroupEntry, String> {
    let get = |i: usize| p.get(i).copied().unwrap_or_default();
    let members = get(3);
    Ok(GroupEntry {
        name: get(0).to_owned(),
        password: get(1).to_owned(),
        gid: parse_id("gid", get(2))?,
        members: if members.is_empty() {
            Vec::new()
        } else {
            members.split(',').map(str::to_owned).collect()
        },
    })
}

fn parse_subid_fields(p: &[&str]) -> Result<SubIdEntry, String> {
    let get = |i: usize| p.get(i).copied().unwrap_or_default();
    let number = |what: &str, s: &str| -> Result<u64, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{what} `{s}` is not a number"));
        }
        s.parse::<u64>()
            .ok()
            .filter(|n| *n <= u64::from(u32::MAX))
            .ok_or_else(|| format!("{what} `{s}` is larger than {}", u32::MAX))
    };
    Ok(SubIdEntry {
        owner: get(0).to_owned(),
        start: number("start", get(1))?,
        count: number("count", get(2))?,
    })
}

/// The account files of one root directory.
#[derive(Debug, Clone)]
pub struct Accounts {
    /// `etc/passwd`.
    pub passwd: Table<PasswdEntry>,
    /// `etc/group`.
    pub group: Table<GroupEntry>,
    /// `etc/subuid`.
    pub subuid: Table<SubIdEntry>,
    /// `etc/subgid`.
    pub subgid: Table<SubIdEntry>,
}

/// The account files, relative to the root, that planning reads.
pub(crate) const INPUT_FILES: [&str; 4] = ["etc/passwd", "etc/group", "etc/subuid", "etc/subgid"];

impl Accounts {
    /// Read the account files under `root`. A missing file reads as an
    /// empty one; an unreadable one is an error.
    pub fn read(root: &Path) -> Result<Accounts, Error> {
        let [passwd, group, subuid, subgid] = INPUT_FILES.map(|f| read_optional(&root.join(f)));
        Ok(Accounts::parse(
            passwd?.as_deref(),
            group?.as_deref(),
            subuid?.as_deref(),
            subgid?.as_deref(),
        ))
    }

    /// Parse the files' contents (`None`: the file does not exist).
    pub fn parse(
        passwd: Option<&[u8]>,
        group: Option<&[u8]>,
        subuid: Option<&[u8]>,
        subgid: Option<&[u8]>,
    ) -> Accounts {
        Accounts {
            passwd: parse_table("etc/passwd", passwd, 7, parse_passwd_fields, 2),
            group: parse_table("etc/group", group, 4, parse_group_fields, 2),
            subuid: parse_table("etc/subuid", subuid, 3, parse_subid_fields, 1),
            subgid: parse_table("etc/subgid", subgid, 3, parse_subid_fields, 1),
        }
    }

    /// Every malformed line of every file, in file order.
    pub fn malformed(&self) -> Vec<Malformed> {
        let mut out: Vec<Malformed> = self.passwd.malformed().collect();
        out.extend(self.group.malformed());
        out.extend(self.subuid.malformed());
        out.extend(self.subgid.malformed());
        out
    }
}

pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passwd(text: &str) -> Table<PasswdEntry> {
        Accounts::parse(Some(text.as_bytes()), None, None, None).passwd
    }

    #[test]
    fn parses_entries_comments_blank_and_nis_lines() {
        let t = passwd("# c\n\nroot:x:0:0:root:/root:/bin/bash\n+@admins::::::\n-bad\n+\n");
        let e: Vec<_> = t.entries().map(|(n, e)| (n, e.name.as_str())).collect();
        assert_eq!(e, vec![(3, "root")]);
        assert_eq!(t.nis_lines().collect::<Vec<_>>(), vec![4, 5, 6]);
        assert_eq!(t.malformed().count(), 0);
    }

    #[test]
    fn reports_malformed_lines_with_file_and_line() {
        let t = passwd("root:x:0:0:root:/root:/bin/bash\nbad line\nx:x:zero:0::/:/bin/sh\n");
        let m: Vec<String> = t.malformed().map(|m| m.to_string()).collect();
        assert_eq!(
            m,
            vec![
                "etc/passwd:2: malformed line (kept unchanged): expected 7 `:`-separated fields, found 1",
                "etc/passwd:3: malformed line (kept unchanged): uid `zero` is not a number",
            ]
        );
    }

    #[test]
    fn round_trips_every_byte() {
        let text =
            "\u{feff}z:x:9:9::/:/bin/sh\na:x:1:1::/:/bin/sh\r\nbad\n\n# c\nb:x:2:2::/:/bin/sh";
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend_from_slice(b"\nc:x:3:3:\xe9t\xe9:/:/bin/sh\n");
        let t = Accounts::parse(Some(&bytes), None, None, None).passwd;
        assert_eq!(t.to_bytes(), bytes);
        let m: Vec<String> = t.malformed().map(|m| m.reason).collect();
        assert_eq!(
            m,
            vec![
                "starts with a byte-order mark",
                "expected 7 `:`-separated fields, found 1",
                "not valid UTF-8"
            ]
        );
        // The CRLF line parses, without the `\r` in its shell.
        let e: Vec<_> = t.entries().map(|(n, e)| (n, e.shell.clone())).collect();
        assert_eq!(
            e,
            vec![(2, "/bin/sh".to_owned()), (6, "/bin/sh".to_owned())]
        );
    }

    #[test]
    fn insert_goes_before_nis_lines_and_adds_missing_newline() {
        let mut t = passwd("root:x:0:0::/:/bin/sh\n+\n");
        t.insert("a:x:1:1::/:/bin/sh".into(), Kind::Ignored);
        assert_eq!(
            String::from_utf8(t.to_bytes()).unwrap(),
            "root:x:0:0::/:/bin/sh\na:x:1:1::/:/bin/sh\n+\n"
        );
        let mut t = passwd("root:x:0:0::/:/bin/sh");
        t.insert("a:x:1:1::/:/bin/sh".into(), Kind::Ignored);
        assert_eq!(
            String::from_utf8(t.to_bytes()).unwrap(),
            "root:x:0:0::/:/bin/sh\na:x:1:1::/:/bin/sh\n"
        );
    }

    #[test]
    fn group_members_and_subids_parse() {
        let a = Accounts::parse(
            None,
            Some(b"nixbld:x:30000:nixbld1,nixbld2\nempty:x:5:\n"),
            Some(b"alice:100000:65536\nbob:1:99999999999\n"),
            None,
        );
        let g: Vec<_> = a.group.entries().map(|(_, g)| g.members.clone()).collect();
        assert_eq!(g, vec![vec!["nixbld1", "nixbld2"], vec![]]);
        let s: Vec<_> = a
            .subuid
            .entries()
            .map(|(_, s)| (s.start, s.count))
            .collect();
        assert_eq!(s, vec![(100000, 65536)]);
        assert_eq!(a.malformed().len(), 1);
        assert!(!a.passwd.exists());
    }
}
