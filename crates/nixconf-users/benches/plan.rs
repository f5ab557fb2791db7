//! Planning a 32-user pool against a passwd of 100,000 entries (target:
//! under 50 ms), reading the files from a root directory as `plan` does.

use std::fmt::Write;

use criterion::{criterion_group, criterion_main, Criterion};
use nixconf_users::{plan, Platform, PoolRequest};

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

criterion_group!(benches, bench);
criterion_main!(benches);
