//! `nixconf conf show` beside the real `nix show-config`.

use std::path::Path;
use std::process::Command;

/// `max-jobs = auto` counts the machine's online CPUs as Nix does, not the
/// CPUs the process may run on: under `taskset -c 0` on a machine with
/// more CPUs, both still print the machine's count.
#[test]
fn max_jobs_auto_counts_online_cpus_under_an_affinity_mask() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nix.conf"), "max-jobs = auto\n").unwrap();
    let conf_dir = dir.path().to_str().unwrap();
    let ours = Command::new("taskset")
        .args(["-c", "0", env!("CARGO_BIN_EXE_nixconf")])
        .args([
            "conf",
            "show",
            "--conf-dir",
            conf_dir,
            "--nix-version",
            "2.8.0",
            "--json",
        ])
        .output();
    let Ok(ours) = ours else {
        eprintln!("\n*** SKIPPED: taskset is not installed (util-linux); max-jobs = auto NOT tested ***\n");
        return;
    };
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
    let ours = json["settings"]["max-jobs"].as_str().unwrap().to_owned();

    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    let count: usize = online
        .trim()
        .split(',')
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
            None => 1,
        })
        .sum();
    assert_eq!(ours, count.to_string());

    if !Path::new("/usr/bin/nix").exists() {
        eprintln!("\n*** SKIPPED: real Nix is not installed at /usr/bin/nix; max-jobs = auto NOT compared with Nix ***\n");
        return;
    }
    let nix = Command::new("taskset")
        .args([
            "-c",
            "0",
            "/usr/bin/nix",
            "--extra-experimental-features",
            "nix-command",
            "show-config",
        ])
        .env("NIX_CONF_DIR", conf_dir)
        .env("NIX_USER_CONF_FILES", "")
        .env_remove("NIX_CONFIG")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&nix.stdout);
    let theirs = text
        .lines()
        .find_map(|l| l.strip_prefix("max-jobs = "))
        .unwrap_or_else(|| panic!("nix show-config printed no max-jobs: {text}"));
    assert_eq!(ours, theirs);
}

fn show(dir: &Path, extra: &[&str], env_dir: Option<&Path>) -> serde_json::Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nixconf"));
    cmd.args(["conf", "show", "--nix-version", "2.8.0", "--json"])
        .args(extra);
    match env_dir {
        Some(d) => cmd.env("NIX_CONF_DIR", d),
        None => cmd.arg("--conf-dir").arg(dir).env_remove("NIX_CONF_DIR"),
    };
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// By default `conf show` prints what `nix show-config` prints on a host
/// with network; `--offline` forces what an offline `nix` forces, as the
/// conformance corpus was recorded.
#[test]
fn conf_show_is_online_unless_told_offline() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nix.conf"),
        "substitute = true\nconnect-timeout = 5\n",
    )
    .unwrap();
    let online = show(dir.path(), &[], None);
    assert_eq!(online["settings"]["substitute"], "true");
    assert_eq!(online["settings"]["connect-timeout"], "5");
    let offline = show(dir.path(), &["--offline"], None);
    assert_eq!(offline["settings"]["substitute"], "false");
    assert_eq!(offline["settings"]["connect-timeout"], "1");
}

/// Without `--conf-dir`, the directory is `$NIX_CONF_DIR`, as Nix's.
#[test]
fn conf_show_reads_nix_conf_dir_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nix.conf"), "cores = 3\n").unwrap();
    let got = show(dir.path(), &[], Some(dir.path()));
    assert_eq!(got["settings"]["cores"], "3");
}

/// `conf check` prints rustc-style diagnostics whose columns count
/// characters: a tab-indented line shows the tab as four spaces with the
/// caret under the name, and a non-ASCII name moves the column by
/// characters, not bytes. Each value's caret is as wide as its characters.
#[test]
fn conf_check_columns_are_characters_and_tabs_show_as_four_spaces() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nix.conf");
    std::fs::write(&file, "\tsubstituter = https://x\nnäme 7\ncores = ünf\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .args(["conf", "check", "--nix-version", "2.8.0"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let f = file.display();
    let expected = format!(
        "warning: unknown setting 'substituter'\n \
         --> {f}:1:2\n  \
           |\n\
         1 |     substituter = https://x\n  \
           |     ^^^^^^^^^^^\n  \
           = help: did you mean `substituters`?\n\n\
         error: illegal configuration line 'näme 7' in '{f}'\n \
         --> {f}:2:6\n  \
           |\n\
         2 | näme 7\n  \
           |      ^\n  \
           = help: `=` must stand alone, with whitespace on both sides: `name = value`\n\n\
         error: setting 'cores' has invalid value 'ünf'\n \
         --> {f}:3:9\n  \
           |\n\
         3 | cores = ünf\n  \
           |         ^^^\n\n\
         {f}: 2 error(s), 1 warning(s) for Nix 2.8.0\n"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}
