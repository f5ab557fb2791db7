//! `fixtures/users/<case>/`: a root tree (`root/etc/passwd`, `group`,
//! `subuid`, `subgid`, `shadow`, `gshadow`), a `request.json` (the
//! `PoolRequest` as JSON), optionally a `managed.json` (the names of the
//! users earlier applies created, a JSON array: those the request no
//! longer asks for are removed), and the expected plan as `expected.json`
//! (what `nixconf users plan --json` prints) and `expected.txt` (its text
//! form).
//!
//! Every case whose plan has no conflicts is also applied to a copy of its
//! root: the journal must hold no password field of its shadow files and
//! name no account nixconf does not manage, a fresh plan must then be up
//! to date, and undo must restore every file byte for byte.
//!
//! Run by `cargo test -p nixconf-users --test fixtures` and by `cargo xtask
//! test-fixtures`, which includes this file.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use nixconf_fixtures::Kind;
use nixconf_users::{apply, plan_with_managed, undo, PoolRequest};

/// `fixtures/users`.
pub const KIND: Kind = Kind {
    dir: "users",
    vendored: false,
    check,
    pending: None,
};

pub fn check(dir: &Path, update: bool) -> Result<(), String> {
    let request_path = dir.join("request.json");
    let text = fs::read_to_string(&request_path)
        .map_err(|e| format!("{}: {e}", request_path.display()))?;
    let request: PoolRequest =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", request_path.display()))?;
    let managed_path = dir.join("managed.json");
    let managed: BTreeSet<String> = match fs::read_to_string(&managed_path) {
        Ok(text) => {
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", managed_path.display()))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
        Err(e) => return Err(format!("{}: {e}", managed_path.display())),
    };
    let root = dir.join("root");
    let p = plan_with_managed(&root, &request, &managed).map_err(|e| format!("plan: {e}"))?;
    let mut json = serde_json::to_string_pretty(&p).map_err(|e| e.to_string())?;
    json.push('\n');
    let outputs = [("expected.json", json), ("expected.txt", p.to_string())];
    for (name, got) in &outputs {
        let path = dir.join(name);
        if update {
            fs::write(&path, got).map_err(|e| format!("{}: {e}", path.display()))?;
            continue;
        }
        let want = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        compare(name, &want, got)?;
    }
    if !p.has_conflicts() {
        apply_round_trip(&root, &request, &managed)?;
    }
    Ok(())
}

/// The first line where `got` differs from `want`.
fn compare(name: &str, want: &str, got: &str) -> Result<(), String> {
    if want == got {
        return Ok(());
    }
    let (mut w, mut g) = (want.lines(), got.lines());
    for n in 1.. {
        match (w.next(), g.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (a, b) => {
                return Err(format!(
                    "{name} line {n}: expected `{}`, got `{}`",
                    a.unwrap_or("<end>"),
                    b.unwrap_or("<end>")
                ))
            }
        }
    }
    Err(format!("{name}: differs"))
}

fn apply_round_trip(
    root: &Path,
    request: &PoolRequest,
    managed: &BTreeSet<String>,
) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    copy_tree(root, tmp.path())?;
    let start = tree(tmp.path())?;
    let p = plan_with_managed(tmp.path(), request, managed)
        .map_err(|e| format!("plan of the copy: {e}"))?;
    let journal = apply(tmp.path(), &p).map_err(|e| format!("apply: {e}"))?;
    keeps_no_secret(&start, &p, &journal)?;
    let again = plan_with_managed(tmp.path(), request, managed)
        .map_err(|e| format!("plan after apply: {e}"))?;
    if !again.is_up_to_date() {
        let first = again
            .steps
            .first()
            .map(ToString::to_string)
            .or_else(|| again.conflicts.first().map(|c| c.message.clone()))
            .unwrap_or_default();
        return Err(format!(
            "after apply a fresh plan is not up to date: {first}"
        ));
    }
    undo(tmp.path(), &journal).map_err(|e| format!("undo: {e}"))?;
    let end = tree(tmp.path())?;
    for (path, bytes) in &start {
        if end.get(path) != Some(bytes) {
            return Err(format!("after undo {path} differs from the start"));
        }
    }
    if let Some(extra) = end.keys().find(|k| !start.contains_key(*k)) {
        return Err(format!("after undo {extra} is left behind"));
    }
    Ok(())
}

/// The journal (kept in a world-readable receipt) names no account but
/// the pool's, its group, the users it removes and the groups it takes
/// them out of, and holds no password
/// field of `etc/shadow` or `etc/gshadow`.
fn keeps_no_secret(
    start: &BTreeMap<String, Vec<u8>>,
    plan: &nixconf_users::Plan,
    journal: &nixconf_users::Journal,
) -> Result<(), String> {
    let json = serde_json::to_string(journal).map_err(|e| e.to_string())?;
    let lines = |rel: &str| -> Vec<String> {
        start
            .get(rel)
            .map(|b| {
                String::from_utf8_lossy(b)
                    .lines()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    for rel in ["etc/shadow", "etc/gshadow"] {
        for line in lines(rel) {
            let Some(password) = line.split(':').nth(1) else {
                continue;
            };
            if password.len() > 2 && json.contains(password) {
                return Err(format!("the journal holds a password field of {rel}"));
            }
        }
    }
    let ours: BTreeSet<String> = (1..=plan.request.count())
        .map(|i| plan.request.user_name(i))
        .chain(plan.removals.iter().map(|r| r.name.clone()))
        .chain(plan.removals.iter().flat_map(|r| r.groups.iter().cloned()))
        .chain([plan.group.name.clone()])
        .collect();
    for rel in ["etc/passwd", "etc/group"] {
        for line in lines(rel) {
            let name = line.split(':').next().unwrap_or_default();
            if name.is_empty() || ours.contains(name) {
                continue;
            }
            if json.contains(&format!("\"{name}\"")) || json.contains(&format!("\"{name}:")) {
                return Err(format!(
                    "the journal names {name}, an account of {rel} nixconf does not manage"
                ));
            }
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            fs::create_dir_all(&dst).map_err(|e| format!("{}: {e}", dst.display()))?;
            copy_tree(&src, &dst)?;
        } else {
            fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// Every file under `root`, by relative path, with its bytes.
fn tree(root: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                out.insert(rel, bytes);
            }
        }
    }
    Ok(out)
}
