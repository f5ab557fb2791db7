//! What an apply or a revert did, action by action.

use serde::Serialize;

/// How one action ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Carried out.
    Done,
    /// Carried out, with something worth knowing (a directory kept because
    /// it is not empty, a copy of a hand edit kept).
    DoneWithNote(String),
    /// Not carried out, on purpose.
    Skipped(String),
    /// Failed; the others were still carried out.
    Failed(String),
}

/// One line of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReportEntry {
    /// The action.
    pub action: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What an apply or a revert did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    dry_run: bool,
    entries: Vec<ReportEntry>,
}

impl Report {
    /// Every action carried out (or skipped, or failed), in order.
    pub fn entries(&self) -> &[ReportEntry] {
        &self.entries
    }

    /// Whether nothing failed.
    pub fn is_success(&self) -> bool {
        self.failures().is_empty()
    }

    /// Whether anything was changed.
    pub fn changed_anything(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.outcome, Outcome::Done | Outcome::DoneWithNote(_)))
    }

    /// The failures, one line each.
    pub fn failures(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|e| match &e.outcome {
                Outcome::Failed(why) => Some(format!("{}: {why}", e.action)),
                _ => None,
            })
            .collect()
    }

    /// The report for people, one line per action.
    pub fn describe(&self) -> String {
        if self.entries.is_empty() {
            return if self.dry_run {
                "dry run: nothing to do\n".to_owned()
            } else {
                "nothing to do: up to date\n".to_owned()
            };
        }
        let mut out = String::new();
        for e in &self.entries {
            let line = match &e.outcome {
                Outcome::Done => format!("done: {}", e.action),
                Outcome::DoneWithNote(n) => format!("done: {} ({n})", e.action),
                Outcome::Skipped(why) => format!("skipped: {} ({why})", e.action),
                Outcome::Failed(why) => format!("FAILED: {}: {why}", e.action),
            };
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// An empty report.
    pub(crate) fn new(dry_run: bool) -> Report {
        Report {
            dry_run,
            entries: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, action: impl Into<String>, outcome: Outcome) {
        self.entries.push(ReportEntry {
            action: action.into(),
            outcome,
        });
    }
}
