//! The outputs of the 2026 modules beyond nix.conf: systemd units (the
//! daemon, gc, optimise, the roots daemon), users and groups, the channel
//! and sshServe pieces, the firewall ruleset, tmpfiles rules and packages.
//!
//! Each module's contribution is built as NixOS defines it, gated the same
//! way (`mkIf nix.enable`, the Lix gate, `mkIf (daemonUser != "root")`,
//! ...), and the contributions are merged as the module system merges
//! attribute sets: nested sets merge, lists concatenate in module order.

use std::collections::BTreeMap;

use nixconf_format::{ConfValue, NixVersion};
use serde_json::{json, Map, Value as Json};

use super::options2026::{get, val_json, Read2026, STORE_PREFIX};

/// What the outputs are computed from: kept with the evaluation, and
/// turned into JSON only when asked (most renders never need it).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Facts {
    pub enable: bool,
    pub lix: bool,
    pub version: NixVersion,
    /// The Nix package's store path.
    pub package_path: String,
    /// The merged `id-count` and `start-id` settings.
    pub id_count: Option<ConfValue>,
    pub start_id: Option<ConfValue>,
    pub read: Read2026,
    pub env_vars: BTreeMap<String, String>,
    pub proxy_env: Option<BTreeMap<String, String>>,
    pub ca_bundle: Option<String>,
    pub cpu_policy: String,
    pub io_class: String,
    pub io_priority: i64,
    pub nr_build_users: i64,
    pub nixbld_uid: i64,
    pub nix_path: Vec<String>,
    pub default_channel: String,
    pub check_config: bool,
    pub check_all_errors: bool,
}

impl Facts {
    fn daemon_on(&self) -> bool {
        self.enable && !self.lix
    }

    fn unprivileged(&self) -> bool {
        self.read.daemon_user != "root"
    }

    /// The package's name, as the corpus lists packages.
    fn package_name(&self) -> &str {
        self.package_path
            .strip_prefix("/nix/store/")
            .and_then(|base| base.split_once('-'))
            .map_or(&self.package_path, |(_, name)| name)
    }

    fn setting(&self, key: &str) -> Option<&ConfValue> {
        match key {
            "id-count" => self.id_count.as_ref(),
            _ => self.start_id.as_ref(),
        }
    }

    fn setting_string(&self, key: &str) -> String {
        self.setting(key).map(ConfValue::render).unwrap_or_default()
    }

    fn setting_json(&self, key: &str) -> Json {
        match self.setting(key) {
            Some(ConfValue::Int(i)) => json!(i),
            Some(ConfValue::Str(s)) => json!(s),
            Some(ConfValue::Bool(b)) => json!(b),
            Some(other) => json!(other.render()),
            None => Json::Null,
        }
    }
}

/// Merge `b` into `a` as the module system merges definitions: attribute
/// sets recursively, lists concatenated, anything else replaced.
fn merge(a: &mut Json, b: Json) {
    match (a, b) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (Json::Array(a), Json::Array(b)) => a.extend(b),
        (a, b) => *a = b,
    }
}

/// Systemd units, by kind and name.
#[derive(Default)]
struct Units {
    services: Map<String, Json>,
    sockets: Map<String, Json>,
    timers: Map<String, Json>,
}

impl Units {
    fn add(kind: &mut Map<String, Json>, name: &str, def: Json) {
        match kind.get_mut(name) {
            Some(unit) => merge(unit, def),
            None => {
                kind.insert(name.to_owned(), def);
            }
        }
    }
}

const CA_BUNDLE: &str = "nss-cacert-3.117/etc/ssl/certs/ca-bundle.crt";
const OPENSSH: &str = "openssh-10.0p2";
const BASH_INTERACTIVE: &str = "bash-interactive-5.3p3";
const GETENT: &str = "getent-glibc-2.42";

const EXTRA_INIT: &str = "if [ -e \"$HOME/.nix-defexpr/channels\" ]; then\n  \
export NIX_PATH=\"$HOME/.nix-defexpr/channels${NIX_PATH:+:$NIX_PATH}\"\nfi\n";

/// nix-channel.nix's pre-switch check (`@getent@` replaced).
const PRE_SWITCH_CHECK: &str = r#"warn() {
    printf "\033[1;35mwarning:\033[0m %s\n" "$*" >&2
}

explainChannelWarning=0
if [[ -e "/root/.nix-defexpr/channels" ]]; then
    warn '/root/.nix-defexpr/channels exists, but channels have been disabled.'
    explainChannelWarning=1
fi
if [[ -e "/nix/var/nix/profiles/per-user/root/channels" ]]; then
    warn "/nix/var/nix/profiles/per-user/root/channels exists, but channels have been disabled."
    explainChannelWarning=1
fi
while IFS=: read -r _ _ _ _ _ home _ ; do
    if [[ -n  "$home" && -e "$home/.nix-defexpr/channels" ]]; then
        warn "$home/.nix-defexpr/channels exists, but channels have been disabled."
        explainChannelWarning=1
    fi
done < <(@getent@ passwd)
if [[ $explainChannelWarning -eq 1 ]]; then
    echo "Due to https://github.com/NixOS/nix/issues/9574, Nix may still use these channels when NIX_PATH is unset." >&2
    echo "Delete the above directory or directories to prevent this." >&2
fi
# This check is informational only and must never block a switch.
true
"#;

/// The tmpfiles rules a render writes on a host that is not NixOS: those
/// of [`tmpfiles`] without the `/run/booted-system` root (NixOS-only) and
/// the channels file (written on its own, only when absent).
pub(crate) fn host_tmpfiles(f: &Facts) -> Vec<String> {
    tmpfiles(f)
        .into_iter()
        .filter(|r| {
            !r.starts_with("L+ /nix/var/nix/gcroots/booted-system")
                && !r.starts_with("f /root/.nix-channels")
        })
        .collect()
}

/// `systemd.tmpfiles.rules`, in module order: the unprivileged daemon's,
/// the boot-time ones, root's channel subscription.
pub(crate) fn tmpfiles(f: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    if f.unprivileged() {
        let (u, g) = (&f.read.daemon_user, &f.read.daemon_group);
        out.extend([
            format!("d /nix/store                   0755 {u} {g} - -"),
            format!("Z /nix/var                     0755 {u} {g} - -"),
            format!("d /nix/var/nix/builds          0755 {u} {g} 7d -"),
            format!("d /nix/var/nix/daemon-socket   0755 {u} {g} - -"),
            format!("d /nix/var/nix/gc-roots-socket 0755 {u} {g} - -"),
        ]);
    }
    if f.enable {
        out.extend(
            [
                "d  /nix/var                           0755 root root - -",
                "L+ /nix/var/nix/gcroots/booted-system 0755 root root - /run/booted-system",
                "R! /nix/var/nix/gcroots/tmp           -    -    -    - -",
                "R! /nix/var/nix/temproots             -    -    -    - -",
            ]
            .map(str::to_owned),
        );
        if get(&f.read.channel, "enable").bool() {
            out.push(format!(
                "f /root/.nix-channels - - - - {} nixos\\n",
                f.default_channel
            ));
        }
    }
    out
}

/// The units as `{services, sockets, timers}`, and the nix-daemon
/// service's `serviceConfig` and `environment` (null without one).
pub(crate) fn units_json(f: &Facts) -> (Json, Json, Json) {
    let units = units(f);
    let daemon = units.services.get("nix-daemon");
    let field = |name: &str| {
        daemon
            .and_then(|d| d.get(name))
            .cloned()
            .unwrap_or(Json::Null)
    };
    let (config, env) = (field("serviceConfig"), field("environment"));
    let all = json!({
        "services": units.services,
        "sockets": units.sockets,
        "timers": units.timers,
    });
    (all, config, env)
}

/// `{nixStoreMountOpts}`.
pub(crate) fn boot(f: &Facts) -> Json {
    json!({
        "nixStoreMountOpts": if f.unprivileged() {
            json!(["nodev", "nosuid"])
        } else {
            json!(["ro", "nodev", "nosuid"])
        }
    })
}

/// The nix-daemon service's environment, as a render writes it on a host
/// that is not NixOS: the host's CA bundle unless `caBundle` names one.
pub(crate) fn host_environment(f: &Facts) -> Option<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    if f.unprivileged() {
        env.insert(
            "NIX_REMOTE".to_owned(),
            "local?use-roots-daemon=true".to_owned(),
        );
    }
    if f.daemon_on() {
        env.extend(f.env_vars.clone());
        env.insert(
            "CURL_CA_BUNDLE".to_owned(),
            f.ca_bundle
                .clone()
                .unwrap_or_else(|| HOST_CA_BUNDLE.to_owned()),
        );
        env.extend(f.proxy_env.clone().unwrap_or_default());
    }
    (f.unprivileged() || f.daemon_on()).then_some(env)
}

/// The CA bundle a render gives the daemon on a host that is not NixOS.
const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn units(f: &Facts) -> Units {
    let mut u = Units::default();
    let pkg = &f.package_path;
    let read = &f.read;
    if f.unprivileged() {
        Units::add(
            &mut u.services,
            "nix-daemon",
            json!({
                "environment": { "NIX_REMOTE": "local?use-roots-daemon=true" },
                "serviceConfig": {
                    "ExecStart": [
                        "",
                        format!(
                            "{pkg}/libexec/nix-nswrapper {} {} {pkg}/bin/nix-daemon --daemon",
                            f.setting_string("start-id"),
                            f.setting_string("id-count")
                        ),
                    ],
                    "Group": read.daemon_group,
                    "User": read.daemon_user,
                },
            }),
        );
        Units::add(
            &mut u.services,
            "nix-roots-daemon",
            json!({ "serviceConfig": { "ExecStart": format!(
                "{pkg}/bin/nix --extra-experimental-features nix-command store roots-daemon"
            ) } }),
        );
        Units::add(
            &mut u.sockets,
            "nix-roots-daemon",
            json!({
                "listenStreams": ["/nix/var/nix/gc-roots-socket/socket"],
                "unitConfig": {
                    "ConditionPathIsReadWrite": "/nix/var/nix/gc-roots-socket",
                    "RequiresMountsFor": "/nix/store",
                },
                "wantedBy": ["nix-daemon.service"],
            }),
        );
    }
    if f.daemon_on() {
        let mut env: Map<String, Json> = f
            .env_vars
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        env.insert(
            "CURL_CA_BUNDLE".to_owned(),
            json!(f
                .ca_bundle
                .clone()
                .unwrap_or_else(|| format!("{STORE_PREFIX}{CA_BUNDLE}"))),
        );
        for (k, v) in f.proxy_env.iter().flatten() {
            env.insert(k.clone(), json!(v));
        }
        let mut path = vec![json!(f.package_name()), json!(OPENSSH)];
        if f.unprivileged() {
            path.push(json!("/run/wrappers"));
        }
        Units::add(
            &mut u.services,
            "nix-daemon",
            json!({
                "environment": env,
                "path": path,
                "restartTriggers": ["nix.conf"],
                "serviceConfig": {
                    "CPUSchedulingPolicy": f.cpu_policy,
                    "IOSchedulingClass": f.io_class,
                    "IOSchedulingPriority": f.io_priority,
                },
                "stopIfChanged": false,
            }),
        );
        Units::add(
            &mut u.sockets,
            "nix-daemon",
            json!({ "wantedBy": ["sockets.target"] }),
        );
    }
    if get(&read.firewall, "enable").bool() {
        Units::add(
            &mut u.services,
            "nix-daemon",
            json!({
                "after": ["nftables.service"],
                "serviceConfig": { "NFTSet": "cgroup:inet:nix_daemon_firewall:nix_daemon" },
            }),
        );
    }
    let start_at = |group| {
        if get(group, "automatic").bool() {
            val_json(get(group, "dates"))
        } else {
            json!([])
        }
    };
    let timer = |group| {
        json!({ "timerConfig": {
            "Persistent": get(group, "persistent").bool(),
            "RandomizedDelaySec": get(group, "randomizedDelaySec").str(),
        } })
    };
    if f.enable {
        Units::add(
            &mut u.services,
            "nix-gc",
            json!({
                "description": "Nix Garbage Collector",
                "restartIfChanged": false,
                "script": format!(
                    "exec {pkg}/bin/nix-collect-garbage {}",
                    get(&read.gc, "options").str()
                ),
                "serviceConfig": { "Type": "oneshot" },
                "startAt": start_at(&read.gc),
            }),
        );
    }
    if get(&read.gc, "automatic").bool() {
        Units::add(&mut u.timers, "nix-gc", timer(&read.gc));
    }
    if f.enable {
        Units::add(
            &mut u.services,
            "nix-optimise",
            json!({
                "description": "Nix Store Optimiser",
                "restartIfChanged": false,
                "serviceConfig": {
                    "CPUSchedulingPolicy": "idle",
                    "ExecStart": format!("{pkg}/bin/nix-store --optimise"),
                    "IOSchedulingClass": "idle",
                    "Nice": 19,
                },
                "startAt": start_at(&read.optimise),
                "unitConfig": {
                    "ConditionACPower": true,
                    "ConditionPathIsReadWrite": "/nix/var/nix/daemon-socket",
                },
            }),
        );
        if get(&read.optimise, "automatic").bool() {
            Units::add(&mut u.timers, "nix-optimise", timer(&read.optimise));
        }
    }
    u
}

/// `users.users`, `users.groups` and the hidden users.
pub(crate) fn users(f: &Facts) -> (Json, Json, Vec<String>) {
    let mut users = Map::new();
    let mut groups = Map::new();
    let mut hidden = Vec::new();
    if f.daemon_on() {
        for nr in 1..=f.nr_build_users.max(0) {
            let name = format!("nixbld{nr}");
            hidden.push(name.clone());
            users.insert(
                name,
                json!({
                    "description": format!("Nix build user {nr}"),
                    "extraGroups": ["nixbld"],
                    "group": "nixbld",
                    "isSystemUser": true,
                    "uid": f.nixbld_uid.saturating_add(nr),
                }),
            );
        }
        // `lib.attrNames`: sorted.
        hidden.sort();
    }
    let ssh = &f.read.ssh_serve;
    if get(ssh, "enable").bool() {
        groups.insert("nix-ssh".to_owned(), json!({}));
        users.insert(
            "nix-ssh".to_owned(),
            json!({
                "description": "Nix SSH store user",
                "group": "nix-ssh",
                "isSystemUser": true,
                "openssh": { "authorizedKeys": { "keys": val_json(get(ssh, "keys")) } },
                "shell": format!("{STORE_PREFIX}{BASH_INTERACTIVE}"),
            }),
        );
    }
    if f.unprivileged() {
        let (count, start) = (f.setting_json("id-count"), f.setting_json("start-id"));
        let def = json!({
            "subGidRanges": [{ "count": count, "startGid": start }],
            "subUidRanges": [{ "count": count, "startUid": start }],
        });
        match users.get_mut(&f.read.daemon_user) {
            Some(user) => merge(user, def),
            None => {
                users.insert(f.read.daemon_user.clone(), def);
            }
        }
    }
    (Json::Object(users), Json::Object(groups), hidden)
}

pub(crate) fn packages(f: &Facts) -> Json {
    let name = f.package_name();
    if !f.daemon_on() {
        return json!({ "system": [], "systemd": [], "tmpfiles": [] });
    }
    json!({
        "system": [name, "nix-info", "nix-bash-completions-0.6.8"],
        "systemd": [name],
        "tmpfiles": if f.unprivileged() { json!([]) } else { json!([name]) },
    })
}

/// The nixConf format's `checkPhase`, with its version gates.
pub(crate) fn nix_conf_check(f: &Facts) -> Json {
    if !f.enable {
        return Json::Null;
    }
    if !f.check_config {
        return json!({ "script": "" });
    }
    let v = &f.version;
    let show = if v.is_at_least("2.20pre") {
        "config show"
    } else {
        "show-config"
    };
    let no_net = if v.is_at_least("2.3pre") {
        "--no-net"
    } else {
        ""
    };
    let features = if v.is_at_least("2.4pre") {
        "--option experimental-features nix-command"
    } else {
        ""
    };
    let pattern = if f.check_all_errors {
        "^error:"
    } else {
        "^error: unknown setting"
    };
    json!({ "script": format!(
        "echo \"Validating generated nix.conf\"\nln -s $out ./nix.conf\nset -e\nset +o pipefail\n\
         NIX_CONF_DIR=$PWD \\\n  {}/bin/nix {show} {no_net} \\\n    {features} \\\n  \
         |& sed -e 's/^warning:/error:/' \\\n  | (! grep '{pattern}')\nset -o pipefail\n",
        f.package_path
    ) })
}

pub(crate) fn channel(f: &Facts) -> Json {
    let on = get(&f.read.channel, "enable").bool();
    json!({
        "enable": on,
        "nixPath": f.nix_path,
        "defaultChannel": f.default_channel,
        "extraInit": if f.enable && on { EXTRA_INIT } else { "" },
        "extraSetup": if f.enable && !on { "rm --force $out/bin/nix-channel\n" } else { "" },
        "preSwitchCheck": if f.enable && !on {
            json!(PRE_SWITCH_CHECK.replace("@getent@", &format!("{STORE_PREFIX}{GETENT}/bin/getent")))
        } else {
            Json::Null
        },
    })
}

pub(crate) fn ssh_serve(f: &Facts) -> Json {
    let ssh = &f.read.ssh_serve;
    if !get(ssh, "enable").bool() {
        return json!({ "sshdEnable": false, "sshdExtraConfig": "", "authorizedKeys": null });
    }
    let command = if get(ssh, "protocol").str() == "ssh" {
        format!(
            "nix-store --serve {}",
            if get(ssh, "write").bool() {
                "--write"
            } else {
                ""
            }
        )
    } else {
        "nix-daemon --stdio".to_owned()
    };
    json!({
        "sshdEnable": true,
        "sshdExtraConfig": format!(
            "Match User nix-ssh\n  AllowAgentForwarding no\n  AllowTcpForwarding no\n  \
             PermitTTY no\n  PermitTunnel no\n  X11Forwarding no\n  ForceCommand {}/bin/{command}\nMatch All\n",
            f.package_path
        ),
        "authorizedKeys": val_json(get(ssh, "keys")),
    })
}

/// nix-daemon-firewall.nix's ruleset: an indented string whose
/// interpolated multi-line pieces keep their own (absent) indentation.
pub(crate) fn firewall(f: &Facts) -> Json {
    let fw = &f.read.firewall;
    if !get(fw, "enable").bool() {
        return json!({ "ruleset": "", "preCheckRuleset": "" });
    }
    let when = |cond: bool, text: &str| if cond { text.to_owned() } else { String::new() };
    let loopback = !get(fw, "allowLoopback").bool();
    let private = !get(fw, "allowPrivateNetworks").bool();
    let non_tcp_udp = !get(fw, "allowNonTCPUDP").bool();
    let ports = |key: &str, proto: &str, nexthdr: &str| {
        let list = get(fw, key).list();
        when(
            !list.is_empty(),
            &format!(
                "{proto} dport {{ {} }} accept\nip protocol {proto} counter drop\nip6 nexthdr {nexthdr} counter drop\n",
                list.join(", ")
            ),
        )
    };
    let ruleset = format!(
        "table inet nix_daemon_firewall {{\n  set nix_daemon {{\n    type cgroupsv2\n  }}\n  \
         chain output {{\n    type filter hook output priority 0;\n    \
         socket cgroupv2 level 2 @nix_daemon goto nix_daemon_traffic\n    accept\n  }}\n  \
         chain nix_daemon_traffic {{\n    # Extra rules\n    {}\n\n    # Loopback\n    {}\n    {}\n\n    \
         # Local networks\n    {}\n    {}\n\n    # TCP\n    {}\n\n    # UDP\n    {}\n\n    \
         # Non-TCP and non-UDP\n    {}\n    {}\n\n    accept\n  }}\n}}\n",
        get(fw, "extraNftablesRules").list().join("\n"),
        when(loopback, "ip daddr 127.0.0.0/8 counter drop"),
        when(loopback, "ip6 daddr ::1 counter drop"),
        when(
            private,
            "ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16 } counter drop"
        ),
        when(private, "ip6 daddr { fd00::/8, fe80::/10 } counter drop"),
        ports("allowedTCPPorts", "tcp", "tcp"),
        ports("allowedUDPPorts", "udp", "udp"),
        when(non_tcp_udp, "ip protocol != { tcp, udp } counter drop"),
        when(non_tcp_udp, "ip6 nexthdr != { tcp, udp } counter drop"),
    );
    json!({
        "ruleset": ruleset,
        "preCheckRuleset": "sed -i 's/socket cgroupv2 level 2 @nix_daemon//g' ruleset.conf\n",
    })
}
