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

/// A nix.conf holding a token is private; the configuration written from
/// it is just as private, whatever the umask.
#[test]
fn import_writes_no_more_readable_than_what_it_read() {
    let root = root_with("access-tokens = github.com=ghp_secret\n", 0o600);
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("nixconf.toml");
    let run = Command::new(env!("CARGO_BIN_EXE_nixconf"))
        .args(["import", "--nix-version", "2.8.0", "--root"])
        .arg(root.path())
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.stdout.is_empty());
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
