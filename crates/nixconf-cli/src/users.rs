//! `nixconf users`: plan the build-user pool against a root's accounts,
//! and find a free uid range for it.
//!
//! `--config FILE` is a configuration in the NixOS option tree, JSON (by
//! the `.json` extension) or TOML, of which this reads:
//!
//! | key | meaning |
//! | --- | --- |
//! | `nix.enable` | `false`: no pool is managed |
//! | `nix.nrBuildUsers` | number of build users (default: 0 with `auto-allocate-uids`, else `max(32, max-jobs)`) |
//! | `nix.settings.max-jobs` (legacy `nix.maxJobs`) | an integer or `"auto"` |
//! | `nix.settings.auto-allocate-uids` | bool |
//! | `nix.settings.start-id`, `nix.settings.id-count` | the auto-allocated range |
//! | `nix.settings.build-users-group` | the group's name (default `nixbld`) |
//! | `ids.uids.nixbld` | base uid: build user `i` gets `base + i` |
//! | `ids.gids.nixbld` | the group's gid |
//! | `users.platform` | `"linux"` (default) or `"macos"` |
//! | `users.adoptExistingGroup` | adopt an existing group with another gid |
//! | `users.namePrefix` | user-name prefix (`nixbld`, macOS `_nixbld`) |
//! | `users.home`, `users.shell` | home directory and shell |
//!
//! The whole file is evaluated as `nixconf plan` evaluates it (through
//! nixconf-options): a mistake anywhere in it is reported with its option
//! path, and a TOML file's with its line and column.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use nixconf_activation::{managed_build_users, read_config_with};
use nixconf_users::Platform;

use crate::Outcome;

/// `nixconf users ...`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Plan the build users and group against the accounts under a root
    /// (removing those an earlier `nixconf apply` created that are no
    /// longer asked for); exit status 1 when the pool cannot be placed.
    Plan(PlanArgs),
    /// Print the first base uid at or above `--from` where COUNT build
    /// users (uids base+1 ..= base+COUNT) clash with nothing.
    FreeRange(FreeRangeArgs),
}

/// Arguments of `nixconf users plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The configuration (NixOS option tree, JSON or TOML).
    #[arg(long, value_name = "FILE", default_value = crate::generation::DEFAULT_CONFIG)]
    config: PathBuf,
    /// The module generation and output flavour.
    #[command(flatten)]
    module: crate::generation::GenerationArgs,
    /// The root directory whose etc/passwd, etc/group, etc/subuid and
    /// etc/subgid are read.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Print the plan as JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `nixconf users free-range`.
#[derive(Debug, Args)]
pub struct FreeRangeArgs {
    /// How many build users.
    #[arg(long)]
    count: u32,
    /// The root directory whose accounts are read.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// Whose conventions: `linux` or `macos` (macOS keeps to uids below 500).
    #[arg(long, default_value = "linux")]
    platform: Platform,
    /// The lowest base uid to consider (default: the platform's, 30000 or 350).
    #[arg(long, value_name = "UID")]
    from: Option<u32>,
}

pub fn run(command: UsersCommand) -> Result<Outcome, String> {
    match command {
        UsersCommand::Plan(args) => plan(&args),
        UsersCommand::FreeRange(args) => free_range(&args),
    }
}

fn plan(args: &PlanArgs) -> Result<Outcome, String> {
    crate::generation::require_config(&args.config)?;
    let config = read_config_with(&args.config, args.module.eval_options())
        .map_err(crate::activate::describe)?;
    // Refused as `plan` and `apply` refuse it.
    nixconf_options::assertions_hold(&config.evaluation)
        .map_err(|e| crate::eval::describe_error(&e))?;
    let Some(request) = config.pool_request().map_err(crate::activate::describe)? else {
        return Ok(Outcome {
            stdout: "nix.enable = false: no build users are managed\n".to_owned(),
            failed: false,
        });
    };
    // The users earlier applies created, so the plan shows what `nixconf
    // apply` would remove.
    let managed = managed_build_users(&args.root).map_err(crate::activate::describe)?;
    let plan = nixconf_users::plan_with_managed(&args.root, &request, &managed)
        .map_err(|e| e.to_string())?;
    let stdout = if args.json {
        let mut s = serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())?;
        s.push('\n');
        s
    } else {
        plan.to_string()
    };
    Ok(Outcome {
        stdout,
        failed: plan.has_conflicts(),
    })
}

fn free_range(args: &FreeRangeArgs) -> Result<Outcome, String> {
    let accounts = nixconf_users::Accounts::read(&args.root).map_err(|e| e.to_string())?;
    let from = args.from.unwrap_or(args.platform.default_base_uid());
    match nixconf_users::free_range(&accounts, args.count, from, args.platform) {
        Some(base) => Ok(Outcome {
            stdout: format!("{base}\n"),
            failed: false,
        }),
        None => Err(format!(
            "no base uid from {from} leaves {} uids free at or below {}",
            args.count,
            args.platform.max_uid()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nixconf_activation::{parse_config, read_config};
    use nixconf_options::Format;
    use nixconf_users::PoolRequest;
    use serde_json::Value;

    /// The pool request a configuration (as JSON) makes, or `None` with
    /// `nix.enable = false`: evaluated as `nixconf plan` does. Errors name the
    /// option path.
    fn request_from_config(config: &Value) -> Result<Option<PoolRequest>, String> {
        let config = parse_config(&config.to_string(), Format::Json, "configuration")
            .map_err(crate::activate::describe)?;
        config.pool_request().map_err(crate::activate::describe)
    }
    use std::path::Path;

    fn request(json: &str) -> Result<Option<PoolRequest>, String> {
        request_from_config(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn reads_the_option_tree() {
        let r = request(
            r#"{"nixVersion": "2.18.1",
                "nix": {"settings": {"max-jobs": 40, "build-users-group": "builders"}},
                "ids": {"uids": {"nixbld": 40000}, "gids": {"nixbld": 40000}},
                "users": {"platform": "macos", "adoptExistingGroup": true, "namePrefix": "_bld"}}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.count(), 40);
        assert_eq!((r.base_uid(), r.gid()), (40000, 40000));
        assert_eq!(r.group(), "builders");
        assert_eq!(r.platform(), Platform::Macos);
        assert!(r.adopt_existing_group());
        assert_eq!(r.user_name(3), "_bld3");
    }

    /// The first problem's option path, through the same evaluation as
    /// `nixconf plan`.
    fn first_error(json: &str) -> String {
        let err = parse_config(json, Format::Json, "c.json").unwrap_err();
        match err {
            nixconf_activation::Error::Options(e) => {
                e.option_errors()[0].option.clone().unwrap_or_default()
            }
            other => other.to_string(),
        }
    }

    #[test]
    fn errors_name_the_option_path() {
        assert_eq!(
            first_error(r#"{"nixVersion": "2.18.1", "nix": {"settings": {"max-jobs": "lots"}}}"#),
            "nix.settings.max-jobs"
        );
        // NixOS's int type takes it; a pool cannot.
        assert_eq!(
            request(r#"{"nixVersion": "2.18.1", "nix": {"nrBuildUsers": 4294967296}}"#)
                .unwrap_err(),
            "`nix.nrBuildUsers`: expected an integer from 0 to 4294967295, got 4294967296"
        );
        // Below 1, NixOS makes none (`range 1 n`), and so does nixconf.
        let none = request(r#"{"nixVersion": "2.18.1", "nix": {"nrBuildUsers": -1}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(none.count(), 0);
        assert_eq!(
            first_error(r#"{"nixVersion": "2.18.1", "users": {"platform": "windows"}}"#),
            "users.platform"
        );
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn fixture_root(case: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/users")
            .join(case)
            .join("root")
    }

    #[test]
    fn plan_fails_with_the_conflicts_and_free_range_finds_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("configuration.toml");
        std::fs::write(
            &config,
            "nixVersion = \"2.24.9\"\n[nix]\nnrBuildUsers = 4\n",
        )
        .unwrap();
        let out = plan(&PlanArgs {
            config,
            module: crate::generation::GenerationArgs {
                generation: Some(nixconf_options::ModuleGeneration::Nixos2023),
                nixos: false,
            },
            root: fixture_root("uid-clash"),
            json: false,
        })
        .unwrap();
        assert!(out.failed);
        assert_eq!(
            out.stdout,
            "group nixbld (gid 30000): create\n\
             users nixbld1..nixbld4 (uids 30001-30004): create\n\
             conflict: uid 30003 for build user nixbld3 is held by account postgres (etc/passwd:9)\n  \
             fix: set ids.uids.nixbld = 30003: uids 30004-30007 are free (`nixconf users free-range --count 4` finds such a base)\n\
             the pool cannot be placed: 1 conflict(s)\n"
        );
        let out = free_range(&FreeRangeArgs {
            count: 4,
            root: fixture_root("uid-clash"),
            platform: Platform::Linux,
            from: None,
        })
        .unwrap();
        assert_eq!(out.stdout, "30003\n");
    }

    #[test]
    fn plan_json_is_the_fixture_expectation() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("configuration.json");
        std::fs::write(
            &config,
            r#"{"nixVersion": "2.18.1", "nix": {"nrBuildUsers": 4}, "users": {"adoptExistingGroup": true}}"#,
        )
        .unwrap();
        let out = plan(&PlanArgs {
            config,
            module: crate::generation::GenerationArgs {
                generation: Some(nixconf_options::ModuleGeneration::Nixos2023),
                nixos: false,
            },
            root: fixture_root("nixbld-other-gid-adopted"),
            json: true,
        })
        .unwrap();
        assert!(!out.failed);
        let expected = std::fs::read_to_string(
            fixture_root("nixbld-other-gid-adopted").with_file_name("expected.json"),
        )
        .unwrap();
        assert_eq!(out.stdout, expected);
    }

    #[test]
    fn a_malformed_config_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("c.toml");
        std::fs::write(&config, "[nix]\nnrBuildUsers = = 3\n").unwrap();
        let err = read_config(&config).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}:2:16: ", config.display())),
            "{err}"
        );
    }

    #[test]
    fn nix_disabled_manages_no_pool() {
        assert_eq!(
            request(r#"{"nixVersion": "2.18.1", "nix": {"enable": false}}"#).unwrap(),
            None
        );
    }

    /// Every case of the vendored NixOS corpus: the users this reader and
    /// the planner's naming produce are the module's, exactly.
    #[test]
    fn build_users_match_the_nixos_module_corpus() {
        let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/conformance/cases");
        let mut dirs: Vec<_> = std::fs::read_dir(&cases)
            .expect("the vendored corpus")
            .map(|e| e.expect("entry").path())
            .collect();
        dirs.sort();
        let mut checked = 0;
        for dir in dirs {
            let case = read_json(&dir.join("case.json"));
            let expected = read_json(&dir.join("expected.json"));
            if let Some(err) = expected.get("error") {
                // The same evaluation refuses it, first naming the option
                // the module names.
                let option = err["option"].as_str().unwrap_or_default();
                assert_eq!(first_error(&case.to_string()), option, "{}", dir.display());
                continue;
            }
            let got =
                request_from_config(&case).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let Some(r) = got else {
                assert!(expected["nrBuildUsers"].is_null(), "{}", dir.display());
                continue;
            };
            assert_eq!(
                expected["nrBuildUsers"],
                serde_json::json!(r.count()),
                "{}",
                dir.display()
            );
            let users: serde_json::Map<String, Value> = (1..=r.count())
                .map(|i| {
                    (
                        r.user_name(i),
                        serde_json::json!({
                            "description": PoolRequest::user_description(i),
                            "uid": r.user_uid(i),
                            "isSystemUser": true,
                            "group": r.group(),
                            "extraGroups": [r.group()],
                        }),
                    )
                })
                .collect();
            assert_eq!(expected["users"], Value::Object(users), "{}", dir.display());
            checked += 1;
        }
        // Every case that evaluates with nix enabled: the corpus is vendored.
        assert_eq!(checked, 377);
    }
}
