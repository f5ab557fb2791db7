//! Following `@file` references: [`expand`] reads the files a machines
//! file refers to, as Nix does.

use std::path::{Path, PathBuf};

use nixconf_format::NixVersion;

use crate::error::Error;
use crate::machine::Machine;
use crate::parse::{parse, Item, MachinesFile};

/// Machines after following `@file` references, as Nix sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Expanded {
    /// Every machine in Nix's order, with where it was written.
    pub machines: Vec<Located>,
    /// References to files that do not exist (Nix skips them silently).
    pub missing: Vec<Missing>,
}

/// A machine and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Located {
    /// The file (or `builders`).
    pub file: String,
    /// Line (1-based).
    pub line: usize,
    /// The machine.
    pub machine: Machine,
}

/// An `@file` reference to a file that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// The file holding the reference.
    pub file: String,
    /// Its line.
    pub line: usize,
    /// The path as written.
    pub path: String,
}

/// Follow every `@file` reference of `file` (read from `source`) as Nix
/// does: relative paths are taken from `cwd` (the working directory of the
/// process reading the machines: for builds that is the build hook, which
/// every Nix 2 version starts in `/`), a missing file is skipped, any
/// other read error is fatal, and a reference cycle is reported (where Nix
/// itself recurses until it crashes).
///
/// ```
/// use nixconf_machines::{expand, parse};
/// let dir = std::env::temp_dir().join(format!("nixconf-expand-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("more"), "ssh://b aarch64-linux\n").unwrap();
/// let v = "2.24.9".parse().unwrap();
/// let file = parse("ssh://a x86_64-linux\n@more\n@gone\n", "machines", &v).unwrap();
/// let e = expand(&file, "machines", &v, &dir).unwrap();
/// assert_eq!(e.machines.len(), 2);
/// assert_eq!(e.missing[0].path, "gone");
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn expand(
    file: &MachinesFile,
    source: &str,
    version: &NixVersion,
    cwd: &Path,
) -> Result<Expanded, Error> {
    let mut out = Expanded {
        machines: Vec::new(),
        missing: Vec::new(),
    };
    let mut stack: Vec<(PathBuf, String)> = Vec::new();
    // `source` is where the caller read the file: a path of this process,
    // or (failing that) one relative to `cwd`.
    if let Ok(p) =
        std::fs::canonicalize(source).or_else(|_| std::fs::canonicalize(cwd.join(source)))
    {
        stack.push((p, source.to_owned()));
    }
    let mut errors = Vec::new();
    expand_into(
        file,
        source,
        version,
        cwd,
        &mut stack,
        &mut out,
        &mut errors,
    );
    match Error::from_list(errors) {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn expand_into(
    file: &MachinesFile,
    source: &str,
    version: &NixVersion,
    cwd: &Path,
    stack: &mut Vec<(PathBuf, String)>,
    out: &mut Expanded,
    errors: &mut Vec<Error>,
) {
    for item in &file.items {
        match item {
            Item::Machine { line, machine, .. } => out.machines.push(Located {
                file: source.to_owned(),
                line: *line,
                machine: machine.clone(),
            }),
            Item::Include { line, path, .. } => {
                let full = cwd.join(path);
                // `open("")` fails with ENOENT, so Nix skips an empty
                // reference; joining it to `cwd` would name a directory.
                let read = if path.is_empty() {
                    Err(std::io::ErrorKind::NotFound.into())
                } else {
                    std::fs::read(&full)
                };
                let bytes = match read {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        out.missing.push(Missing {
                            file: source.to_owned(),
                            line: *line,
                            path: path.clone(),
                        });
                        continue;
                    }
                    Err(e) => {
                        errors.push(Error::Read {
                            file: source.to_owned(),
                            line: *line,
                            path: path.clone(),
                            reason: e.to_string(),
                        });
                        continue;
                    }
                };
                let canonical = std::fs::canonicalize(&full).unwrap_or(full);
                if let Some(i) = stack.iter().position(|(p, _)| *p == canonical) {
                    let mut chain: Vec<String> =
                        stack[i..].iter().map(|(_, n)| n.clone()).collect();
                    chain.push(path.clone());
                    errors.push(Error::Cycle {
                        file: source.to_owned(),
                        line: *line,
                        chain,
                    });
                    continue;
                }
                let text = String::from_utf8_lossy(&bytes);
                match parse(&text, path, version) {
                    Ok(inner) => {
                        stack.push((canonical, path.clone()));
                        expand_into(&inner, path, version, cwd, stack, out, errors);
                        stack.pop();
                    }
                    Err(e) => errors.extend(e.as_list().iter().cloned()),
                }
            }
            Item::Comment { .. } | Item::Blank { .. } => {}
        }
    }
}
