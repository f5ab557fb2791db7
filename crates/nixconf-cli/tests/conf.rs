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
