//! `fixtures/lint/<case>/`: `nixconf lint` findings.
//!
//! A case holds either `config.toml` (a configuration) or `before/` and
//! `before.setup` (a live installation, as in `fixtures/activation`, read
//! as the Nix version in `nix-version`), and `findings.txt`: every
//! finding, as `nixconf lint` prints it (the temporary root written as
//! `ROOT`). Capacity is judged for a host of 4 CPUs.
//!
//! Run by `cargo test -p nixconf-lint` and by `cargo xtask test-fixtures`,
//! which includes this file.
#![allow(dead_code)]

use std::path::Path;

use nixconf_fixtures::Kind;
use nixconf_lint::{lint_root, lint_source, Finding, Host};

use nixconf_fixtures::support::{expect_text, materialize, read, scratch};

const HOST: Host = Host {
    cpus: 4,
    uid_min: 1000,
};

/// `fixtures/lint`.
pub const KIND: Kind = Kind {
    dir: "lint",
    vendored: false,
    check,
    pending: None,
};

pub fn check(dir: &Path, update: bool) -> Result<(), String> {
    let config = dir.join("config.toml");
    let findings: Vec<Finding>;
    let mut root_text = None;
    let scratch = scratch()?;
    if config.exists() {
        let text = read(&config)?;
        findings = lint_source(
            &text,
            nixconf_options::Format::Toml,
            "config.toml",
            Default::default(),
            &HOST,
        )?;
    } else {
        let root = scratch.path().join("root");
        materialize(dir, &root)?;
        let version = read(&dir.join("nix-version"))?
            .trim()
            .parse()
            .map_err(|e| format!("nix-version: {e}"))?;
        findings = lint_root(&root, Some(&version), &HOST);
        root_text = Some(root.display().to_string());
    }
    let mut text: String = findings.iter().map(|f| format!("{f}\n")).collect();
    if let Some(root) = root_text {
        text = text.replace(&root, "ROOT");
    }
    expect_text(&dir.join("findings.txt"), &text, update)
}
