//! The build-user pool changed between applies (32 users, then 8, then
//! 16): only the users nixconf created are
//! removed, the account files are exactly what the pool says at every
//! step, and revert gives back the root as it was before the first apply,
//! byte for byte.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nixconf_activation::{
    apply, managed_build_users, parse_config, plan, revert, ApplyOptions, Installation,
    PlanOptions, Tree, BUILD_USERS,
};
use nixconf_options::Format;

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
                      alice:x:1000:1000::/home/alice:/bin/bash\n";
const SHADOW: &str = "root:*:19700:0:99999:7:::\nalice:!:19700:0:99999:7:::\n";

/// A Debian-like root with `extra_passwd` and `extra_shadow` appended to
/// its accounts.
fn debian_root(extra_passwd: &str, extra_shadow: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    fs::create_dir_all(r.join("etc")).unwrap();
    fs::create_dir(r.join("root")).unwrap();
    fs::set_permissions(r.join("root"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(r.join("etc/passwd"), format!("{PASSWD}{extra_passwd}")).unwrap();
    fs::write(r.join("etc/group"), "root:x:0:\nalice:x:1000:\n").unwrap();
    fs::write(r.join("etc/shadow"), format!("{SHADOW}{extra_shadow}")).unwrap();
    fs::write(r.join("etc/gshadow"), "root:*::\nalice:!::\n").unwrap();
    for f in ["etc/shadow", "etc/gshadow"] {
        fs::set_permissions(r.join(f), fs::Permissions::from_mode(0o640)).unwrap();
    }
    root
}

fn installation(root: &Path, users: u32) -> Installation {
    let config = format!("nixVersion = \"2.18.1\"\n[nix]\nnrBuildUsers = {users}\n");
    parse_config(&config, Format::Toml, "config.toml")
        .unwrap()
        .installation(root)
        .unwrap()
}

fn read(root: &Path, rel: &str) -> String {
    fs::read_to_string(root.join(rel)).unwrap()
}

fn user_line(i: u32) -> String {
    format!(
        "nixbld{i}:x:{}:30000:Nix build user {i}:/var/empty:/sbin/nologin\n",
        30000 + i
    )
}

fn names(users: &[u32]) -> Vec<String> {
    users.iter().map(|i| format!("nixbld{i}")).collect()
}

/// `etc/shadow` with the last-change day of the build users' lines (the
/// day `useradd` ran) replaced by `DAY`.
fn shadow_masked(root: &Path) -> String {
    read(root, "etc/shadow")
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(':').collect();
            if f[0].starts_with("nixbld") {
                assert!(f[2].parse::<u32>().is_ok(), "{l}");
                f[2] = "DAY";
            }
            format!("{}\n", f.join(":"))
        })
        .collect()
}

/// The account files hold exactly `users` (in that order) as build users,
/// after `passwd` and `shadow` (the root's own accounts plus any adopted).
fn assert_accounts(root: &Path, passwd: &str, shadow: &str, users: &[u32], members: &[u32]) {
    let lines: String = users.iter().map(|i| user_line(*i)).collect();
    assert_eq!(read(root, "etc/passwd"), format!("{passwd}{lines}"));
    let shadow_lines: String = users
        .iter()
        .map(|i| format!("nixbld{i}:!:DAY::::::\n"))
        .collect();
    assert_eq!(shadow_masked(root), format!("{shadow}{shadow_lines}"));
    let members = names(members).join(",");
    assert_eq!(
        read(root, "etc/group"),
        format!("root:x:0:\nalice:x:1000:\nnixbld:x:30000:{members}\n")
    );
    assert_eq!(
        read(root, "etc/gshadow"),
        format!("root:*::\nalice:!::\nnixbld:!::{members}\n")
    );
}

fn apply_pool(root: &Path, users: u32) -> String {
    let inst = installation(root, users);
    let planned = plan(root, &inst, &PlanOptions::default()).unwrap();
    let report = apply(root, &inst, &ApplyOptions::default()).unwrap();
    assert!(report.is_success(), "{}", report.describe());
    let again = plan(root, &installation(root, users), &PlanOptions::default()).unwrap();
    assert!(
        again.is_up_to_date(),
        "after applying {users} users:\n{}",
        again.describe()
    );
    planned.describe()
}

fn build_user_journals(root: &Path) -> usize {
    let receipt: serde_json::Value =
        serde_json::from_str(&read(root, "nix/var/nixconf/receipt.json")).unwrap();
    receipt["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "external" && r["action"] == BUILD_USERS)
        .count()
}

#[test]
fn lowering_and_raising_nr_build_users_then_revert_restores_every_byte() {
    let root = debian_root("", "");
    let r = root.path();
    let before = Tree::capture(r).unwrap();
    let all: Vec<u32> = (1..=32).collect();

    apply_pool(r, 32);
    assert_accounts(r, PASSWD, SHADOW, &all, &all);
    assert_eq!(managed_build_users(r).unwrap().len(), 32);
    // The backup holds the accounts before the apply (one batch, as
    // `newusers` writes it).
    assert_eq!(read(r, "etc/passwd-"), PASSWD);

    let eight: Vec<u32> = (1..=8).collect();
    let described = apply_pool(r, 8);
    assert_eq!(
        described,
        "build users: group nixbld (gid 30000): up to date\n\
         build users: users nixbld1..nixbld8 (uids 30001-30008): up to date\n\
         build users: users nixbld9..nixbld32 (uids 30009-30032): remove, with their membership of nixbld (nixconf created them; no longer configured)\n\
         \n1 to do, 10 up to date\n"
    );
    assert_accounts(r, PASSWD, SHADOW, &eight, &eight);
    let managed: Vec<String> = managed_build_users(r).unwrap().into_iter().collect();
    let mut expected = names(&eight);
    expected.sort();
    assert_eq!(managed, expected);
    assert_eq!(
        read(r, "etc/passwd-"),
        format!(
            "{PASSWD}{}",
            all.iter().copied().map(user_line).collect::<String>()
        )
    );

    let sixteen: Vec<u32> = (1..=16).collect();
    apply_pool(r, 16);
    assert_accounts(r, PASSWD, SHADOW, &sixteen, &sixteen);
    assert_eq!(managed_build_users(r).unwrap().len(), 16);
    // One journal per apply that changed the accounts, undone latest first.
    assert_eq!(build_user_journals(r), 3);

    let report = revert(r).unwrap();
    assert!(report.is_success(), "{}", report.describe());
    let diffs = Tree::capture(r).unwrap().differences(&before);
    assert!(diffs.is_empty(), "revert left differences: {diffs:?}");
}

#[test]
fn build_users_nixconf_did_not_create_stay_when_the_pool_shrinks() {
    // nixbld5 was there before nixconf: adopted (and put in the group) by
    // the first apply, but never nixconf's to remove.
    let adopted = user_line(5);
    let adopted_shadow = "nixbld5:!:19700::::::\n";
    let root = debian_root(&adopted, adopted_shadow);
    let r = root.path();
    let before = Tree::capture(r).unwrap();

    apply_pool(r, 6);
    let created = [1, 2, 3, 4, 6];
    let mut shadow = format!("{SHADOW}{adopted_shadow}");
    shadow = shadow.replace("nixbld5:!:19700:", "nixbld5:!:DAY:");
    assert_accounts(
        r,
        &format!("{PASSWD}{adopted}"),
        &shadow,
        &created,
        &[1, 2, 3, 4, 6, 5],
    );
    let managed: Vec<String> = managed_build_users(r).unwrap().into_iter().collect();
    assert_eq!(managed, names(&created));

    let described = apply_pool(r, 2);
    assert_eq!(
        described,
        "build users: group nixbld (gid 30000): up to date\n\
         build users: users nixbld1..nixbld2 (uids 30001-30002): up to date\n\
         build users: users nixbld3..nixbld4 (uids 30003-30004): remove, with their membership of nixbld (nixconf created them; no longer configured)\n\
         build users: user nixbld6 (uid 30006): remove, with its membership of nixbld (nixconf created it; no longer configured)\n\
         build users: warning: account nixbld5 is named like a build user beyond the 2 configured, but nixconf did not create it: it is left in place; group nixbld lists nixbld5, so nix-daemon still builds as it (etc/passwd:3)\n\
         build users:   fix: if nothing else uses it, remove it by hand (userdel); or set nix.nrBuildUsers = 5 to keep it in the pool\n\
         \n1 to do, 10 up to date\n"
    );
    assert_accounts(
        r,
        &format!("{PASSWD}{adopted}"),
        &shadow,
        &[1, 2],
        &[1, 2, 5],
    );

    let report = revert(r).unwrap();
    assert!(report.is_success(), "{}", report.describe());
    let diffs = Tree::capture(r).unwrap().differences(&before);
    assert!(diffs.is_empty(), "revert left differences: {diffs:?}");
}

/// The receipt (readable by anyone) holds no password hash and no other
/// account; an account added after the apply survives the revert, which
/// gives back everything else byte for byte.
#[test]
fn receipt_holds_no_hash_and_revert_keeps_accounts_added_since() {
    let hash = "$6$8eXhTl1Q$hQ3Zb5M3yZ1QmV7y0JcH9bJ8mK2pC4dA6fE7gH8iJ9kL0mN1oP2qR3sT4uV5wX6yZ7aB8cD9eF0gH1iJ2kL3m.";
    let root = debian_root(
        "carol:x:1001:1001::/home/carol:/bin/bash\n",
        &format!("carol:{hash}:19700:0:99999:7:::\n"),
    );
    let r = root.path();
    let before = Tree::capture(r).unwrap();
    apply_pool(r, 4);
    let receipt = read(r, "nix/var/nixconf/receipt.json");
    for secret in ["$6$", hash, "carol", "alice", "root:"] {
        assert!(
            !receipt.contains(secret),
            "receipt holds {secret}:\n{receipt}"
        );
    }
    // `useradd dave` after the apply.
    let append = |rel: &str, line: &str| {
        let mut text = read(r, rel);
        text.push_str(line);
        fs::write(r.join(rel), text).unwrap();
    };
    append("etc/passwd", "dave:x:1002:1002::/home/dave:/bin/sh\n");
    append("etc/shadow", &format!("dave:{hash}:20000:0:99999:7:::\n"));
    append("etc/group", "dave:x:1002:\n");
    append("etc/gshadow", "dave:!::\n");
    let report = revert(r).unwrap();
    assert!(report.is_success(), "{}", report.describe());
    for rel in ["etc/passwd", "etc/shadow", "etc/group", "etc/gshadow"] {
        let now = read(r, rel);
        let dave = now.lines().filter(|l| l.starts_with("dave:")).count();
        assert_eq!(dave, 1, "{rel}: dave is gone:\n{now}");
        let without: String = now
            .lines()
            .filter(|l| !l.starts_with("dave:"))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::write(r.join(rel), without).unwrap();
    }
    let diffs = Tree::capture(r).unwrap().differences(&before);
    assert!(diffs.is_empty(), "revert left differences: {diffs:?}");
}

/// Passwd fields with a line break, NUL or `:` are refused at their
/// option path before anything is written.
#[test]
fn bad_passwd_fields_are_refused_at_their_option_path() {
    let root = debian_root("", "");
    let r = root.path();
    let before = Tree::capture(r).unwrap();
    for (table, want) in [
        (
            "[users]\nhome = \"/var/em\\u0000pty\"\n",
            "`users.home`: home directory `/var/em\\0pty` holds a NUL byte",
        ),
        (
            "[users]\nshell = \"/bin/sh\\nx\"\n",
            "`users.shell`: shell `/bin/sh\\nx` holds a line break",
        ),
        (
            "[users]\nnamePrefix = \"nix:bld\"\n",
            "`users.namePrefix`: user-name prefix `nix:bld` is not a valid account name",
        ),
        (
            "[nix.settings]\nbuild-users-group = \"nix:bld\"\n",
            "`nix.settings.build-users-group`: group name `nix:bld` is not a valid account name",
        ),
        (
            "[nix]\nnrBuildUsers = 20000\n",
            "`nix.nrBuildUsers`: 20000 build users is more than 10000",
        ),
    ] {
        let config = format!("nixVersion = \"2.18.1\"\n{table}");
        let err = match parse_config(&config, Format::Toml, "config.toml")
            .and_then(|c| c.installation(r))
        {
            Ok(_) => panic!("accepted: {table}"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(want), "{table}: {err}");
    }
    assert!(Tree::capture(r).unwrap().differences(&before).is_empty());
}

/// The same with the real `useradd --prefix` (when installed), which
/// also rewrites the `-` backups: revert keeps dave and his hash, and
/// gives back every other line.
#[test]
fn revert_after_a_real_useradd_keeps_the_new_account() {
    let Some(useradd) = ["/usr/sbin/useradd", "/sbin/useradd"]
        .iter()
        .find(|p| Path::new(p).exists())
    else {
        eprintln!("*** useradd not installed (the `passwd` package): not checked ***");
        return;
    };
    let root = debian_root("", "");
    let r = root.path();
    apply_pool(r, 3);
    let hash = "$6$abcdefgh$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghij";
    let out = std::process::Command::new(useradd)
        .arg("--prefix")
        .arg(r)
        .args(["--uid", "1001", "--user-group", "--shell", "/bin/sh"])
        .args(["--home-dir", "/home/dave", "--password", hash, "dave"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = revert(r).unwrap();
    assert!(report.is_success(), "{}", report.describe());
    assert_eq!(
        read(r, "etc/passwd"),
        format!("{PASSWD}dave:x:1001:1001::/home/dave:/bin/sh\n")
    );
    let shadow = read(r, "etc/shadow");
    assert!(shadow.starts_with(SHADOW), "{shadow}");
    assert!(shadow.contains(&format!("\ndave:{hash}:")), "{shadow}");
    assert_eq!(
        read(r, "etc/group"),
        "root:x:0:\nalice:x:1000:\ndave:x:1001:\n"
    );
    assert_eq!(read(r, "etc/gshadow"), "root:*::\nalice:!::\ndave:!::\n");
    assert!(!read(r, "etc/passwd").contains("nixbld"));
}

/// A root without `etc/passwd` is not a Linux root: the apply is refused
/// before anything is written, never given a passwd without `root`.
#[test]
fn a_root_without_passwd_is_refused_before_anything_is_written() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    fs::create_dir_all(r.join("etc")).unwrap();
    fs::write(r.join("etc/group"), "root:x:0:\n").unwrap();
    let before = Tree::capture(r).unwrap();
    let inst = installation(r, 2);
    let planned = plan(r, &inst, &PlanOptions::default()).unwrap();
    let want = format!(
        "build users: {}/etc/passwd: no such file; is this a Linux root?",
        r.display()
    );
    assert!(
        planned.problems(false).contains(&want),
        "{:?}",
        planned.problems(false)
    );
    assert!(apply(r, &inst, &ApplyOptions::default()).is_err());
    assert!(Tree::capture(r).unwrap().differences(&before).is_empty());
}
