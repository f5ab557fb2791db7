//! `cargo xtask codegen [--check]`: regenerate the nix.conf settings
//! schema from `reference/*.tsv`, or (with `--check`) fail when the
//! committed file is stale.

use std::path::Path;

#[path = "../../crates/nixconf-format/codegen/generate.rs"]
mod generate;

/// Where the generated schema lives, relative to the workspace root.
const OUTPUT: &str = "crates/nixconf-format/src/schema_generated.rs";

pub fn run(root: &Path, check: bool) -> Result<(), String> {
    let read =
        |rel: &str| std::fs::read_to_string(root.join(rel)).map_err(|e| format!("{rel}: {e}"));
    let code = generate::generate(
        &read("reference/settings.tsv")?,
        &read("reference/settings-history.tsv")?,
    )?;
    let out = root.join(OUTPUT);
    let current = std::fs::read_to_string(&out).unwrap_or_default();
    if current == code {
        eprintln!("xtask: {OUTPUT} is up to date");
        return Ok(());
    }
    if check {
        return Err(format!("{OUTPUT} is stale: run `cargo xtask codegen`"));
    }
    let tmp = out.with_extension("rs.tmp");
    std::fs::write(&tmp, &code).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("xtask: wrote {OUTPUT}");
    Ok(())
}
