//! Behaviours of the 2023 module beyond the reference corpus, each pinned
//! to an exact result.

use nixconf_format::ConfValue;
use nixconf_options::{Error, FailedAssertion, Format};

mod common;
use common::eval_2023;

fn toml(text: &str) -> Result<nixconf_options::Evaluation, Error> {
    eval_2023(text, Format::Toml, "c.toml")
}

fn json(text: &str) -> Result<nixconf_options::Evaluation, Error> {
    eval_2023(text, Format::Json, "c.json")
}

/// The option paths and messages of a refused configuration.
fn errors(r: Result<nixconf_options::Evaluation, Error>) -> Vec<String> {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.option_errors().iter().map(ToString::to_string).collect(),
    }
}

fn setting(e: &nixconf_options::Evaluation, key: &str) -> Option<ConfValue> {
    e.settings.as_ref().unwrap().get(key).cloned()
}

#[test]
fn daemon_nice_level_is_a_removed_option() {
    let e = toml("nixVersion = \"2.18.1\"\nnix.daemonNiceLevel = 5\n").unwrap();
    assert_eq!(
        e.failed_assertions,
        [FailedAssertion::Removed {
            option: "nix.daemonNiceLevel".into(),
            note: "Consider nix.daemonCPUSchedPolicy instead.".into()
        }]
    );
    assert_eq!(
        e.to_json()["failedAssertions"],
        serde_json::json!([{"kind": "removed", "option": "nix.daemonNiceLevel",
            "note": "Consider nix.daemonCPUSchedPolicy instead."}])
    );
    // Removed-option assertions are not under `mkIf cfg.enable`.
    let e = toml("nix.enable = false\nnix.daemonNiceLevel = 5\n").unwrap();
    assert_eq!(e.failed_assertions.len(), 1);
}

#[test]
fn builders_cannot_be_set_without_distributed_builds() {
    let errs = errors(toml(
        "nixVersion = \"2.18.1\"\n[nix.settings]\nbuilders = \"ssh://b x86_64-linux\"\n",
    ));
    assert_eq!(
        errs,
        [
            "c.toml:3:12: `nix.settings.builders`: defined both as null and as a value: \
          the nix-daemon module sets null, `nix.settings.builders` sets \"ssh://b x86_64-linux\""
        ]
    );
    let e = toml(
        "nixVersion = \"2.18.1\"\nnix.distributedBuilds = true\n[nix.settings]\nbuilders = \"@/etc/nix/machines\"\n",
    )
    .unwrap();
    assert_eq!(
        setting(&e, "builders"),
        Some(ConfValue::Str("@/etc/nix/machines".into()))
    );
    let e = toml("nixVersion = \"2.18.1\"\nnix.distributedBuilds = true\n").unwrap();
    assert_eq!(setting(&e, "builders"), None);
}

#[test]
fn sandbox_fallback_only_from_2_3pre() {
    let at = |v: &str| {
        let e = toml(&format!("nixVersion = \"{v}\"\n")).unwrap();
        setting(&e, "sandbox-fallback")
    };
    assert_eq!(at("2.2"), None);
    assert_eq!(at("2.3pre20190101"), Some(ConfValue::Bool(false)));
    assert_eq!(at("2.24.9"), Some(ConfValue::Bool(false)));
    let errs = errors(toml(
        "nixVersion = \"2.4\"\nnix.settings.sandbox-fallback = true\n",
    ));
    assert!(
        errs[0].contains("`nix.settings.sandbox-fallback`: has conflicting definitions"),
        "{errs:?}"
    );
}

#[test]
fn nix_2_0_and_2_1_are_refused_naming_both_module_generations() {
    for v in ["2.1.3", "2.0", "2.0pre20180101"] {
        let errs = errors(toml(&format!("nixVersion = \"{v}\"\n")));
        assert_eq!(
            errs,
            [format!(
                "c.toml:1:14: `nixVersion`: Nix {v} is not supported: the 2023 NixOS module \
                 (nix.settings) supports Nix 2.2 or later, and the 2013 module (nix.useChroot, \
                 nix.binaryCaches) Nix 1.x; Nix 2.0 and 2.1 fall between them"
            )]
        );
    }
    let errs = errors(toml("nixVersion = \"two\"\n"));
    assert!(errs[0].contains("invalid Nix version 'two'"), "{errs:?}");
    // A disabled Nix needs no version at all.
    assert!(toml("nix.enable = false\n").is_ok());
    let errs = errors(toml("[nix.settings]\ncores = 2\n"));
    assert_eq!(errs, ["`nixVersion`: the version of the target Nix is required, for example nixVersion = \"2.18.1\""]);
}

#[test]
fn chained_renames_warn_twice_and_merge() {
    let e = json(r#"{"nixVersion": "2.18.1", "nix": {"useChroot": true, "chrootDirs": ["/a"], "sandboxPaths": ["/b"], "settings": {"extra-sandbox-paths": ["/c"]}}}"#).unwrap();
    let warned: Vec<(String, String)> = e
        .warnings
        .iter()
        .map(|w| (w.from.clone(), w.to.clone()))
        .collect();
    assert_eq!(
        warned,
        [
            ("nix.useSandbox".into(), "nix.settings.sandbox".into()),
            (
                "nix.sandboxPaths".into(),
                "nix.settings.extra-sandbox-paths".into()
            ),
            ("nix.chrootDirs".into(), "nix.sandboxPaths".into()),
            ("nix.useChroot".into(), "nix.useSandbox".into()),
        ]
    );
    let paths =
        |xs: &[&str]| ConfValue::List(xs.iter().map(|s| ConfValue::Str((*s).into())).collect());
    assert_eq!(
        setting(&e, "extra-sandbox-paths"),
        Some(paths(&["/c", "/b", "/a"]))
    );
    assert_eq!(setting(&e, "sandbox"), Some(ConfValue::Bool(true)));
    let errs = errors(json(
        r#"{"nixVersion": "2.18.1", "nix": {"useChroot": false, "settings": {"sandbox": "relaxed"}}}"#,
    ));
    assert_eq!(
        errs,
        ["c.json:1:78: `nix.settings.sandbox`: defined more than once with values of different types, and it can only have one: \
          `nix.settings.sandbox` sets \"relaxed\", `nix.useChroot` sets false"]
    );
}

#[test]
fn io_nice_level_is_renamed_to_sched_priority() {
    let e = toml("nixVersion = \"2.18.1\"\nnix.daemonIONiceLevel = 2\n").unwrap();
    assert_eq!(e.service_config.as_ref().unwrap().io_scheduling_priority, 2);
    let errs = errors(toml(
        "nixVersion = \"2.18.1\"\nnix.daemonIONiceLevel = 2\nnix.daemonIOSchedPriority = 3\n",
    ));
    assert!(errs[0].contains("has conflicting definitions"), "{errs:?}");
}

#[test]
fn registry_flake_needs_an_out_path_and_entries_need_a_target() {
    let errs = errors(toml(
        "nixVersion = \"2.18.1\"\n[nix.registry.x.flake]\nrev = \"abc\"\n",
    ));
    assert_eq!(errs, ["c.toml:2:1: `nix.registry.x.flake`: the flake has no `outPath`, which `to` is made from"]);
    let errs = errors(toml(
        "nixVersion = \"2.18.1\"\n[nix.registry.x]\nexact = false\n",
    ));
    assert_eq!(errs, ["c.toml:2:1: `nix.registry.x.to`: used but not defined: give `to` (a flake reference) or `flake`"]);
    let e = toml("nixVersion = \"2.18.1\"\n[nix.registry.x.flake]\noutPath = \"/nix/store/x-source\"\nrev = \"abc\"\nshortRev = \"a\"\n").unwrap();
    assert_eq!(
        e.registry.as_deref(),
        Some(
            r#"{"flakes":[{"exact":true,"from":{"id":"x","type":"indirect"},"to":{"path":"/nix/store/x-source","rev":"abc","type":"path"}}],"version":2}"#
        )
    );
}

#[test]
fn nr_build_users_default_follows_max_jobs_and_auto_allocate_uids() {
    let n = |settings: &str| {
        toml(&format!(
            "nixVersion = \"2.18.1\"\n[nix.settings]\n{settings}\n"
        ))
        .unwrap()
        .nr_build_users
    };
    assert_eq!(n(""), Some(32));
    assert_eq!(n("max-jobs = 48"), Some(48));
    assert_eq!(n("max-jobs = 8"), Some(32));
    assert_eq!(n("auto-allocate-uids = true\nmax-jobs = 48"), Some(0));
    let errs = errors(toml(
        "nixVersion = \"2.18.1\"\nnix.settings.auto-allocate-uids = \"yes\"\n",
    ));
    assert!(
        errs[0].starts_with("`nix.settings.auto-allocate-uids`: expected a boolean"),
        "{errs:?}"
    );
    let e = toml("nixVersion = \"2.18.1\"\nnix.nrBuildUsers = 2\nids.uids.nixbld = 350\n").unwrap();
    let users: Vec<(String, i64)> = e.users().into_iter().map(|(n, u)| (n, u.uid)).collect();
    assert_eq!(
        users,
        [("nixbld1".to_owned(), 351), ("nixbld2".to_owned(), 352)]
    );
}

#[test]
fn unknown_options_suggest_the_closest_name() {
    let errs = errors(toml("nixversion = \"2.18.1\"\n[nix]\ndistributedBuild = true\n[[nix.buildMachines]]\nhostname = \"b\"\n"));
    assert_eq!(
        errs,
        [
            "c.toml:1:1: `nixversion`: no such option; did you mean `nixVersion`?",
            "c.toml:3:1: `nix.distributedBuild`: no such option; did you mean `nix.distributedBuilds`?",
            "c.toml:4:1: `nix.buildMachines[0].hostName`: used but not defined: every build machine needs a hostName",
            "c.toml:5:1: `nix.buildMachines[0].hostname`: no such option; did you mean `nix.buildMachines[0].hostName`?",
            "`nixVersion`: the version of the target Nix is required, for example nixVersion = \"2.18.1\"",
        ]
    );
}

#[test]
fn a_package_cannot_be_given() {
    let errs = errors(toml(
        "nixVersion = \"2.18.1\"\nnix.package = \"/nix/store/x-nix\"\n",
    ));
    assert!(
        errs[0].starts_with("c.toml:2:15: `nix.package`: a package cannot be given here"),
        "{errs:?}"
    );
}

#[test]
fn toml_dates_are_refused_with_their_position() {
    let err = toml("nixVersion = \"2.18.1\"\nnix.extraOptions = 1979-05-27\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "c.toml:2:20: TOML dates and times have no NixOS counterpart; write the value as a string"
    );
}

#[test]
fn crlf_and_bom_are_read() {
    let e = toml("\u{feff}nixVersion = \"2.18.1\"\r\n[nix.settings]\r\ncores = 3\r\n").unwrap();
    assert_eq!(setting(&e, "cores"), Some(ConfValue::Int(3)));
    let e = json(
        "\u{feff}{\"nixVersion\": \"2.18.1\",\r\n \"nix\": {\"settings\": {\"cores\": 3}}}\r\n",
    )
    .unwrap();
    assert_eq!(setting(&e, "cores"), Some(ConfValue::Int(3)));
}

#[test]
fn empty_files() {
    let errs = errors(toml(""));
    assert_eq!(errs.len(), 1);
    assert!(errs[0].contains("`nixVersion`"));
    let err = json("").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("c.json:1:1: EOF while parsing a value"),
        "{err}"
    );
}

#[test]
fn json_null_only_where_the_module_allows_it() {
    let e = json(r#"{"nixVersion": "2.18.1", "nix": {"settings": {"x": null, "y": [null, 1]},
        "buildMachines": [{"hostName": "b", "system": "x86_64-linux", "protocol": null, "sshUser": null}]}}"#).unwrap();
    assert_eq!(setting(&e, "x"), Some(ConfValue::Null));
    assert_eq!(e.machines.as_deref(), Some("b x86_64-linux - 1 1 - - -\n"));
    let errs = errors(json(
        r#"{"nixVersion": "2.18.1", "nix": {"distributedBuilds": null, "settings": {"cores": null}}}"#,
    ));
    assert_eq!(
        errs,
        [
            "c.json:1:55: `nix.distributedBuilds`: expected a boolean, got null",
            "c.json:1:83: `nix.settings.cores`: expected a signed integer, got null",
        ]
    );
}

#[test]
fn environment_values_must_be_strings() {
    let errs = errors(toml(
        "nixVersion = \"2.18.1\"\n[nix.envVars]\nA = 1\n\"B=C\" = \"x\"\n",
    ));
    assert_eq!(
        errs,
        [
            "c.toml:3:5: `nix.envVars.A`: expected a string (the value goes into an environment), got the integer 1",
            "c.toml:4:9: `nix.envVars.\"B=C\"`: \"B=C\" cannot be an environment variable name (empty, or with `=`, a newline or NUL)",
        ]
    );
}

#[test]
fn settings_values_nest_no_deeper_than_a_list() {
    let errs = errors(toml(
        "nixVersion = \"2.18.1\"\n[nix.settings]\na = [[1]]\nb = { c = 1 }\n",
    ));
    assert_eq!(
        errs,
        [
            "c.toml:3:6: `nix.settings.a[0]`: expected a nix.conf value (null, boolean, integer, float or string), got a list of 1 element(s)",
            "c.toml:4:5: `nix.settings.b`: expected a nix.conf value (null, boolean, integer, float or string) or a list of them, got an attribute set with 1 key(s)",
        ]
    );
}
