//! The planner against in-memory account files: exact plans, conflicts,
//! fixes and lints, and the property that a conflict-free plan never
//! collides with an existing id.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{accounts, linux, names, prop_config, renumbered, FIXED_SEED};
use nixconf_users::{
    free_range, plan_accounts, plan_accounts_with_managed, Accounts, ConflictKind, GroupAction,
    LintKind, MaxJobs, Platform, PoolRequest, Step, UserAction,
};
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, RngSeed};

#[test]
fn property_tests_are_reproducible_and_keep_their_failures() {
    let c = prop_config();
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        assert_eq!(c.rng_seed, RngSeed::Fixed(FIXED_SEED));
    }
    assert_eq!(c.rng_algorithm, RngAlgorithm::ChaCha);
    assert!(c.failure_persistence.is_some());
    let saved = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plan.proptest-regressions");
    assert!(saved.exists(), "{} is committed", saved.display());
}

#[test]
fn existing_users_converge_attribute_by_attribute() {
    let a = accounts(
        "nixbld1:x:30001:100:Nix build user 1:/home/nixbld1:/bin/bash\n\
         nixbld2:x:30002:30000:Nix build user 2:/var/empty:/sbin/nologin\n",
        "nixbld:x:30000:nixbld2\n",
    );
    let p = plan_accounts(&a, &linux(2));
    assert!(p.conflicts.is_empty());
    assert_eq!(p.users[1].action, UserAction::UpToDate);
    assert_eq!(p.users[0].action, UserAction::Converge);
    let changes: Vec<String> = p.users[0].changes.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        changes,
        vec![
            "primary group \"100\" -> \"30000\"",
            "home \"/home/nixbld1\" -> \"/var/empty\"",
            "shell \"/bin/bash\" -> \"/sbin/nologin\"",
            "add to group nixbld",
        ]
    );
    let steps: Vec<String> = p.steps.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        steps,
        vec![
            "change user nixbld1: primary group \"100\" -> \"30000\", home \"/home/nixbld1\" -> \"/var/empty\", shell \"/bin/bash\" -> \"/sbin/nologin\"",
            "add nixbld1 to group nixbld",
        ]
    );
}

#[test]
fn a_pool_user_moving_off_a_uid_moves_before_the_one_moving_on() {
    // nixbld1 sits on nixbld2's uid: nixbld1 must move first.
    let a = accounts(
        "nixbld2:x:40000:30000:Nix build user 2:/var/empty:/sbin/nologin\n\
         nixbld1:x:30002:30000:Nix build user 1:/var/empty:/sbin/nologin\n",
        "nixbld:x:30000:nixbld1,nixbld2\n",
    );
    let p = plan_accounts(&a, &renumbered(2));
    assert!(p.conflicts.is_empty(), "{p}");
    let order: Vec<&str> = p
        .steps
        .iter()
        .filter_map(|s| match s {
            Step::ModifyUser { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(order, vec!["nixbld1", "nixbld2"]);
}

#[test]
fn two_pool_users_trading_uids_is_a_conflict() {
    let a = accounts(
        "nixbld1:x:30002:30000:Nix build user 1:/var/empty:/sbin/nologin\n\
         nixbld2:x:30001:30000:Nix build user 2:/var/empty:/sbin/nologin\n",
        "nixbld:x:30000:nixbld1,nixbld2\n",
    );
    let p = plan_accounts(&a, &renumbered(2));
    let kinds: Vec<_> = p.conflicts.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ConflictKind::UidSwap]);
    // Without renumbering each keeps its uid: nothing to move.
    let kept = plan_accounts(&a, &linux(2));
    assert!(kept.conflicts.is_empty(), "{kept}");
    assert_eq!(
        kept.users.iter().map(|u| u.uid).collect::<Vec<_>>(),
        [30002, 30001]
    );
    assert!(kept.lints.iter().all(|l| l.kind == LintKind::KeptUid));
}

/// Existing build users keep their uids (Debian's, counted down from 999
/// by `useradd --system`): no renumbering without `users.renumber`, a
/// warning that says how, and new users at the pool's uids.
#[test]
fn existing_build_users_keep_their_uids() {
    let a = accounts(
        "alice:x:1000:1000::/home/alice:/bin/bash\n\
         nixbld1:x:999:994:Nix build user 1:/var/empty:/usr/sbin/nologin\n\
         nixbld2:x:995:994:Nix build user 2:/var/empty:/usr/sbin/nologin\n",
        "nixbld:x:994:nixbld1,nixbld2\n",
    );
    let req = PoolRequest::builder(Platform::Linux)
        .count(3)
        .base_uid(30000)
        .gid(994)
        .shell("/usr/sbin/nologin")
        .build()
        .unwrap();
    let p = plan_accounts(&a, &req);
    assert!(p.conflicts.is_empty(), "{p}");
    assert_eq!(
        p.users.iter().map(|u| u.uid).collect::<Vec<_>>(),
        [999, 995, 30003],
        "{p}"
    );
    assert_eq!(p.users[0].action, UserAction::UpToDate);
    assert_eq!(p.users[2].action, UserAction::Create);
    assert_eq!(
        p.lints
            .iter()
            .filter(|l| l.kind == LintKind::KeptUid)
            .count(),
        2
    );
    // A kept uid that another account shares is refused, with the fix.
    let shared = accounts(
        "alice:x:999:1000::/home/alice:/bin/bash\n\
         nixbld1:x:999:994:Nix build user 1:/var/empty:/usr/sbin/nologin\n",
        "nixbld:x:994:nixbld1\n",
    );
    let p = plan_accounts(&shared, &req.clone());
    assert_eq!(p.conflicts[0].kind, ConflictKind::UidTaken);
    assert!(p.conflicts[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("users.renumber = true"));
}

#[test]
fn group_with_another_gid_is_a_conflict_unless_adopted() {
    let a = accounts("", "nixbld:x:1234:\n");
    let p = plan_accounts(&a, &linux(1));
    assert_eq!(p.conflicts.len(), 1);
    assert_eq!(
        p.conflicts[0].message,
        "group nixbld already exists with gid 1234, not 30000"
    );
    assert_eq!(
        p.conflicts[0].fix.as_deref(),
        Some("set users.adoptExistingGroup = true to adopt gid 1234, or ids.gids.nixbld = 1234")
    );
    let adopt = PoolRequest::builder(Platform::Linux)
        .count(1)
        .adopt_existing_group(true)
        .build()
        .unwrap();
    let p = plan_accounts(&a, &adopt);
    assert!(p.conflicts.is_empty());
    assert_eq!(p.group.action, GroupAction::Adopt);
    assert_eq!(p.group.gid, 1234);
    assert_eq!(p.lints[0].kind, LintKind::GroupAdopted);
    assert!(matches!(&p.steps[0], Step::CreateUser { gid: 1234, .. }));
}

#[test]
fn gid_held_by_another_group_suggests_a_free_gid() {
    let a = accounts("", "docker:x:30000:\nother:x:30001:\n");
    let p = plan_accounts(&a, &linux(1));
    assert_eq!(p.conflicts[0].kind, ConflictKind::GidTaken);
    assert_eq!(
        p.conflicts[0].fix.as_deref(),
        Some("set ids.gids.nixbld = 30002 (a free gid)")
    );
}

#[test]
fn subordinate_ranges_hold_uids() {
    let a = Accounts::parse(Some(b""), Some(b""), Some(b"alice:30000:65536\n"), None);
    let p = plan_accounts(&a, &linux(2));
    let msgs: Vec<&str> = p.conflicts.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(
        msgs,
        vec![
            "uid 30001 for build user nixbld1 lies in alice's subordinate uids 30000-95535",
            "uid 30002 for build user nixbld2 lies in alice's subordinate uids 30000-95535",
        ]
    );
    assert_eq!(
        p.conflicts[0].fix.as_deref(),
        Some("set ids.uids.nixbld = 95535: uids 95536-95537 are free (`nixconf users free-range --count 2` finds such a base)")
    );
    assert_eq!(
        p.conflicts[0].location.as_ref().unwrap().to_string(),
        "etc/subuid:1"
    );
}

#[test]
fn macos_sequoia_uids_are_reserved() {
    let r = PoolRequest::builder(Platform::Macos)
        .base_uid(300)
        .count(5)
        .build()
        .unwrap();
    let p = plan_accounts(&accounts("", ""), &r);
    let kinds: Vec<_> = p.conflicts.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ConflictKind::UidReserved; 4]);
    assert_eq!(
        p.conflicts[0].fix.as_deref(),
        Some("set ids.uids.nixbld = 304: uids 305-309 are free (`nixconf users free-range --count 5` finds such a base)")
    );
}

#[test]
fn auto_allocate_range_overlaps_are_reported_with_a_free_start() {
    let a = Accounts::parse(
        Some(b"big:x:872415300:100::/:/bin/sh\n"),
        Some(b""),
        None,
        Some(b"alice:872480768:65536\n"),
    );
    let r = PoolRequest::builder(Platform::Linux)
        .auto_allocate_uids(true)
        .build()
        .unwrap();
    let p = plan_accounts(&a, &r);
    let msgs: Vec<&str> = p.conflicts.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(
        msgs,
        vec![
            "the auto-allocate-uids range 872415232-880803839 overlaps 1 account uid(s) of etc/passwd, first big (uid 872415300)",
            "the auto-allocate-uids range 872415232-880803839 overlaps 1 range(s) of etc/subgid, first alice's 872480768-872546303",
        ]
    );
    assert_eq!(
        p.conflicts[0].fix.as_deref(),
        Some("set nix.settings.start-id = 872546304: ids 872546304-880934911 are free")
    );
    assert!(p.users.is_empty());
}

#[test]
fn auto_allocate_start_must_be_aligned() {
    let r = PoolRequest::builder(Platform::Linux)
        .auto_allocate_uids(true)
        .start_id(100_000)
        .build()
        .unwrap();
    let p = plan_accounts(&accounts("", ""), &r);
    assert_eq!(p.conflicts.len(), 1);
    assert_eq!(
        p.conflicts[0].message,
        "start-id 100000 is not a multiple of 65536 (one build's ids): nix-daemon aborts on the first build with auto-allocate-uids"
    );
}

#[test]
fn capacity_lint_when_max_jobs_exceeds_the_pool() {
    let r = PoolRequest::builder(Platform::Linux)
        .max_jobs(MaxJobs::Jobs(48))
        .count(16)
        .build()
        .unwrap();
    let p = plan_accounts(&accounts("", ""), &r);
    assert_eq!(p.lints.len(), 1);
    assert_eq!(
        p.lints[0].message,
        "max-jobs = 48 but the pool has 16 build users: builds beyond 16 wait with \"all build users are currently in use\""
    );
}

#[test]
fn foreign_and_missing_group_members_are_linted() {
    let a = accounts(
        "alice:x:1000:1000::/home/alice:/bin/sh\n",
        "nixbld:x:30000:alice,ghost\n",
    );
    let p = plan_accounts(&a, &linux(1));
    let kinds: Vec<_> = p.lints.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        vec![LintKind::ForeignGroupMember, LintKind::MissingGroupMember]
    );
}

#[test]
fn malformed_lines_hold_their_ids_and_names() {
    let a = accounts("broken:x:30001\nnixbld2:x:oops:1::/:/bin/sh\n", "");
    let p = plan_accounts(&a, &linux(2));
    let msgs: Vec<&str> = p.conflicts.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(
        msgs,
        vec![
            "uid 30001 for build user nixbld1 is held by the malformed line of broken",
            "the name of build user nixbld2 is on a malformed line",
        ]
    );
    assert_eq!(p.malformed.len(), 2);
}

#[test]
fn another_prefix_pool_is_pointed_at() {
    let a = accounts(
        "_nixbld1:x:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n",
        "nixbld:x:30000:_nixbld1\n",
    );
    let p = plan_accounts(&a, &linux(1));
    assert_eq!(
        p.conflicts[0].fix.as_deref(),
        Some("set ids.uids.nixbld = 30001: uids 30002-30002 are free (`nixconf users free-range --count 1` finds such a base); or it looks like a pool with prefix `_nixbld`: set users.namePrefix = \"_nixbld\" to adopt it")
    );
}

#[test]
fn free_range_skips_every_holder() {
    let a = Accounts::parse(
        Some(b"a:x:30001:1::/:/bin/sh\nb:x:30005:1::/:/bin/sh\n"),
        Some(b""),
        Some(b"c:30010:5\n"),
        None,
    );
    assert_eq!(free_range(&a, 3, 30000, Platform::Linux), Some(30001));
    assert_eq!(free_range(&a, 4, 30000, Platform::Linux), Some(30005));
    assert_eq!(free_range(&a, 5, 30000, Platform::Linux), Some(30014));
    assert_eq!(free_range(&a, 200, 300, Platform::Macos), None);
}

/// A random passwd: uids drawn near the pool so clashes are common.
fn passwd_strategy() -> impl Strategy<Value = Vec<(String, u32)>> {
    prop::collection::vec(
        (
            prop_oneof![
                "[a-z]{1,6}".prop_map(|s| s),
                (1u32..40).prop_map(|i| format!("nixbld{i}")),
            ],
            prop_oneof![29990u32..30060, 0u32..100_000],
        ),
        0..60,
    )
}

proptest! {
    #![proptest_config(prop_config())]
    #[test]
    fn a_conflict_free_plan_never_collides_with_an_existing_id(
        users in passwd_strategy(),
        subuid in prop::option::of((29000u64..31000, 1u64..100)),
        count in 0u32..40,
        base in 29990u32..30050,
    ) {
        let passwd: String = users
            .iter()
            .map(|(n, u)| format!("{n}:x:{u}:100::/:/bin/sh\n"))
            .collect();
        let sub = subuid.map(|(s, c)| format!("someone:{s}:{c}\n")).unwrap_or_default();
        let a = Accounts::parse(Some(passwd.as_bytes()), Some(b""), Some(sub.as_bytes()), None);
        let req = PoolRequest::builder(Platform::Linux)
            .count(count)
            .base_uid(base)
            .build()
            .unwrap();
        let p = plan_accounts(&a, &req);
        let pool: std::collections::HashSet<&str> =
            p.users.iter().map(|u| u.name.as_str()).collect();
        if p.conflicts.is_empty() {
            for u in &p.users {
                // No account outside the pool holds the planned uid ...
                for (n, uid) in &users {
                    if *uid == u.uid {
                        prop_assert!(pool.contains(n.as_str()),
                            "{} gets uid {} held by {}", u.name, u.uid, n);
                    }
                }
                // ... and no subordinate range contains it.
                if let Some((s, c)) = subuid {
                    prop_assert!(!(s..s + c).contains(&u64::from(u.uid)));
                }
            }
        } else if let Some(free) = free_range(&a, count, base, Platform::Linux) {
            // The suggested base places the pool without uid clashes from
            // accounts outside it.
            // Existing build users keep their uids unless renumbered:
            // the suggested base helps a renumbered pool.
            let moved = PoolRequest::builder(Platform::Linux)
                .count(count)
                .base_uid(free)
                .renumber(true)
                .build()
                .unwrap();
            let q = plan_accounts(&a, &moved);
            let uid_clashes: Vec<_> = q
                .conflicts
                .iter()
                .filter(|c| matches!(c.kind, ConflictKind::UidTaken | ConflictKind::UidInSubordinateRange))
                .collect();
            prop_assert!(uid_clashes.is_empty(), "{:?}", uid_clashes);
        }
    }

    #[test]
    fn parse_then_render_keeps_every_byte(text in "([a-z0-9:+#,\\- ]{0,30}(\r?\n)?){0,12}") {
        let a = Accounts::parse(Some(text.as_bytes()), Some(text.as_bytes()), Some(text.as_bytes()), None);
        prop_assert_eq!(a.passwd.to_bytes(), text.as_bytes());
        prop_assert_eq!(a.group.to_bytes(), text.as_bytes());
        prop_assert_eq!(a.subuid.to_bytes(), text.as_bytes());
    }
}

#[test]
fn a_plan_survives_a_json_round_trip() {
    let a = accounts(
        "nixbld1:x:30001:100:x:/:/bin/sh\nalice:x:30003:1::/:/bin/sh\n",
        "nixbld:x:30000:\n",
    );
    let p = plan_accounts(&a, &linux(3));
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(
        serde_json::from_str::<nixconf_users::Plan>(&json).unwrap(),
        p
    );
}

proptest! {
    #![proptest_config(prop_config())]
    #[test]
    fn arbitrary_bytes_never_panic_and_round_trip(
        passwd in prop::collection::vec(any::<u8>(), 0..300),
        group in prop::collection::vec(prop_oneof![Just(b':'), Just(b'\n'), Just(b','), any::<u8>()], 0..300),
        subuid in prop::collection::vec(prop_oneof![Just(b':'), Just(b'\n'), any::<u8>()], 0..100),
        count in 0u32..5,
    ) {
        let a = Accounts::parse(Some(&passwd), Some(&group), Some(&subuid), Some(&subuid));
        prop_assert_eq!(a.passwd.to_bytes(), passwd);
        prop_assert_eq!(a.group.to_bytes(), group);
        let p = plan_accounts(&a, &linux(count));
        let _ = p.to_string();
    }
}

#[test]
fn macos_pools_reaching_uid_500_are_linted() {
    let r = PoolRequest::builder(Platform::Macos)
        .count(150)
        .build()
        .unwrap();
    let p = plan_accounts(&accounts("", ""), &r);
    let lints: Vec<(LintKind, &str)> = p
        .lints
        .iter()
        .map(|l| (l.kind, l.message.as_str()))
        .collect();
    assert_eq!(
        lints,
        vec![(
            LintKind::MacosVisibleUids,
            "build users up to uid 500: macOS lists accounts with uids of 500 and above in the login window"
        )]
    );
    let r = PoolRequest::builder(Platform::Macos)
        .count(149)
        .build()
        .unwrap();
    assert!(plan_accounts(&accounts("", ""), &r).lints.is_empty());
}

#[test]
fn users_nixconf_created_beyond_the_pool_are_removed_first() {
    let a = accounts(
        "nixbld1:x:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n\
         nixbld2:x:30002:30000:Nix build user 2:/var/empty:/sbin/nologin\n\
         nixbld3:x:30003:30000:Nix build user 3:/var/empty:/sbin/nologin\n",
        "nixbld:x:30000:nixbld1,nixbld2,nixbld3\n",
    );
    let p = plan_accounts_with_managed(&a, &linux(1), &names(&["nixbld1", "nixbld2", "nixbld3"]));
    assert!(!p.is_up_to_date());
    let removed: Vec<(&str, u32, usize)> = p
        .removals
        .iter()
        .map(|r| (r.name.as_str(), r.uid, r.location.line))
        .collect();
    assert_eq!(removed, vec![("nixbld2", 30002, 2), ("nixbld3", 30003, 3)]);
    assert_eq!(p.removals[0].groups, vec!["nixbld"]);
    let steps: Vec<String> = p.steps.iter().map(ToString::to_string).collect();
    assert_eq!(steps, vec!["remove user nixbld2", "remove user nixbld3"]);
    // The group lists them, but they are on their way out: no lint.
    assert!(p.lints.is_empty(), "{p}");
    assert_eq!(
        p.to_string(),
        "group nixbld (gid 30000): up to date\n\
         user nixbld1 (uid 30001): up to date\n\
         users nixbld2..nixbld3 (uids 30002-30003): remove, with their membership of nixbld (nixconf created them; no longer configured)\n\
         2 step(s) to apply\n"
    );
}

#[test]
fn accounts_nixconf_did_not_create_are_never_removed_only_linted() {
    let a = accounts(
        "nixbld1:x:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n\
         nixbld2:x:30002:30000:Nix build user 2:/var/empty:/sbin/nologin\n\
         nixbld30:x:30030:30000:Nix build user 30:/var/empty:/sbin/nologin\n",
        "nixbld:x:30000:nixbld1,nixbld2\n",
    );
    // nixbld2 and nixbld30 were there before nixconf: only nixbld1 is ours.
    let p = plan_accounts_with_managed(&a, &linux(1), &names(&["nixbld1"]));
    assert!(p.removals.is_empty());
    assert!(p.is_up_to_date(), "{p}");
    let lints: Vec<(LintKind, &str)> = p
        .lints
        .iter()
        .map(|l| (l.kind, l.message.as_str()))
        .collect();
    assert_eq!(
        lints,
        vec![(
            LintKind::SurplusUser,
            "accounts nixbld2, nixbld30 are named like build users beyond the 1 configured, but nixconf did not create them: they are left in place; group nixbld lists nixbld2, so nix-daemon still builds as it"
        )]
    );
    assert_eq!(
        p.lints[0].fix.as_deref(),
        Some("if nothing else uses them, remove them by hand (userdel); or set nix.nrBuildUsers = 30 to keep them in the pool")
    );
    assert_eq!(
        p.lints[0].location.as_ref().map(ToString::to_string),
        Some("etc/passwd:2".to_owned())
    );
}

#[test]
fn a_removed_user_frees_its_uid_for_the_pool() {
    // The prefix changed: the old users hold the new ones' uids until
    // they are removed, which the steps do first.
    let a = accounts(
        "nixbld1:x:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n\
         nixbld2:x:30002:30000:Nix build user 2:/var/empty:/sbin/nologin\n",
        "nixbld:x:30000:nixbld1,nixbld2\n",
    );
    let req = PoolRequest::builder(Platform::Linux)
        .count(2)
        .name_prefix("bld")
        .build()
        .unwrap();
    let p = plan_accounts(&a, &req);
    let kinds: Vec<_> = p.conflicts.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ConflictKind::UidTaken, ConflictKind::UidTaken]);
    let p = plan_accounts_with_managed(&a, &req, &names(&["nixbld1", "nixbld2"]));
    assert!(p.conflicts.is_empty(), "{p}");
    let steps: Vec<String> = p.steps.iter().map(ToString::to_string).collect();
    assert_eq!(
        steps,
        vec![
            "remove user nixbld1",
            "remove user nixbld2",
            "create user bld1 (uid 30001, gid 30000)",
            "create user bld2 (uid 30002, gid 30000)",
        ]
    );
}

#[test]
fn auto_allocate_uids_removes_the_whole_pool_nixconf_created() {
    let a = accounts(
        "nixbld1:x:65537:30000:Nix build user 1:/var/empty:/sbin/nologin\n",
        "nixbld:x:30000:nixbld1\n",
    );
    let req = PoolRequest::builder(Platform::Linux)
        .auto_allocate_uids(true)
        .start_id(65536)
        .id_count(65536)
        .build()
        .unwrap();
    // Without knowing nixbld1 is ours it stays, and its uid lies in the
    // auto-allocated range.
    let kept = plan_accounts(&a, &req);
    assert_eq!(kept.lints[0].kind, LintKind::SurplusUser);
    let overlaps: Vec<&str> = kept.conflicts.iter().map(|c| c.message.as_str()).collect();
    assert_eq!(
        overlaps,
        vec!["the auto-allocate-uids range 65536-131071 overlaps 1 account uid(s) of etc/passwd, first nixbld1 (uid 65537)"]
    );
    // Once it is known to be ours it goes, and its uid no longer counts.
    let p = plan_accounts_with_managed(&a, &req, &names(&["nixbld1"]));
    assert!(p.conflicts.is_empty(), "{p}");
    assert!(p.lints.is_empty(), "{p}");
    assert_eq!(
        p.steps,
        vec![Step::RemoveUser {
            name: "nixbld1".into()
        }]
    );
}

proptest! {
    #![proptest_config(prop_config())]
    #[test]
    fn only_managed_users_beyond_the_pool_are_ever_removed(
        users in passwd_strategy(),
        managed in prop::collection::btree_set(
            prop_oneof![
                (1u32..40).prop_map(|i| format!("nixbld{i}")),
                "[a-z]{1,6}".prop_map(|s| s),
            ],
            0..20,
        ),
        count in 0u32..40,
    ) {
        let passwd: String = users
            .iter()
            .map(|(n, u)| format!("{n}:x:{u}:100::/:/bin/sh\n"))
            .collect();
        let a = Accounts::parse(Some(passwd.as_bytes()), Some(b""), None, None);
        let req = linux(count);
        let p = plan_accounts_with_managed(&a, &req, &managed);
        let pool: BTreeSet<String> = (1..=count).map(|i| req.user_name(i)).collect();
        let mut seen = BTreeSet::new();
        for r in &p.removals {
            prop_assert!(managed.contains(&r.name), "{} is not managed", r.name);
            prop_assert!(!pool.contains(&r.name), "{} is in the pool", r.name);
            prop_assert!(seen.insert(r.name.clone()), "{} removed twice", r.name);
        }
        // Every managed account outside the pool goes.
        for (n, _) in &users {
            if managed.contains(n) && !pool.contains(n) {
                prop_assert!(seen.contains(n), "{} is not removed", n);
            }
        }
        let is_removal = |s: &Step| matches!(s, Step::RemoveUser { .. });
        let removes = p.steps.iter().filter(|s| is_removal(s)).count();
        prop_assert_eq!(removes, p.removals.len());
        // Removals run before anything else.
        let first_ones = p.steps.iter().take(removes).all(is_removal);
        prop_assert!(first_ones, "removals do not come first: {:?}", p.steps);
        if p.conflicts.is_empty() {
            // A planned uid is held only by the pool or by a removed user.
            for u in &p.users {
                for (n, uid) in &users {
                    if *uid == u.uid {
                        prop_assert!(pool.contains(n) || seen.contains(n),
                            "{} gets uid {} held by {}", u.name, u.uid, n);
                    }
                }
            }
        }
    }
}
