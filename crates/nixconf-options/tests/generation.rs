//! Choosing the module generation: the `generation` key, the override,
//! and the default by Nix version.

use nixconf_options::{evaluate, evaluate_with, EvalOptions, Format, ModuleGeneration};

fn with(generation: Option<ModuleGeneration>, text: &str) -> Result<ModuleGeneration, String> {
    evaluate_with(text, Format::Toml, "c.toml", EvalOptions { generation })
        .map(|e| e.module)
        .map_err(|e| {
            let first = &e.option_errors()[0];
            format!(
                "{}: {}",
                first.option.as_deref().unwrap_or_default(),
                first.message
            )
        })
}

#[test]
fn the_generation_key_chooses_the_module() {
    let text = "generation = \"2023\"\nnixVersion = \"2.18.1\"\n";
    assert_eq!(with(None, text), Ok(ModuleGeneration::Nixos2023));
    let text = "generation = \"2013\"\nnixVersion = \"1.11.16\"\n";
    assert_eq!(with(None, text), Ok(ModuleGeneration::Nixos2013));
}

#[test]
fn nix_1_defaults_to_2013() {
    assert_eq!(
        with(None, "nixVersion = \"1.11.16\"\n"),
        Ok(ModuleGeneration::Nixos2013)
    );
}

#[test]
fn the_override_wins_over_the_key() {
    let text = "generation = \"2013\"\nnixVersion = \"2.18.1\"\n";
    assert_eq!(
        with(Some(ModuleGeneration::Nixos2023), text),
        Ok(ModuleGeneration::Nixos2023)
    );
}

#[test]
fn a_wrong_generation_is_an_error_at_its_key() {
    let err = with(None, "generation = \"2020\"\nnixVersion = \"2.18.1\"\n").unwrap_err();
    assert_eq!(
        err,
        "generation: no module generation \"2020\": expected \"2013\", \"2023\" or \"2026\""
    );
    let err = with(None, "generation = 2023\nnixVersion = \"2.18.1\"\n").unwrap_err();
    assert!(err.starts_with("generation: expected one of"), "{err}");
    let json = evaluate(
        r#"{"generation": ["2023"], "nixVersion": "2.18.1"}"#,
        Format::Json,
        "c.json",
    )
    .unwrap_err();
    assert_eq!(
        json.option_errors()[0].option.as_deref(),
        Some("generation")
    );
}

#[test]
fn generation_2013_needs_a_nix_1_target() {
    let err = with(None, "generation = \"2013\"\nnixVersion = \"2.18.1\"\n").unwrap_err();
    assert!(err.starts_with("nixVersion: generation 2013"), "{err}");
}

#[test]
fn names_round_trip() {
    for g in ModuleGeneration::ALL {
        assert_eq!(g.name().parse::<ModuleGeneration>(), Ok(g));
        assert_eq!(g.to_string(), g.name());
    }
}

#[test]
fn options_of_2026_are_refused_by_2023_with_the_generation_to_use() {
    let err = with(
        Some(ModuleGeneration::Nixos2023),
        "nixVersion = \"2.18.1\"\nnix.gc.automatic = true\n",
    )
    .unwrap_err();
    assert!(
        err.starts_with("nix.gc: an option of the 2026 NixOS modules"),
        "{err}"
    );
    assert_eq!(
        with(None, "nixVersion = \"2.18.1\"\nnix.gc.automatic = true\n"),
        Ok(ModuleGeneration::Nixos2026)
    );
}
