//! Which machines may build a derivation.

use std::collections::BTreeSet;

use crate::NixMachine;

/// Whether a machine may build a derivation, and if not, every reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eligibility {
    /// `true` when Nix may send the build there.
    pub eligible: bool,
    /// Why not (empty when eligible).
    pub reasons: Vec<String>,
}

/// Nix's rule (`build-remote`): the derivation's system is one of the
/// machine's (or is `builtin`), every required feature is supported or
/// mandatory, every mandatory feature is required; and the machine needs
/// at least one job slot to be used at all.
///
/// ```
/// use std::collections::BTreeSet;
/// use nixconf_machines::{eligibility, parse};
/// let v = "2.24.9".parse().unwrap();
/// let f = parse("ssh://b x86_64-linux - 2 1 kvm big-parallel -\n", "m", &v).unwrap();
/// let m = f.machines().next().unwrap().nix_view(&v, "x86_64-linux");
/// let kvm: BTreeSet<String> = ["kvm".to_owned()].into();
/// assert!(!eligibility(&m, "x86_64-linux", &kvm).eligible);
/// let both: BTreeSet<String> = ["kvm".to_owned(), "big-parallel".to_owned()].into();
/// assert!(eligibility(&m, "x86_64-linux", &both).eligible);
/// ```
pub fn eligibility(machine: &NixMachine, system: &str, required: &BTreeSet<String>) -> Eligibility {
    let mut reasons = Vec::new();
    if system != "builtin" && !machine.systems.iter().any(|s| s == system) {
        reasons.push(format!(
            "system {system} is not one of its systems ({})",
            if machine.systems.is_empty() {
                "none".to_owned()
            } else {
                machine.systems.join(", ")
            }
        ));
    }
    for f in required {
        if !machine.supported_features.contains(f) && !machine.mandatory_features.contains(f) {
            reasons.push(format!("required feature {f} is not supported"));
        }
    }
    for f in &machine.mandatory_features {
        if !required.contains(f) {
            reasons.push(format!(
                "mandatory feature {f} is not required by the derivation"
            ));
        }
    }
    if machine.max_jobs == 0 {
        reasons.push("maxJobs is 0, so it has no build slot".to_owned());
    }
    Eligibility {
        eligible: reasons.is_empty(),
        reasons,
    }
}
