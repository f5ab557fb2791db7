//! The 2026 generation beyond its corpus: `nix.package`, and what a render
//! writes on a host that is not NixOS.

use nixconf_options::{evaluate, Format, ModuleGeneration};
use serde_json::json;

fn toml(text: &str) -> nixconf_options::Evaluation {
    evaluate(text, Format::Toml, "c.toml").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn nix_package_gives_the_version_as_a_version_or_a_store_path() {
    let e = toml("nix.package = \"2.24.9\"\nnix.gc.automatic = true\n");
    assert_eq!(e.module, ModuleGeneration::Nixos2026);
    assert_eq!(e.nix_version.as_ref().unwrap().to_string(), "2.24.9");
    let v = e.to_json();
    assert_eq!(
        v["units"]["services"]["nix-gc"]["script"],
        "exec /nix/store/00000000000000000000000000000000-nix-2.24.9/bin/nix-collect-garbage "
    );
    assert_eq!(
        v["units"]["services"]["nix-gc"]["startAt"],
        json!(["03:15"])
    );

    let path = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nix-2.31.2";
    let v = toml(&format!("nix.package = \"{path}\"\n")).to_json();
    assert_eq!(
        v["units"]["services"]["nix-optimise"]["serviceConfig"]["ExecStart"],
        format!("{path}/bin/nix-store --optimise")
    );
    assert_eq!(
        v["units"]["services"]["nix-daemon"]["path"][0],
        "nix-2.31.2"
    );

    // Lix: the daemon module switches itself off.
    let v = toml("nix.package = \"lix-2.93.3\"\n").to_json();
    assert_eq!(v["serviceConfig"], json!(null));
    assert_eq!(v["nrBuildUsers"], json!(null));
}

#[test]
fn nix_package_and_nix_version_must_agree() {
    let e = evaluate(
        "nixVersion = \"2.18.1\"\nnix.package = \"2.24.9\"\n",
        Format::Toml,
        "c.toml",
    )
    .unwrap_err();
    assert_eq!(e.option_errors()[0].option.as_deref(), Some("nix.package"));
    let e = evaluate("nix.package = \"nix\"\n", Format::Toml, "c.toml").unwrap_err();
    assert_eq!(e.option_errors()[0].option.as_deref(), Some("nix.package"));
    let e = evaluate("[nix]\ncores = 1\n", Format::Toml, "c.toml").unwrap_err();
    assert_eq!(e.option_errors()[0].option.as_deref(), Some("nix.cores"));
    let e = evaluate("nix.checkConfig = true\n", Format::Toml, "c.toml").unwrap_err();
    assert_eq!(e.option_errors()[0].option.as_deref(), Some("nixVersion"));
}

#[test]
fn a_render_uses_the_hosts_ca_bundle_and_no_nixos_only_rules() {
    let e = toml("nixVersion = \"2.24.9\"\n");
    let v = e.to_json();
    // NixOS's own values, as the corpus has them ...
    assert_eq!(
        v["serviceEnvironment"]["CURL_CA_BUNDLE"],
        "/nix/store/00000000000000000000000000000000-nss-cacert-3.117/etc/ssl/certs/ca-bundle.crt"
    );
    assert_eq!(v["tmpfiles"].as_array().unwrap().len(), 5);
    // ... and the host's in what a render writes.
    let drop_in = e.drop_in();
    assert!(
        drop_in.contains("Environment=\"CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt\"\n"),
        "{drop_in}"
    );
    assert!(!drop_in.contains("LimitNOFILE"), "{drop_in}");
    assert_eq!(
        e.tmpfiles,
        [
            "d  /nix/var                           0755 root root - -",
            "R! /nix/var/nix/gcroots/tmp           -    -    -    - -",
            "R! /nix/var/nix/temproots             -    -    -    - -",
        ]
    );
    let channels: Vec<_> = e
        .files()
        .into_iter()
        .filter(|f| f.path == "root/.nix-channels")
        .map(|f| f.contents)
        .collect();
    assert_eq!(
        channels,
        ["https://channels.nixos.org/nixos-unstable nixos\n"]
    );
    // With channels off, root is subscribed to none.
    let e = toml("nixVersion = \"2.24.9\"\nnix.channel.enable = false\n");
    assert!(e.files().iter().all(|f| f.path != "root/.nix-channels"));
}
