//! What only the 2026 modules produce, kept as the JSON values the
//! conformance corpus names them by: exactly what NixOS defines, with the
//! corpus' fixed store paths (`--nixos`). The typed fields of
//! [`Evaluation`](crate::Evaluation) are what a render writes on the host
//! (its CA bundle, no NixOS-only tmpfiles rules).

use serde_json::Value as Json;

use super::units2026::{self, Facts};

/// The outputs of the 2026 modules beyond those every generation has
/// ([`Evaluation`](crate::Evaluation)'s typed fields), each as the JSON
/// value of the key of the same name in
/// [`Evaluation::to_json`](crate::Evaluation::to_json), computed when asked.
#[derive(Clone, Debug, PartialEq)]
pub struct Nixos2026 {
    pub(crate) facts: Facts,
}

impl Nixos2026 {
    /// `users.users` as these modules define it: the build users, `nix-ssh`
    /// and the daemon user's sub-uid/gid ranges.
    pub fn users(&self) -> Json {
        units2026::users(&self.facts).0
    }

    /// `users.groups` they define (`nix-ssh`).
    pub fn groups(&self) -> Json {
        units2026::users(&self.facts).1
    }

    /// `services.displayManager.hiddenUsers` they add (the build users).
    pub fn hidden_users(&self) -> Vec<String> {
        units2026::users(&self.facts).2
    }

    /// `{services, timers, sockets}`: each unit with the attributes the
    /// modules set.
    pub fn units(&self) -> Json {
        units2026::units_json(&self.facts).0
    }

    /// `systemd.services.nix-daemon.serviceConfig`, or null.
    pub fn service_config(&self) -> Json {
        units2026::units_json(&self.facts).1
    }

    /// `systemd.services.nix-daemon.environment`, or null.
    pub fn service_environment(&self) -> Json {
        units2026::units_json(&self.facts).2
    }

    /// `{system, systemd, tmpfiles}`: package names they install.
    pub fn packages(&self) -> Json {
        units2026::packages(&self.facts)
    }

    /// `{script}`: nix.conf's build-time check, or null when disabled.
    pub fn nix_conf_check(&self) -> Json {
        units2026::nix_conf_check(&self.facts)
    }

    /// `{enable, nixPath, defaultChannel, extraInit, extraSetup,
    /// preSwitchCheck}`.
    pub fn channel(&self) -> Json {
        units2026::channel(&self.facts)
    }

    /// `{sshdEnable, sshdExtraConfig, authorizedKeys}`.
    pub fn ssh_serve(&self) -> Json {
        units2026::ssh_serve(&self.facts)
    }

    /// `{nixStoreMountOpts}`.
    pub fn boot(&self) -> Json {
        units2026::boot(&self.facts)
    }

    /// `{ruleset, preCheckRuleset}`: the nftables text of `nix.firewall`.
    pub fn firewall(&self) -> Json {
        units2026::firewall(&self.facts)
    }

    /// `systemd.tmpfiles.rules` as NixOS writes them. The typed
    /// [`Evaluation::tmpfiles`](crate::Evaluation::tmpfiles) holds the
    /// rules a render writes on a host that is not NixOS (no
    /// `/run/booted-system` root; root's channels file written on its own).
    pub fn tmpfiles(&self) -> Json {
        serde_json::json!(units2026::tmpfiles(&self.facts))
    }

    /// Every key above, as `to_json` adds them.
    pub(crate) fn add_to(&self, out: &mut Json) {
        let (units, config, env) = units2026::units_json(&self.facts);
        let (users, groups, hidden) = units2026::users(&self.facts);
        out["users"] = users;
        out["groups"] = groups;
        out["hiddenUsers"] = serde_json::json!(hidden);
        out["units"] = units;
        out["serviceConfig"] = config;
        out["serviceEnvironment"] = env;
        out["packages"] = self.packages();
        out["nixConfCheck"] = self.nix_conf_check();
        out["channel"] = self.channel();
        out["sshServe"] = self.ssh_serve();
        out["boot"] = self.boot();
        out["firewall"] = self.firewall();
        out["tmpfiles"] = self.tmpfiles();
    }
}
