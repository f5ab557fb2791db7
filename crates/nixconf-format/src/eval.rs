//! Applying nix.conf files the way a given Nix version does: includes,
//! `extra-`, aliases, typed values, the experimental-feature passes, and
//! what `nix show-config` then prints.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::error::{ConfError, Location};
use crate::lex::{self, Shape};
use crate::schema::{self, Ty, NEWEST_MINOR};
use crate::typed::{self, Parsed, Val};
use crate::version::NixVersion;

/// Where nix.conf files come from.
pub trait Source {
    /// Nix's `pathExists`: whether anything (even a dangling symlink or a
    /// directory) is at `path`.
    fn exists(&self, path: &Path) -> bool;
    /// The file's bytes, or `None` when it cannot be read (a directory,
    /// no permission): Nix skips such files silently.
    fn read(&self, path: &Path) -> Option<Rc<Vec<u8>>>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct FsSource;

impl Source for FsSource {
    fn exists(&self, path: &Path) -> bool {
        path.symlink_metadata().is_ok()
    }

    fn read(&self, path: &Path) -> Option<Rc<Vec<u8>>> {
        std::fs::read(path).ok().map(Rc::new)
    }
}

/// Files held in memory, keyed by absolute path (for tests and benches).
#[derive(Clone, Debug, Default)]
pub struct MemSource {
    files: BTreeMap<PathBuf, Rc<Vec<u8>>>,
}

impl MemSource {
    /// An empty set of files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add (or replace) a file.
    pub fn insert(&mut self, path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), Rc::new(contents.into()));
    }
}

impl Source for MemSource {
    fn exists(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    fn read(&self, path: &Path) -> Option<Rc<Vec<u8>>> {
        self.files.get(path).cloned()
    }
}

/// Whether the simulated `nix` has network access.
///
/// Without it (no non-loopback interface, or `--offline`), Nix 2.3 and
/// later override four settings that the command line did not set, and
/// 2.34+ a fifth: values from `NIX_CONF_DIR/nix.conf` do not count as set
/// on the command line, so those overrides win over the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// As `nix --offline` (or a machine without network) prints.
    #[default]
    Offline,
    /// As a `nix` with network access prints.
    Online,
}

/// What to evaluate for.
#[derive(Clone, Debug)]
pub struct ShowOptions {
    /// The Nix version whose behaviour to reproduce.
    pub version: NixVersion,
    /// Offline or online `nix`.
    pub network: Network,
}

/// The settings the files set, as `nix show-config` prints them, and the
/// warnings Nix printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effective {
    /// Canonical setting name -> printed value, for every setting the
    /// files touched.
    pub settings: BTreeMap<String, String>,
    /// Warnings in the order Nix prints them (`warning: ` included).
    pub warnings: Vec<String>,
}

/// The Nix minor version (2.`minor`) the schema uses for `version`.
pub(crate) fn minor_of(version: &NixVersion) -> Result<u8, ConfError> {
    match version.triple() {
        (2, minor, _) if minor <= u32::from(NEWEST_MINOR) => {
            Ok(u8::try_from(minor).unwrap_or(NEWEST_MINOR))
        }
        _ => Err(ConfError::UnsupportedVersion(version.to_string())),
    }
}

/// Read `conf_dir/nix.conf` and what it includes from the file system, as
/// `nix show-config` run with `NIX_CONF_DIR=conf_dir` would.
pub fn show(conf_dir: &Path, options: &ShowOptions) -> Result<Effective, ConfError> {
    show_with(&FsSource, conf_dir, options)
}

/// [`show`] over any [`Source`].
pub fn show_with(
    source: &dyn Source,
    conf_dir: &Path,
    options: &ShowOptions,
) -> Result<Effective, ConfError> {
    let minor = minor_of(&options.version)?;
    let dir = typed::canon_path(&absolute(conf_dir));
    let mut top = dir.clone();
    top.extend_from_slice(b"/nix.conf");
    let mut eval = Evaluator::new(source, minor, dir);
    eval.run(top)?;
    Ok(eval.finish(options.network))
}

fn absolute(p: &Path) -> Vec<u8> {
    let bytes = p.as_os_str().as_bytes();
    if bytes.first() == Some(&b'/') {
        return bytes.to_vec();
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let mut out = cwd.as_os_str().as_bytes().to_vec();
    out.push(b'/');
    out.extend_from_slice(bytes);
    out
}

fn as_path(b: &[u8]) -> &Path {
    Path::new(std::ffi::OsStr::from_bytes(b))
}

/// The per-setting state.
#[derive(Clone, Debug, Default)]
struct Slot {
    touched: bool,
    /// The assignments since the last plain `=`; an `extra-` before any
    /// `=` appends to the default.
    vals: Vec<Val>,
}

/// What applying one `name = value` did, for `conf check`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Applied {
    Set,
    Unknown,
    Ignored,
}

/// Settings state: the part of evaluation that does not read files.
pub(crate) struct State {
    minor: u8,
    /// `slot_of[setting]` is 1 + the index of its slot in `slots`, or 0
    /// while untouched: a zeroed table is far cheaper to set up than one
    /// slot per setting, which matters for small files.
    slot_of: Vec<u16>,
    slots: Vec<(u16, Slot)>,
    unknown: BTreeSet<Vec<u8>>,
    warnings: Vec<String>,
    /// Enabled experimental features (for gated settings).
    features: BTreeSet<Vec<u8>>,
}

impl State {
    pub(crate) fn new(minor: u8) -> Self {
        State {
            minor,
            slot_of: vec![0; schema::defs().len()],
            slots: Vec::new(),
            unknown: BTreeSet::new(),
            warnings: Vec::new(),
            features: BTreeSet::new(),
        }
    }

    /// Apply `name = value`. `span` locates `value` in the loaded files
    /// when `value_is_joined` (so it can be stored without copying).
    #[inline]
    pub(crate) fn set(
        &mut self,
        name: &[u8],
        value: &[u8],
        span: Option<(u32, u32, u32)>,
    ) -> Result<Applied, String> {
        let minor = self.minor;
        let (index, append) = match schema::resolve(name, minor) {
            Some(i) => (i, false),
            None => match name.strip_prefix(b"extra-") {
                Some(base) if minor >= 4 => match schema::resolve(base, minor) {
                    Some(i) if schema::defs()[usize::from(i)].is_appendable(minor) => (i, true),
                    _ => return Ok(self.unknown(name)),
                },
                _ => return Ok(self.unknown(name)),
            },
        };
        let def = &schema::defs()[usize::from(index)];
        if let Some(feature) = def.gate(minor) {
            if !self.features.contains(feature.as_bytes()) {
                self.warnings.push(format!(
                    "warning: Ignoring setting '{}' because experimental feature '{feature}' is not enabled",
                    def.name
                ));
                return Ok(Applied::Ignored);
            }
        }
        let ty = def.ty(minor);
        let warnings = &mut self.warnings;
        let parsed = typed::parse(def, ty, value, minor, &mut |w| {
            warnings.push(format!("warning: {w}"))
        })?;
        let val = match parsed {
            Parsed::Val(v) => v,
            Parsed::Raw => match span {
                Some((file, start, end)) => Val::Span { file, start, end },
                None => Val::Owned(value.into()),
            },
        };
        if ty == Ty::XpFeatures && minor >= 16 {
            // Only gated settings (2.16+) need the enabled set as it
            // stands while the files are read.
            if !append {
                self.features.clear();
            }
            self.features.extend(
                lex::tokens(value)
                    .filter(|f| crate::xp::is_known(f, minor))
                    .map(<[u8]>::to_vec),
            );
        } else if ty == Ty::DeprecatedWarn {
            // The deprecated boolean sets its replacement.
            if let Some(lint) = schema::resolve(b"lint-short-path-literals", minor) {
                let on = matches!(val, Val::Num(1));
                let slot = self.slot(lint);
                slot.touched = true;
                slot.vals.clear();
                slot.vals
                    .push(Val::Static(if on { "warn" } else { "ignore" }));
            }
        }
        let slot = self.slot(index);
        if append {
            if !slot.touched {
                if let Some(default) = def.default_text(minor) {
                    slot.vals.push(Val::Static(default));
                }
            }
        } else {
            slot.vals.clear();
        }
        slot.vals.push(val);
        slot.touched = true;
        Ok(Applied::Set)
    }

    fn slot(&mut self, setting: u16) -> &mut Slot {
        let k = usize::from(self.slot_of[usize::from(setting)]);
        if k == 0 {
            self.slots.push((setting, Slot::default()));
            self.slot_of[usize::from(setting)] = self.slots.len() as u16;
            let last = self.slots.len() - 1;
            return &mut self.slots[last].1;
        }
        &mut self.slots[k - 1].1
    }

    /// The warnings printed so far, emptied.
    pub(crate) fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn unknown(&mut self, name: &[u8]) -> Applied {
        if !self.unknown.contains(name) {
            self.unknown.insert(name.to_vec());
        }
        Applied::Unknown
    }
}

/// One include level being read.
struct Frame {
    /// The label Nix uses for this file in messages and as the base of
    /// relative includes.
    label: Vec<u8>,
    /// The file whose bytes are read for it (differs from `label` only in
    /// 2.20 and 2.21).
    content: Vec<u8>,
}

/// A stretch of one loaded file, in the order the include tree splices
/// them (2.20+).
struct Segment {
    file: u32,
    start: usize,
    end: usize,
    first_line: usize,
}

/// A setting line's name span, value span, and whether the value span is
/// already joined (see [`Shape::Setting`]).
type Spans = ((usize, usize), (usize, usize), bool);

/// Deepest include nesting before nixconf reports a cycle that lexical
/// paths cannot show (symlinked directories).
const MAX_DEPTH: usize = 256;

struct Evaluator<'s> {
    source: &'s dyn Source,
    minor: u8,
    conf_dir: Vec<u8>,
    files: Vec<Rc<Vec<u8>>>,
    labels: Vec<Vec<u8>>,
    stack: Vec<Frame>,
    segments: Vec<Segment>,
    state: State,
}

impl<'s> Evaluator<'s> {
    fn new(source: &'s dyn Source, minor: u8, conf_dir: Vec<u8>) -> Self {
        Evaluator {
            source,
            minor,
            conf_dir,
            files: Vec::new(),
            labels: Vec::new(),
            stack: Vec::new(),
            segments: Vec::new(),
            state: State::new(minor),
        }
    }

    /// Paths as our messages print them: relative to the configuration
    /// directory when inside it, else absolute.
    fn display(&self, path: &[u8]) -> String {
        let rel = path
            .strip_prefix(self.conf_dir.as_slice())
            .and_then(|r| r.strip_prefix(b"/"))
            .filter(|r| !r.is_empty());
        String::from_utf8_lossy(rel.unwrap_or(path)).into_owned()
    }

    fn quote(&self, path: &[u8]) -> String {
        if self.minor >= 34 {
            format!("\"{}\"", self.display(path))
        } else {
            format!("'{}'", self.display(path))
        }
    }

    fn load(&mut self, path: &[u8], label: &[u8]) -> Result<Option<u32>, ConfError> {
        let Some(bytes) = self.source.read(as_path(path)) else {
            return Ok(None);
        };
        if u32::try_from(bytes.len()).is_err() {
            return Err(ConfError::TooLarge(self.display(path)));
        }
        self.files.push(bytes);
        self.labels.push(label.to_vec());
        Ok(Some((self.files.len() - 1) as u32))
    }

    fn run(&mut self, top: Vec<u8>) -> Result<(), ConfError> {
        let Some(file) = self.load(&top, &top)? else {
            return Ok(());
        };
        self.stack.push(Frame {
            label: top.clone(),
            content: top,
        });
        match self.minor {
            0..=15 => self.sequential(file),
            16..=19 => self.per_file(file),
            _ => {
                self.splice(file)?;
                self.apply_segments(true)?;
                self.apply_segments(false)
            }
        }
    }

    fn location(
        &self,
        file: u32,
        line_no: usize,
        line: &lex::RawLine,
        at: usize,
        len: usize,
    ) -> Location {
        let text = &self.files[file as usize];
        Location {
            file: self.display(&self.labels[file as usize]),
            line: line_no,
            column: at + 1,
            len: len.max(1),
            line_text: String::from_utf8_lossy(&text[line.start..line.end]).into_owned(),
        }
    }

    fn syntax_error(&self, file: u32, line_no: usize, line: &lex::RawLine, at: usize) -> ConfError {
        let text = &self.files[file as usize];
        let code = String::from_utf8_lossy(&text[line.start..line.code_end]);
        let label = self.quote(&self.labels[file as usize]);
        let message = if self.minor >= 24 {
            format!("syntax error in configuration line '{code}' in {label}")
        } else {
            format!("illegal configuration line '{code}' in {label}")
        };
        ConfError::Nix {
            message,
            location: Some(self.location(file, line_no, line, at, 1)),
        }
    }

    /// Apply one setting line; errors get the line's location.
    #[inline]
    fn apply_line(
        &mut self,
        file: u32,
        text: &[u8],
        line: &lex::RawLine,
        line_no: usize,
        (name, value, joined): Spans,
    ) -> Result<(), ConfError> {
        let base = line.start;
        let n = &text[base + name.0..base + name.1];
        let (v0, v1) = (base + value.0, base + value.1);
        let result = if joined {
            self.state
                .set(n, &text[v0..v1], Some((file, v0 as u32, v1 as u32)))
        } else {
            let v = lex::join_tokens(&text[v0..v1]);
            self.state.set(n, &v, None)
        };
        match result {
            Ok(_) => Ok(()),
            Err(message) => Err(ConfError::Nix {
                message,
                location: Some(self.location(file, line_no, line, value.0, value.1 - value.0)),
            }),
        }
    }

    /// Resolve an include line: `Ok(None)` when Nix skips it.
    fn include(
        &mut self,
        file: u32,
        line: &lex::RawLine,
        line_no: usize,
        path: (usize, usize),
        ignore_missing: bool,
    ) -> Result<Option<u32>, ConfError> {
        let text = Rc::clone(&self.files[file as usize]);
        let tok = &text[line.start + path.0..line.start + path.1];
        let frame = self
            .stack
            .last()
            .map(|f| f.label.clone())
            .unwrap_or_default();
        let target = if tok.first() == Some(&b'/') {
            typed::canon_path(tok)
        } else {
            let dir = match frame.iter().rposition(|&b| b == b'/') {
                Some(0) | None => b"/".to_vec(),
                Some(i) => frame[..i].to_vec(),
            };
            let mut joined = dir;
            joined.push(b'/');
            joined.extend_from_slice(tok);
            typed::canon_path(&joined)
        };
        let loc = || self.location(file, line_no, line, path.0, path.1 - path.0);
        if !self.source.exists(as_path(&target)) {
            if ignore_missing {
                return Ok(None);
            }
            let message = format!(
                "file {} included from {} not found",
                self.quote(&target),
                self.quote(&frame)
            );
            return Err(ConfError::Nix {
                message,
                location: Some(loc()),
            });
        }
        // 2.20 and 2.21 read the file named by the including frame's label
        // (`readFile(path)` instead of `readFile(p)`; fixed in 2.22).
        let content = if (20..=21).contains(&self.minor) {
            frame.clone()
        } else {
            target.clone()
        };
        if let Some(pos) = self
            .stack
            .iter()
            .position(|f| f.label == target && f.content == content)
        {
            let mut chain: Vec<String> = self.stack[pos..]
                .iter()
                .map(|f| self.display(&f.label))
                .collect();
            chain.push(self.display(&target));
            return Err(ConfError::IncludeCycle {
                chain,
                location: Some(loc()),
            });
        }
        if self.stack.len() >= MAX_DEPTH {
            let mut chain: Vec<String> =
                self.stack.iter().map(|f| self.display(&f.label)).collect();
            chain.push(self.display(&target));
            return Err(ConfError::IncludeCycle {
                chain,
                location: Some(loc()),
            });
        }
        let Some(child) = self.load(&content, &target)? else {
            return Ok(None);
        };
        self.stack.push(Frame {
            label: target,
            content,
        });
        Ok(Some(child))
    }

    /// ≤2.15: every line is applied as it is read; an include is applied
    /// at its position.
    fn sequential(&mut self, file: u32) -> Result<(), ConfError> {
        let text = Rc::clone(&self.files[file as usize]);
        for (i, line) in lex::lines(&text).enumerate() {
            match lex::shape(&text[line.start..line.code_end]) {
                Shape::Blank => {}
                Shape::Setting {
                    name,
                    value,
                    value_is_joined,
                } => self.apply_line(file, &text, &line, i + 1, (name, value, value_is_joined))?,
                Shape::Include {
                    ignore_missing,
                    path,
                } => {
                    if let Some(child) = self.include(file, &line, i + 1, path, ignore_missing)? {
                        self.sequential(child)?;
                        self.stack.pop();
                    }
                }
                Shape::Invalid { at, .. } => return Err(self.syntax_error(file, i + 1, &line, at)),
            }
        }
        Ok(())
    }

    /// 2.16–2.19: each file is read whole first (its includes applied while
    /// reading), then its experimental-feature lines, then the rest.
    fn per_file(&mut self, file: u32) -> Result<(), ConfError> {
        let text = Rc::clone(&self.files[file as usize]);
        for (i, line) in lex::lines(&text).enumerate() {
            match lex::shape(&text[line.start..line.code_end]) {
                Shape::Include {
                    ignore_missing,
                    path,
                } => {
                    if let Some(child) = self.include(file, &line, i + 1, path, ignore_missing)? {
                        self.per_file(child)?;
                        self.stack.pop();
                    }
                }
                Shape::Invalid { at, .. } => return Err(self.syntax_error(file, i + 1, &line, at)),
                Shape::Blank | Shape::Setting { .. } => {}
            }
        }
        for features_pass in [true, false] {
            self.apply_lines(file, 0, text.len(), 1, features_pass)?;
        }
        Ok(())
    }

    /// 2.20+: the whole include tree is read into one list of lines
    /// (syntax errors and missing includes stop it), which is then applied
    /// in two passes.
    fn splice(&mut self, file: u32) -> Result<(), ConfError> {
        let text = Rc::clone(&self.files[file as usize]);
        let mut seg_start = 0;
        let mut seg_line = 1;
        for (i, line) in lex::lines(&text).enumerate() {
            match lex::shape(&text[line.start..line.code_end]) {
                Shape::Include {
                    ignore_missing,
                    path,
                } => {
                    self.segments.push(Segment {
                        file,
                        start: seg_start,
                        end: line.start,
                        first_line: seg_line,
                    });
                    seg_start = (line.end + 1).min(text.len());
                    seg_line = i + 2;
                    if let Some(child) = self.include(file, &line, i + 1, path, ignore_missing)? {
                        self.splice(child)?;
                        self.stack.pop();
                    }
                }
                Shape::Invalid { at, .. } => return Err(self.syntax_error(file, i + 1, &line, at)),
                Shape::Blank | Shape::Setting { .. } => {}
            }
        }
        self.segments.push(Segment {
            file,
            start: seg_start,
            end: text.len(),
            first_line: seg_line,
        });
        Ok(())
    }

    fn apply_segments(&mut self, features_pass: bool) -> Result<(), ConfError> {
        for k in 0..self.segments.len() {
            let s = &self.segments[k];
            let (file, start, end, first_line) = (s.file, s.start, s.end, s.first_line);
            self.apply_lines(file, start, end, first_line, features_pass)?;
        }
        Ok(())
    }

    /// Apply the setting lines of `file[start..end]` that are (or, without
    /// `features_pass`, are not) `experimental-features` lines.
    fn apply_lines(
        &mut self,
        file: u32,
        start: usize,
        end: usize,
        first_line: usize,
        features_pass: bool,
    ) -> Result<(), ConfError> {
        let text = Rc::clone(&self.files[file as usize]);
        let part = &text[..end];
        for (i, mut line) in lex::lines(&part[start..]).enumerate() {
            line.start += start;
            line.code_end += start;
            line.end += start;
            if let Shape::Setting {
                name,
                value,
                value_is_joined,
            } = lex::shape(&text[line.start..line.code_end])
            {
                let n = &text[line.start + name.0..line.start + name.1];
                let is_feature =
                    n == b"experimental-features" || n == b"extra-experimental-features";
                if is_feature == features_pass {
                    self.apply_line(
                        file,
                        &text,
                        &line,
                        first_line + i,
                        (name, value, value_is_joined),
                    )?;
                }
            }
        }
        Ok(())
    }

    fn finish(self, network: Network) -> Effective {
        let minor = self.minor;
        let mut settings = BTreeMap::new();
        for (index, slot) in &self.state.slots {
            let def = &schema::defs()[usize::from(*index)];
            if !slot.touched {
                continue;
            }
            let ty = def.ty(minor);
            let mut value = typed::print(ty, &slot.vals, &self.files, minor);
            value = cli_override(def.name, ty, value, minor, network);
            settings.insert(def.name.to_owned(), value);
        }
        let mut warnings = self.state.warnings;
        for name in &self.state.unknown {
            warnings.push(format!(
                "warning: unknown setting '{}'",
                String::from_utf8_lossy(name)
            ));
        }
        Effective { settings, warnings }
    }
}

/// What the simulated command line `nix --extra-experimental-features
/// nix-command show-config` does to a touched setting after the files are
/// read: it adds `nix-command` (2.4+), forces `pure-eval` (2.4+), and
/// without network overrides the offline settings (2.3+).
fn cli_override(name: &str, ty: Ty, value: String, minor: u8, network: Network) -> String {
    match name {
        "experimental-features" if minor >= 4 => {
            if ty == Ty::XpFeatures {
                let mut set: BTreeSet<&str> = value.split(' ').filter(|s| !s.is_empty()).collect();
                set.insert("nix-command");
                set.into_iter().collect::<Vec<_>>().join(" ")
            } else if value.is_empty() {
                "nix-command".to_owned()
            } else {
                format!("{value} nix-command")
            }
        }
        "pure-eval" if minor >= 4 => "true".to_owned(),
        _ if network == Network::Online || minor < 3 => value,
        "substitute" => "false".to_owned(),
        "tarball-ttl" => u32::MAX.to_string(),
        "download-attempts" if minor <= 34 => "0".to_owned(),
        "filetransfer-retry-attempts" => "0".to_owned(),
        "connect-timeout" => "1".to_owned(),
        "narinfo-cache-meta-ttl" if minor >= 34 => u32::MAX.to_string(),
        _ => value,
    }
}
