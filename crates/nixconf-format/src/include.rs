//! Reading the include tree: loading files, resolving `include` and
//! `!include` (missing files, cycles), and the order in which each Nix
//! version applies the lines (as read up to 2.15, per file in 2.16–2.19,
//! spliced in 2.20+), with the one-pass shortcut for 2.16+.

use std::rc::Rc;

use nixconf_diagnostic::Span;

use crate::error::{line_span, ConfError};
use crate::history::TraceStep;
use crate::lex::{self, Shape};
use crate::scan::scan;
use crate::schema;
use crate::settings::{Network, Settings};
use crate::source::{as_path, Source};
use crate::state::{setting_line, value_of, Deferred, Spans, State};
use crate::typed;

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

/// Deepest include nesting before nixconf reports a cycle that lexical
/// paths cannot show (symlinked directories).
const MAX_DEPTH: usize = 256;

pub(crate) struct Evaluator<'s> {
    source: &'s dyn Source,
    minor: u8,
    pub(crate) conf_dir: Vec<u8>,
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
    /// The setting whose lines are recorded in `steps` ([`Mode::Trace`]).
    pub(crate) traced: Option<u16>,
    pub(crate) steps: Vec<TraceStep>,
}

impl<'s> Evaluator<'s> {
    pub(crate) fn new(source: &'s dyn Source, minor: u8, conf_dir: Vec<u8>) -> Self {
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
    pub(crate) fn run_fast(&mut self, top: &[u8]) -> Result<bool, ConfError> {
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
    pub(crate) fn run_reference(&mut self, top: Vec<u8>) -> Result<(), ConfError> {
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
    ) -> Span {
        let text = &self.files[file as usize];
        let label = self.display(&self.labels[file as usize]);
        line_span(label, line_no, &text[line.start..line.end], at, len)
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

    /// ≤2.15: every line is applied as it is read; an include is applied
    /// at its position.
    fn sequential(&mut self, file: u32) -> Result<(), ConfError> {
        let text = Rc::clone(&self.files[file as usize]);
        let text = &text[..];
        for (i, (line, shape)) in scan(text).enumerate() {
            let line_no = i + 1;
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
        Ok(())
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
        let text = &text[..];
        for (line, shape) in scan(text) {
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

    pub(crate) fn finish(self, network: Network) -> Settings {
        Settings::new(self.state, self.files, network)
    }
}
