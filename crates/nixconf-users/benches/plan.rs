//! Planning a 32-user pool against a passwd of 100,000 entries (target:
//! under 50 ms), reading the files from a root directory as `plan` does;
//! and the same pool lowered to 8, which removes 24 users nixconf created.

use std::collections::BTreeSet;
use std::fmt::Write;

use criterion::{criterion_group, criterion_main, Criterion};
use nixconf_users::{plan, plan_with_managed, Platform, PoolRequest};

/// The root of `root_with_accounts` with a 32-user pool nixconf created
/// (`nixbld1..32`) in it.
fn root_with_pool(n: u32) -> tempfile::TempDir {
    let dir = root_with_accounts(n, false);
    let mut passwd = std::fs::read_to_string(dir.path().join("etc/passwd")).expect("passwd");
    let mut members = Vec::new();
    for i in 1..=32 {
        let _ = writeln!(
            passwd,
            "nixbld{i}:x:{}:30000:Nix build user {i}:/var/empty:/sbin/nologin",
            30000 + i
        );
        members.push(format!("nixbld{i}"));
    }
    std::fs::write(dir.path().join("etc/passwd"), passwd).expect("passwd");
    let mut group = std::fs::read_to_string(dir.path().join("etc/group")).expect("group");
    let _ = writeln!(group, "nixbld:x:30000:{}", members.join(","));
    std::fs::write(dir.path().join("etc/group"), group).expect("group");
    dir
}

fn root_with_accounts(n: u32, clash: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::create_dir_all(dir.path().join("etc")).expect("etc");
    let mut passwd = String::new();
    let mut group = String::new();
    // Uids 1000.. run through the pool's 30001..30032 when `clash`, so the
    // planner also reports conflicts and searches for a free base.
    let first = if clash { 1000 } else { 100_000 };
    for i in 0..n {
        let uid = first + i;
        let _ = writeln!(
            passwd,
            "user{i}:x:{uid}:{uid}:User {i}:/home/user{i}:/bin/bash"
        );
        let _ = writeln!(group, "user{i}:x:{uid}:");
    }
    std::fs::write(dir.path().join("etc/passwd"), passwd).expect("passwd");
    std::fs::write(dir.path().join("etc/group"), group).expect("group");
    std::fs::write(dir.path().join("etc/subuid"), "user1:200000:65536\n").expect("subuid");
    dir
}

fn bench(c: &mut Criterion) {
    let request = PoolRequest::builder(Platform::Linux)
        .build()
        .expect("request");
    for (name, clash) in [
        ("plan 100k passwd, free pool", false),
        ("plan 100k passwd, clashing pool", true),
    ] {
        let root = root_with_accounts(100_000, clash);
        let p = plan(root.path(), &request).expect("plan");
        assert_eq!(p.users.len(), 32);
        assert_eq!(p.conflicts.is_empty(), !clash);
        c.bench_function(name, |b| {
            b.iter(|| plan(root.path(), &request).expect("plan"));
        });
    }
}

/// The pool lowered from 32 to 8: the planner also picks out the 24 users
/// to remove, with their group memberships.
fn bench_shrink(c: &mut Criterion) {
    let request = PoolRequest::builder(Platform::Linux)
        .count(8)
        .build()
        .expect("request");
    let managed: BTreeSet<String> = (1..=32).map(|i| format!("nixbld{i}")).collect();
    let root = root_with_pool(100_000);
    let p = plan_with_managed(root.path(), &request, &managed).expect("plan");
    assert_eq!(p.removals.len(), 24);
    assert!(p.conflicts.is_empty());
    c.bench_function("plan 100k passwd, 32 managed users lowered to 8", |b| {
        b.iter(|| plan_with_managed(root.path(), &request, &managed).expect("plan"));
    });
}

criterion_group!(benches, bench, bench_shrink);
criterion_main!(benches);
