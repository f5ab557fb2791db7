//! `fixtures/import/<case>/`: an installation left behind by an installer
//! or a distribution package, imported with `nixconf import`.
//!
//! A case holds:
//! - `before/` and `before.setup`: the root, as in `fixtures/activation`.
//! - `nix-version` (optional): the version given as `--nix-version`, for
//!   roots whose package database nixconf cannot read (RPM's SQLite).
//! - `error.txt` instead of everything below when the import is refused.
//! - `config.toml`: the configuration the import writes (the temporary
//!   root's path written as `ROOT`).
//! - `import.txt`: what the import says: the installer and its evidence,
//!   the Nix version and where it was read, the notes, and the settings
//!   the NixOS module changes.
//! - `lint.txt`: what `nixconf lint` finds on the installation as it was
//!   left (capacity judged for 4 CPUs).
//! - `plan.txt`: the plan of the imported configuration against the root.
//!
//! When the plan has no refusals, the imported configuration is applied,
//! planned again (up to date) and reverted: the root must be as before,
//! byte for byte.
//!
//! Run by `cargo test -p nixconf-cli --test fixtures` and by `cargo xtask
//! test-fixtures`, which includes this file.
#![allow(dead_code)]

use std::path::Path;

use nixconf_import::{import, ImportOptions};

use super::activation::capture;
use super::install::{installation, revert_to};
use nixconf_fixtures::support::{expect_text, materialize, scratch};
use nixconf_fixtures::Kind;

/// `fixtures/import`.
pub const KIND: Kind = Kind {
    dir: "import",
    vendored: false,
    check,
    pending: None,
};

pub fn check(dir: &Path, update: bool) -> Result<(), String> {
    let scratch = scratch()?;
    let root = scratch.path().join("root");
    materialize(dir, &root)?;
    let before = capture(&root)?;
    let root_text = root.display().to_string();
    let mut options = ImportOptions::default();
    let version_file = dir.join("nix-version");
    if version_file.exists() {
        let text = std::fs::read_to_string(&version_file)
            .map_err(|e| format!("{}: {e}", version_file.display()))?;
        options.nix_version = Some(
            text.trim()
                .parse()
                .map_err(|e| format!("nix-version: {e}"))?,
        );
    }
    let imported = match import(&root, &options) {
        Ok(i) => i,
        Err(e) => {
            let message = e.to_string().replace(&root_text, "ROOT");
            return expect_text(&dir.join("error.txt"), &format!("{message}\n"), update);
        }
    };
    if dir.join("error.txt").exists() {
        return Err("error.txt exists but the import succeeded".into());
    }
    let config = imported.config.replace(&root_text, "ROOT");
    expect_text(&dir.join("config.toml"), &config, update)?;
    let mut said = format!(
        "installer: {}\nevidence: {}\nnix version: {} (from {})\nmode: {:o}\n",
        imported.detection.installer,
        imported.detection.evidence.join(" "),
        imported.nix_version.0,
        imported.nix_version.1,
        imported.mode,
    );
    for note in &imported.notes {
        said.push_str(&format!("note: {note}\n"));
    }
    for c in &imported.module_changes {
        said.push_str(&format!(
            "module sets {}: {:?} -> {:?}\n",
            c.setting, c.before, c.after
        ));
    }
    expect_text(&dir.join("import.txt"), &said, update)?;
    same_for_real_nix(&root, &imported, scratch.path())?;

    // What `nixconf lint` finds on the installation as it was left.
    let host = nixconf_lint::Host {
        cpus: 4,
        uid_min: 1000,
    };
    let findings: String = nixconf_lint::lint_root(&root, Some(&imported.nix_version.0), &host)
        .iter()
        .map(|f| format!("{f}\n"))
        .collect();
    expect_text(
        &dir.join("lint.txt"),
        &findings.replace(&root_text, "ROOT"),
        update,
    )?;

    // The imported configuration, planned and applied on the same root.
    let config_path = scratch.path().join("config.toml");
    std::fs::write(&config_path, &imported.config).map_err(|e| e.to_string())?;
    let inst = installation(&config_path, &root)?;
    let planned = nixconf_activation::plan(&root, &inst, &Default::default())
        .map_err(|e| format!("plan: {e}"))?;
    expect_text(&dir.join("plan.txt"), &planned.describe(), update)?;
    if !planned.problems(false).is_empty() {
        return Ok(());
    }
    let report = nixconf_activation::apply(&root, &inst, &Default::default())
        .map_err(|e| format!("apply: {e}"))?;
    if !report.is_success() {
        return Err(format!("apply failed: {}", report.failures().join("; ")));
    }
    let inst = installation(&config_path, &root)?;
    let again = nixconf_activation::plan(&root, &inst, &Default::default())
        .map_err(|e| format!("plan: {e}"))?;
    if !again.is_up_to_date() {
        return Err(format!(
            "after apply, the plan is not up to date:\n{}",
            again.describe()
        ));
    }
    revert_to(&root, &before, false, "revert")
}

/// The proof the import promises: real Nix reads the nix.conf rendered
/// from the imported configuration as it read the installed one, except
/// for the settings the import lists as the module's. Skipped (loudly,
/// once) without `/usr/bin/nix`.
fn same_for_real_nix(
    root: &Path,
    imported: &nixconf_import::Import,
    scratch: &Path,
) -> Result<(), String> {
    if !Path::new("/usr/bin/nix").exists() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            eprintln!("\n*** SKIPPED: real Nix is not installed at /usr/bin/nix; imports NOT compared with `nix show-config` ***\n");
        });
        return Ok(());
    }
    let Ok(evaluation) = nixconf_options::evaluate(
        &imported.config,
        nixconf_options::Format::Toml,
        "config.toml",
    ) else {
        return Err("the imported configuration does not evaluate".into());
    };
    let Some(rendered) = &evaluation.nix_conf else {
        return Ok(());
    };
    let installed = root.join("etc/nix");
    let after = scratch.join("after-etc-nix");
    std::fs::create_dir_all(&after).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(&installed).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        if entry.path().is_file() {
            std::fs::copy(entry.path(), after.join(entry.file_name()))
                .map_err(|e| e.to_string())?;
        }
    }
    std::fs::write(after.join("nix.conf"), rendered).map_err(|e| e.to_string())?;
    let before = show_config(&installed)?;
    let after = show_config(&after)?;
    let mut differing: Vec<(String, Option<String>)> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| (k.clone(), after.get(k).cloned()))
        .collect();
    differing.sort();
    differing.dedup();
    let listed: Vec<(String, Option<String>)> = imported
        .module_changes
        .iter()
        .map(|c| (c.setting.clone(), c.after.clone()))
        .collect();
    if differing != listed {
        return Err(format!(
            "real Nix reads the rendered nix.conf differently from what the import lists: nix: {differing:?} / import: {listed:?}"
        ));
    }
    Ok(())
}

/// `nix show-config` for a configuration directory, as a map.
fn show_config(dir: &Path) -> Result<std::collections::BTreeMap<String, String>, String> {
    let out = std::process::Command::new("/usr/bin/nix")
        .args([
            "--extra-experimental-features",
            "nix-command",
            "show-config",
        ])
        .env("NIX_CONF_DIR", dir)
        .env("NIX_USER_CONF_FILES", "")
        .env("HOME", "/nonexistent")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("XDG_CONFIG_DIRS", "")
        .env_remove("NIX_CONFIG")
        .output()
        .map_err(|e| format!("cannot run nix: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "nix show-config failed for {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // Defaults under the configuration directory (`builders`,
    // `netrc-file`) name it: as on the host, /etc/nix.
    let dir = dir.display().to_string();
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            l.split_once(" = ")
                .map(|(k, v)| (k.to_owned(), v.replace(&dir, "/etc/nix")))
        })
        .collect())
}
