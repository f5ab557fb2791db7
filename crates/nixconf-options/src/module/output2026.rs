//! What only the 2026 modules produce, kept as the JSON values the
//! conformance corpus names them by: exactly what NixOS defines, with the
//! corpus' fixed store paths (`--nixos`). The typed fields of
//! [`Evaluation`](crate::Evaluation) are what a render writes on the host
//! (its CA bundle, no NixOS-only tmpfiles rules).

use serde_json::Value as Json;

/// The outputs of the 2026 modules beyond those every generation has
/// ([`Evaluation`](crate::Evaluation)'s typed fields), each as the JSON
/// value of the key of the same name in [`Evaluation::to_json`](crate::Evaluation::to_json).
#[derive(Clone, Debug, PartialEq)]
pub struct Nixos2026 {
    /// `users.users` as these modules define it: the build users, `nix-ssh`
    /// and the daemon user's sub-uid/gid ranges.
    pub users: Json,
    /// `users.groups` they define (`nix-ssh`).
    pub groups: Json,
    /// `services.displayManager.hiddenUsers` they add (the build users).
    pub hidden_users: Vec<String>,
    /// `{services, timers, sockets}`: each unit with the attributes the
    /// modules set.
    pub units: Json,
    /// `{system, systemd, tmpfiles}`: package names they install.
    pub packages: Json,
    /// `{script}`: nix.conf's build-time check, or null when disabled.
    pub nix_conf_check: Json,
    /// `{enable, nixPath, defaultChannel, extraInit, extraSetup,
    /// preSwitchCheck}`.
    pub channel: Json,
    /// `{sshdEnable, sshdExtraConfig, authorizedKeys}`.
    pub ssh_serve: Json,
    /// `{nixStoreMountOpts}`.
    pub boot: Json,
    /// `{ruleset, preCheckRuleset}`: the nftables text of `nix.firewall`.
    pub firewall: Json,
    /// `systemd.services.nix-daemon.serviceConfig`, or null.
    pub service_config: Json,
    /// `systemd.services.nix-daemon.environment`, or null.
    pub service_environment: Json,
    /// `systemd.tmpfiles.rules` as NixOS writes them. The typed
    /// [`Evaluation::tmpfiles`](crate::Evaluation::tmpfiles) holds the
    /// rules a render writes on a host that is not NixOS (no
    /// `/run/booted-system` root; root's channels file written on its own).
    pub tmpfiles: Json,
}
