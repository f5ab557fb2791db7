//! Setting semantics: applying one `name = value` to the settings state
//! (aliases, `extra-`, typed values, experimental-feature gates), with
//! no knowledge of files or includes.

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::lex;
use crate::schema::{self, Entry, IntKind, Quick, Ty};
use crate::typed::{self, Parsed, Val};
use crate::xp;

/// The values assigned to one setting since its last plain `=` (an
/// `extra-` before any `=` appends to the default), oldest first. The
/// first is kept inline: most settings are only ever assigned with `=`,
/// and applying those allocates nothing.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    pub(crate) setting: u16,
    pub(crate) first: Val,
    pub(crate) more: Vec<Val>,
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
    pub(crate) version: &'static schema::Version,
    /// `slot_of[setting]` is 1 + the index of its slot in `slots`, or 0
    /// while untouched: a zeroed table is far cheaper to set up than one
    /// slot per setting, which matters for small files.
    pub(crate) slot_of: Vec<u8>,
    pub(crate) slots: Vec<Slot>,
    pub(crate) unknown: BTreeSet<Vec<u8>>,
    /// Warnings with the order key of the line that printed them.
    pub(crate) warnings: Vec<(u64, String)>,
    /// The order key of the line being applied (see [`Evaluator::one_pass`]).
    pub(crate) order: u64,
    /// Enabled experimental features, as [`xp::bit`]s (for gated
    /// settings).
    pub(crate) features: u32,
    /// Whether a plain `experimental-features =` reset `features`.
    pub(crate) features_reset: bool,
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
    pub(crate) fn apply(
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
        let (slot, fresh) = self.slot(setting);
        if !append {
            slot.first = val;
            slot.more.clear();
        } else if !fresh {
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

/// `(file, start, end)`: a stretch of a loaded file.
pub(crate) type FileSpan = (u32, u32, u32);

/// A setting line's name span, value span, and whether the value span is
/// already joined (see [`Shape::Setting`]).
pub(crate) type Spans = ((usize, usize), (usize, usize), bool);

/// A gated setting line left for after the one pass.
pub(crate) struct Deferred {
    pub(crate) file: u32,
    pub(crate) line: lex::RawLine,
    pub(crate) entry: Entry,
    pub(crate) spans: Spans,
    pub(crate) order: u64,
}

/// The order key of a warning printed by a non-feature line: after every
/// feature line's (which use the bare ordinal).
const SECOND_PASS: u64 = 1 << 32;

/// Apply one setting line as [`Evaluator::sequential`] does, or (with
/// `deferred`, where gated settings wait) as [`Evaluator::one_pass`]
/// does for the line numbered `ordinal`; `Err` with Nix's message when
/// the value is refused.
#[inline(always)]
pub(crate) fn setting_line(
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

/// A setting line's value as Nix builds it (the tokens joined by single
/// spaces), and its span in the loaded files when it is one.
#[inline]
pub(crate) fn value_of<'t>(
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
