//! `nixconf import` as a user runs it.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn root_with(conf: &str, mode: u32) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc/nix");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(etc.join("nix.conf"), conf).unwrap();
    std::fs::set_permissions(etc.join("nix.conf"), std::fs::Permissions::from_mode(mode)).unwrap();
    root
}

/// `nixconf import --nix-version VERSION --root ROOT -o OUT`, which must
/// succeed and print nothing.
fn import_to(root: &std::path::Path, version: &str, out: &std::path::Path) {
    let run = Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .args(["import", "--nix-version", version, "--root"])
        .arg(root)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.stdout.is_empty());
}

/// A nix.conf holding a token is private; the configuration written from
/// it is just as private, whatever the umask.
#[test]
fn import_writes_no_more_readable_than_what_it_read() {
    let root = root_with("access-tokens = github.com=ghp_secret\n", 0o600);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("nixconf.toml");
    import_to(root.path(), "2.8.0", &out);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("\n[nix.settings]\naccess-tokens = [\"github.com=ghp_secret\"]\n"),
        "{text}"
    );
}

/// NixOS manages its own Nix: the import refuses, exit status 1.
#[test]
fn import_refuses_nixos() {
    let root = root_with("build-users-group = nixbld\n", 0o644);
    std::fs::write(root.path().join("etc/NIXOS"), "").unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .args(["import", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        "error: this root is NixOS (/etc/NIXOS): NixOS manages its Nix itself; \
         put the configuration in your NixOS configuration instead\n"
    );
}

/// The first import makes the configuration's directory (as
/// `/etc/nixconf` for the default `--config`), and plan reads the file.
#[test]
fn import_makes_the_configuration_directory_and_plan_reads_it() {
    let root = root_with("max-jobs = 3\n", 0o644);
    let etc = tempfile::tempdir().unwrap();
    let out = etc.path().join("nixconf/nixconf.toml");
    import_to(root.path(), "2.18.1", &out);
    let dir_mode = std::fs::metadata(out.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o755);
    let eval = Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .args(["eval", "--json", "--config"])
        .arg(&out)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert_eq!(json["settings"]["max-jobs"], 3);
}

/// Without `--config`, the commands read /etc/nixconf/nixconf.toml; when
/// there is none (as on this test machine), they say how to make one.
#[test]
fn a_missing_default_configuration_is_refused_with_the_fix() {
    if std::path::Path::new("/etc/nixconf/nixconf.toml").exists() {
        eprintln!("SKIPPED: this machine has /etc/nixconf/nixconf.toml");
        return;
    }
    for args in [
        &["eval"][..],
        &["plan", "--root", "/nonexistent"],
        &["users", "plan"],
    ] {
        let run = Command::new(env!("CARGO_BIN_EXE_nixconf"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(1), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&run.stderr),
            "error: no configuration at /etc/nixconf/nixconf.toml (the default of --config)\n  \
             = help: `nixconf import -o /etc/nixconf/nixconf.toml` writes one that keeps the \
             installation as it is; or pass --config FILE\n",
            "{args:?}"
        );
    }
}
