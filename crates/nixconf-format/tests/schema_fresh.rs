//! The generated schema must be what `cargo xtask codegen` makes of the
//! reference tables today.

#[path = "../codegen/generate.rs"]
#[allow(dead_code)]
mod generate;

#[test]
fn generated_schema_is_fresh() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let read = |rel: &str| {
        std::fs::read_to_string(format!("{root}/{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    let fresh = generate::generate(
        &read("reference/settings.tsv"),
        &read("reference/settings-history.tsv"),
    )
    .expect("the reference tables generate");
    let committed = read("crates/nixconf-format/src/schema_generated.rs");
    assert!(
        fresh == committed,
        "crates/nixconf-format/src/schema_generated.rs is stale: run `cargo xtask codegen`"
    );
}
