//! Applying nix.conf files the way a given Nix version does: includes,
//! `extra-`, aliases, typed values, the experimental-feature passes, and
//! what `nix show-config` then prints.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::error::{ConfError, Location};
use crate::lex::{self, Shape};
use crate::schema::{self, Entry, IntKind, Quick, Ty, NEWEST_MINOR};
use crate::trace::TraceStep;
use crate::typed::{self, Parsed, Val};
use crate::version::NixVersion;
use crate::xp;

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
    Ok(apply_with(source, conf_dir, options)?.to_effective())
}

/// Read `conf_dir/nix.conf` and what it includes from the file system and
/// apply them as the target Nix does; values are printed on request (see
/// [`Settings`]).
pub fn apply(conf_dir: &Path, options: &ShowOptions) -> Result<Settings, ConfError> {
    apply_with(&FsSource, conf_dir, options)
}

/// [`apply`] over any [`Source`].
pub fn apply_with(
    source: &dyn Source,
    conf_dir: &Path,
    options: &ShowOptions,
) -> Result<Settings, ConfError> {
    evaluate(source, conf_dir, options, Mode::Fast)
}

/// How to evaluate 2.16+, where experimental-feature lines apply first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One pass, falling back to [`Mode::Reference`] where it cannot
    /// tell what Nix does (errors, includes in 2.16–2.19).
    Fast,
    /// The passes as Nix makes them: the statement of the semantics that
    /// the fast pass is tested against (the fast pass uses them itself
    /// only as its fallback).
    #[cfg(test)]
    Reference,
    /// [`Mode::Fast`], splitting every file of two lines or more (see
    /// [`Evaluator::split_points`]).
    #[cfg(test)]
    FastSplit,
    /// Nix's passes, recording every line that touches one setting (see
    /// [`crate::trace`]).
    Trace,
}

fn evaluate(
    source: &dyn Source,
    conf_dir: &Path,
    options: &ShowOptions,
    mode: Mode,
) -> Result<Settings, ConfError> {
    evaluate_tracing(source, conf_dir, options, mode, None).map(|(settings, _)| settings)
}

/// [`evaluate`], recording the lines that touch setting `traced`.
pub(crate) fn evaluate_tracing(
    source: &dyn Source,
    conf_dir: &Path,
    options: &ShowOptions,
    mode: Mode,
    traced: Option<u16>,
) -> Result<(Settings, Vec<TraceStep>), ConfError> {
    let minor = minor_of(&options.version)?;
    let mut dir = conf_dir_bytes(conf_dir);
    let mut top = Vec::with_capacity(dir.len() + 9);
    top.extend_from_slice(&dir);
    top.extend_from_slice(b"/nix.conf");
    if !is_reference(mode) || minor <= 15 {
        let mut eval = Evaluator::new(source, minor, dir);
        eval.split_min = split_min(mode);
        eval.traced = traced;
        if eval.run_fast(&top)? {
            let steps = std::mem::take(&mut eval.steps);
            return Ok((eval.finish(options.network), steps));
        }
        dir = eval.conf_dir;
    }
    let mut eval = Evaluator::new(source, minor, dir);
    eval.split_min = split_min(mode);
    eval.traced = traced;
    eval.run_reference(top)?;
    let steps = std::mem::take(&mut eval.steps);
    Ok((eval.finish(options.network), steps))
}

fn is_reference(mode: Mode) -> bool {
    #[cfg(test)]
    if mode == Mode::Reference {
        return true;
    }
    mode == Mode::Trace
}

/// Files at least this large are applied in pieces on two threads at
/// once (see [`Evaluator::split_points`]).
const SPLIT_MIN: usize = 1 << 20;

/// How many pieces (see [`Evaluator::split_points`]).
const PIECES: usize = 8;

fn split_min(mode: Mode) -> usize {
    match mode {
        Mode::Fast => SPLIT_MIN,
        #[cfg(test)]
        Mode::Reference => usize::MAX,
        #[cfg(test)]
        Mode::FastSplit => 0,
        Mode::Trace => usize::MAX,
    }
}

/// `conf_dir` absolute and lexically canonical, copied once when it
/// already is.
fn conf_dir_bytes(conf_dir: &Path) -> Vec<u8> {
    let bytes = conf_dir.as_os_str().as_bytes();
    if typed::is_canon_path(bytes) {
        return bytes.to_vec();
    }
    typed::canon_path(&absolute(conf_dir))
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

/// The values assigned to one setting since its last plain `=` (an
/// `extra-` before any `=` appends to the default), oldest first. The
/// first is kept inline: most settings are only ever assigned with `=`,
/// and applying those allocates nothing.
#[derive(Clone, Debug)]
struct Slot {
    setting: u16,
    first: Val,
    more: Vec<Val>,
    /// Whether a plain `=` set it (rather than only `extra-` lines): in
    /// a [`State::delta`], the difference between replacing and
    /// appending to what the lines before did.
    based: bool,
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
    version: &'static schema::Version,
    /// `slot_of[setting]` is 1 + the index of its slot in `slots`, or 0
    /// while untouched: a zeroed table is far cheaper to set up than one
    /// slot per setting, which matters for small files.
    slot_of: Vec<u8>,
    slots: Vec<Slot>,
    unknown: BTreeSet<Vec<u8>>,
    /// Warnings with the order key of the line that printed them.
    warnings: Vec<(u64, String)>,
    /// The order key of the line being applied (see [`Evaluator::one_pass`]).
    order: u64,
    /// Enabled experimental features, as [`xp::bit`]s (for gated
    /// settings).
    features: u32,
    /// Whether a plain `experimental-features =` reset `features`.
    features_reset: bool,
    /// The state of the second half of a file applied on its own (see
    /// [`Evaluator::split_points`]): `extra-` on a setting it has not set
    /// keeps only the appended values, for [`State::merge`] to append.
    delta: bool,
}

impl State {
    pub(crate) fn new(minor: u8) -> Self {
        Self::for_version(schema::version(minor))
    }

    fn for_version(version: &'static schema::Version) -> Self {
        State {
            version,
            slot_of: vec![0; schema::defs().len()],
            slots: Vec::with_capacity(32),
            unknown: BTreeSet::new(),
            warnings: Vec::new(),
            order: 0,
            features: 0,
            features_reset: false,
            delta: false,
        }
    }

    /// Add what `d` (the delta of the lines after those applied to
    /// `self`) did, as if its lines had been applied to `self`; its order
    /// keys move up by `offset` lines.
    fn merge(&mut self, d: State, offset: u32) {
        for slot in d.slots {
            if slot.based {
                let (s, _) = self.slot(slot.setting);
                s.first = slot.first;
                s.more = slot.more;
                s.based = true;
            } else {
                for val in slot.more {
                    self.store(slot.setting, true, val);
                }
            }
        }
        self.unknown.extend(d.unknown);
        let offset = u64::from(offset);
        self.warnings
            .extend(d.warnings.into_iter().map(|(key, w)| (key + offset, w)));
        if d.features_reset {
            self.features = d.features;
            self.features_reset = true;
        } else {
            self.features |= d.features;
        }
    }

    /// Apply `name = value`. `span` locates `value` in the loaded files
    /// when `value_is_joined` (so it can be stored without copying).
    #[inline]
    pub(crate) fn set(
        &mut self,
        name: &[u8],
        value: &[u8],
        span: Option<FileSpan>,
    ) -> Result<Applied, String> {
        match self.version.entry(name, 0, name.len()) {
            Some(entry) => self.apply(entry, value, span),
            None => Ok(self.unknown(name)),
        }
    }

    /// Whether `setting` is gated by an experimental feature in this
    /// version.
    #[inline]
    fn is_gated(&self, setting: u16) -> bool {
        self.info(setting).gate.is_some()
    }

    #[inline]
    fn info(&self, setting: u16) -> &'static schema::Info {
        &self.version.infos[usize::from(setting)]
    }

    /// Apply a value to `entry`'s setting (appending for `extra-`).
    #[inline(always)]
    fn apply(
        &mut self,
        entry: Entry,
        value: &[u8],
        span: Option<FileSpan>,
    ) -> Result<Applied, String> {
        // Most lines are a plain `=` of an ungated boolean, number or
        // string that is valid as written: store it without the general
        // machinery (which gives the same result, more slowly).
        if let Some(val) = quick_val(entry.quick, value, span) {
            self.store(entry.setting, entry.append, val);
            return Ok(Applied::Set);
        }
        self.apply_general(entry.setting, entry.append, value, span)
    }

    /// [`State::quick_line`] for `experimental-features`: every feature
    /// known (else the general way warns).
    #[inline(never)]
    fn quick_features(&mut self, entry: Entry, value: &[u8], span: FileSpan) -> bool {
        let minor = self.version.minor;
        let mut bits = 0;
        // The value is joined: its tokens are separated by one space.
        for f in value.split(|&b| b == b' ') {
            match xp::bit(f, minor) {
                Some(bit) => bits |= bit,
                None => return false,
            }
        }
        if minor >= 16 {
            // As `apply_general` does: gated settings read the enabled
            // set as it stands.
            if !entry.append {
                self.features = 0;
                self.features_reset = true;
            }
            self.features |= bits;
        }
        let (file, start, end) = span;
        self.store(entry.setting, entry.append, Val::Span { file, start, end });
        true
    }

    /// Assign `val` to `setting`, or append it (`extra-`: to the default
    /// when the files have not set the setting yet).
    #[inline(always)]
    fn store(&mut self, setting: u16, append: bool, val: Val) {
        let default = self.info(setting).default;
        let delta = self.delta;
        let (slot, fresh) = self.slot(setting);
        if !append {
            slot.first = val;
            slot.more.clear();
            slot.based = true;
        } else if !fresh || delta {
            slot.more.push(val);
        } else if let Some(default) = default {
            slot.first = Val::Static(default);
            slot.more.push(val);
        } else {
            slot.first = val;
        }
    }

    /// Apply a setting line the quick way (see [`quick_val`]): `false`,
    /// having changed nothing, when the general way must decide.
    #[inline(always)]
    fn quick_line(&mut self, file: u32, text: &[u8], line: &lex::RawLine, spans: Spans) -> bool {
        let (name, value, joined) = spans;
        if !joined {
            return false;
        }
        let Some(entry) = self
            .version
            .entry(text, line.start + name.0, line.start + name.1)
        else {
            return false;
        };
        let (v0, v1) = (line.start + value.0, line.start + value.1);
        let Some(v) = text.get(v0..v1) else {
            return false;
        };
        // `load` refuses files whose offsets do not fit in 32 bits.
        let span = (file, v0 as u32, v1 as u32);
        // One dispatch on the shortcut (it mispredicts as often as the
        // settings vary from line to line).
        let quick = match entry.quick {
            Quick::Span => Some(Val::Span {
                file,
                start: span.1,
                end: span.2,
            }),
            // Digits read straight from the file (whole words).
            Quick::Int(kind) => typed::parse_plain_digits_at(text, v0, v1, kind).map(Val::Num),
            Quick::MaxJobs => {
                typed::parse_plain_digits_at(text, v0, v1, IntKind::U32).map(Val::Num)
            }
            Quick::Features => return self.quick_features(entry, v, span),
            q => quick_val(q, v, Some(span)),
        };
        match quick {
            Some(val) => {
                self.store(entry.setting, entry.append, val);
                true
            }
            None => false,
        }
    }

    /// [`State::apply`] for any setting and value.
    #[inline(never)]
    fn apply_general(
        &mut self,
        setting: u16,
        append: bool,
        value: &[u8],
        span: Option<FileSpan>,
    ) -> Result<Applied, String> {
        let minor = self.version.minor;
        let info = self.info(setting);
        let def = &schema::defs()[usize::from(setting)];
        if let Some((feature, bit)) = info.gate {
            if bit.map_or(true, |b| self.features & b == 0) {
                self.warnings.push((
                    self.order,
                    format!(
                        "warning: Ignoring setting '{}' because experimental feature '{feature}' is not enabled",
                        def.name
                    ),
                ));
                return Ok(Applied::Ignored);
            }
        }
        let ty = info.ty;
        let (warnings, order) = (&mut self.warnings, self.order);
        let parsed = typed::parse(def, ty, value, minor, &mut |w| {
            warnings.push((order, format!("warning: {w}")))
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
                self.features = 0;
                self.features_reset = true;
            }
            for f in lex::tokens(value) {
                self.features |= xp::bit(f, minor).unwrap_or(0);
            }
        } else if ty == Ty::DeprecatedWarn {
            // The deprecated boolean sets its replacement.
            if let Some(lint) = self.version.resolve(b"lint-short-path-literals") {
                let on = matches!(val, Val::Num(1));
                self.store(lint, false, Val::Static(if on { "warn" } else { "ignore" }));
            }
        }
        self.store(setting, append, val);
        Ok(Applied::Set)
    }

    /// The slot of `setting`, and whether it was just created.
    #[inline(always)]
    fn slot(&mut self, setting: u16) -> (&mut Slot, bool) {
        let i = usize::from(setting);
        let k = usize::from(self.slot_of[i]);
        if k == 0 || k > self.slots.len() {
            return (self.new_slot(setting), true);
        }
        (&mut self.slots[k - 1], false)
    }

    #[cold]
    #[inline(never)]
    fn new_slot(&mut self, setting: u16) -> &mut Slot {
        self.slots.push(Slot {
            setting,
            first: Val::Unset,
            more: Vec::new(),
            based: false,
        });
        // At most one slot per setting, fewer than 255 settings.
        self.slot_of[usize::from(setting)] = self.slots.len() as u8;
        let last = self.slots.len() - 1;
        &mut self.slots[last]
    }

    /// The warnings printed so far, emptied.
    pub(crate) fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
            .into_iter()
            .map(|(_, w)| w)
            .collect()
    }

    fn unknown(&mut self, name: &[u8]) -> Applied {
        if !self.unknown.contains(name) {
            self.unknown.insert(name.to_vec());
        }
        Applied::Unknown
    }
}

/// The value [`Quick`] stores for a valid `value`; `None` when the
/// general way must decide. `span` locates `value` when it is already
/// joined.
#[inline(always)]
fn quick_val(quick: Quick, value: &[u8], span: Option<FileSpan>) -> Option<Val> {
    let as_span = |(file, start, end): FileSpan| Val::Span { file, start, end };
    match quick {
        Quick::General => None,
        Quick::Bool => match value {
            b"true" | b"yes" | b"1" => Some(Val::Num(1)),
            b"false" | b"no" | b"0" => Some(Val::Num(0)),
            _ => None,
        },
        Quick::Int(kind) => typed::parse_plain_digits(value, kind).map(Val::Num),
        Quick::MaxJobs => typed::parse_plain_digits(value, IntKind::U32).map(Val::Num),
        Quick::Sandbox => match value {
            b"true" | b"false" | b"relaxed" => span.map(as_span),
            _ => None,
        },
        Quick::Span => span.map(as_span),
        // Needs the state: see `State::quick_line`.
        Quick::Features => None,
    }
}

/// One include level being read.
struct Frame {
    /// The label Nix uses for this file in messages and as the base of
    /// relative includes.
    label: Rc<[u8]>,
    /// The file whose bytes are read for it (differs from `label` only in
    /// 2.20 and 2.21).
    content: Rc<[u8]>,
}

/// A stretch of one loaded file, in the order the include tree splices
/// them (2.20+).
struct Segment {
    file: u32,
    start: usize,
    end: usize,
    first_line: usize,
}

/// `(file, start, end)`: a stretch of a loaded file.
pub(crate) type FileSpan = (u32, u32, u32);

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
    labels: Vec<Rc<[u8]>>,
    stack: Vec<Frame>,
    segments: Vec<Segment>,
    state: State,
    /// Lines seen by the one-pass evaluation, across files, in Nix's
    /// (spliced) order.
    ordinal: u32,
    /// Gated setting lines the one pass applies after all others were
    /// read (see [`Evaluator::one_pass`]).
    deferred: Vec<Deferred>,
    /// See [`Evaluator::split_points`].
    split_min: usize,
    /// The setting whose lines are recorded in `steps` ([`Mode::Trace`]).
    traced: Option<u16>,
    steps: Vec<TraceStep>,
}

/// A gated setting line left for after the one pass.
struct Deferred {
    file: u32,
    line: lex::RawLine,
    entry: Entry,
    spans: Spans,
    order: u64,
}

/// The order key of a warning printed by a non-feature line: after every
/// feature line's (which use the bare ordinal).
const SECOND_PASS: u64 = 1 << 32;

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
            ordinal: 0,
            deferred: Vec::new(),
            split_min: SPLIT_MIN,
            traced: None,
            steps: Vec::new(),
        }
    }

    /// Record a setting line if it touches the traced setting.
    fn record(
        &mut self,
        file: u32,
        text: &[u8],
        line: &lex::RawLine,
        line_no: usize,
        spans: Spans,
    ) {
        let Some(traced) = self.traced else {
            return;
        };
        let (name, value, _) = spans;
        let written = &text[line.start + name.0..line.start + name.1];
        let (base, appends) = match written.strip_prefix(b"extra-") {
            Some(base) if self.minor >= 4 && schema::resolve(written, self.minor).is_none() => {
                (base, true)
            }
            _ => (written, false),
        };
        if schema::resolve(base, self.minor) != Some(traced) {
            return;
        }
        let canonical = schema::defs()[usize::from(traced)].name;
        self.steps.push(TraceStep {
            location: self.location(file, line_no, line, name.0, name.1 - name.0),
            written_name: String::from_utf8_lossy(written).into_owned(),
            value: String::from_utf8_lossy(&lex::join_tokens(
                &text[line.start + value.0..line.start + value.1],
            ))
            .into_owned(),
            appends,
            alias: base != canonical.as_bytes(),
        });
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

    fn load(&mut self, path: &[u8], label: &Rc<[u8]>) -> Result<Option<u32>, ConfError> {
        let Some(bytes) = self.source.read(as_path(path)) else {
            return Ok(None);
        };
        if u32::try_from(bytes.len()).is_err() {
            return Err(ConfError::TooLarge(self.display(path)));
        }
        self.files.push(bytes);
        self.labels.push(Rc::clone(label));
        Ok(Some((self.files.len() - 1) as u32))
    }

    /// Load the top file, pushing its frame; `None` when it cannot be
    /// read (Nix then reads nothing).
    fn load_top(&mut self, top: &[u8]) -> Result<Option<u32>, ConfError> {
        // One copy of the path serves as label, content and file label.
        let top: Rc<[u8]> = Rc::from(top);
        let Some(file) = self.load(&top, &top)? else {
            return Ok(None);
        };
        self.stack.push(Frame {
            label: Rc::clone(&top),
            content: top,
        });
        Ok(Some(file))
    }

    /// Evaluate in one pass over the lines. `Ok(false)`: the one pass
    /// gave up (2.16+ only) and the state is to be thrown away.
    fn run_fast(&mut self, top: &[u8]) -> Result<bool, ConfError> {
        let Some(file) = self.load_top(top)? else {
            return Ok(true);
        };
        if self.minor <= 15 {
            self.sequential(file)?;
            return Ok(true);
        }
        if !self.one_pass(file) {
            return Ok(false);
        }
        for d in std::mem::take(&mut self.deferred) {
            self.state.order = d.order;
            let text = Rc::clone(&self.files[d.file as usize]);
            let (value, span) = value_of(d.file, &text, &d.line, d.spans);
            if self.state.apply(d.entry, &value, span).is_err() {
                return Ok(false);
            }
        }
        // Feature lines' warnings first, then the others', each group in
        // line order (the sort is stable).
        self.state.warnings.sort_by_key(|&(order, _)| order);
        Ok(true)
    }

    /// Evaluate with the passes Nix makes.
    fn run_reference(&mut self, top: Vec<u8>) -> Result<(), ConfError> {
        let Some(file) = self.load_top(&top)? else {
            return Ok(());
        };
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

    /// Apply one setting line the plain way (for Nix's passes); errors
    /// get the line's location.
    fn apply_line(
        &mut self,
        file: u32,
        text: &[u8],
        line: &lex::RawLine,
        line_no: usize,
        spans: Spans,
    ) -> Result<(), ConfError> {
        self.record(file, text, line, line_no, spans);
        let (name, _, _) = spans;
        let n = &text[line.start + name.0..line.start + name.1];
        let (v, span) = value_of(file, text, line, spans);
        match self.state.set(n, &v, span) {
            Ok(_) => Ok(()),
            Err(message) => Err(self.value_error(file, line, line_no, spans, message)),
        }
    }

    /// The error for a refused value, at the value.
    #[cold]
    fn value_error(
        &self,
        file: u32,
        line: &lex::RawLine,
        line_no: usize,
        (_, value, _): Spans,
        message: String,
    ) -> ConfError {
        ConfError::Nix {
            message,
            location: Some(self.location(file, line_no, line, value.0, value.1 - value.0)),
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
        let frame: Rc<[u8]> = self
            .stack
            .last()
            .map_or_else(|| Rc::from(&b""[..]), |f| Rc::clone(&f.label));
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
        let target: Rc<[u8]> = Rc::from(target);
        let content = if (20..=21).contains(&self.minor) {
            Rc::clone(&frame)
        } else {
            Rc::clone(&target)
        };
        if let Some(pos) = self
            .stack
            .iter()
            .position(|f| *f.label == *target && *f.content == *content)
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

    /// Where to split a file into pieces applied at once: the starts of
    /// the pieces and the end of the file, for files of at least
    /// `split_min` bytes (and `None` for smaller ones).
    ///
    /// This thread applies the pieces from the first on, another thread
    /// from the last back, each piece taken by whichever thread gets to
    /// it first (so a busy machine costs no waiting); the other thread
    /// applies each of its pieces into a [`State::delta`] of its own
    /// (see [`delta_pass`]), merged in order afterwards: the result is
    /// the one of applying the lines in order. A piece that needs more
    /// than its own lines (an include, an error, a syntax error) is
    /// applied again here, in order.
    fn split_points(&self, text: &[u8]) -> Option<Vec<usize>> {
        if text.len() < self.split_min.max(2) {
            return None;
        }
        let mut points = vec![0];
        for k in 1..PIECES {
            let at = (text.len() * k / PIECES).max(points.last().copied().unwrap_or(0));
            let Some(nl) = memchr::memchr(b'\n', &text[at..]) else {
                break;
            };
            let start = at + nl + 1;
            if start >= text.len() {
                break;
            }
            if Some(&start) != points.last() {
                points.push(start);
            }
        }
        points.push(text.len());
        (points.len() > 2).then_some(points)
    }

    /// Apply the pieces of `text` between `points` (see
    /// [`Evaluator::split_points`]); `run` applies the lines of its
    /// prefix argument from an offset, numbered from a line number, here,
    /// and returns how many there were.
    fn split<E>(
        &mut self,
        file: u32,
        text: &[u8],
        points: &[usize],
        one_pass: bool,
        mut run: impl FnMut(&mut Self, &[u8], usize, usize) -> Result<usize, E>,
    ) -> Result<(), E> {
        use std::sync::atomic::{AtomicU8, Ordering};
        const FREE: u8 = 0;
        const HERE: u8 = 1;
        const THERE: u8 = 2;
        let pieces = points.len() - 1;
        let claims: Vec<AtomicU8> = (0..pieces).map(|_| AtomicU8::new(FREE)).collect();
        let version = self.state.version;
        std::thread::scope(|scope| {
            let claims = &claims;
            // Without a second thread (the system refuses one), this
            // thread applies every piece.
            let worker = std::thread::Builder::new().spawn_scoped(scope, move || {
                let mut done = Vec::new();
                for k in (1..pieces).rev() {
                    let claim = claims[k].compare_exchange(
                        FREE,
                        THERE,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    if claim.is_err() {
                        break;
                    }
                    let piece = &text[..points[k + 1]];
                    done.push((k, delta_pass(version, file, piece, points[k], one_pass)));
                }
                done
            });
            // Tests split every file: let the other thread take its
            // first piece, so that merges happen however busy the
            // machine is.
            #[cfg(test)]
            while self.split_min == 0
                && worker.is_ok()
                && claims[pieces - 1].load(Ordering::Acquire) == FREE
            {
                std::thread::yield_now();
            }
            let mut line = 1;
            let mut k = 0;
            while k < pieces {
                let claim =
                    claims[k].compare_exchange(FREE, HERE, Ordering::AcqRel, Ordering::Acquire);
                if claim.is_err() {
                    break;
                }
                line += run(self, &text[..points[k + 1]], points[k], line)?;
                k += 1;
            }
            // The other thread's pieces, `k..`, in order. A panic there
            // only costs the time: the pieces are applied here instead.
            let mut done = worker
                .ok()
                .and_then(|worker| worker.join().ok())
                .unwrap_or_default();
            done.sort_unstable_by_key(|&(piece, _)| piece);
            let mut done = done.into_iter().peekable();
            while k < pieces {
                match done.next_if(|&(piece, _)| piece == k) {
                    Some((_, Some(delta))) => {
                        line += delta.lines as usize;
                        self.merge(delta);
                    }
                    _ => line += run(self, &text[..points[k + 1]], points[k], line)?,
                }
                k += 1;
            }
            Ok(())
        })
    }

    /// Take in a piece's delta.
    fn merge(&mut self, delta: Delta) {
        #[cfg(test)]
        tests::MERGES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let offset = self.ordinal;
        self.state.merge(delta.state, offset);
        self.deferred
            .extend(delta.deferred.into_iter().map(|d| Deferred {
                order: d.order + u64::from(offset),
                ..d
            }));
        self.ordinal = self.ordinal.wrapping_add(delta.lines);
    }

    /// ≤2.15: every line is applied as it is read; an include is applied
    /// at its position.
    fn sequential(&mut self, file: u32) -> Result<(), ConfError> {
        let text = Rc::clone(&self.files[file as usize]);
        match self.split_points(&text) {
            None => self.sequential_lines(file, &text, 0, 1).map(|_| ()),
            Some(points) => self.split(file, &text, &points, false, |eval, piece, start, line| {
                eval.sequential_lines(file, piece, start, line)
            }),
        }
    }

    /// [`Evaluator::sequential`] for the lines of `text` (a prefix of
    /// `file`) from `start`, the first numbered `first_line`; the number
    /// of lines.
    fn sequential_lines(
        &mut self,
        file: u32,
        text: &[u8],
        start: usize,
        first_line: usize,
    ) -> Result<usize, ConfError> {
        let mut count = 0;
        for (line, shape) in lex::scan_from(text, start) {
            let line_no = first_line + count;
            count += 1;
            match shape {
                Shape::Blank => {}
                Shape::Setting {
                    name,
                    value,
                    value_is_joined,
                } => {
                    let spans = (name, value, value_is_joined);
                    self.record(file, text, &line, line_no, spans);
                    if let Err(message) =
                        setting_line(&mut self.state, None, file, text, line, spans, 0)
                    {
                        return Err(self.value_error(file, &line, line_no, spans, message));
                    }
                }
                Shape::Include {
                    ignore_missing,
                    path,
                } => {
                    if let Some(child) = self.include(file, &line, line_no, path, ignore_missing)? {
                        self.sequential(child)?;
                        self.stack.pop();
                    }
                }
                Shape::Invalid { at, .. } => {
                    return Err(self.syntax_error(file, line_no, &line, at))
                }
            }
        }
        Ok(count)
    }

    /// 2.16+ in one pass over the lines (across includes in 2.20+, in
    /// Nix's spliced order), where Nix makes two: `experimental-features`
    /// lines first, then the others.
    ///
    /// Only gated settings depend on the enabled features, and only the
    /// feature lines change them; so feature lines and ungated settings
    /// are applied as met, gated settings are kept for after the pass,
    /// and each warning carries an order key (its line's ordinal, after
    /// all feature lines for the others) that sorts the warnings into
    /// Nix's order. `false`: the pass gave up, where it cannot tell what
    /// Nix does: on any error (Nix may stop at an earlier problem of a
    /// pass that has not happened yet) and on includes in 2.16–2.19
    /// (which apply each file's passes in turn).
    fn one_pass(&mut self, file: u32) -> bool {
        let text = Rc::clone(&self.files[file as usize]);
        let Some(points) = self.split_points(&text) else {
            return self.one_pass_lines(file, &text, 0);
        };
        self.split(file, &text, &points, true, |eval, piece, start, _| {
            let before = eval.ordinal;
            match eval.one_pass_lines(file, piece, start) {
                true => Ok(eval.ordinal.wrapping_sub(before) as usize),
                false => Err(()),
            }
        })
        .is_ok()
    }

    /// [`Evaluator::one_pass`] for the lines of `text` (a prefix of
    /// `file`) from `start`.
    fn one_pass_lines(&mut self, file: u32, text: &[u8], start: usize) -> bool {
        for (line, shape) in lex::scan_from(text, start) {
            self.ordinal = self.ordinal.wrapping_add(1);
            match shape {
                Shape::Blank => {}
                Shape::Setting {
                    name,
                    value,
                    value_is_joined,
                } => {
                    let spans = (name, value, value_is_joined);
                    let deferred = Some(&mut self.deferred);
                    if setting_line(
                        &mut self.state,
                        deferred,
                        file,
                        text,
                        line,
                        spans,
                        self.ordinal,
                    )
                    .is_err()
                    {
                        return false;
                    }
                }
                Shape::Include {
                    ignore_missing,
                    path,
                } => {
                    if self.minor < 20 {
                        return false;
                    }
                    match self.include(file, &line, 0, path, ignore_missing) {
                        Ok(Some(child)) => {
                            if !self.one_pass(child) {
                                return false;
                            }
                            self.stack.pop();
                        }
                        Ok(None) => {}
                        Err(_) => return false,
                    }
                }
                Shape::Invalid { .. } => return false,
            }
        }
        true
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

    fn finish(self, network: Network) -> Settings {
        Settings {
            version: self.state.version,
            network,
            files: self.files,
            slot_of: self.state.slot_of,
            slots: self.state.slots,
            unknown: self.state.unknown,
            warnings: self.state.warnings.into_iter().map(|(_, w)| w).collect(),
        }
    }
}

/// Apply one setting line as [`Evaluator::sequential`] does, or (with
/// `deferred`, where gated settings wait) as [`Evaluator::one_pass`]
/// does for the line numbered `ordinal`; `Err` with Nix's message when
/// the value is refused.
#[inline(always)]
fn setting_line(
    state: &mut State,
    deferred: Option<&mut Vec<Deferred>>,
    file: u32,
    text: &[u8],
    line: lex::RawLine,
    spans: Spans,
    ordinal: u32,
) -> Result<(), String> {
    // Gated settings never take the quick way (their shortcut is
    // `Quick::General`); feature lines that do print no warning, so their
    // order key is moot.
    if state.quick_line(file, text, &line, spans) {
        return Ok(());
    }
    let (name, _, _) = spans;
    let (n0, n1) = (line.start + name.0, line.start + name.1);
    let n = &text[n0..n1];
    let Some(entry) = state.version.entry(text, n0, n1) else {
        state.unknown(n);
        return Ok(());
    };
    if let Some(deferred) = deferred {
        let is_feature = n == b"experimental-features" || n == b"extra-experimental-features";
        let order = if is_feature {
            u64::from(ordinal)
        } else {
            SECOND_PASS | u64::from(ordinal)
        };
        if !is_feature && state.is_gated(entry.setting) {
            deferred.push(Deferred {
                file,
                line,
                entry,
                spans,
                order,
            });
            return Ok(());
        }
        state.order = order;
    }
    let (v, span) = value_of(file, text, &line, spans);
    state.apply(entry, &v, span).map(|_| ())
}

/// What the second half of a split file did (see
/// [`Evaluator::split_points`]).
struct Delta {
    state: State,
    deferred: Vec<Deferred>,
    /// How many lines it has.
    lines: u32,
}

/// Apply `text[mid..]` (lines of `file`) on a state of its own, as the
/// one pass (`one_pass`) or the sequential pass does; `None` at anything
/// that needs more than these lines: an include, a refused value, a
/// syntax error.
fn delta_pass(
    version: &'static schema::Version,
    file: u32,
    text: &[u8],
    mid: usize,
    one_pass: bool,
) -> Option<Delta> {
    let mut state = State::for_version(version);
    state.delta = true;
    let mut deferred = Vec::new();
    let mut lines = 0u32;
    for (line, shape) in lex::scan_from(text, mid) {
        lines = lines.wrapping_add(1);
        match shape {
            Shape::Blank => {}
            Shape::Setting {
                name,
                value,
                value_is_joined,
            } => {
                let spans = (name, value, value_is_joined);
                let wait = one_pass.then_some(&mut deferred);
                setting_line(&mut state, wait, file, text, line, spans, lines).ok()?;
            }
            Shape::Include { .. } | Shape::Invalid { .. } => return None,
        }
    }
    Some(Delta {
        state,
        deferred,
        lines,
    })
}

/// A setting line's value as Nix builds it (the tokens joined by single
/// spaces), and its span in the loaded files when it is one.
#[inline]
fn value_of<'t>(
    file: u32,
    text: &'t [u8],
    line: &lex::RawLine,
    (_, value, joined): Spans,
) -> (Cow<'t, [u8]>, Option<FileSpan>) {
    let (v0, v1) = (line.start + value.0, line.start + value.1);
    if joined {
        // `load` refuses files whose offsets do not fit in 32 bits.
        let span = (file, v0 as u32, v1 as u32);
        (Cow::Borrowed(&text[v0..v1]), Some(span))
    } else {
        (Cow::Owned(lex::join_tokens(&text[v0..v1])), None)
    }
}

/// The settings that nix.conf files set, applied as the target Nix
/// applies them (includes, `extra-`, aliases, typed values, the
/// experimental-feature passes): the settings map, with values kept as
/// spans of the loaded files and printed the way `nix show-config`
/// prints them only when asked for.
///
/// ```
/// use nixconf_format::{apply_with, MemSource, Network, ShowOptions};
/// let mut files = MemSource::new();
/// files.insert("/etc/nix/nix.conf", "build-cores = 4\nextra-trusted-users = alice\n");
/// let options = ShowOptions { version: "2.8.0".parse().unwrap(), network: Network::Offline };
/// let settings = apply_with(&files, "/etc/nix".as_ref(), &options).unwrap();
/// assert_eq!(settings.names().collect::<Vec<_>>(), ["cores", "trusted-users"]);
/// assert_eq!(settings.get("trusted-users").as_deref(), Some("root alice"));
/// assert_eq!(settings.get("max-jobs"), None);
/// ```
#[derive(Debug)]
pub struct Settings {
    version: &'static schema::Version,
    network: Network,
    files: Vec<Rc<Vec<u8>>>,
    /// As [`State`] has them: walking `slot_of` in setting order (which
    /// is the names' order) visits the slots sorted, with no sort.
    slot_of: Vec<u8>,
    slots: Vec<Slot>,
    unknown: BTreeSet<Vec<u8>>,
    warnings: Vec<String>,
}

impl Settings {
    /// How many settings the files set.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the files set nothing.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slots, sorted by setting.
    fn sorted(&self) -> impl Iterator<Item = &Slot> + '_ {
        self.slot_of
            .iter()
            .filter_map(|&k| usize::from(k).checked_sub(1))
            .filter_map(|k| self.slots.get(k))
    }

    /// The canonical names of the settings the files set, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.sorted()
            .map(|slot| schema::defs()[usize::from(slot.setting)].name)
    }

    /// The value of the setting with canonical name `name` as `nix
    /// show-config` prints it, if the files set it.
    pub fn get(&self, name: &str) -> Option<String> {
        let setting = self.version.resolve(name.as_bytes())?;
        let k = usize::from(*self.slot_of.get(usize::from(setting))?).checked_sub(1)?;
        let slot = self.slots.get(k)?;
        (schema::defs()[usize::from(setting)].name == name).then(|| self.print(slot))
    }

    /// Every setting the files set, with its printed value, sorted by
    /// name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        self.sorted().map(|slot| {
            let def = &schema::defs()[usize::from(slot.setting)];
            (def.name, self.print(slot))
        })
    }

    /// The warnings Nix printed, in its order (`warning: ` included).
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        let unknown = self.unknown.iter().map(|name| {
            format!(
                "warning: unknown setting '{}'",
                String::from_utf8_lossy(name)
            )
        });
        self.warnings.iter().cloned().chain(unknown)
    }

    /// Everything printed: the settings map and the warnings.
    pub fn to_effective(&self) -> Effective {
        Effective {
            settings: self
                .iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            warnings: self.warnings().collect(),
        }
    }

    fn print(&self, slot: &Slot) -> String {
        let minor = self.version.minor;
        let def = &schema::defs()[usize::from(slot.setting)];
        let ty = self.version.infos[usize::from(slot.setting)].ty;
        let value = typed::print(ty, &slot.first, &slot.more, &self.files, minor);
        cli_override(def.name, ty, value, minor, self.network)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Names that exercise every path of the one pass: feature lines,
    /// gated settings, the deprecated boolean that sets another setting,
    /// `extra-`, aliases, unknown names.
    const NAMES: &[&str] = &[
        "experimental-features",
        "extra-experimental-features",
        "accept-flake-config",
        "flake-registry",
        "commit-lockfile-summary",
        "commit-lock-file-summary",
        "auto-allocate-uids",
        "impure-env",
        "warn-short-path-literals",
        "lint-short-path-literals",
        "max-jobs",
        "build-max-jobs",
        "cores",
        "substituters",
        "extra-substituters",
        "binary-caches",
        "trusted-users",
        "extra-trusted-users",
        "sandbox",
        "sandbox-paths",
        "extra-sandbox-paths",
        "access-tokens",
        "extra-access-tokens",
        "min-free",
        "download-attempts",
        "plugin-files",
        "extra-cores",
        "foo-bar",
    ];

    const VALUES: &[&str] = &[
        "",
        "true",
        "false",
        "1",
        "12K",
        "x",
        "flakes",
        "nix-command flakes",
        "ca-derivations  no-such-feature",
        "auto-allocate-uids configurable-impure-env",
        "/a=/b /c?",
        "a=b c=d",
        "https://cache.nixos.org/",
        "/nix/../store",
    ];

    /// Lines of a file in a tree of `nix.conf`, `a.conf`, `sub/b.conf`.
    /// Lines every version accepts (or ignores with a warning).
    const VALID: &[&str] = &[
        "experimental-features = nix-command flakes",
        "experimental-features = auto-allocate-uids no-such-feature",
        "extra-experimental-features = configurable-impure-env",
        "extra-experimental-features = flakes",
        "experimental-features =",
        "accept-flake-config = true",
        "flake-registry = /etc/registry.json",
        "commit-lockfile-summary = msg",
        "auto-allocate-uids = true",
        "impure-env = A=b",
        "warn-short-path-literals = true",
        "max-jobs = 4",
        "build-max-jobs = 2",
        "cores  =  3",
        "substituters = https://a/ https://b/",
        "extra-substituters = https://c/",
        "trusted-users = root  @wheel",
        "extra-trusted-users = alice",
        "sandbox-paths = /bin/sh=/x",
        "extra-access-tokens = github.com=abc",
        "foo-bar = 1",
    ];

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            24 => (0..VALID.len()).prop_map(|i| VALID[i].to_owned()),
            3 => (0..NAMES.len(), 0..VALUES.len(), 0..4usize).prop_map(|(n, v, ws)| {
                let sep = [" = ", "\t=  ", " = ", " =\t"][ws];
                format!("{}{sep}{}", NAMES[n], VALUES[v])
            }),
            2 => Just("# comment = 1".to_owned()),
            1 => Just(String::new()),
            1 => prop_oneof![
                Just("include a.conf"),
                Just("!include sub/b.conf"),
                Just("!include missing.conf"),
                Just("include missing.conf"),
                Just("include ../nix/nix.conf"),
            ]
            .prop_map(str::to_owned),
            1 => prop_oneof![Just("cores 3"), Just("lonely"), Just("include a b")].prop_map(str::to_owned),
        ]
    }

    fn file() -> impl Strategy<Value = String> {
        proptest::collection::vec(line(), 0..12).prop_map(|lines| lines.join("\n"))
    }

    /// Merges of split halves so far (see [`Evaluator::split_points`]).
    pub(super) static MERGES: std::sync::atomic::AtomicUsize =
        std::sync::atomic::AtomicUsize::new(0);

    /// Files split in two halves applied at once give what applying
    /// every line in order gives (the merge of the second half's delta,
    /// and its fallback to applying it again after the first), on random
    /// trees for every kind of version; and the merge happens often.
    #[test]
    fn split_halves_agree_with_one_thread() {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(1500));
        let minor = prop_oneof![Just(8u8), Just(15), 16..=35u8];
        let before = MERGES.load(std::sync::atomic::Ordering::Relaxed);
        runner
            .run(&(file(), file(), file(), minor), |(top, a, b, minor)| {
                let mut files = MemSource::new();
                files.insert("/etc/nix/nix.conf", top.as_bytes());
                files.insert("/etc/nix/a.conf", a.as_bytes());
                files.insert("/etc/nix/sub/b.conf", b.as_bytes());
                let (split, _) = outcome(&files, minor, Mode::FastSplit);
                let (reference, _) = outcome(&files, minor, Mode::Reference);
                prop_assert_eq!(
                    split,
                    reference,
                    "2.{}\n--- nix.conf\n{}\n--- a.conf\n{}\n--- sub/b.conf\n{}",
                    minor,
                    top,
                    a,
                    b
                );
                Ok(())
            })
            .unwrap();
        let merges = MERGES.load(std::sync::atomic::Ordering::Relaxed) - before;
        assert!(merges > 750, "{merges} merges");
    }

    /// The outcome of evaluating `files` for 2.`minor` with `mode`, and
    /// whether the one pass finished without falling back.
    fn outcome(files: &MemSource, minor: u8, mode: Mode) -> (String, bool) {
        let options = ShowOptions {
            version: NixVersion::from_minor(minor),
            network: Network::Offline,
        };
        let one_pass = mode == Mode::Fast && {
            let mut eval = Evaluator::new(files, minor, b"/etc/nix".to_vec());
            matches!(eval.run_fast(b"/etc/nix/nix.conf"), Ok(true))
        };
        let text = match evaluate(files, "/etc/nix".as_ref(), &options, mode) {
            Ok(settings) => format!("{:?}", settings.to_effective()),
            Err(e) => format!("error {e} at {:?}", e.location()),
        };
        (text, one_pass)
    }

    /// The one pass (with its fallbacks) gives what Nix's passes give, on
    /// random trees; and it does finish on its own often enough for that
    /// to mean something, warnings included.
    #[test]
    fn one_pass_agrees_with_nix_passes() {
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(3000));
        let finished = std::cell::Cell::new(0);
        let with_warnings = std::cell::Cell::new(0);
        let minor = prop_oneof![Just(8u8), Just(15), 16..=35u8];
        runner
            .run(&(file(), file(), file(), minor), |(top, a, b, minor)| {
                let mut files = MemSource::new();
                files.insert("/etc/nix/nix.conf", top.as_bytes());
                files.insert("/etc/nix/a.conf", a.as_bytes());
                files.insert("/etc/nix/sub/b.conf", b.as_bytes());
                let (fast, one_pass) = outcome(&files, minor, Mode::Fast);
                let (reference, _) = outcome(&files, minor, Mode::Reference);
                if one_pass && minor >= 16 {
                    finished.set(finished.get() + 1);
                    if fast.contains("warning: ") {
                        with_warnings.set(with_warnings.get() + 1);
                    }
                }
                prop_assert_eq!(
                    fast,
                    reference,
                    "2.{}\n--- nix.conf\n{}\n--- a.conf\n{}\n--- sub/b.conf\n{}",
                    minor,
                    top,
                    a,
                    b
                );
                Ok(())
            })
            .unwrap();
        assert!(
            finished.get() > 500,
            "{} one passes finished",
            finished.get()
        );
        assert!(
            with_warnings.get() > 250,
            "{} with warnings",
            with_warnings.get()
        );
    }
}
