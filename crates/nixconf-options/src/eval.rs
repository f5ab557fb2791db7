//! The evaluation: read the value tree with the
//! [`Evaluator`] of the chosen module generation, and collect its errors.
//! The generations are in [`crate::module`]; nixconf's own options in
//! [`crate::own`].

use crate::error::Error;
use crate::evaluator::Evaluator;
use crate::module::{nixos2013, nixos2023, nixos2026};
use crate::output::{Evaluation, ModuleGeneration};
use crate::prio::{self, Priorities};
use crate::tree::{Node, Source};
use crate::typecheck::Checker;

/// Evaluate a parsed configuration.
pub(crate) fn evaluate(
    source: &Source<'_>,
    root: &Node,
    positions: bool,
    options: crate::EvalOptions,
) -> Result<Evaluation, Error> {
    let mut c = Checker::new(source, positions);
    let result = Evaluator {
        c: &mut c,
        generation: options.generation,
        prios: Priorities::new(),
    }
    .run(root);
    match result {
        Some(e) if c.errors.is_empty() => Ok(e),
        _ => {
            // In file order where the format tells positions (a stable sort:
            // the rest keep the option tree's order, after them).
            let mut errors = c.errors;
            errors.sort_by_key(|e| {
                e.span
                    .as_ref()
                    .map_or((usize::MAX, usize::MAX), |l| (l.line, l.column))
            });
            Err(Error::Invalid(errors))
        }
    }
}

impl Evaluator<'_, '_> {
    fn run(&mut self, root: &Node) -> Option<Evaluation> {
        // Most configurations have no `_type` anywhere: skip the walk.
        if self.c.text_mentions("_type") && prio::has_wrappers(root) {
            let resolved = prio::resolve(self.c, &mut self.prios, root)?;
            return self.run_tree(&resolved);
        }
        self.run_tree(root)
    }

    fn run_tree(&mut self, root: &Node) -> Option<Evaluation> {
        let top = self.c.attrs("", root)?;
        let generation = self.generation_of(top)?;
        // nixconf's own options are the same in every generation.
        let build_users = self.own_options(top);
        let mut eval = match generation {
            ModuleGeneration::Nixos2013 => {
                let version = crate::output::nix_1_target(top)?;
                nixos2013::run(self, top, version)
            }
            ModuleGeneration::Nixos2026 => nixos2026::run(self, top),
            ModuleGeneration::Nixos2023 => nixos2023::run(self, top),
        }?;
        eval.build_users = build_users?;
        Some(eval)
    }
}
