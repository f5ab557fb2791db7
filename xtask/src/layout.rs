//! `cargo xtask layout`: the shape rules every crate keeps.
//!
//! - No circles between modules: within a crate, no module reaches,
//!   through `use` or `crate::`/`super::`/`self::` paths, a module that
//!   reaches it back (directly or around a longer loop). The crate root
//!   (`lib.rs`, `main.rs`) is the façade and takes no part; `mod`
//!   declarations are not uses.
//! - No source file over [`MAX_LINES`] lines, except generated ones
//!   (`*_generated.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines a hand-written source file may have.
pub const MAX_LINES: usize = 800;

pub fn run(root: &Path) -> Result<(), String> {
    let problems = check(root)?;
    for p in &problems {
        println!("{p}");
    }
    if problems.is_empty() {
        println!("layout: no module circles, no file over {MAX_LINES} lines");
        Ok(())
    } else {
        Err(format!("{} layout problem(s)", problems.len()))
    }
}

/// Every problem in the workspace at `root`, one line each.
pub fn check(root: &Path) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .map_err(|e| format!("crates: {e}"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    dirs.push(root.join("xtask"));
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for sub in ["src", "tests", "benches"] {
            for file in rust_files(&dir.join(sub))? {
                let text = read(&file)?;
                let lines = text.lines().count();
                let generated = file.to_string_lossy().ends_with("_generated.rs");
                if lines > MAX_LINES && !generated {
                    let rel = file.strip_prefix(root).unwrap_or(&file);
                    problems.push(format!(
                        "{}: {lines} lines (at most {MAX_LINES})",
                        rel.display()
                    ));
                }
            }
        }
        let src = dir.join("src");
        if src.is_dir() {
            for cycle in cycles(&src)? {
                problems.push(format!(
                    "{name}: modules in a circle: {}",
                    cycle.join(" -> ")
                ));
            }
        }
    }
    Ok(problems)
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(out);
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(rust_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The module path of a file under `src` (`a/b.rs` and `a/b/mod.rs` are
/// `a::b`); empty for the crate root.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if !matches!(stem, "mod" | "lib" | "main") || !parts.is_empty() && stem != "mod" {
            parts.push(stem.to_owned());
        }
    }
    parts
}

/// The module graph of the crate at `src` and its circles (each as the
/// modules around it, the first repeated at the end).
fn cycles(src: &Path) -> Result<Vec<Vec<String>>, String> {
    let files = rust_files(src)?;
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    // Names the crate root re-exports stand for the module they come from.
    let mut reexports: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files.iter().filter(|f| module_of(src, f).is_empty()) {
        let text = strip_comments(&read(file)?);
        for line in text.split(';') {
            let line = line.trim();
            if let Some(tree) = line.strip_prefix("pub use ") {
                let mut paths = Vec::new();
                expand_use_tree(tree.trim_start_matches("crate::"), &[], &mut paths);
                for p in paths.into_iter().filter(|p| p.len() > 1) {
                    let name = p[p.len() - 1].clone();
                    reexports.insert(name, p[..p.len() - 1].to_vec());
                }
            }
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let me = module_of(src, file);
        if me.is_empty() {
            continue;
        }
        let text = strip_comments(&read(file)?);
        let mut targets = BTreeSet::new();
        for mut path in referenced_paths(&text, &me) {
            if let Some(from) = path.first().and_then(|n| reexports.get(n)) {
                path.splice(0..1, from.iter().cloned());
            }
            // The longest prefix that is a module.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains(p));
            if let Some(t) = target {
                if t != me && !t.is_empty() {
                    targets.insert(t.join("::"));
                }
            }
        }
        edges.entry(me.join("::")).or_default().extend(targets);
    }
    Ok(strongly_connected(&edges))
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module path the text names through `crate::`, `super::`,
/// `self::` or a `use` of a child module, as absolute segments.
fn referenced_paths(text: &str, me: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    // Paths written out: `crate::a::b`, `super::c`, `self::d`.
    for (prefix, base) in [
        ("crate::", Vec::new()),
        ("super::", me[..me.len().saturating_sub(1)].to_vec()),
        ("self::", me.to_vec()),
    ] {
        let mut from = 0;
        while let Some(i) = text[from..].find(prefix) {
            let at = from + i;
            from = at + prefix.len();
            if at > 0 && (ident(bytes[at - 1]) || bytes[at - 1] == b':') {
                continue;
            }
            let mut tree = String::new();
            let mut depth = 0usize;
            for c in text[from..].chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ';' | '(' | ')' | '<' | '>' | '=' | '!' | '&' | '[' | ']' | '.' | '|'
                        if depth == 0 =>
                    {
                        break
                    }
                    ',' if depth == 0 => break,
                    c if c.is_whitespace() && depth == 0 => break,
                    _ => {}
                }
                tree.push(c);
            }
            expand_use_tree(&tree, &base, &mut out);
        }
    }
    // `use child::x;` in a module with children (2018 relative paths).
    for line in text.lines() {
        let line = line.trim_start();
        let rest = line
            .strip_prefix("pub use ")
            .or_else(|| line.strip_prefix("pub(crate) use "))
            .or_else(|| line.strip_prefix("use "));
        if let Some(rest) = rest {
            if let Some((first, _)) = rest.split_once("::") {
                if !matches!(first, "crate" | "super" | "self" | "std" | "core" | "alloc") {
                    let mut p = me.to_vec();
                    p.push(first.to_owned());
                    out.push(p);
                }
            }
        }
    }
    out
}

/// `a::{b, c::{d, e}}` under `base` to `base::a::b`, `base::a::c::d`, ...
fn expand_use_tree(tree: &str, base: &[String], out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    let (head, group) = match tree.find('{') {
        Some(i) => (
            &tree[..i],
            Some(&tree[i + 1..tree.rfind('}').unwrap_or(tree.len())]),
        ),
        None => (tree, None),
    };
    let mut path = base.to_vec();
    path.extend(
        head.split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "*")
            .map(|s| s.split_whitespace().next().unwrap_or(s).to_owned()),
    );
    out.push(path.clone());
    if let Some(group) = group {
        let mut depth = 0;
        let mut start = 0;
        let items: Vec<&str> = {
            let mut v = Vec::new();
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        v.push(&group[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            v.push(&group[start..]);
            v
        };
        for item in items {
            if !item.trim().is_empty() && item.trim() != "self" {
                expand_use_tree(item, &path, out);
            }
        }
    }
}

/// Tarjan's strongly connected components of more than one module.
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(targets) = s.edges.get(v) {
            for w in targets {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                let first = component[0].clone();
                component.push(first);
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(text: &str, me: &[&str]) -> Vec<String> {
        let me: Vec<String> = me.iter().map(|s| s.to_string()).collect();
        referenced_paths(text, &me)
            .into_iter()
            .map(|p| p.join("::"))
            .collect()
    }

    #[test]
    fn reads_use_trees_and_inline_paths() {
        let got = paths(
            "use crate::a::{b, c::{d, E}};\nfn f() { crate::x::y(); super::z::w(); }\nuse child::K;\n",
            &["m", "n"],
        );
        assert_eq!(
            got,
            [
                "a",
                "a::b",
                "a::c",
                "a::c::d",
                "a::c::E",
                "x::y",
                "m::z::w",
                "m::n::child"
            ]
        );
    }

    #[test]
    fn finds_circles() {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        edges.entry("a".into()).or_default().insert("b".into());
        edges.entry("b".into()).or_default().insert("c".into());
        edges.entry("c".into()).or_default().insert("a".into());
        edges.entry("d".into()).or_default().insert("a".into());
        assert_eq!(strongly_connected(&edges), vec![vec!["a", "b", "c", "a"]]);
    }
}
