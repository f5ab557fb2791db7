//! Reading `/etc/passwd`, `/etc/group`, `/etc/subuid` and `/etc/subgid`
//! without losing a byte: every line is kept as it was, so a rewrite
//! changes only the lines it means to.

use std::fmt;
use std::path::Path;

use nixconf_diagnostic::{Diagnostic, Span};
use serde::{Deserialize, Serialize};

use crate::Error;

/// A line that is not a valid entry. It is reported, kept unchanged on
/// rewrite, and whatever name or id it seems to hold counts as taken.
///
/// The report names the line but does not quote it: an old passwd line
/// may hold a password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Malformed {
    /// Where the line is (the whole line, never quoted).
    #[serde(with = "crate::location")]
    pub location: Span,
    /// What is wrong with it.
    pub reason: String,
}

impl Malformed {
    /// The report as a warning at the line (which it does not quote).
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::warning(format!("malformed line (kept unchanged): {}", self.reason))
            .with_span(self.location.clone())
    }
}

impl fmt::Display for Malformed {
    /// `etc/passwd:2: malformed line (kept unchanged): REASON`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_diagnostic().fmt(f)
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

/// What one line of an account file is. Entries are parsed in full only
/// when asked for ([`Table::entries`]); the planner's hot loops read just
/// the name and id, which keeps a 100,000-line passwd fast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A valid entry: its name is the first `name_len` bytes of the line.
    Entry { name_len: usize, id: u32 },
    /// Blank or `#` comment: ignored by the C library, kept.
    Ignored,
    /// NIS compat `+`/`-` line: its accounts are not in the file.
    Nis,
    /// Not an entry: kept, reported, and its apparent name and id count as
    /// taken.
    Malformed {
        reason: String,
        name_len: Option<usize>,
        id: Option<u32>,
    },
}

/// A line's bytes, terminator included: a span of the file as read, or
/// text an edit wrote.
#[derive(Debug, Clone)]
enum Text {
    Orig(usize, usize),
    New(Vec<u8>),
}

#[derive(Debug, Clone)]
pub(crate) struct Line {
    text: Text,
    pub kind: Kind,
}

/// The entry types of the account files.
pub trait Record: Sized {
    /// The entry's id when a line's `:`-separated fields (`n` of them;
    /// only the first 9 are in `f`) make a valid entry, else why not.
    #[doc(hidden)]
    fn entry_id(f: &[&str], n: usize) -> Result<u32, String>;
    /// Build the entry from the `n` fields `entry_id` accepted.
    #[doc(hidden)]
    fn build(f: &[&str], n: usize) -> Self;
    /// Which field holds the id, for malformed lines.
    #[doc(hidden)]
    const ID_FIELD: usize;
}

fn expect_fields(n: usize, want: usize) -> Result<(), String> {
    if n == want {
        Ok(())
    } else {
        Err(format!("expected {want} `:`-separated fields, found {n}"))
    }
}

fn parse_id(what: &str, s: &str) -> Result<u32, String> {
    // `-2` is how macOS writes nobody's uid: the C library reads ids with
    // strtoul, which wraps a negative number around.
    if let Some(magnitude) = s.strip_prefix('-') {
        return parse_id(what, magnitude)
            .ok()
            .filter(|m| (1..=1 << 31).contains(m))
            .map(u32::wrapping_neg)
            .ok_or_else(|| format!("{what} `{s}` is not a number"));
    }
    // By hand: this runs twice per line of a passwd that may have 100,000.
    let mut n: u32 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return Err(format!("{what} `{s}` is not a number"));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u32::from(b - b'0')))
            .ok_or_else(|| format!("{what} `{s}` is larger than {}", u32::MAX))?;
    }
    if s.is_empty() {
        return Err(format!("{what} `{s}` is not a number"));
    }
    Ok(n)
}

impl Record for PasswdEntry {
    const ID_FIELD: usize = 2;
    fn entry_id(f: &[&str], n: usize) -> Result<u32, String> {
        expect_fields(n, 7)?;
        parse_id("gid", f[3])?;
        parse_id("uid", f[2])
    }
    fn build(f: &[&str], _n: usize) -> Self {
        PasswdEntry {
            name: f[0].to_owned(),
            password: f[1].to_owned(),
            uid: parse_id("uid", f[2]).unwrap_or_default(),
            gid: parse_id("gid", f[3]).unwrap_or_default(),
            gecos: f[4].to_owned(),
            home: f[5].to_owned(),
            shell: f[6].to_owned(),
        }
    }
}

impl Record for GroupEntry {
    const ID_FIELD: usize = 2;
    fn entry_id(f: &[&str], n: usize) -> Result<u32, String> {
        expect_fields(n, 4)?;
        parse_id("gid", f[2])
    }
    fn build(f: &[&str], _n: usize) -> Self {
        GroupEntry {
            name: f[0].to_owned(),
            password: f[1].to_owned(),
            gid: parse_id("gid", f[2]).unwrap_or_default(),
            members: if f[3].is_empty() {
                Vec::new()
            } else {
                f[3].split(',').map(str::to_owned).collect()
            },
        }
    }
}

impl Record for SubIdEntry {
    const ID_FIELD: usize = 1;
    fn entry_id(f: &[&str], n: usize) -> Result<u32, String> {
        expect_fields(n, 3)?;
        parse_id("count", f[2])?;
        parse_id("start", f[1])
    }
    fn build(f: &[&str], _n: usize) -> Self {
        SubIdEntry {
            owner: f[0].to_owned(),
            start: f[1].parse().unwrap_or_default(),
            count: f[2].parse().unwrap_or_default(),
        }
    }
}

/// A line of `etc/shadow` or `etc/gshadow`, as its fields (at most 9).
impl Record for Vec<String> {
    const ID_FIELD: usize = usize::MAX;
    fn entry_id(_: &[&str], n: usize) -> Result<u32, String> {
        if (2..=MAX_FIELDS).contains(&n) {
            Ok(0)
        } else {
            Err(format!(
                "expected 2 to {MAX_FIELDS} `:`-separated fields, found {n}"
            ))
        }
    }
    fn build(f: &[&str], n: usize) -> Self {
        f.iter().take(n).map(|s| (*s).to_owned()).collect()
    }
}

/// A parsed account file that remembers every byte.
#[derive(Debug, Clone)]
pub struct Table<T> {
    pub(crate) file: String,
    pub(crate) exists: bool,
    buf: Vec<u8>,
    pub(crate) lines: Vec<Line>,
    _entry: std::marker::PhantomData<T>,
}

/// A line's content: without its `\n` and a `\r` before it (a CRLF file
/// still parses; the terminator is kept on rewrite).
fn content(raw: &[u8]) -> &[u8] {
    let c = raw.strip_suffix(b"\n").unwrap_or(raw);
    c.strip_suffix(b"\r").unwrap_or(c)
}

const MAX_FIELDS: usize = 9;

/// The first `MAX_FIELDS` `:`-separated fields of `text`, and how many
/// fields it has in all.
fn split_fields(text: &str) -> ([&str; MAX_FIELDS], usize) {
    let mut f = [""; MAX_FIELDS];
    let mut n = 0;
    let mut start = 0;
    for end in memchr::memchr_iter(b':', text.as_bytes()).chain([text.len()]) {
        if let Some(slot) = f.get_mut(n) {
            *slot = text.get(start..end).unwrap_or_default();
        }
        n += 1;
        start = end + 1;
    }
    (f, n)
}

// line := blank | '#' comment | ('+' | '-') nis | field (':' field)*
fn classify<T: Record>(text: &[u8]) -> Kind {
    let Ok(text) = std::str::from_utf8(text) else {
        return Kind::Malformed {
            reason: "not valid UTF-8".to_owned(),
            name_len: None,
            id: None,
        };
    };
    if text.starts_with('#') || text.trim().is_empty() {
        return Kind::Ignored;
    }
    if text.starts_with('+') || text.starts_with('-') {
        return Kind::Nis;
    }
    let (f, n) = split_fields(text);
    let malformed = |reason: String| Kind::Malformed {
        reason,
        name_len: (!f[0].is_empty()).then_some(f[0].len()),
        id: f.get(T::ID_FIELD).and_then(|s| s.parse().ok()),
    };
    if text.starts_with('\u{feff}') {
        return malformed("starts with a byte-order mark".to_owned());
    }
    match T::entry_id(&f, n) {
        Err(reason) => malformed(reason),
        Ok(_) if f[0].is_empty() => malformed("empty name".to_owned()),
        Ok(id) => Kind::Entry {
            name_len: f[0].len(),
            id,
        },
    }
}

impl<T: Record> Table<T> {
    pub(crate) fn parse(file: &str, bytes: Option<&[u8]>) -> Table<T> {
        Table::from_vec(file, bytes.map(<[u8]>::to_vec))
    }

    /// Parse, taking the bytes (no copy of a large file).
    pub(crate) fn from_vec(file: &str, bytes: Option<Vec<u8>>) -> Table<T> {
        let exists = bytes.is_some();
        let buf = bytes.unwrap_or_default();
        let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', &buf).count() + 1);
        let mut start = 0;
        while start < buf.len() {
            let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |i| start + i + 1);
            lines.push(Line {
                text: Text::Orig(start, end),
                kind: classify::<T>(content(&buf[start..end])),
            });
            start = end;
        }
        Table {
            file: file.to_owned(),
            exists,
            buf,
            lines,
            _entry: std::marker::PhantomData,
        }
    }

    /// Line `i`'s bytes, terminator included.
    fn raw(&self, i: usize) -> &[u8] {
        match self.lines.get(i).map(|l| &l.text) {
            Some(Text::Orig(s, e)) => self.buf.get(*s..*e).unwrap_or_default(),
            Some(Text::New(v)) => v,
            None => &[],
        }
    }

    /// Line `i`'s text, without its terminator.
    pub(crate) fn text(&self, i: usize) -> &[u8] {
        content(self.raw(i))
    }

    /// The entry on 0-based line `i`, parsed in full.
    pub(crate) fn entry(&self, i: usize) -> Option<T> {
        if !matches!(self.lines.get(i)?.kind, Kind::Entry { .. }) {
            return None;
        }
        let text = std::str::from_utf8(content(self.raw(i))).ok()?;
        let (f, n) = split_fields(text);
        Some(T::build(&f, n.min(MAX_FIELDS)))
    }

    /// The name and id on 0-based line `i` (an entry or a malformed line
    /// that seems to hold them), and whether it is a valid entry.
    pub(crate) fn holder(&self, i: usize) -> Option<(Option<&str>, Option<u32>, bool)> {
        let (name_len, id, valid) = match &self.lines.get(i)?.kind {
            Kind::Entry { name_len, id } => (Some(*name_len), Some(*id), true),
            Kind::Malformed { name_len, id, .. } => (*name_len, *id, false),
            _ => return None,
        };
        let name = name_len
            .and_then(|n| content(self.raw(i)).get(..n))
            .and_then(|b| std::str::from_utf8(b).ok());
        Some((name, id, valid))
    }

    /// The first valid entry named `name`, with its 0-based line.
    pub(crate) fn find(&self, name: &str) -> Option<(usize, T)> {
        let i = (0..self.lines.len())
            .find(|&i| matches!(self.holder(i), Some((Some(n), _, true)) if n == name))?;
        Some((i, self.entry(i)?))
    }

    /// The file, relative to the root.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Whether the file exists (a missing file reads as empty).
    pub fn exists(&self) -> bool {
        self.exists
    }

    /// The entries with their 1-based line numbers, in file order.
    pub fn entries(&self) -> impl Iterator<Item = (usize, T)> + '_ {
        (0..self.lines.len()).filter_map(|i| Some((i + 1, self.entry(i)?)))
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

    /// 1-based `line` of the file, as a span that does not quote it.
    pub(crate) fn location(&self, line: usize) -> Span {
        Span::line(self.file.clone(), line)
    }

    /// The file's bytes, rebuilt from its lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buf.len());
        for i in 0..self.lines.len() {
            out.extend_from_slice(self.raw(i));
        }
        out
    }

    /// Add an entry line (`text` without terminator) the way the shadow
    /// tools do: before the first NIS line, else at the end, adding a
    /// missing final newline.
    pub(crate) fn insert(&mut self, text: String) {
        let at = self
            .lines
            .iter()
            .position(|l| matches!(l.kind, Kind::Nis))
            .unwrap_or(self.lines.len());
        if at == self.lines.len() && at > 0 {
            let last = at - 1;
            if !self.raw(last).ends_with(b"\n") {
                let mut v = self.raw(last).to_vec();
                v.push(b'\n');
                if let Some(l) = self.lines.get_mut(last) {
                    l.text = Text::New(v);
                }
            }
        }
        let kind = classify::<T>(text.as_bytes());
        let mut raw = text.into_bytes();
        raw.push(b'\n');
        self.lines.insert(
            at,
            Line {
                text: Text::New(raw),
                kind,
            },
        );
        self.exists = true;
    }

    /// The valid entries, first of each name only (as `getpwnam` sees
    /// them): 0-based line, name, and text without terminator.
    pub(crate) fn first_entries(&self) -> Vec<(usize, &str, &[u8])> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for i in 0..self.lines.len() {
            if let Some((Some(name), _, true)) = self.holder(i) {
                if seen.insert(name) {
                    out.push((i, name, self.text(i)));
                }
            }
        }
        out
    }

    /// Whether 0-based line `i` is the last and has no newline.
    pub(crate) fn is_unterminated(&self, i: usize) -> bool {
        i + 1 == self.lines.len() && !self.raw(i).ends_with(b"\n")
    }

    /// Put an entry line (`text` without terminator) back at 0-based
    /// `index` (at the end when the file is shorter now), without a
    /// newline when `unterminated` and it goes at the end.
    pub(crate) fn insert_at(&mut self, index: usize, text: String, unterminated: bool) {
        let at = index.min(self.lines.len());
        if at == self.lines.len() && at > 0 {
            let last = at - 1;
            if !self.raw(last).ends_with(b"\n") {
                let mut v = self.raw(last).to_vec();
                v.push(b'\n');
                if let Some(l) = self.lines.get_mut(last) {
                    l.text = Text::New(v);
                }
            }
        }
        let kind = classify::<T>(text.as_bytes());
        let mut raw = text.into_bytes();
        if !(unterminated && at == self.lines.len()) {
            raw.push(b'\n');
        }
        self.lines.insert(
            at,
            Line {
                text: Text::New(raw),
                kind,
            },
        );
        self.exists = true;
    }

    /// Remove the lines at these 0-based indices, in one pass.
    pub(crate) fn remove_lines(&mut self, drop: &std::collections::HashSet<usize>) {
        if drop.is_empty() {
            return;
        }
        let mut i = 0;
        self.lines.retain(|_| {
            let keep = !drop.contains(&i);
            i += 1;
            keep
        });
    }

    /// Replace the line at 0-based `index`, keeping its terminator.
    pub(crate) fn replace(&mut self, index: usize, text: String) {
        let old = self.raw(index);
        let terminator: &[u8] = if old.ends_with(b"\r\n") {
            b"\r\n"
        } else if old.ends_with(b"\n") {
            b"\n"
        } else {
            b""
        };
        let kind = classify::<T>(text.as_bytes());
        let mut raw = text.into_bytes();
        raw.extend_from_slice(terminator);
        if let Some(line) = self.lines.get_mut(index) {
            line.text = Text::New(raw);
            line.kind = kind;
        }
    }
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

/// The account files an apply may change, in the order the shadow tools
/// lock them; each is backed up as `FILE-` when it changes.
pub(crate) const ACCOUNT_FILES: [&str; 6] = [
    "etc/passwd",
    "etc/shadow",
    "etc/group",
    "etc/gshadow",
    "etc/subuid",
    "etc/subgid",
];

/// The account files, relative to the root, that planning reads.
pub(crate) const INPUT_FILES: [&str; 4] = ["etc/passwd", "etc/group", "etc/subuid", "etc/subgid"];

impl Accounts {
    /// Read the account files under `root`. A missing file reads as an
    /// empty one; an unreadable one is an error.
    pub fn read(root: &Path) -> Result<Accounts, Error> {
        let [passwd, group, subuid, subgid] = INPUT_FILES.map(|f| read_optional(&root.join(f)));
        Ok(Accounts::from_vecs([passwd?, group?, subuid?, subgid?]))
    }

    /// Parse the files of [`INPUT_FILES`], in that order, taking the bytes.
    pub(crate) fn from_vecs(files: [Option<Vec<u8>>; 4]) -> Accounts {
        let [passwd, group, subuid, subgid] = files;
        Accounts {
            passwd: Table::from_vec("etc/passwd", passwd),
            group: Table::from_vec("etc/group", group),
            subuid: Table::from_vec("etc/subuid", subuid),
            subgid: Table::from_vec("etc/subgid", subgid),
        }
    }

    /// Parse the files' contents (`None`: the file does not exist).
    pub fn parse(
        passwd: Option<&[u8]>,
        group: Option<&[u8]>,
        subuid: Option<&[u8]>,
        subgid: Option<&[u8]>,
    ) -> Accounts {
        Accounts {
            passwd: Table::parse("etc/passwd", passwd),
            group: Table::parse("etc/group", group),
            subuid: Table::parse("etc/subuid", subuid),
            subgid: Table::parse("etc/subgid", subgid),
        }
    }

    /// The group named `name` and the accounts in it, as members or by
    /// their primary gid, in passwd order (an existing build-user pool,
    /// as `import` and `lint` read it).
    pub fn group_with_accounts(&self, name: &str) -> Option<(GroupEntry, Vec<PasswdEntry>)> {
        let group = self
            .group
            .entries()
            .map(|(_, g)| g)
            .find(|g| g.name == name)?;
        let users = self
            .passwd
            .entries()
            .map(|(_, u)| u)
            .filter(|u| u.gid == group.gid || group.members.contains(&u.name))
            .collect();
        Some((group, users))
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
        let e: Vec<_> = t.entries().map(|(n, e)| (n, e.name)).collect();
        assert_eq!(e, vec![(3, "root".to_owned())]);
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
        t.insert("a:x:1:1::/:/bin/sh".into());
        assert_eq!(
            String::from_utf8(t.to_bytes()).unwrap(),
            "root:x:0:0::/:/bin/sh\na:x:1:1::/:/bin/sh\n+\n"
        );
        let mut t = passwd("root:x:0:0::/:/bin/sh");
        t.insert("a:x:1:1::/:/bin/sh".into());
        assert_eq!(
            String::from_utf8(t.to_bytes()).unwrap(),
            "root:x:0:0::/:/bin/sh\na:x:1:1::/:/bin/sh\n"
        );
    }

    #[test]
    fn negative_ids_wrap_as_the_c_library_reads_them() {
        let t = passwd(
            "nobody:*:-2:-2:Unprivileged User:/var/empty:/usr/bin/false\nx:*:--1:0::/:/bin/sh\n",
        );
        let e: Vec<_> = t.entries().map(|(_, e)| (e.uid, e.gid)).collect();
        assert_eq!(e, vec![(4294967294, 4294967294)]);
        assert_eq!(t.malformed().count(), 1);
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
