//! `nixconf plan`, `apply` and `revert` as a user runs them.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn nixconf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("nixconf runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A root with accounts, and a configuration next to it.
fn setup(config: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    let config_path = dir.path().join("config.toml");
    fs::write(&config_path, config).unwrap();
    let root = root.display().to_string();
    let config_path = config_path.display().to_string();
    (dir, root, config_path)
}

fn listing(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        out.push(path.display().to_string());
        if path.is_dir() && !path.is_symlink() {
            out.extend(listing(&path));
        }
    }
    out.sort();
    out
}

const CONFIG: &str =
    "nixVersion = \"2.18.1\"\n[nix]\nnrBuildUsers = 2\n[nix.settings]\nmax-jobs = 2\n";

#[test]
fn plan_apply_plan_revert() {
    let (_dir, root, config) = setup(CONFIG);
    let before = listing(Path::new(&root));

    let out = nixconf(&["plan", "--config", &config, "--root", &root]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    assert!(plan.starts_with("build users: group nixbld (gid 30000): create\nbuild users: users nixbld1..nixbld2 (uids 30001-30002): create\n"), "{plan}");
    assert!(plan.contains("create file /etc/nix/nix.conf (mode 0644)\n    --- /dev/null\n    +++ /etc/nix/nix.conf\n"), "{plan}");
    assert!(plan.ends_with("\n12 to do, 0 up to date\n"), "{plan}");

    let out = nixconf(&["plan", "--config", &config, "--root", &root, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["up_to_date"], false);
    assert_eq!(json["actions"][0]["kind"], "external");

    let out = nixconf(&["apply", "--config", &config, "--root", &root, "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout)
        .contains("skipped: create file /etc/nix/nix.conf (mode 0644) (dry run)\n"));
    assert_eq!(listing(Path::new(&root)), before);

    let out = nixconf(&["apply", "--config", &config, "--root", &root, "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("done: create file /etc/nix/nix.conf (mode 0644)\n"));
    assert!(fs::read_to_string(format!("{root}/etc/passwd"))
        .unwrap()
        .contains(":30002:30000:Nix build user 2:/var/empty:"));

    let out = nixconf(&["plan", "--config", &config, "--root", &root]);
    assert_eq!(text(&out.stdout), "up to date\n");
    let out = nixconf(&["apply", "--config", &config, "--root", &root]);
    assert!(
        out.status.success(),
        "an up-to-date apply needs no confirmation"
    );
    assert_eq!(text(&out.stdout), "up to date\n");

    let out = nixconf(&["revert", "--root", &root]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("done: revert build users\n"));
    assert_eq!(listing(Path::new(&root)), before);
    assert_eq!(
        fs::read_to_string(format!("{root}/etc/passwd")).unwrap(),
        "root:x:0:0:root:/root:/bin/sh\n"
    );
}

#[test]
fn apply_without_yes_and_without_a_terminal_changes_nothing() {
    let (_dir, root, config) = setup(CONFIG);
    let before = listing(Path::new(&root));
    let out = nixconf(&["apply", "--config", &config, "--root", &root]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: nothing was changed: stdin is not a terminal, so nixconf cannot ask for confirmation; pass --yes to apply (`nixconf plan` shows what would change)\n"
    );
    assert_eq!(listing(Path::new(&root)), before);
}

#[test]
fn a_config_error_names_the_option_and_writes_nothing() {
    let (_dir, root, config) =
        setup("nixVersion = \"2.18.1\"\n[nix.settings]\nmax-jobs = \"many\"\n");
    let before = listing(Path::new(&root));
    let out = nixconf(&["apply", "--config", &config, "--root", &root, "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: `nix.settings.max-jobs`: "), "{err}");
    assert!(err.contains(&format!(" --> {config}:3:12\n")), "{err}");
    assert!(err.contains("\n3 | max-jobs = \"many\"\n"), "{err}");
    assert_eq!(listing(Path::new(&root)), before);
}

#[test]
fn hand_edit_needs_force_and_revert_reports_each_failure() {
    let (_dir, root, config) = setup(CONFIG);
    let out = nixconf(&["apply", "--config", &config, "--root", &root, "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let conf = format!("{root}/etc/nix/nix.conf");
    fs::write(&conf, "sandbox = false\n").unwrap();

    let out = nixconf(&["plan", "--config", &config, "--root", &root]);
    let plan = text(&out.stdout);
    assert!(plan.starts_with("conflict: file /etc/nix/nix.conf was edited by hand since nixconf wrote it; apply with force to overwrite it (a copy is kept)\n"), "{plan}");
    assert!(plan.contains("\n    -sandbox = false\n"), "{plan}");
    let out = nixconf(&["apply", "--config", &config, "--root", &root, "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(
            "error: nothing was changed, because:\n  - file /etc/nix/nix.conf was edited by hand"
        ),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(fs::read_to_string(&conf).unwrap(), "sandbox = false\n");

    // Revert leaves the edit in place, says so and fails; with --force it
    // goes through.
    let out = nixconf(&["revert", "--root", &root]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(report.contains("FAILED: revert file /etc/nix/nix.conf: /etc/nix/nix.conf was edited by hand since nixconf wrote it; left in place"), "{report}");
    assert!(report.contains("\n1 action(s) could not be reverted; they stay in the receipt, so `nixconf revert` can be run again:\n  - revert file /etc/nix/nix.conf: "), "{report}");
    let out = nixconf(&["revert", "--root", &root, "--force"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(!Path::new(&conf).exists());
    let kept =
        fs::read_to_string(format!("{root}/nix/var/nixconf/edited/etc/nix/nix.conf.1")).unwrap();
    assert_eq!(kept, "sandbox = false\n");
}

#[test]
fn lowering_nr_build_users_removes_the_users_apply_created() {
    let (dir, root, config) =
        setup("nixVersion = \"2.18.1\"\n[nix]\nnrBuildUsers = 4\n[nix.settings]\nmax-jobs = 2\n");
    let before = listing(Path::new(&root));
    let passwd_before = fs::read(format!("{root}/etc/passwd")).unwrap();
    let out = nixconf(&["apply", "--config", &config, "--root", &root, "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let smaller = dir.path().join("smaller.toml");
    fs::write(
        &smaller,
        "nixVersion = \"2.18.1\"\n[nix]\nnrBuildUsers = 2\n[nix.settings]\nmax-jobs = 2\n",
    )
    .unwrap();
    let smaller = smaller.display().to_string();
    let out = nixconf(&["users", "plan", "--config", &smaller, "--root", &root]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "group nixbld (gid 30000): up to date\n\
         users nixbld1..nixbld2 (uids 30001-30002): up to date\n\
         users nixbld3..nixbld4 (uids 30003-30004): remove, with their membership of nixbld (nixconf created them; no longer configured)\n\
         2 step(s) to apply\n"
    );
    let out = nixconf(&[
        "users", "plan", "--config", &smaller, "--root", &root, "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["removals"][1]["name"], "nixbld4");
    assert_eq!(json["steps"][0]["op"], "remove-user");

    let out = nixconf(&["apply", "--config", &smaller, "--root", &root, "--yes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let passwd = fs::read_to_string(format!("{root}/etc/passwd")).unwrap();
    assert!(
        passwd.contains(":30002:30000:Nix build user 2:"),
        "{passwd}"
    );
    assert!(!passwd.contains("nixbld3"), "{passwd}");
    let out = nixconf(&["plan", "--config", &smaller, "--root", &root]);
    assert_eq!(text(&out.stdout), "up to date\n");

    let out = nixconf(&["revert", "--root", &root]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(listing(Path::new(&root)), before);
    assert_eq!(
        fs::read(format!("{root}/etc/passwd")).unwrap(),
        passwd_before
    );
}

#[test]
fn plan_json_is_versioned_with_warnings_and_errors() {
    let (_dir, root, config) =
        setup("nixVersion = \"2.18.1\"\n[nix]\nnrBuildUsers = 2\nuseSandbox = true\n");
    let out = nixconf(&["plan", "--config", &config, "--root", &root, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(
        json["warnings"],
        serde_json::json!(["`nix.useSandbox` has been renamed to `nix.settings.sandbox`"])
    );

    // A refused configuration: exit 1, the option paths as JSON on stdout.
    let (_dir, root, config) =
        setup("nixVersion = \"2.18.1\"\n[nix]\nnrBuildUsers = \"x\"\nsettingz = 1\n");
    let out = nixconf(&["plan", "--config", &config, "--root", &root, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["error"]["option"], "nix.nrBuildUsers");
    assert_eq!(json["errors"][1]["option"], "nix.settingz");
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .ends_with(":3:16: expected a signed integer, got the string \"x\""));

    // Not one option's problem: the option path is empty.
    let (_dir, _, config) = setup(CONFIG);
    let out = nixconf(&[
        "plan",
        "--config",
        &config,
        "--root",
        "/nonexistent/root",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json["error"]["option"], "");
}

/// An error with stderr closed, full (`/dev/full`) or a pipe nobody reads
/// exits 1, never 101 (a panic); a closed stdout still exits 0.
#[test]
fn closed_or_broken_stderr_exits_1_not_a_panic() {
    let missing = tempfile::tempdir().unwrap();
    let root = missing.path().display().to_string();
    let bin = env!("CARGO_BIN_EXE_nixconf");
    for redirect in ["2>&-", "2>/dev/full"] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("\"$0\" revert --root \"$1\" {redirect}"))
            .arg(bin)
            .arg(&root)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{redirect}: {}",
            text(&out.stderr)
        );
    }
    let mut child = Command::new(bin)
        .args(["revert", "--root", &root])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(1));
    // Success with a closed stdout and stderr.
    let out = Command::new("sh")
        .arg("-c")
        .arg("\"$0\" compare-versions 1 2 >&- 2>&-")
        .arg(bin)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// A plan that apply would refuse exits 1 (the plan is still printed);
/// an applicable one exits 0.
#[test]
fn plan_exits_1_when_apply_would_refuse() {
    let (_dir, root, config) = setup(CONFIG);
    let out = nixconf(&["plan", "--config", &config, "--root", &root]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    fs::create_dir_all(Path::new(&root).join("etc/nix/nix.conf")).unwrap();
    for json in [false, true] {
        let mut args = vec!["plan", "--config", &config, "--root", &root];
        if json {
            args.push("--json");
        }
        let out = nixconf(&args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("exists and is not a"),
            "the refused action is printed: {stdout}"
        );
    }
}

/// The plan says what made the installation; a NixOS root, which manages
/// its Nix itself, is refused before anything else.
#[test]
fn plan_names_the_installer_and_refuses_nixos() {
    let (_dir, root, config) = setup(CONFIG);
    let r = Path::new(&root);
    fs::create_dir_all(r.join("var/lib/dpkg/info")).unwrap();
    fs::write(
        r.join("var/lib/dpkg/info/nix-setup-systemd.list"),
        "/etc/nix/nix.conf\n",
    )
    .unwrap();
    let out = nixconf(&["plan", "--config", &config, "--root", &root]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "note: this Nix installation was made by Debian's nix-setup-systemd package \
         (/var/lib/dpkg/info/nix-setup-systemd.list)\n"
    );
    let out = nixconf(&["plan", "--config", &config, "--root", &root, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["installer"]["name"],
        "Debian's nix-setup-systemd package"
    );

    fs::write(r.join("etc/NIXOS"), "").unwrap();
    for args in [
        vec!["plan", "--config", &config, "--root", &root],
        vec!["apply", "--config", &config, "--root", &root, "--yes"],
    ] {
        let out = nixconf(&args);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("error: this root is NixOS (/etc/NIXOS)"),
            "{}",
            text(&out.stderr)
        );
    }
    let out = nixconf(&["plan", "--config", &config, "--root", &root, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("this root is NixOS"));
}

/// `--generation` and `--nixos` on plan, apply and users plan: the
/// generation changes what is planned; a wrong one is refused.
#[test]
fn generation_and_nixos_flags_on_plan_apply_and_users_plan() {
    let (_dir, root, config) = setup(CONFIG);
    let diff = |generation: &str| {
        let out = nixconf(&[
            "plan",
            "--config",
            &config,
            "--root",
            &root,
            "--generation",
            generation,
            "--nixos",
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    // 2023 writes `LimitNOFILE`, 2026 leaves it to the upstream unit.
    assert!(diff("2023").contains("+LimitNOFILE=1048576\n"));
    assert!(!diff("2026").contains("LimitNOFILE"));

    let out = nixconf(&[
        "apply",
        "--config",
        &config,
        "--root",
        &root,
        "--dry-run",
        "--generation",
        "2023",
        "--nixos",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = nixconf(&[
        "users",
        "plan",
        "--config",
        &config,
        "--root",
        &root,
        "--generation",
        "2026",
        "--nixos",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = nixconf(&[
        "plan",
        "--config",
        &config,
        "--root",
        &root,
        "--generation",
        "2020",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no module generation \"2020\""),
        "{}",
        text(&out.stderr)
    );
}

/// The README's quick start: the example configuration plans on the
/// example root (exit 0, build users and nix.conf to create).
#[test]
fn the_readme_quick_start_plans() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .args([
            "plan",
            "--config",
            "examples/nixconf.toml",
            "--root",
            "examples/debian-root",
        ])
        .current_dir(&workspace)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    assert!(
        plan.starts_with("build users: group nixbld (gid 30000): create\n"),
        "{plan}"
    );
    assert!(
        plan.contains("create file /etc/nix/nix.conf (mode 0644)\n"),
        "{plan}"
    );
}

/// Off NixOS, the installed nix.conf says nixconf made it; `--nixos`
/// keeps NixOS's header byte for byte; `eval` shows NixOS's either way.
#[test]
fn the_installed_nix_conf_says_nixconf_made_it_unless_nixos() {
    let (dir, root, config) = setup(CONFIG);
    let out = nixconf(&["apply", "--yes", "--config", &config, "--root", &root]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let conf = fs::read_to_string(Path::new(&root).join("etc/nix/nix.conf")).unwrap();
    assert!(
        conf.starts_with(
            "# WARNING: this file is generated by nixconf from the nix.* options of\n\
             # its configuration.  Do not edit it: change the configuration and run\n\
             # `nixconf apply` (`nixconf explain SETTING` tells where a value comes from).\n\
             allowed-users = *\n"
        ),
        "{conf}"
    );
    let nixos_header = "# WARNING: this file is generated from the nix.* options in\n\
                        # your NixOS configuration, typically\n\
                        # /etc/nixos/configuration.nix.  Do not edit it!\n";
    let eval = nixconf(&["eval", "--config", &config, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert!(json["nixConf"].as_str().unwrap().starts_with(nixos_header));

    let other = dir.path().join("nixos-root");
    fs::create_dir_all(other.join("etc")).unwrap();
    fs::write(other.join("etc/group"), "root:x:0:\n").unwrap();
    fs::write(other.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    let other = other.display().to_string();
    let out = nixconf(&[
        "apply", "--yes", "--nixos", "--config", &config, "--root", &other,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let conf = fs::read_to_string(Path::new(&other).join("etc/nix/nix.conf")).unwrap();
    assert_eq!(conf, json["nixConf"].as_str().unwrap());
}
