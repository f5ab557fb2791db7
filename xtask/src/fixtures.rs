//! The fixture runner: every directory under a registered fixture root is
//! one case, checked in parallel by its kind's `check` function.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::kinds::{Kind, KINDS};

/// One case's result.
struct Outcome {
    name: String,
    error: Option<String>,
}

/// Whether `UPDATE_EXPECT=1` asks to rewrite expected outputs.
pub fn update_requested() -> bool {
    std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1")
}

pub fn run(root: &Path, filter: Option<&str>) -> Result<(), String> {
    let fixtures = root.join("fixtures");
    let update = update_requested();
    let mut cases: Vec<(&Kind, PathBuf)> = Vec::new();
    for kind in KINDS {
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
            Outcome { name, error }
        })
        .collect();
    let mut failed = 0;
    for o in &outcomes {
        if let Some(e) = &o.error {
            failed += 1;
            let first = e.lines().next().unwrap_or("");
            println!("FAIL {}: {first}", o.name);
        }
    }
    println!("{} passed, {} failed", outcomes.len() - failed, failed);
    if failed > 0 {
        Err(format!("{failed} fixture(s) failed"))
    } else {
        Ok(())
    }
}
