//! `nixconf import`: an existing installation as a configuration.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::PathBuf;

use clap::Args;
use nixconf_format::NixVersion;
use nixconf_import::{import, ImportOptions};

use crate::Outcome;

/// Arguments of `nixconf import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The root directory of the installation.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Write the configuration to FILE (created with the mode of the most
    /// private file it was read from) instead of printing it.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Read the installation as this Nix version does [default: the Nix
    /// installed on the root]
    #[arg(long, value_name = "V")]
    nix_version: Option<NixVersion>,
    /// Print `{"installer", "evidence", "nixVersion", "config", "notes",
    /// "moduleChanges"}` instead of the configuration.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ImportArgs) -> Result<Outcome, String> {
    let options = ImportOptions {
        nix_version: args.nix_version,
    };
    let imported = import(&args.root, &options).map_err(|e| e.to_string())?;
    for note in &imported.notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "installed by {}; read as Nix {}",
        imported.detection.installer, imported.nix_version.0
    );
    let stdout = if args.json {
        let changes: Vec<serde_json::Value> = imported
            .module_changes
            .iter()
            .map(
                |c| serde_json::json!({"setting": c.setting, "before": c.before, "after": c.after}),
            )
            .collect();
        let value = serde_json::json!({
            "installer": imported.detection.installer.to_string(),
            "evidence": imported.detection.evidence,
            "nixVersion": imported.nix_version.0.to_string(),
            "config": imported.config,
            "notes": imported.notes,
            "moduleChanges": changes,
        });
        serde_json::to_string_pretty(&value).map_err(|e| e.to_string())? + "\n"
    } else {
        imported.config.clone()
    };
    match &args.output {
        Some(path) => {
            write_new(path, stdout.as_bytes(), imported.mode)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(Outcome::default())
        }
        None => Ok(Outcome {
            stdout,
            failed: false,
        }),
    }
}

/// Write `bytes` to `path` through a temporary file beside it, created
/// with `mode` (the umask can only narrow it), then renamed into place.
/// A missing parent directory (`/etc/nixconf` the first time) is made,
/// mode 0755; its own parent must exist.
fn write_new(path: &std::path::Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if dir.symlink_metadata().is_err() {
        std::fs::DirBuilder::new().mode(0o755).create(dir)?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let tmp = dir.join(format!(".{}.nixconf-tmp", name.to_string_lossy()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
