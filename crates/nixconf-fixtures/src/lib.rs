//! The fixture runner. Every directory under a fixture kind's directory
//! in `fixtures/` is one case, checked by the kind's `check` function.
//!
//! Each crate keeps the checkers of its fixture kinds in its own `tests/`
//! (`tests/fixture_kinds/<kind>.rs`, each defining a `KIND`), and runs them
//! under `cargo test` with [`test_kind`]; `cargo xtask test-fixtures`
//! includes the same files and runs every kind at once with [`run`], in
//! parallel, printing one `FAIL case: reason` line per failure and
//! `N passed, M failed`.
#![deny(missing_docs)]

pub mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// A kind of fixture: where its cases live and how one is checked.
#[derive(Debug)]
pub struct Kind {
    /// Directory under `fixtures/` whose subdirectories are the cases.
    pub dir: &'static str,
    /// Vendored reference corpora are never rewritten by `UPDATE_EXPECT=1`.
    pub vendored: bool,
    /// Check one case directory; with `update`, rewrite its expected output
    /// instead of comparing.
    pub check: fn(&Path, bool) -> Result<(), String>,
    /// A checked-in list (path under `fixtures/`) of cases known not to
    /// pass yet: they are reported, not failed, and a listed case that
    /// passes fails the run (the list only shrinks).
    pub pending: Option<&'static str>,
}

/// The workspace's `fixtures/` directory.
pub fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Run one kind's cases, for `cargo test`: panics listing every failure.
/// `FIXTURE_FILTER` (a substring of the case path) narrows the run.
pub fn test_kind(kind: &Kind) {
    let filter = std::env::var("FIXTURE_FILTER").ok();
    if let Err(e) = run(&fixtures_root(), &[kind], filter.as_deref()) {
        panic!("{}: {e}", kind.dir);
    }
}
/// One case's result.
struct Outcome {
    name: String,
    error: Option<String>,
    /// Listed in its kind's pending file.
    pending: Option<&'static str>,
}

/// The case names (directory names) a pending file lists: one a line,
/// `#` comments and blank lines skipped.
fn pending_names(fixtures: &Path, file: &str) -> Result<Vec<String>, String> {
    let path = fixtures.join(file);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// Whether `UPDATE_EXPECT=1` asks to rewrite expected outputs.
pub fn update_requested() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

/// Run every case of `kinds` under `fixtures` (the `fixtures/`
/// directory) whose path contains `filter`, in parallel; print a line per
/// failure and the totals. `Err` when a case failed.
pub fn run(fixtures: &Path, kinds: &[&Kind], filter: Option<&str>) -> Result<(), String> {
    let fixtures = fixtures.to_path_buf();
    let update = update_requested();
    let mut cases: Vec<(&Kind, PathBuf)> = Vec::new();
    let mut pending: Vec<(&'static str, Vec<String>)> = Vec::new();
    for &kind in kinds {
        if let Some(file) = kind.pending {
            let names = pending_names(&fixtures, file)?;
            let dir = fixtures.join(kind.dir);
            if let Some(missing) = names.iter().find(|n| !dir.join(n).is_dir()) {
                return Err(format!(
                    "{file} lists `{missing}`, which is no case of {}",
                    kind.dir
                ));
            }
            pending.push((file, names));
        }
        let dir = fixtures.join(kind.dir);
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        cases.extend(dirs.into_iter().map(|d| (kind, d)));
    }
    if let Some(f) = filter {
        cases.retain(|(_, d)| d.to_string_lossy().contains(f));
    }
    let outcomes: Vec<Outcome> = cases
        .par_iter()
        .map(|(kind, dir)| {
            let name = dir
                .strip_prefix(&fixtures)
                .unwrap_or(dir)
                .display()
                .to_string();
            let update_this = update && !kind.vendored;
            let error = match std::panic::catch_unwind(|| (kind.check)(dir, update_this)) {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(_) => Some("panicked".to_owned()),
            };
            let case = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            let listed = kind.pending.filter(|file| {
                pending
                    .iter()
                    .any(|(f, names)| f == file && case.as_ref().is_some_and(|c| names.contains(c)))
            });
            Outcome {
                name,
                error,
                pending: listed,
            }
        })
        .collect();
    let mut failed = 0;
    let mut known: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &outcomes {
        match (&o.error, o.pending) {
            (Some(_), Some(file)) => *known.entry(file).or_default() += 1,
            (None, Some(file)) => {
                failed += 1;
                println!(
                    "FAIL {}: passes, but {file} lists it as failing: remove it from the list",
                    o.name
                );
            }
            (Some(e), None) => {
                failed += 1;
                let first = e.lines().next().unwrap_or("");
                println!("FAIL {}: {first}", o.name);
            }
            (None, None) => {}
        }
    }
    let known_total: usize = known.values().sum();
    for (file, n) in &known {
        println!("KNOWN FAILING: {n} case(s) listed in fixtures/{file}");
    }
    let passed = outcomes.len() - failed - known_total;
    if known_total > 0 {
        println!(
            "{passed} passed, {failed} failed, {known_total} known failing (listed in {})",
            known
                .keys()
                .map(|f| format!("fixtures/{f}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if failed > 0 {
        Err(format!("{failed} fixture(s) failed"))
    } else {
        Ok(())
    }
}
