//! What made a Nix installation, told from what it left behind.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use nixconf_format::NixVersion;

/// What installed Nix on a root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Installer {
    /// NixOS (`/etc/NIXOS`): it manages its own Nix.
    NixOs,
    /// nix-darwin (`/run/current-system/darwin-version`): it manages its
    /// own Nix.
    NixDarwin,
    /// Debian's or Ubuntu's `nix-setup-systemd` package: dpkg owns
    /// `/etc/nix/nix.conf` as a conffile; the daemon socket belongs to the
    /// `nix-users` group.
    Debian,
    /// Fedora's `nix` packages.
    Fedora,
    /// Arch Linux's `nix` package.
    Arch,
    /// The upstream multi-user install script (`install --daemon`).
    UpstreamScript,
    /// DeterminateSystems' nix-installer, installing upstream Nix
    /// (`/nix/receipt.json`, `!include nix.custom.conf`).
    NixInstaller,
    /// NixOS's fork of nix-installer.
    NixOsNixInstaller,
    /// Determinate Nix: `determinate-nixd` owns `/etc/nix/nix.conf`; only
    /// `/etc/nix/nix.custom.conf` is the administrator's.
    DeterminateNix,
    /// The Lix installer.
    Lix,
    /// Nothing known: a hand-made installation.
    Unknown,
}

impl Installer {
    /// Why nixconf must not manage this installation, if it must not.
    pub fn refusal(self) -> Option<&'static str> {
        match self {
            Installer::NixOs => Some(
                "this root is NixOS (/etc/NIXOS): NixOS manages its Nix itself; \
                 put the configuration in your NixOS configuration instead",
            ),
            Installer::NixDarwin => Some(
                "this root is managed by nix-darwin (/run/current-system/darwin-version): \
                 put the configuration in your nix-darwin configuration instead",
            ),
            _ => None,
        }
    }
}

impl fmt::Display for Installer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Installer::NixOs => "NixOS",
            Installer::NixDarwin => "nix-darwin",
            Installer::Debian => "Debian's nix-setup-systemd package",
            Installer::Fedora => "Fedora's nix package",
            Installer::Arch => "Arch Linux's nix package",
            Installer::UpstreamScript => "the upstream multi-user install script",
            Installer::NixInstaller => "DeterminateSystems' nix-installer (upstream Nix)",
            Installer::NixOsNixInstaller => "NixOS's nix-installer",
            Installer::DeterminateNix => "Determinate Nix (determinate-nixd)",
            Installer::Lix => "the Lix installer",
            Installer::Unknown => "an unknown installer (hand-made installation)",
        })
    }
}

/// What [`detect`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detection {
    /// What made the installation.
    pub installer: Installer,
    /// The files that tell, relative to the root (`/etc/NIXOS`, ...).
    pub evidence: Vec<String>,
    /// The version of the Nix installed on the root, if it can be told
    /// without running anything, and where it was read.
    pub nix_version: Option<(NixVersion, String)>,
}

/// Tell what made the Nix installation under `root`, and which Nix it
/// installed, from the files each installer leaves behind. Nothing is
/// run and nothing outside the root is read.
pub fn detect(root: &Path) -> Detection {
    let at = |rel: &str| root.join(rel);
    let exists = |rel: &str| at(rel).symlink_metadata().is_ok();
    let read = |rel: &str| std::fs::read_to_string(at(rel)).ok();
    let mut evidence = Vec::new();
    let mut found = |installer: Installer, files: &[&str]| {
        evidence.extend(files.iter().map(|f| format!("/{f}")));
        installer
    };

    let receipt = read("nix/receipt.json");
    let nix_conf = read("etc/nix/nix.conf").unwrap_or_default();
    let installer = if exists("etc/NIXOS") {
        found(Installer::NixOs, &["etc/NIXOS"])
    } else if exists("run/current-system/darwin-version") {
        found(Installer::NixDarwin, &["run/current-system/darwin-version"])
    } else if let Some(receipt) = &receipt {
        // nix-installer and its forks write a receipt; the distribution
        // it installed and the header of the nix.conf it wrote tell which.
        let lower = receipt.to_ascii_lowercase();
        if lower.contains("\"distribution\": \"determinatenix\"")
            || lower.contains("\"distribution\":\"determinatenix\"")
            || exists("usr/local/bin/determinate-nixd")
        {
            found(Installer::DeterminateNix, &["nix/receipt.json"])
        } else if lower.contains("lix") {
            found(Installer::Lix, &["nix/receipt.json"])
        } else if nix_conf.contains("github.com/NixOS/nix-installer") {
            found(
                Installer::NixOsNixInstaller,
                &["nix/receipt.json", "etc/nix/nix.conf"],
            )
        } else {
            found(Installer::NixInstaller, &["nix/receipt.json"])
        }
    } else if exists("var/lib/dpkg/info/nix-setup-systemd.list") {
        found(
            Installer::Debian,
            &["var/lib/dpkg/info/nix-setup-systemd.list"],
        )
    } else if let Some(dir) = pacman_nix_dir(root) {
        let rel = format!("var/lib/pacman/local/{dir}");
        evidence.push(format!("/{rel}"));
        Installer::Arch
    } else if exists("etc/fedora-release")
        && (exists("usr/lib/systemd/system/nix-daemon.service") || exists("usr/bin/nix"))
    {
        found(
            Installer::Fedora,
            &[
                "etc/fedora-release",
                "usr/lib/systemd/system/nix-daemon.service",
            ],
        )
    } else if let Some(backup) = [
        "etc/bashrc.backup-before-nix",
        "etc/bash.bashrc.backup-before-nix",
        "etc/profile.d/nix.sh.backup-before-nix",
        "etc/zshrc.backup-before-nix",
    ]
    .into_iter()
    .find(|f| exists(f))
    {
        found(Installer::UpstreamScript, &[backup])
    } else {
        Installer::Unknown
    };

    Detection {
        installer,
        evidence,
        nix_version: installed_nix_version(root),
    }
}

/// `nix-<version>` under pacman's database of installed packages.
fn pacman_nix_dir(root: &Path) -> Option<String> {
    std::fs::read_dir(root.join("var/lib/pacman/local"))
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|name| {
            name.strip_prefix("nix-")
                .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        })
}

/// The installed Nix's version, read from package databases or from the
/// store path the default profile's `nix` leads to.
fn installed_nix_version(root: &Path) -> Option<(NixVersion, String)> {
    if let Some(v) = nixconf_format::dpkg_version(root, "nix-bin") {
        return Some((v, "/var/lib/dpkg/status (nix-bin)".to_owned()));
    }
    if let Some(dir) = pacman_nix_dir(root) {
        // `nix-2.18.1-1`: the package release follows the last dash.
        let full = dir.trim_start_matches("nix-");
        let version = full.rsplit_once('-').map_or(full, |(v, _)| v);
        if let Ok(v) = version.parse() {
            return Some((v, format!("/var/lib/pacman/local/{dir}")));
        }
    }
    for profile in [
        "nix/var/nix/profiles/default/bin/nix",
        "root/.nix-profile/bin/nix",
    ] {
        if let Some(store_path) = resolve_in_root(root, profile) {
            if let Some(v) = nixconf_format::store_path_version(&store_path) {
                return Some((v, format!("/{profile} -> {}", store_path.display())));
            }
        }
    }
    None
}

/// Follow the symlinks of `rel` inside `root` (absolute targets taken as
/// under the root), up to 40 of them, and give the absolute path (as seen
/// from inside the root) it ends at.
fn resolve_in_root(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut pending: Vec<String> = rel.split('/').rev().map(str::to_owned).collect();
    let mut inside = PathBuf::from("/");
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        match part.as_str() {
            "" | "." => continue,
            ".." => {
                inside.pop();
                continue;
            }
            _ => {}
        }
        let candidate = inside.join(&part);
        let on_disk = root.join(candidate.strip_prefix("/").ok()?);
        match std::fs::read_link(&on_disk) {
            Ok(target) => {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                if target.is_absolute() {
                    inside = PathBuf::from("/");
                }
                let parts: Vec<String> = target
                    .components()
                    .filter_map(|c| match c {
                        Component::Normal(p) => Some(p.to_string_lossy().into_owned()),
                        Component::ParentDir => Some("..".to_owned()),
                        _ => None,
                    })
                    .collect();
                pending.extend(parts.into_iter().rev());
            }
            Err(_) => inside = candidate,
        }
    }
    Some(inside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_path_versions() {
        let v = |p: &str| nixconf_format::store_path_version(Path::new(p)).map(|v| v.to_string());
        assert_eq!(
            v("/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nix-2.18.1/bin/nix").as_deref(),
            Some("2.18.1")
        );
        assert_eq!(v("/nix/store/0123-user-environment/bin/nix"), None);
        assert_eq!(v("/usr/bin/nix"), None);
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("nix/var/nix/profiles")).unwrap();
        std::fs::create_dir_all(r.join("nix/store/aaaa-env/bin")).unwrap();
        std::fs::create_dir_all(r.join("nix/store/bbbb-nix-2.24.9/bin")).unwrap();
        std::os::unix::fs::symlink("default-1-link", r.join("nix/var/nix/profiles/default"))
            .unwrap();
        std::os::unix::fs::symlink(
            "/nix/store/aaaa-env",
            r.join("nix/var/nix/profiles/default-1-link"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            "/nix/store/bbbb-nix-2.24.9/bin/nix",
            r.join("nix/store/aaaa-env/bin/nix"),
        )
        .unwrap();
        let d = detect(r);
        assert_eq!(d.installer, Installer::Unknown);
        let (v, from) = d.nix_version.unwrap();
        assert_eq!(v.to_string(), "2.24.9");
        assert_eq!(
            from,
            "/nix/var/nix/profiles/default/bin/nix -> /nix/store/bbbb-nix-2.24.9/bin/nix"
        );
    }
}
