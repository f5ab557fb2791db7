//! One machine as written in a machines file, and as Nix understands it.

use std::collections::BTreeSet;
use std::fmt;

use nixconf_format::NixVersion;
use serde::{Deserialize, Serialize};

use crate::rules::Rules;
use crate::uri;
use crate::Error;

/// Column 4 as written: an integer (every generation) or a float (read
/// only by Nix ≥ 2.20).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SpeedFactor {
    /// An integer, as Nix < 2.20 stores it (after `stoull` truncation in
    /// 2.0–2.3).
    Int(u32),
    /// A float, as Nix ≥ 2.20 reads it.
    Float(f32),
}

impl SpeedFactor {
    /// The value as a float.
    pub fn as_f32(self) -> f32 {
        match self {
            SpeedFactor::Int(i) => i as f32,
            SpeedFactor::Float(f) => f,
        }
    }

    /// Whether this is a float with a fractional part (which Nix < 2.20
    /// cannot read).
    pub fn is_fractional(self) -> bool {
        matches!(self, SpeedFactor::Float(f) if f.fract() != 0.0 && f.is_finite())
    }
}

impl fmt::Display for SpeedFactor {
    /// The shortest text that reads back as the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpeedFactor::Int(i) => write!(f, "{i}"),
            SpeedFactor::Float(x) => write!(f, "{x}"),
        }
    }
}

/// The number of columns Nix reads (0 to 7); later ones are ignored.
pub(crate) const NIX_COLUMNS: usize = 8;

/// One machine line as written: every column in its spelling (order,
/// duplicates and empty list items kept), with the numbers already read
/// the way the target Nix reads them.
///
/// The line is stored compactly (one string with column offsets), so that
/// parsing a large file costs one allocation per machine. Read columns
/// with the accessors; build a machine from typed values with
/// [`MachineSpec`].
#[derive(Clone, PartialEq)]
pub struct Machine {
    /// The columns joined by single spaces.
    text: String,
    /// End offset (in `text`) of each of the first eight columns.
    ends: [u32; NIX_COLUMNS],
    /// How many columns were written.
    ncols: u32,
    max_jobs: Option<u32>,
    speed_factor: Option<SpeedFactor>,
    /// Read by `build-remote.pl` (Nix 1.x): an empty column is unset and
    /// `-` is an ordinary value.
    perl: bool,
}

impl fmt::Debug for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machine")
            .field("text", &self.text)
            .field("max_jobs", &self.max_jobs)
            .field("speed_factor", &self.speed_factor)
            .field("perl", &self.perl)
            .finish()
    }
}

/// Collects a machine's columns while a line is tokenised.
pub(crate) struct MachineBuilder {
    text: String,
    ends: [u32; NIX_COLUMNS],
    ncols: u32,
}

impl MachineBuilder {
    pub fn with_capacity(n: usize) -> Self {
        MachineBuilder {
            text: String::with_capacity(n),
            ends: [0; NIX_COLUMNS],
            ncols: 0,
        }
    }

    pub fn push(&mut self, token: &str) {
        if self.ncols > 0 {
            self.text.push(' ');
        }
        self.text.push_str(token);
        if let Some(end) = self.ends.get_mut(self.ncols as usize) {
            *end = self.text.len() as u32;
        }
        self.ncols += 1;
    }

    /// A builder holding `line` as it is, when its columns are already
    /// separated by single spaces (no tab, no CR, nothing at either end).
    pub fn from_canonical(line: &str) -> Self {
        let mut b = MachineBuilder {
            text: line.to_owned(),
            ends: [0; NIX_COLUMNS],
            ncols: 0,
        };
        for sep in memchr::memchr_iter(b' ', line.as_bytes()) {
            if let Some(end) = b.ends.get_mut(b.ncols as usize) {
                *end = sep as u32;
            }
            b.ncols += 1;
        }
        if let Some(end) = b.ends.get_mut(b.ncols as usize) {
            *end = line.len() as u32;
        }
        b.ncols += 1;
        b
    }

    pub fn len(&self) -> usize {
        self.ncols as usize
    }

    pub fn column(&self, i: usize) -> Option<&str> {
        column_of(&self.text, &self.ends, self.ncols, i)
    }

    pub fn finish(
        self,
        max_jobs: Option<u32>,
        speed_factor: Option<SpeedFactor>,
        perl: bool,
    ) -> Machine {
        Machine {
            text: self.text,
            ends: self.ends,
            ncols: self.ncols,
            max_jobs,
            speed_factor,
            perl,
        }
    }
}

fn column_of<'a>(
    text: &'a str,
    ends: &[u32; NIX_COLUMNS],
    ncols: u32,
    i: usize,
) -> Option<&'a str> {
    if i >= ncols as usize {
        return None;
    }
    if i < NIX_COLUMNS {
        let start = if i == 0 { 0 } else { ends[i - 1] as usize + 1 };
        return text.get(start..ends[i] as usize);
    }
    let rest = text.get(ends[NIX_COLUMNS - 1] as usize + 1..)?;
    rest.split(' ').nth(i - NIX_COLUMNS)
}

impl Machine {
    /// Column `i` exactly as written (`-` included), if the line has it.
    pub fn column(&self, i: usize) -> Option<&str> {
        column_of(&self.text, &self.ends, self.ncols, i)
    }

    /// Column `i` unless it is absent or the empty-column placeholder.
    fn set_column(&self, i: usize) -> Option<&str> {
        self.column(i).filter(|c| *c != self.placeholder())
    }

    fn placeholder(&self) -> &'static str {
        if self.perl {
            ""
        } else {
            "-"
        }
    }

    fn list(&self, i: usize) -> Vec<&str> {
        self.set_column(i)
            .map(|c| c.split(',').collect())
            .unwrap_or_default()
    }

    /// Column 0, the store URI as written (not normalised; see
    /// [`Machine::nix_view`]).
    pub fn store_uri(&self) -> &str {
        self.column(0).unwrap_or("")
    }

    /// Column 1 as written, split at commas (empty items kept); empty when
    /// the column is absent or `-`.
    pub fn systems(&self) -> Vec<&str> {
        self.list(1)
    }

    /// Column 2: the SSH identity file.
    pub fn ssh_key(&self) -> Option<&str> {
        self.set_column(2)
    }

    /// Column 3 as the target Nix read it.
    pub fn max_jobs(&self) -> Option<u32> {
        self.max_jobs
    }

    /// Column 4 as the target Nix read it (before 2.20's `max(1, x)`).
    pub fn speed_factor(&self) -> Option<SpeedFactor> {
        self.speed_factor
    }

    /// Column 5 as written, split at commas.
    pub fn supported_features(&self) -> Vec<&str> {
        self.list(5)
    }

    /// Column 6 as written, split at commas.
    pub fn mandatory_features(&self) -> Vec<&str> {
        self.list(6)
    }

    /// Column 7: the base64 public host key, undecoded.
    pub fn public_host_key(&self) -> Option<&str> {
        self.set_column(7)
    }

    /// Columns after the eighth, which Nix ignores.
    pub fn extra_columns(&self) -> Vec<&str> {
        (NIX_COLUMNS..self.ncols as usize)
            .filter_map(|i| self.column(i))
            .collect()
    }

    /// How many columns the line has.
    pub fn columns(&self) -> usize {
        self.ncols as usize
    }

    /// Whether this machine was read with `build-remote.pl`'s rules.
    pub fn is_perl(&self) -> bool {
        self.perl
    }

    /// The typed, owned description of this machine.
    pub fn to_spec(&self) -> MachineSpec {
        let owned = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect();
        MachineSpec {
            store_uri: self.store_uri().to_owned(),
            systems: owned(self.systems()),
            ssh_key: self.ssh_key().map(str::to_owned),
            max_jobs: self.max_jobs,
            speed_factor: self.speed_factor,
            supported_features: owned(self.supported_features()),
            mandatory_features: owned(self.mandatory_features()),
            public_host_key: self.public_host_key().map(str::to_owned),
            extra_columns: owned(self.extra_columns()),
            columns: Some(self.columns()),
        }
    }

    /// The columns joined by single spaces, as the target writes them: `-`
    /// for an empty column from Nix 2.0, an empty field for Nix 1.x.
    pub(crate) fn line_for(&self, rules: &Rules) -> String {
        if self.perl == rules.perl {
            return self.text.clone();
        }
        let (from, to) = (self.placeholder(), rules.placeholder());
        let mut out = String::with_capacity(self.text.len() + 8);
        for i in 0..self.ncols as usize {
            if i > 0 {
                out.push(' ');
            }
            let c = self.column(i).unwrap_or("");
            out.push_str(if c == from { to } else { c });
        }
        out
    }

    /// The line for `build-remote.pl` (Nix 1.x) of a machine read for Nix
    /// 2: `ssh://` dropped (the Perl hook passes column 0 to ssh), empty
    /// fields instead of `-`, at most the seven columns Nix 1.x reads.
    pub(crate) fn legacy_line(&self) -> Result<String, String> {
        let uri = self.store_uri();
        let host = match uri.split_once("://") {
            None => uri,
            Some(("ssh", rest)) => rest,
            Some((scheme, _)) => {
                return Err(format!(
                    "build-remote.pl (Nix 1.x) only reaches machines over ssh, not {scheme}://"
                ))
            }
        };
        if self.public_host_key().is_some() || !self.extra_columns().is_empty() {
            return Err(
                "Nix 1.x reads seven columns: remove the host key and extra columns".into(),
            );
        }
        let mut out = String::with_capacity(self.text.len());
        out.push_str(host);
        for i in 1..self.columns().min(7) {
            out.push(' ');
            out.push_str(self.set_column(i).unwrap_or(""));
        }
        Ok(out)
    }

    /// What the target Nix makes of this machine: the normalised store
    /// URI, the defaults filled in (`local_system` for a missing system
    /// list), lists turned into sets where Nix uses sets.
    ///
    /// ```
    /// use nixconf_machines::parse;
    /// let v = "2.8.0".parse().unwrap();
    /// let file = parse("nix@b x86_64-linux,i686-linux - 2 0 kvm\n", "machines", &v).unwrap();
    /// let m = file.machines().next().unwrap().nix_view(&v, "x86_64-linux");
    /// assert_eq!(m.store_uri, "ssh://nix@b");
    /// assert_eq!(m.speed_factor, 1.0);
    /// assert_eq!(m.max_jobs, 2);
    /// ```
    pub fn nix_view(&self, version: &NixVersion, local_system: &str) -> NixMachine {
        let rules = Rules::for_version(version);
        let set = |i: usize| -> BTreeSet<String> {
            self.list(i)
                .into_iter()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        if self.perl {
            // build-remote.pl: Perl's split drops trailing empty items;
            // an unset maxJobs is int(undef) = 0; mandatory features are
            // appended to the supported ones.
            let mut systems: Vec<String> = self.systems().into_iter().map(str::to_owned).collect();
            while systems.last().is_some_and(String::is_empty) {
                systems.pop();
            }
            let mut supported = set(5);
            supported.extend(set(6));
            let speed = match (self.speed_factor, self.column(4)) {
                (Some(s), _) => s.as_f32(),
                (None, Some(_)) => 0.0,
                (None, None) => 1.0,
            };
            return NixMachine {
                store_uri: self.store_uri().to_owned(),
                systems,
                ssh_key: self.ssh_key().unwrap_or("").to_owned(),
                max_jobs: self.max_jobs.unwrap_or(0),
                speed_factor: speed,
                supported_features: supported,
                mandatory_features: set(6),
                public_host_key: String::new(),
            };
        }
        let mut systems: Vec<String> = if self.set_column(1).is_some() {
            self.systems()
                .into_iter()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        } else {
            vec![local_system.to_owned()]
        };
        if rules.float_speed {
            systems.sort();
            systems.dedup();
        }
        let speed_factor = match self.speed_factor {
            None => 1.0,
            Some(SpeedFactor::Int(i)) if !rules.float_speed => i.max(1) as f32,
            Some(s) => {
                let f = s.as_f32();
                if f == 0.0 {
                    1.0
                } else {
                    f
                }
            }
        };
        NixMachine {
            store_uri: uri::normalise(self.store_uri(), version),
            systems,
            ssh_key: self.ssh_key().unwrap_or("").to_owned(),
            max_jobs: self.max_jobs.unwrap_or(1),
            speed_factor,
            supported_features: set(5),
            mandatory_features: set(6),
            public_host_key: self.public_host_key().unwrap_or("").to_owned(),
        }
    }
}

impl Serialize for Machine {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_spec().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Machine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        MachineSpec::deserialize(d)?
            .build()
            .map_err(serde::de::Error::custom)
    }
}

/// A machine as the target Nix understands it (its `Machine` struct).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NixMachine {
    /// The store URI after normalisation (`nix@h` becomes `ssh://nix@h`).
    pub store_uri: String,
    /// The systems: a list (duplicates kept) before 2.20, a sorted set
    /// from 2.20.
    pub systems: Vec<String>,
    /// The SSH identity file, or empty.
    pub ssh_key: String,
    /// Build slots (1 when unset from Nix 2.0; 0 when unset in 1.x).
    pub max_jobs: u32,
    /// The speed factor after Nix's adjustments (0 becomes 1).
    pub speed_factor: f32,
    /// Supported features (for 1.x, with the mandatory ones added).
    pub supported_features: BTreeSet<String>,
    /// Mandatory features.
    pub mandatory_features: BTreeSet<String>,
    /// The base64 host key, or empty.
    pub public_host_key: String,
}

/// A machine as typed values: what [`Machine::to_spec`] gives and what
/// `nixconf machines parse --json` prints. `None` and empty lists are
/// written as `-`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MachineSpec {
    /// Column 0, as written (not normalised).
    pub store_uri: String,
    /// Column 1, one item per comma-separated part.
    #[serde(default)]
    pub systems: Vec<String>,
    /// Column 2.
    #[serde(default)]
    pub ssh_key: Option<String>,
    /// Column 3.
    #[serde(default)]
    pub max_jobs: Option<u32>,
    /// Column 4.
    #[serde(default)]
    pub speed_factor: Option<SpeedFactor>,
    /// Column 5.
    #[serde(default)]
    pub supported_features: Vec<String>,
    /// Column 6.
    #[serde(default)]
    pub mandatory_features: Vec<String>,
    /// Column 7.
    #[serde(default)]
    pub public_host_key: Option<String>,
    /// Columns 8 and later (Nix ignores them).
    #[serde(default)]
    pub extra_columns: Vec<String>,
    /// How many columns to write; unset columns up to here are written as
    /// `-`. `None`: as few as hold every set value.
    #[serde(default)]
    pub columns: Option<usize>,
}

impl MachineSpec {
    /// A machine with only a store URI.
    pub fn new(store_uri: impl Into<String>) -> Self {
        MachineSpec {
            store_uri: store_uri.into(),
            ..MachineSpec::default()
        }
    }

    /// Check that every value can be written as one column and build the
    /// machine (in the `-` convention of Nix 2.x; rendering for Nix 1.x
    /// writes empty fields instead).
    ///
    /// ```
    /// use nixconf_machines::MachineSpec;
    /// let mut s = MachineSpec::new("nix@builder");
    /// s.systems = vec!["aarch64-linux".into()];
    /// s.max_jobs = Some(4);
    /// s.columns = Some(8);
    /// let m = s.build().unwrap();
    /// assert_eq!(m.column(3), Some("4"));
    /// assert_eq!(m.columns(), 8);
    /// ```
    pub fn build(&self) -> Result<Machine, Error> {
        let bad = |col: usize, reason: String| Error::Render {
            what: format!("column #{col}"),
            reason,
        };
        let mut cols: Vec<Option<String>> = vec![None; NIX_COLUMNS];
        check_column_writable(&self.store_uri).map_err(|r| bad(0, format!("store URI {r}")))?;
        cols[0] = Some(self.store_uri.clone());
        let list = |col: usize, items: &[String]| -> Result<Option<String>, Error> {
            if items.is_empty() {
                return Ok(None);
            }
            if let Some(i) = items.iter().find(|i| i.contains(',')) {
                return Err(bad(
                    col,
                    format!("item '{i}' contains a comma; give each item on its own"),
                ));
            }
            let joined = items.join(",");
            check_optional_column_writable(&joined).map_err(|r| bad(col, r))?;
            Ok(Some(joined))
        };
        cols[1] = list(1, &self.systems)?;
        if let Some(k) = &self.ssh_key {
            check_optional_column_writable(k).map_err(|r| bad(2, r))?;
            cols[2] = Some(k.clone());
        }
        cols[3] = self.max_jobs.map(|n| n.to_string());
        cols[4] = self.speed_factor.map(|s| s.to_string());
        cols[5] = list(5, &self.supported_features)?;
        cols[6] = list(6, &self.mandatory_features)?;
        if let Some(k) = &self.public_host_key {
            check_optional_column_writable(k).map_err(|r| bad(7, r))?;
            cols[7] = Some(k.clone());
        }
        for (i, e) in self.extra_columns.iter().enumerate() {
            check_column_writable(e).map_err(|r| bad(NIX_COLUMNS + i, r))?;
        }
        let needed = if self.extra_columns.is_empty() {
            cols.iter().rposition(Option::is_some).map_or(1, |i| i + 1)
        } else {
            NIX_COLUMNS + self.extra_columns.len()
        };
        let ncols = match self.columns {
            Some(n) if !self.extra_columns.is_empty() && n != needed => {
                return Err(Error::Render {
                    what: "columns".into(),
                    reason: format!("{n} columns, but the extra columns make {needed}"),
                })
            }
            Some(n) if n < needed => {
                return Err(Error::Render {
                    what: "columns".into(),
                    reason: format!("{n} columns cannot hold the values set, which need {needed}"),
                })
            }
            Some(n) if n > NIX_COLUMNS => {
                return Err(Error::Render {
                    what: "columns".into(),
                    reason: format!("{n} columns: beyond {NIX_COLUMNS}, give extraColumns"),
                })
            }
            Some(n) => n,
            None => needed,
        };
        let mut b = MachineBuilder::with_capacity(64);
        for c in cols.iter().take(ncols) {
            b.push(c.as_deref().unwrap_or("-"));
        }
        for e in &self.extra_columns {
            b.push(e);
        }
        Ok(b.finish(self.max_jobs, self.speed_factor, false))
    }
}

/// Why a value cannot be one column, if it cannot.
fn check_column_writable(t: &str) -> Result<(), String> {
    if t.is_empty() {
        return Err("is empty; a column cannot be empty".into());
    }
    if let Some(c) = t
        .chars()
        .find(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '#' | ';'))
    {
        return Err(format!(
            "'{t}' contains {:?}, which would end the column or the entry",
            c
        ));
    }
    Ok(())
}

fn check_optional_column_writable(t: &str) -> Result<(), String> {
    check_column_writable(t)?;
    if t == "-" {
        return Err("'-' reads as an empty column; leave the value unset instead".into());
    }
    Ok(())
}
