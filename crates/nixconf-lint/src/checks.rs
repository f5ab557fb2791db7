//! The checks, each a function of the subject.

use crate::subject::{Setting, Subject};
use crate::{Finding, Host, Severity};

pub(crate) fn run(s: &Subject, host: &Host) -> Vec<Finding> {
    let mut out = Vec::new();
    trust(s, &mut out);
    signatures_and_sandbox(s, &mut out);
    substituters(s, &mut out);
    secrets(s, &mut out);
    capacity(s, host, &mut out);
    builders(s, &mut out);
    for (at, path, what) in &s.missing {
        out.push(Finding {
            severity: Severity::Error,
            code: "missing-file",
            at: at.clone(),
            message: format!("{what} `{path}` does not exist: Nix stops when it reads this"),
            fix: format!("create `{path}` or remove the line that names it"),
        });
    }
    out
}

fn finding(
    severity: Severity,
    code: &'static str,
    at: &str,
    message: String,
    fix: String,
) -> Finding {
    Finding {
        severity,
        code,
        at: at.to_owned(),
        message,
        fix,
    }
}

fn setting_fix(s: &Subject, name: &str, value: &str) -> String {
    if s.is_config {
        format!("set nix.settings.{name} = {value}")
    } else {
        format!("write `{name} = {value}`")
    }
}

/// `trusted-users` and `allowed-users`, against the socket's permissions.
fn trust(s: &Subject, out: &mut Vec<Finding>) {
    const TRUSTED: &str = "a trusted user is root-equivalent: it can turn off signature \
                           checks, use any substituter and import arbitrary store paths \
                           (nix-store --import), which root then runs";
    if let Some(trusted) = s.get("trusted-users") {
        for t in &trusted.tokens {
            let (severity, code, who) = match t.text.as_str() {
                "root" => continue,
                "*" => (
                    Severity::Error,
                    "trusted-everyone",
                    "every local user".to_owned(),
                ),
                "@wheel" | "@sudo" | "@admin" => (
                    Severity::Info,
                    "trusted-admins",
                    format!("the members of `{}`, already administrators,", &t.text[1..]),
                ),
                g if g.starts_with('@') => (
                    Severity::Warning,
                    "trusted-group",
                    format!("every member of the group `{}`", &g[1..]),
                ),
                u => (Severity::Warning, "trusted-user", format!("the user `{u}`")),
            };
            out.push(finding(
                severity,
                code,
                &t.at,
                format!("{who} {} trusted by the daemon; {TRUSTED}", if code == "trusted-admins" { "are" } else { "is" }),
                format!(
                    "remove `{}` from trusted-users; to let them build, list them in allowed-users instead",
                    t.text
                ),
            ));
        }
    }
    let Some(socket) = &s.socket else {
        return;
    };
    let allowed = s.get("allowed-users");
    let world = socket.mode & 0o007 != 0;
    if world {
        return;
    }
    // The socket directory lets only its group in: allowed-users names
    // nobody else usefully.
    if let Some(allowed) = allowed {
        for t in &allowed.tokens {
            let text = t.text.as_str();
            if text == "*"
                || text == "root"
                || text.strip_prefix('@') == Some(socket.group.as_str())
            {
                continue;
            }
            out.push(finding(
                Severity::Warning,
                "allowed-but-no-socket",
                &t.at,
                format!(
                    "allowed-users names `{text}`, but {} is {:04o} root:{}: only members of `{}` reach the daemon",
                    socket.path, socket.mode, socket.group, socket.group
                ),
                format!("add those users to the group `{}`, or remove `{text}` from allowed-users", socket.group),
            ));
        }
    }
}

fn bool_of(setting: Option<&Setting>) -> Option<(&str, String)> {
    setting.map(|st| (st.at.as_str(), st.value()))
}

fn signatures_and_sandbox(s: &Subject, out: &mut Vec<Finding>) {
    if let Some((at, v)) = bool_of(s.get("require-sigs")) {
        if v == "false" {
            out.push(finding(
                Severity::Error,
                "require-sigs-off",
                at,
                "require-sigs is off: the daemon accepts store paths from any substituter without a signature, so whoever controls a cache (or the network path to a plain-http one) controls what runs here".to_owned(),
                setting_fix(s, "require-sigs", "true"),
            ));
        }
    }
    if let Some((at, v)) = bool_of(s.get("sandbox")) {
        match v.as_str() {
            "false" => out.push(finding(
                Severity::Warning,
                "sandbox-off",
                at,
                "the build sandbox is off: builds see the whole file system and the network, so a build can read secrets and its result depends on the host".to_owned(),
                setting_fix(s, "sandbox", "true"),
            )),
            "relaxed" => out.push(finding(
                Severity::Warning,
                "sandbox-relaxed",
                at,
                "sandbox = relaxed lets derivations marked __noChroot build outside the sandbox".to_owned(),
                setting_fix(s, "sandbox", "true"),
            )),
            _ => {}
        }
    }
}

/// The host of a store URL: `cache.example.org` of
/// `https://cache.example.org/x?priority=40`.
fn host_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

fn substituters(s: &Subject, out: &mut Vec<Finding>) {
    let keys: Vec<&str> = s
        .get("trusted-public-keys")
        .map(|k| {
            k.tokens
                .iter()
                .filter_map(|t| t.text.split_once(':').map(|(name, _)| name))
                .collect()
        })
        .unwrap_or_default();
    let sigs_required = s
        .get("require-sigs")
        .map_or(true, |st| st.value() != "false");
    let subs = s.get("substituters");
    for t in subs.iter().flat_map(|st| &st.tokens) {
        let url = t.text.as_str();
        if let Some(rest) = url.strip_prefix("http://") {
            out.push(finding(
                Severity::Warning,
                "plain-http-substituter",
                &t.at,
                format!("`{url}` is plain http: what is fetched and from where can be read and tampered with on the way (signatures still protect the contents)"),
                format!("use `https://{rest}`"),
            ));
        }
        // Keys of http caches are named after the host by convention;
        // other stores (s3, ssh) name theirs freely.
        if !sigs_required || !url.starts_with("http") {
            continue;
        }
        let Some(host) = host_of(url) else { continue };
        let signed = keys.iter().any(|name| {
            let base = name
                .rsplit_once('-')
                .filter(|(_, n)| n.chars().all(|c| c.is_ascii_digit()))
                .map_or(*name, |(b, _)| b);
            base == host || *name == host
        });
        if !signed {
            out.push(finding(
                Severity::Warning,
                "substituter-without-key",
                &t.at,
                format!("no trusted-public-keys entry is named after `{host}`: with require-sigs, paths from `{url}` are refused unless another key signed them"),
                format!("add the cache's public key (`{host}-1:...`, from its operator) to trusted-public-keys"),
            ));
        }
    }
    let used: Vec<&str> = subs
        .map(|st| st.tokens.iter().map(|t| t.text.as_str()).collect())
        .unwrap_or_default();
    for t in s
        .get("trusted-substituters")
        .iter()
        .flat_map(|st| &st.tokens)
    {
        if !used.contains(&t.text.as_str()) {
            out.push(finding(
                Severity::Info,
                "trusted-substituter-unused",
                &t.at,
                format!("`{}` is only a trusted substituter: it is used only when a user asks for it (--option extra-substituters)", t.text),
                format!("add `{}` to substituters to use it for every build", t.text),
            ));
        }
    }
}

fn secrets(s: &Subject, out: &mut Vec<Finding>) {
    if let (Some(tokens), Some((where_, true))) =
        (s.get("access-tokens"), &s.nix_conf_world_readable)
    {
        if !tokens.tokens.is_empty() {
            let _ = where_;
            out.push(finding(
                Severity::Error,
                "world-readable-token",
                &tokens.at,
                if s.is_config {
                    "access-tokens written in the configuration end up in /etc/nix/nix.conf, which every user can read (0644)".to_owned()
                } else {
                    "access-tokens are written in a nix.conf file that every user can read".to_owned()
                },
                "move them to a file only root reads (mode 0600) and include it: `!include /etc/nix/access-tokens.conf` (nix.extraOptions in a configuration)".to_owned(),
            ));
        }
    }
    for f in &s.secret_files {
        let in_store = f.path.starts_with("/nix/store/");
        if in_store {
            out.push(finding(
                Severity::Error,
                "secret-in-store",
                &f.at,
                format!(
                    "{} `{}` is in the Nix store, which every user can read (nix#6536)",
                    f.what, f.path
                ),
                format!(
                    "keep `{}` outside /nix/store, readable only by root (mode 0600)",
                    f.path
                ),
            ));
        } else if f.world_readable == Some(true) {
            out.push(finding(
                Severity::Error,
                "world-readable-secret",
                &f.at,
                format!("{} `{}` is readable by every user", f.what, f.path),
                format!("chmod 0600 {}", f.path),
            ));
        }
    }
}

fn number(setting: Option<&Setting>) -> Option<(String, i64)> {
    let st = setting?;
    Some((st.at.clone(), st.value().parse().ok()?))
}

fn capacity(s: &Subject, host: &Host, out: &mut Vec<Finding>) {
    let cpus = i64::try_from(host.cpus).unwrap_or(i64::MAX);
    let max_jobs = s.get("max-jobs").map(|st| {
        let v = st.value();
        (
            st.at.clone(),
            if v == "auto" {
                cpus
            } else {
                v.parse().unwrap_or(1)
            },
            v == "auto",
        )
    });
    let auto_uids = s
        .get("auto-allocate-uids")
        .is_some_and(|st| st.value() == "true");
    let group_set = s
        .get("build-users-group")
        .map_or(true, |st| !st.value().is_empty());
    if let (Some((at, jobs, _)), Some(users)) = (&max_jobs, &s.build_users) {
        if group_set && !auto_uids && *jobs > users.count {
            out.push(finding(
                Severity::Error,
                "more-jobs-than-build-users",
                at,
                format!(
                    "max-jobs is {jobs} but there are {} build users: the extra builds wait with \"all build users are currently in use\"",
                    users.count
                ),
                if s.is_config {
                    format!("set nix.nrBuildUsers = {jobs} (or lower max-jobs)")
                } else {
                    format!("create build users up to {jobs} (or lower max-jobs)")
                },
            ));
        }
    }
    let cores = number(s.get("cores")).map(|(at, c)| (at, if c == 0 { cpus } else { c }));
    if let (Some((at, jobs, auto)), Some((_, cores))) = (&max_jobs, &cores) {
        if !*auto && jobs.saturating_mul(*cores) > 4 * cpus.max(1) && *jobs > 1 {
            out.push(finding(
                Severity::Warning,
                "oversubscribed",
                at,
                format!(
                    "max-jobs {jobs} × cores {cores} = {} build threads on {cpus} CPUs",
                    jobs * cores
                ),
                format!("lower max-jobs or set cores so that max-jobs × cores is near {cpus}"),
            ));
        }
    }
    if let (Some((at, min)), Some((_, max))) =
        (number(s.get("min-free")), number(s.get("max-free")))
    {
        if min > max {
            out.push(finding(
                Severity::Error,
                "min-free-above-max-free",
                &at,
                format!("min-free ({min}) is above max-free ({max}): the collector starts when free space falls below min-free and stops at max-free, so it stops at once"),
                "make max-free larger than min-free".to_owned(),
            ));
        }
    }
    if let (Some(users), true) = (&s.build_users, s.macos) {
        // macOS lists accounts of uid 500 and up in the login window;
        // nix-installer and nix-darwin put build users at 351 and up.
        let visible: Vec<u32> = users
            .uids
            .iter()
            .map(|(_, uid)| *uid)
            .filter(|uid| *uid >= 500)
            .collect();
        if let (Some(first), Some(last)) = (visible.first(), visible.last()) {
            out.push(finding(
                Severity::Warning,
                "build-users-in-login-range",
                &users.at,
                format!(
                    "{} build user{} with uids {first}-{last}, 500 or more: the macOS login window lists them",
                    visible.len(),
                    if visible.len() == 1 { "" } else { "s" }
                ),
                "set ids.uids.nixbld = 350 (nix-installer's and nix-darwin's base: uids 351 and up)"
                    .to_owned(),
            ));
        }
    } else if let Some(users) = &s.build_users {
        let in_login: Vec<&str> = users
            .uids
            .iter()
            // The range where useradd makes people's accounts; pools from
            // 30000 up (NixOS's, every installer's) stay clear of it.
            .filter(|(_, uid)| *uid >= host.uid_min && *uid < NIX_POOL_RANGE)
            .map(|(n, _)| n.as_str())
            .collect();
        if !in_login.is_empty() {
            out.push(finding(
                Severity::Warning,
                "build-users-in-login-range",
                &users.at,
                format!(
                    "the build users {} have uids in the login range (UID_MIN {}): login screens list them and useradd may hand out their uids",
                    in_login.join(", "),
                    host.uid_min
                ),
                "move the pool below UID_MIN or to 30001 and up (ids.uids.nixbld = 30000)".to_owned(),
            ));
        }
    }
}

/// Where NixOS and the installers put build users, above the accounts of
/// people.
const NIX_POOL_RANGE: u32 = 30000;

fn builders(s: &Subject, out: &mut Vec<Finding>) {
    if let Some((at, columns)) = &s.builders_list {
        if *columns > 8 {
            out.push(finding(
                Severity::Error,
                "builders-list-joined",
                at,
                format!("the list is joined with spaces into one line of {columns} columns: Nix reads the first 8 as one machine and silently drops the rest"),
                "use nix.buildMachines, or one string with the machines separated by `;`".to_owned(),
            ));
        }
    }
    if let Some(version) = &s.version {
        let located: Vec<nixconf_machines::Located> =
            s.machines.iter().map(|(_, l)| l.clone()).collect();
        for lint in nixconf_machines::lint(&located, version) {
            let at = s
                .machines
                .iter()
                .find(|(_, l)| l.file == lint.file && l.line == lint.line)
                .map_or_else(
                    || format!("{}:{}", lint.file, lint.line),
                    |(at, _)| at.clone(),
                );
            let (severity, at) = match lint.kind {
                nixconf_machines::LintKind::KeyInStore => (Severity::Error, format!("{at}.sshKey")),
                _ => (Severity::Warning, at),
            };
            out.push(finding(
                severity,
                "machines-check",
                &at,
                lint.message,
                lint.fix,
            ));
        }
    }
    for (at, located) in &s.machines {
        let m = &located.machine;
        let mandatory = m.mandatory_features();
        let supported = m.supported_features();
        if !mandatory.is_empty() && supported.iter().all(|f| mandatory.contains(f)) {
            out.push(finding(
                Severity::Warning,
                "builder-all-mandatory",
                at,
                format!("every feature of `{}` is mandatory: it only takes builds that require all of {}, so it is almost never chosen", m.store_uri(), mandatory.join(", ")),
                "move features that builds need not require from mandatoryFeatures to supportedFeatures".to_owned(),
            ));
        }
        if m.store_uri().starts_with("ssh-ng://") && m.public_host_key().map_or(true, str::is_empty)
        {
            out.push(finding(
                Severity::Warning,
                "builder-no-host-key",
                at,
                format!("`{}` has no public host key: the first connection trusts whatever key the host presents (or fails under the daemon, which has no known_hosts)", m.store_uri()),
                "set publicHostKey to the base64 of the host's /etc/ssh/ssh_host_ed25519_key.pub".to_owned(),
            ));
        }
    }
}
