//! What several test files share: account files and roots to plan and
//! apply against, and the property tests' configuration.
// Each test binary uses a part of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use nixconf_users::{Accounts, Platform, PoolRequest};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngAlgorithm, RngSeed};

/// The seed property tests run with unless `PROPTEST_RNG_SEED` names
/// another: every run (CI's included) draws the same cases, so a red run
/// is reproduced by running again.
pub const FIXED_SEED: u64 = 0x6e69_7862_6c64; // "nixbld"

/// The property tests' configuration: a fixed seed (`PROPTEST_RNG_SEED`
/// to explore others) with a stable generator, and failures saved beside
/// the test file (`tests/plan.proptest-regressions` for `tests/plan.rs`),
/// which is committed and replayed first on every run.
pub fn prop_config() -> ProptestConfig {
    let seed = match std::env::var("PROPTEST_RNG_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .expect("PROPTEST_RNG_SEED must be a number"),
        Err(_) => FIXED_SEED,
    };
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        ..ProptestConfig::default()
    }
}

pub fn accounts(passwd: &str, group: &str) -> Accounts {
    Accounts::parse(Some(passwd.as_bytes()), Some(group.as_bytes()), None, None)
}

pub fn linux(count: u32) -> PoolRequest {
    PoolRequest::builder(Platform::Linux)
        .count(count)
        .build()
        .expect("request")
}

/// [`linux`], moving existing build users to the pool's uids.
pub fn renumbered(count: u32) -> PoolRequest {
    PoolRequest::builder(Platform::Linux)
        .count(count)
        .renumber(true)
        .build()
        .expect("request")
}

pub fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|n| (*n).to_owned()).collect()
}

pub const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
# a comment the tools must keep\n\
this line is malformed\n\
nixbld2:x:30002:30000:Nix build user 2:/var/empty:/bin/bash\n\
alice:x:1000:1000:Alice:/home/alice:/bin/bash\n";
pub const SHADOW: &str = "root:*:19000:0:99999:7:::\n\
daemon:*:19000:0:99999:7:::\n\
nixbld2:!:19000::::::\n\
alice:$y$hash:19000:0:99999:7:::\n";
pub const GROUP: &str = "root:x:0:\ndaemon:x:1:\nnixbld:x:30000:\nalice:x:1000:\n";
pub const GSHADOW: &str = "root:*::\ndaemon:*::\nnixbld:!::\nalice:!::\n";

pub fn root_with(files: &[(&str, &str, u32)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    fs::create_dir_all(dir.path().join("etc")).expect("etc");
    for (name, text, mode) in files {
        let path = dir.path().join("etc").join(name);
        fs::write(&path, text).expect("write fixture file");
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(*mode)).expect("chmod");
    }
    dir
}

pub fn standard_root() -> tempfile::TempDir {
    root_with(&[
        ("passwd", PASSWD, 0o644),
        ("shadow", SHADOW, 0o640),
        ("group", GROUP, 0o644),
        ("gshadow", GSHADOW, 0o640),
    ])
}

/// Every file under `root` with its bytes and mode.
pub fn tree(root: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("under root")
                    .display()
                    .to_string();
                let meta = fs::metadata(&p).expect("metadata");
                out.insert(rel, (fs::read(&p).expect("read"), meta.mode() & 0o7777));
            }
        }
    }
    out
}

pub fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).expect("read back")
}

pub fn request() -> PoolRequest {
    PoolRequest::builder(Platform::Linux)
        .count(3)
        .build()
        .expect("request")
}

/// A root where nixconf created `nixbld1..4`: `nixbld4` is also in `kvm`
/// (as a member and, in gshadow, an administrator) and owns subordinate
/// ids; `nixbld9` was never ours. The last passwd line has no newline.
pub fn shrinking_root() -> tempfile::TempDir {
    root_with(&[
        (
            "passwd",
            "root:x:0:0:root:/root:/bin/bash\n\
             nixbld1:x:30001:30000:Nix build user 1:/var/empty:/sbin/nologin\n\
             nixbld2:x:30002:30000:Nix build user 2:/var/empty:/sbin/nologin\n\
             nixbld9:x:30009:30000:Nix build user 9:/var/empty:/sbin/nologin\n\
             nixbld3:x:30003:30000:Nix build user 3:/var/empty:/sbin/nologin\n\
             nixbld4:x:30004:30000:Nix build user 4:/var/empty:/sbin/nologin",
            0o644,
        ),
        (
            "shadow",
            "root:*:19000:0:99999:7:::\nnixbld1:!:19000::::::\nnixbld2:!:19000::::::\n\
             nixbld9:!:19000::::::\nnixbld3:!:19000::::::\nnixbld4:!:19000::::::\n",
            0o640,
        ),
        (
            "group",
            "root:x:0:\nkvm:x:104:nixbld4,nixbld3\n\
             nixbld:x:30000:nixbld1,nixbld2,nixbld3,nixbld4,nixbld9\n",
            0o644,
        ),
        (
            "gshadow",
            "root:*::\nkvm:!:nixbld4:nixbld4,nixbld3\n\
             nixbld:!::nixbld1,nixbld2,nixbld3,nixbld4,nixbld9\n",
            0o640,
        ),
        (
            "subuid",
            "nixbld4:100000:65536\nalice:165536:65536\n",
            0o644,
        ),
        (
            "subgid",
            "alice:165536:65536\nnixbld4:100000:65536\n",
            0o644,
        ),
    ])
}

pub fn managed(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

pub fn tool(name: &str) -> Option<std::path::PathBuf> {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

/// `pwck -r -R ROOT` and `grpck -r -R ROOT` (the real shadow tools, when
/// installed) find nothing to say. Homes and shells exist in the root
/// so only the account files are judged.
pub fn assert_shadow_tools_clean(root: &Path) {
    let (Some(pwck), Some(grpck)) = (tool("pwck"), tool("grpck")) else {
        eprintln!("*** pwck/grpck not installed (the `passwd` package): not checked ***");
        return;
    };
    for d in ["root", "var/empty", "home/alice", "usr/sbin", "sbin", "bin"] {
        fs::create_dir_all(root.join(d)).expect("dir");
    }
    for sh in ["bin/bash", "bin/sh", "sbin/nologin", "usr/sbin/nologin"] {
        fs::write(root.join(sh), "").expect("shell");
    }
    for t in [pwck, grpck] {
        let out = std::process::Command::new(&t)
            .arg("-r")
            .arg("-R")
            .arg(root)
            .output()
            .expect("run");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let complaints: Vec<&str> = text
            .lines()
            .filter(|l| !l.ends_with("no changes") && !l.contains("/home/alice"))
            .collect();
        assert!(complaints.is_empty(), "{} complains:\n{text}", t.display());
    }
}
