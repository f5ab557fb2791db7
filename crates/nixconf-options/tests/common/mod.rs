//! What several test files share.

use nixconf_options::{EvalOptions, Evaluation, Format, ModuleGeneration};

/// Evaluate with the 2023 module: the tests that use this are about it,
/// and name its generation.
pub fn eval_2023(
    text: &str,
    format: Format,
    name: &str,
) -> Result<Evaluation, nixconf_options::Error> {
    nixconf_options::evaluate_with(
        text,
        format,
        name,
        EvalOptions {
            generation: Some(ModuleGeneration::Nixos2023),
        },
    )
}
