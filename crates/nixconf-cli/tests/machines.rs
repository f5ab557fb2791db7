//! `nixconf machines …` end to end, through the real binary.

use std::path::Path;
use std::process::{Command, Output};

fn nixconf(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .arg("machines")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const MODULE_FILE: &str =
    "ssh://nix@b1 x86_64-linux,aarch64-linux /etc/nix/id 8 2 kvm,big-parallel big-parallel -\n\
# a comment\n\
\n\
b2 i686-linux - 1 1 - - -\n";

#[test]
fn parse_json_then_render_gives_the_file_back() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("machines"), MODULE_FILE).unwrap();
    let out = nixconf(
        dir.path(),
        &["parse", "machines", "--nix-version", "2.24.9", "--json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(dir.path().join("m.json"), stdout(&out)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["machines"][1]["nix"]["storeUri"], "ssh://b2");
    assert_eq!(json["machines"][0]["nix"]["speedFactor"], 2.0);
    let out = nixconf(dir.path(), &["render", "m.json", "--nix-version", "2.24.9"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), MODULE_FILE);
    // The same machines for build-remote.pl.
    let out = nixconf(dir.path(), &["render", "m.json", "--legacy"]);
    assert_eq!(
        stdout(&out),
        "nix@b1 x86_64-linux,aarch64-linux /etc/nix/id 8 2 kvm,big-parallel big-parallel\n# a comment\n\nb2 i686-linux  1 1  \n"
    );
}

#[test]
fn parse_prints_what_nix_sees() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("machines"), MODULE_FILE).unwrap();
    let out = nixconf(
        dir.path(),
        &["parse", "machines", "--nix-version", "2.24.9"],
    );
    assert_eq!(
        stdout(&out),
        "machines:1: ssh://nix@b1 systems=aarch64-linux,x86_64-linux maxJobs=8 speedFactor=2 supported=big-parallel,kvm mandatory=big-parallel sshKey=/etc/nix/id hostKey=-\n\
         machines:4: ssh://b2 systems=i686-linux maxJobs=1 speedFactor=1 supported=- mandatory=- sshKey=- hostKey=-\n"
    );
}

#[test]
fn parse_errors_show_every_bad_line_with_a_caret_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("machines"),
        "ssh://a x - eight\nok x\n- x\n",
    )
    .unwrap();
    let out = nixconf(dir.path(), &["parse", "machines", "--nix-version", "2.8.0"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: bad machine specification: failed to convert column #3 in a row: 'ssh://a x - eight' to 'unsigned int'\n \
         --> machines:1:1\n  \
           |\n\
         1 | ssh://a x - eight\n  \
           | ^^^^^^^^^^^^^^^^^\n  \
           = help: column #3 must be a whole number; an empty column is written '-' (leaving it out shifts every later column)\n\
         \n\
         error: bad machine specification: store URL was not found at the first column of a row: '- x'\n \
         --> machines:3:1\n  \
           |\n\
         3 | - x\n  \
           | ^^^\n  \
           = help: an entry starts with the store URI of the machine, such as ssh://nix@builder\n"
    );
}

#[test]
fn check_reports_lints_with_fixes_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("machines"),
        "ssh-ng://b x86_64-linux /nix/store/abc-id 0 1.5\n",
    )
    .unwrap();
    // Nix 2.3 reads 1.5 with stoull, as 1: accepted, but a lint.
    let out = nixconf(
        dir.path(),
        &["check", "machines", "--nix-version", "2.3.16"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("warning[float-speed-factor]: speed factor '1.5' is fractional, which Nix reads only from 2.20, and Nix 2.3.16 reads '1.5' as 1"), "{}", stdout(&out));
    // Nix 2.8 refuses it, with its own message.
    let out = nixconf(dir.path(), &["check", "machines", "--nix-version", "2.8.0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: bad machine specification: failed to convert column #4")
            && stderr(&out).contains(" --> machines:1:1\n"),
        "{}",
        stderr(&out)
    );
    std::fs::write(
        dir.path().join("machines"),
        "ssh-ng://b x86_64-linux /nix/store/abc-id 0 1\n",
    )
    .unwrap();
    let out = nixconf(
        dir.path(),
        &["check", "machines", "--nix-version", "2.3.16"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for kind in ["no-job-slots", "key-in-store", "protocol-too-new"] {
        assert!(
            text.contains(&format!("warning[{kind}]")),
            "{kind} in {text}"
        );
    }
    assert!(
        text.ends_with("1 machine(s), 3 warning(s) for Nix 2.3.16\n"),
        "{text}"
    );
    std::fs::write(dir.path().join("machines"), MODULE_FILE).unwrap();
    let out = nixconf(dir.path(), &["check", "machines"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn which_lists_eligible_machines_and_why_not_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("machines"), MODULE_FILE).unwrap();
    let out = nixconf(
        dir.path(),
        &[
            "which",
            "--system",
            "x86_64-linux",
            "--feature",
            "big-parallel",
            "machines",
        ],
    );
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        "machines:1: ssh://nix@b1\n# machines:4: ssh://b2: system x86_64-linux is not one of its systems (i686-linux); required feature big-parallel is not supported\n"
    );
    let out = nixconf(
        dir.path(),
        &["which", "--system", "riscv64-linux", "machines"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("# no machine may build a riscv64-linux derivation"));
}

#[test]
fn relative_references_start_from_cwd_option() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("machines"), "@more\n").unwrap();
    std::fs::write(dir.path().join("more"), "ssh://m x86_64-linux\n").unwrap();
    // By default from `/`, as the build hook reads them.
    let out = nixconf(dir.path(), &["parse", "machines"]);
    assert_eq!(
        stdout(&out),
        "machines:1: note: @more does not exist; Nix skips it\n"
    );
    let out = nixconf(dir.path(), &["parse", "machines", "--cwd", "."]);
    assert!(
        stdout(&out).starts_with("more:1: ssh://m systems=x86_64-linux"),
        "{}",
        stdout(&out)
    );
}
