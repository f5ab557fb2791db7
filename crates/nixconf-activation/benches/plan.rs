//! Planning a typical installation (the module's files, state directories
//! and the socket symlink) against a root where it is already applied: what
//! every `nixconf plan` and every no-op `nixconf apply` costs.

use criterion::{criterion_group, criterion_main, Criterion};
use nixconf_activation::{apply, plan, ApplyOptions, Installation, PlanOptions};

const TYPICAL: &str = include_str!("../../../fixtures/activation/fresh-root/installation.json");

fn plan_up_to_date(c: &mut Criterion) {
    let installation = Installation::from_json(TYPICAL).expect("the fixture installation is valid");
    let root = tempfile::tempdir().expect("a temporary directory");
    apply(root.path(), &installation, &ApplyOptions::default()).expect("the first apply succeeds");
    let options = PlanOptions::default();
    c.bench_function("plan typical installation, up to date", |b| {
        b.iter(|| {
            let p = plan(root.path(), &installation, &options).expect("plan succeeds");
            assert!(p.is_up_to_date());
            p
        })
    });
}

criterion_group!(benches, plan_up_to_date);
criterion_main!(benches);
