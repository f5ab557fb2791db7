//! Differential test against the real `nix` on PATH: many random nix.conf
//! trees (includes, `extra-`, aliases, comments, odd whitespace, bad
//! values), each read by `nix show-config` (with `NIX_CONF_DIR` set to the
//! tree, no user configuration, `--offline`) and by `nixconf_format::show`
//! for the installed version; the touched settings, the `unknown setting`
//! warnings and the errors must agree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use nixconf_format::{as_logged, installed_version, show, Network, ShowOptions};

/// Cases per run: enough to hit every rule many times, about 10 s.
const CASES: u64 = 500;

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Names to set: every type, aliases, `extra-` on appendable and
/// non-appendable settings, unknown names. Host-dependent appendable
/// settings (`system-features`, `extra-platforms`) and `max-jobs = auto`
/// are left out: their values depend on the machine, not on the parser.
const NAMES: &[&str] = &[
    "max-jobs",
    "build-max-jobs",
    "cores",
    "build-cores",
    "substitute",
    "build-use-substitutes",
    "sandbox",
    "build-use-sandbox",
    "build-use-chroot",
    "sandbox-fallback",
    "keep-going",
    "fallback",
    "build-fallback",
    "timeout",
    "build-timeout",
    "max-silent-time",
    "min-free",
    "max-free",
    "http-connections",
    "binary-caches-parallel-connections",
    "connect-timeout",
    "download-attempts",
    "tarball-ttl",
    "log-lines",
    "repeat",
    "build-poll-interval",
    "narinfo-cache-negative-ttl",
    "store",
    "bash-prompt",
    "build-users-group",
    "sandbox-build-dir",
    "post-build-hook",
    "user-agent-suffix",
    "flake-registry",
    "diff-hook",
    "build-hook",
    "substituters",
    "binary-caches",
    "extra-substituters",
    "extra-binary-caches",
    "trusted-substituters",
    "extra-trusted-substituters",
    "trusted-binary-caches",
    "trusted-public-keys",
    "binary-cache-public-keys",
    "extra-trusted-public-keys",
    "trusted-users",
    "extra-trusted-users",
    "allowed-users",
    "extra-allowed-users",
    "allowed-uris",
    "extra-allowed-uris",
    "hashed-mirrors",
    "secret-key-files",
    "extra-secret-key-files",
    "sandbox-paths",
    "build-sandbox-paths",
    "build-chroot-dirs",
    "extra-sandbox-paths",
    "extra-build-sandbox-paths",
    "ignored-acls",
    "extra-ignored-acls",
    "access-tokens",
    "extra-access-tokens",
    "experimental-features",
    "extra-experimental-features",
    "pure-eval",
    "restrict-eval",
    "show-trace",
    "warn-dirty",
    "extra-max-jobs",
    "extra-cores",
    "use-cgroups",
    "auto-allocate-uids",
    "foo-bar",
    "my-setting",
    "extra-foo",
    "gc-keep-outputs",
    "keep-outputs",
    "env-keep-derivations",
];

const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "7",
    "64",
    "+3",
    "010",
    "-1",
    "1K",
    "12x",
    "abc",
    "true",
    "false",
    "yes",
    "no",
    "True",
    "on",
    "relaxed",
    "/etc/nix/hook.sh",
    "/a/../b//c/",
    "rel/path",
    "https://cache.nixos.org/",
    "https://a.example",
    "s3://b?region=x",
    "k1:AAAA=",
    "root",
    "alice",
    "@wheel",
    "flakes",
    "nix-command",
    "ca-derivations",
    "bogus-feature",
    "a=1",
    "a=2",
    "b=3",
    "/bin/sh=/nix/store/abc-busybox/bin/busybox",
    "kvm",
    "\"quoted",
    "ünï",
    "4294967296",
    "99999999999999999999",
];

/// Settings whose values must be booleans or integers; they mostly get
/// valid values so that most trees get past the first line.
const BOOLS: &[&str] = &[
    "substitute",
    "build-use-substitutes",
    "sandbox-fallback",
    "keep-going",
    "fallback",
    "build-fallback",
    "pure-eval",
    "restrict-eval",
    "show-trace",
    "warn-dirty",
    "gc-keep-outputs",
    "keep-outputs",
    "env-keep-derivations",
];
const INTS: &[&str] = &[
    "max-jobs",
    "build-max-jobs",
    "cores",
    "build-cores",
    "timeout",
    "build-timeout",
    "max-silent-time",
    "min-free",
    "max-free",
    "http-connections",
    "binary-caches-parallel-connections",
    "connect-timeout",
    "download-attempts",
    "tarball-ttl",
    "log-lines",
    "repeat",
    "build-poll-interval",
    "narinfo-cache-negative-ttl",
];

fn value(rng: &mut Rng, name: &str) -> String {
    if rng.chance(8) {
        return rng.pick(VALUES).to_owned();
    }
    if BOOLS.contains(&name) {
        return rng
            .pick(&["true", "false", "yes", "no", "1", "0"])
            .to_owned();
    }
    if INTS.contains(&name) {
        return rng
            .pick(&["0", "1", "7", "64", "+3", "010", "4294967295"])
            .to_owned();
    }
    if name.ends_with("sandbox") || name.ends_with("chroot") {
        return rng.pick(&["true", "false", "relaxed"]).to_owned();
    }
    if name.ends_with("hook") {
        return rng
            .pick(&["", "/etc/nix/hook.sh", "/a/../b//c/"])
            .to_owned();
    }
    rng.pick(VALUES).to_owned()
}

const SPACES: &[&str] = &[" ", "  ", "\t", " \t ", "\t\t"];

fn line(rng: &mut Rng, includes: &[String]) -> String {
    let sp = |rng: &mut Rng| rng.pick(SPACES).to_owned();
    let roll = rng.below(100);
    let mut s = String::new();
    if rng.chance(10) {
        s.push_str(&sp(rng));
    }
    match roll {
        0..=5 => s.push_str("# a comment = with # marks"),
        6..=8 => {}
        9..=14 if !includes.is_empty() => {
            let target = includes[rng.below(includes.len())].clone();
            s.push_str(&format!("include{}{target}", sp(rng)));
        }
        15..=18 => {
            let target = rng.pick(&["missing.conf", "sub", "sub/missing.conf"]);
            s.push_str(&format!("!include{}{target}", sp(rng)));
        }
        19 if rng.chance(50) => s.push_str("include missing-required.conf"),
        20 if rng.chance(50) => s.push_str(&format!(
            "{}{}{}",
            rng.pick(NAMES),
            rng.pick(&["=", " ", "= "]),
            rng.pick(VALUES)
        )),
        _ => {
            let name = rng.pick(NAMES);
            s.push_str(name);
            s.push_str(&sp(rng));
            s.push('=');
            let n = if BOOLS.contains(&name) || INTS.contains(&name) {
                1
            } else {
                rng.below(4)
            };
            for _ in 0..n {
                s.push_str(&sp(rng));
                s.push_str(&value(rng, name));
            }
            if rng.chance(15) {
                s.push_str(&sp(rng));
                s.push_str("# trailing = x");
            }
        }
    }
    if rng.chance(5) {
        s.push('\r');
    }
    s
}

/// Write a random tree: `nix.conf` plus up to three included files; a
/// file only includes files after it, so there are no cycles (real Nix
/// crashes on those).
fn write_tree(rng: &mut Rng, dir: &Path) {
    let names = ["nix.conf", "a.conf", "sub/b.conf", "c.conf"];
    let count = 1 + rng.below(names.len());
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for (i, name) in names.iter().enumerate().take(count) {
        let base = if name.starts_with("sub/") { "sub/" } else { "" };
        let includes: Vec<String> = names[i + 1..count]
            .iter()
            .map(|n| match (base, n.strip_prefix("sub/")) {
                ("sub/", Some(rest)) => rest.to_owned(),
                ("sub/", None) => format!("../{n}"),
                _ => (*n).to_owned(),
            })
            .collect();
        let lines: Vec<String> = (0..rng.below(12)).map(|_| line(rng, &includes)).collect();
        let mut text = lines.join("\n");
        if rng.chance(80) {
            text.push('\n');
        }
        std::fs::write(dir.join(name), text).unwrap();
    }
}

struct NixResult {
    settings: BTreeMap<String, String>,
    unknown: BTreeSet<String>,
    error: Option<String>,
}

fn run_nix(dir: &Path) -> NixResult {
    let out = Command::new("nix")
        .args([
            "--extra-experimental-features",
            "nix-command",
            "show-config",
            "--offline",
        ])
        .env("NIX_CONF_DIR", dir)
        .env("NIX_USER_CONF_FILES", "")
        .env("HOME", "/nonexistent")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("XDG_CONFIG_DIRS", "")
        .env_remove("NIX_CONFIG")
        .output()
        .expect("nix runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Defaults such as `builders` and `netrc-file` name the directory.
    let dir_text = dir.display().to_string();
    let settings = stdout
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_owned(), v.replace(&dir_text, "<DIR>")))
        .collect();
    let unknown = stderr
        .lines()
        .filter(|l| l.starts_with("warning: unknown setting "))
        .map(str::to_owned)
        .collect();
    let error = (!out.status.success()).then(|| {
        let prefix = format!("{}/", dir.display());
        stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or("")
            .replace(&prefix, "")
    });
    NixResult {
        settings,
        unknown,
        error,
    }
}

#[test]
fn agrees_with_real_nix_on_random_trees() {
    let Ok(version) = installed_version(Path::new("nix")) else {
        eprintln!(
            "\n!!!!!!!!!!\n!!! differential test SKIPPED: no `nix` on PATH.\n\
             !!! Install Nix (Debian: apt-get install -y nix-bin) to compare with real Nix.\n!!!!!!!!!!\n"
        );
        return;
    };
    let options = ShowOptions {
        version: version.clone(),
        network: Network::Offline,
    };
    let empty = tempfile::tempdir().unwrap();
    let baseline = run_nix(empty.path()).settings;
    let mut failures = Vec::new();
    let mut errors = 0;
    for seed in 1..=CASES {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let tmp = tempfile::tempdir().unwrap();
        write_tree(&mut rng, tmp.path());
        let nix = run_nix(tmp.path());
        let ours = show(tmp.path(), &options);
        let problem = match (&nix.error, &ours) {
            (Some(want), Err(e)) => {
                errors += 1;
                let ours = as_logged(&format!("error: {e}"));
                want.split('\'')
                    .skip(1)
                    .step_by(2)
                    .map(|f| format!("'{f}'"))
                    .find(|f| !ours.contains(f.as_str()))
                    .map(|f| format!("error lacks {f}: nix {want:?}, ours {ours:?}"))
            }
            (Some(want), Ok(_)) => Some(format!("nix failed with {want:?}, we did not")),
            (None, Err(e)) => Some(format!("we failed with {e}, nix did not")),
            (None, Ok(eff)) => {
                let mut p = None;
                for (k, v) in &eff.settings {
                    let v = &v.replace(&tmp.path().display().to_string(), "<DIR>");
                    if nix.settings.get(k) != Some(v) {
                        p = Some(format!("{k}: nix {:?}, ours {v:?}", nix.settings.get(k)));
                    }
                }
                for (k, v) in &nix.settings {
                    if baseline.get(k) != Some(v) && !eff.settings.contains_key(k) {
                        p = Some(format!("{k} = {v:?} in nix, untouched in ours"));
                    }
                }
                let unknown: BTreeSet<String> = eff
                    .warnings
                    .iter()
                    .filter(|w| w.starts_with("warning: unknown setting "))
                    .map(|w| as_logged(w))
                    .collect();
                if unknown != nix.unknown {
                    p = Some(format!("unknown: nix {:?}, ours {unknown:?}", nix.unknown));
                }
                p
            }
        };
        if let Some(p) = problem {
            let files: Vec<String> = ["nix.conf", "a.conf", "sub/b.conf", "c.conf"]
                .iter()
                .filter_map(|n| {
                    std::fs::read_to_string(tmp.path().join(n))
                        .ok()
                        .map(|t| format!("--- {n}\n{t}"))
                })
                .collect();
            failures.push(format!("seed {seed}: {p}\n{}", files.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {CASES} trees differ from nix {version}:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    // The generator must exercise both outcomes.
    assert!(
        errors > 10 && errors < CASES as usize / 2,
        "{errors} error cases"
    );
}
