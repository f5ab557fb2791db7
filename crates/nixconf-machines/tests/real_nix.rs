//! Differential test against the real Nix 2.8 (`/usr/bin/nix-build`): for
//! every fixture case targeting 2.8.0, Nix's build hook reads the machines
//! file and we compare what it reports with what this crate reads.
//!
//! The hook is reached with `nix-build --max-jobs 0 -vvvvv --builders
//! @FILE` on a derivation for a system no machine has: it then prints the
//! store URI of every machine it considers and a table of their systems,
//! max jobs and features, or the error that stopped it.

use std::path::{Path, PathBuf};
use std::process::Command;

use nixconf_format::NixVersion;
use nixconf_machines::{expand, parse, Error};

/// What the hook reported: machines as `(uri, "(systems, maxjobs, supported, mandatory)")`
/// or the first error line.
#[derive(Debug, PartialEq)]
enum Report {
    Machines(Vec<(String, String)>),
    Error(String),
}

fn nix_available() -> bool {
    Command::new("nix-build")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("2.8.0"))
}

fn run_nix(case: &Path, tag: usize) -> Result<Report, String> {
    let file = case.join("machines");
    let expr = format!(
        "derivation {{ name = \"nixconf-machines-probe-{tag}\"; system = \"nixconf-no-such-system\"; builder = \"/bin/sh\"; }}"
    );
    let out = Command::new("nix-build")
        .args(["--max-jobs", "0", "-vvvvv", "--no-out-link", "--builders"])
        .arg(format!("@{}", file.display()))
        .args(["-E", &expr])
        // Both the build hook and nix-build itself read the machines; run
        // nix-build in `/` too, where the hook always runs.
        .current_dir("/")
        .env_remove("NIX_REMOTE_SYSTEMS")
        .output()
        .map_err(|e| format!("cannot run nix-build: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    let hook: Vec<&str> = log
        .lines()
        .skip_while(|l| !l.starts_with("starting build hook"))
        .collect();
    if hook.is_empty() {
        return Err(format!(
            "nix-build never started the build hook; its output ends with:\n{}",
            log.lines().rev().take(5).collect::<Vec<_>>().join("\n")
        ));
    }
    if let Some(e) = hook.iter().find_map(|l| l.strip_prefix("error: ")) {
        if !e.starts_with("unable to start any build") {
            return Ok(Report::Error(e.to_owned()));
        }
    }
    let uris: Vec<String> = hook
        .iter()
        .filter_map(|l| l.strip_prefix("considering building on remote machine '"))
        .map(|u| u.trim_end_matches('\'').to_owned())
        .collect();
    let rows: Vec<String> = hook
        .iter()
        .skip_while(|l| !l.starts_with("(systems, maxjobs"))
        .skip(1)
        .take(uris.len())
        .map(|l| (*l).to_owned())
        .collect();
    Ok(Report::Machines(uris.into_iter().zip(rows).collect()))
}

fn ours(case: &Path, version: &NixVersion) -> Report {
    let text = std::fs::read_to_string(case.join("machines")).unwrap_or_default();
    let first_error = |e: Error| match e.as_list().first() {
        // Nix's logger drops '\r' when it prints (filterANSIEscapes).
        Some(Error::Entry(entry)) => Report::Error(entry.message.replace('\r', "")),
        Some(other) => Report::Error(other.to_string()),
        None => Report::Error(String::new()),
    };
    let file = match parse(&text, "machines", version) {
        Ok(f) => f,
        Err(e) => return first_error(e),
    };
    // The build hook runs in `/` (every Nix 2 version chdirs there before
    // starting it), so that is where relative references start.
    match expand(&file, "machines", version, Path::new("/")) {
        Ok(x) => Report::Machines(
            x.machines
                .iter()
                .map(|l| {
                    let m = l.machine.nix_view(version, "x86_64-linux");
                    let join =
                        |v: Vec<&String>| v.into_iter().cloned().collect::<Vec<_>>().join(", ");
                    (
                        m.store_uri.clone(),
                        format!(
                            "({}, {}, {}, {})",
                            m.systems.join(", "),
                            m.max_jobs,
                            join(m.supported_features.iter().collect()),
                            join(m.mandatory_features.iter().collect())
                        ),
                    )
                })
                .collect(),
        ),
        Err(e) => first_error(e),
    }
}

#[test]
fn fixtures_for_2_8_read_like_real_nix_2_8() {
    if !nix_available() {
        eprintln!(
            "\n*** real_nix: nix-build 2.8.0 is NOT installed: the differential test against \
             real Nix did not run (apt-get install nix-bin) ***\n"
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/machines");
    let version: NixVersion = "2.8.0".parse().unwrap();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_to_string(p.join("case.json")).is_ok_and(|c| c.contains("\"2.8.0\""))
        })
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the 2.8 fixtures, found {}",
        cases.len()
    );
    let results: Vec<(PathBuf, Result<Report, String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .enumerate()
            .map(|(i, c)| s.spawn(move || (c.clone(), run_nix(c, i))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = Vec::new();
    for (case, nix) in results {
        let nix = match nix {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: {e}", case.display()));
                continue;
            }
        };
        let us = ours(&case, &version);
        let same = match (&nix, &us) {
            // Read errors other than entry errors are worded our own way.
            (Report::Error(n), Report::Error(o)) if n.starts_with("reading from file") => {
                o.contains("cannot read machines file")
            }
            _ => nix == us,
        };
        if !same {
            failures.push(format!(
                "{}:\n  nix:  {nix:?}\n  ours: {us:?}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
