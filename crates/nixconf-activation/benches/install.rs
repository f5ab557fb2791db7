//! What `nixconf plan` costs on a machine that is up to date: evaluate a
//! typical configuration, map it to an installation (planning its 32
//! build users against the root's accounts), and plan that against the
//! root where it is already applied.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use nixconf_activation::{apply, parse_config, plan, ApplyOptions, PlanOptions};
use nixconf_options::Format;

const CONFIG: &str = include_str!("../../../fixtures/install/fresh-debian/config.toml");
const ACCOUNTS: &str = "../../fixtures/install/fresh-debian/before/etc";

fn plan_typical_configuration(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("a temporary directory");
    let etc = root.path().join("etc");
    std::fs::create_dir(&etc).expect("etc");
    let accounts = Path::new(env!("CARGO_MANIFEST_DIR")).join(ACCOUNTS);
    for entry in std::fs::read_dir(&accounts).expect("the fixture's accounts") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), etc.join(entry.file_name())).expect("copy");
    }
    // 32 build users: the module's default for max-jobs up to 32.
    let config = CONFIG.replace("nrBuildUsers = 6", "nrBuildUsers = 32");
    let installation = |root: &Path| {
        parse_config(&config, Format::Toml, "config.toml")
            .expect("the fixture configuration is valid")
            .installation(root)
            .expect("the installation maps")
    };
    apply(
        root.path(),
        &installation(root.path()),
        &ApplyOptions::default(),
    )
    .expect("the first apply succeeds");
    let options = PlanOptions::default();
    c.bench_function(
        "evaluate, map and plan a typical configuration, up to date",
        |b| {
            b.iter(|| {
                let p =
                    plan(root.path(), &installation(root.path()), &options).expect("plan succeeds");
                assert!(p.is_up_to_date());
                p
            })
        },
    );
}

criterion_group!(benches, plan_typical_configuration);
criterion_main!(benches);
