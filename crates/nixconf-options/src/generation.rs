//! Which module generation a configuration is evaluated with.

use std::collections::BTreeMap;

use crate::evaluator::Evaluator;
use crate::output::ModuleGeneration;
use crate::tree::{Node, Value};

impl Evaluator<'_, '_> {
    /// The generation to follow: the one asked for from outside, else the
    /// configuration's `generation` key, else the one for its `nixVersion`
    /// (the 2013 module for Nix 1.x). `None` when the choice is wrong
    /// (reported).
    pub(crate) fn generation_of(
        &mut self,
        top: &BTreeMap<String, Node>,
    ) -> Option<ModuleGeneration> {
        let written = match top.get("generation") {
            Some(node) => match &node.value {
                Value::Str(s) => match s.parse::<ModuleGeneration>() {
                    Ok(g) => Some(g),
                    Err(e) => {
                        self.c.error("generation", Some(node), e);
                        return None;
                    }
                },
                _ => {
                    self.c.error(
                        "generation",
                        Some(node),
                        format!(
                            "expected one of \"2013\", \"2023\", \"2026\", got {}",
                            node.describe()
                        ),
                    );
                    return None;
                }
            },
            None => None,
        };
        let nix_1 = crate::output::nix_1_target(top).is_some();
        let chosen = match self.generation.or(written) {
            Some(g) => g,
            None if nix_1 => ModuleGeneration::Nixos2013,
            None => ModuleGeneration::Nixos2026,
        };
        if chosen == ModuleGeneration::Nixos2013 && !nix_1 {
            self.c.error(
                "nixVersion",
                top.get("nixVersion"),
                "generation 2013 (the NixOS module of 2013) takes a Nix 1.x target: \
                 give its version, for example nixVersion = \"1.11.16\"",
            );
            return None;
        }
        Some(chosen)
    }
}
