//! `mkOverride`/`mkForce`/`mkDefault` and `mkOrder`/`mkBefore`/`mkAfter`
//! as `nix eval --json` prints them, in JSON and TOML, merged with the
//! modules' own definitions; `{ _type = "null" }` for TOML's missing null.

use nixconf_options::{evaluate, Format};
use serde_json::Value;

fn toml(text: &str) -> Value {
    let text = format!("nixVersion = \"2.24.9\"\n{text}");
    evaluate(&text, Format::Toml, "c.toml")
        .unwrap_or_else(|e| panic!("{e}"))
        .to_json()
}

fn json(text: &str) -> Value {
    evaluate(text, Format::Json, "c.json")
        .unwrap_or_else(|e| panic!("{e}"))
        .to_json()
}

fn conf_line(v: &Value, key: &str) -> String {
    let prefix = format!("{key} = ");
    v["nixConf"]
        .as_str()
        .unwrap()
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {key} in nix.conf"))
        .to_owned()
}

#[test]
fn mk_force_drops_the_modules_substituter() {
    let v = json(
        r#"{"nixVersion": "2.24.9", "nix": {"settings": {"substituters":
            {"_type": "override", "priority": 50, "content": ["http://cache.internal/"]}}}}"#,
    );
    assert_eq!(
        conf_line(&v, "substituters"),
        "substituters = http://cache.internal/"
    );
    let v = toml(
        "[nix.settings.substituters]\n_type = \"override\"\npriority = 50\ncontent = [\"http://cache.internal/\"]\n",
    );
    assert_eq!(
        conf_line(&v, "substituters"),
        "substituters = http://cache.internal/"
    );
}

#[test]
fn plain_and_mk_default_definitions_meet_the_modules_own() {
    // Plain: appended to the module's `root` (2026).
    let v = toml("nix.settings.trusted-users = [\"alice\"]\n");
    assert_eq!(conf_line(&v, "trusted-users"), "trusted-users = root alice");
    // mkDefault loses to the module's plain definition.
    let v = toml(
        "nix.settings.trusted-users = { _type = \"override\", priority = 1000, content = [\"alice\"] }\n",
    );
    assert_eq!(conf_line(&v, "trusted-users"), "trusted-users = root");
    // mkForce replaces it.
    let v = toml(
        "nix.settings.trusted-users = { _type = \"override\", priority = 50, content = [\"alice\"] }\n",
    );
    assert_eq!(conf_line(&v, "trusted-users"), "trusted-users = alice");
}

#[test]
fn order_sorts_list_definitions() {
    // mkBefore puts the user's features before the module's defaults.
    let v = toml(
        "nix.settings.system-features = { _type = \"order\", priority = 500, content = [\"cuda\"] }\n",
    );
    assert_eq!(
        conf_line(&v, "system-features"),
        "system-features = cuda nixos-test benchmark big-parallel kvm"
    );
    // mkAfter ties with the module's mkAfter cache: definition order.
    let v = toml(
        "nix.settings.substituters = { _type = \"order\", priority = 1500, content = [\"https://x/\"] }\n",
    );
    assert_eq!(
        conf_line(&v, "substituters"),
        "substituters = https://cache.nixos.org/ https://x/"
    );
}

#[test]
fn a_forced_settings_set_discards_the_modules_definitions() {
    let v = toml("[nix.settings]\n_type = \"override\"\npriority = 50\ncontent = { cores = 2 }\n");
    let conf = v["nixConf"].as_str().unwrap();
    assert!(!conf.contains("\nsubstituters"), "{conf}");
    assert!(!conf.contains("trusted-public-keys"), "{conf}");
    // trusted-users has no option default in 2026.
    assert!(!conf.contains("trusted-users"), "{conf}");
    // The declared settings' option defaults stay.
    assert_eq!(conf_line(&v, "cores"), "cores = 2");
    assert_eq!(conf_line(&v, "allowed-users"), "allowed-users = *");
    assert_eq!(
        conf_line(&v, "system-features"),
        "system-features = nixos-test benchmark big-parallel kvm"
    );
}

#[test]
fn other_options_lose_only_to_what_the_module_defines() {
    // nrBuildUsers: the module's mkDefault beats mkOverride 1100.
    let v = toml("nix.nrBuildUsers = { _type = \"override\", priority = 1100, content = 3 }\n");
    assert_eq!(v["nrBuildUsers"], 32);
    let v = toml("nix.nrBuildUsers = { _type = \"override\", priority = 50, content = 3 }\n");
    assert_eq!(v["nrBuildUsers"], 3);
    // gc.automatic has only an option default: mkDefault beats it.
    let v = toml("nix.gc.automatic = { _type = \"override\", priority = 1000, content = true }\n");
    assert_eq!(
        v["units"]["timers"]["nix-gc"]["timerConfig"]["Persistent"],
        true
    );
    // ... and mkOverride 1600 does not.
    let v = toml("nix.gc.automatic = { _type = \"override\", priority = 1600, content = true }\n");
    assert_eq!(v["units"]["timers"], serde_json::json!({}));
}

#[test]
fn null_in_toml() {
    let v = toml(
        "nix.settings.flake-registry = { _type = \"null\" }\n\
         [[nix.buildMachines]]\nhostName = \"b\"\nsystem = \"x86_64-linux\"\nprotocol = { _type = \"null\" }\n",
    );
    assert_eq!(conf_line(&v, "flake-registry"), "flake-registry = ");
    assert_eq!(v["machines"], "b x86_64-linux - 1 1 - - -\n");
}

#[test]
fn malformed_wrappers_are_errors_at_their_option() {
    let err = |text: &str| {
        let e = evaluate(
            &format!("nixVersion = \"2.24.9\"\n{text}"),
            Format::Toml,
            "c.toml",
        )
        .unwrap_err();
        let first = &e.option_errors()[0];
        (
            first.option.clone().unwrap_or_default(),
            first.message.clone(),
        )
    };
    let (option, message) =
        err("nix.settings.cores = { _type = \"if\", condition = true, content = 1 }\n");
    assert_eq!(option, "nix.settings.cores");
    assert!(
        message.starts_with("unsupported _type the string \"if\""),
        "{message}"
    );
    let (option, message) = err("nix.gc.dates = { _type = \"override\", content = \"daily\" }\n");
    assert_eq!(option, "nix.gc.dates");
    assert!(message.contains("priority = N"), "{message}");
    let (option, _) =
        err("nix.nixPath = [{ _type = \"override\", priority = 50, content = \"a\" }]\n");
    assert_eq!(option, "nix.nixPath[0]");
    // A forced value still has to fit the option's type.
    let (option, _) =
        err("nix.settings.cores = { _type = \"override\", priority = 50, content = \"two\" }\n");
    assert_eq!(option, "nix.settings.cores");
}
