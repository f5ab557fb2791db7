//! Carrying a plan out, and taking it back.
//!
//! Two ways: the real shadow tools (`groupadd`, `useradd`, `usermod`,
//! `userdel` with `--prefix ROOT`), or, where they are missing, editing
//! the files with the shadow tools' own lock protocol and atomic
//! replacement. Either way the journal holds every touched file before
//! and after, so `undo` restores the starting files byte for byte.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::accounts::{read_optional, Accounts};
use crate::edit::Files;
use crate::plan::{fingerprint, Attribute, Plan, Step};
use crate::request::Platform;
use crate::Error;

/// How an apply changes the accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// `groupadd`, `useradd`, `usermod` and `userdel` with `--prefix ROOT` (and
    /// `usermod --root ROOT` for a primary-group change, which `--prefix`
    /// resolves against the host).
    ShadowTools,
    /// Editing the files directly, locked and atomically replaced.
    EditFiles,
}

/// How to apply; the default picks the shadow tools when they are
/// installed and support `--prefix`, else edits the files.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    method: Option<Method>,
}

impl ApplyOptions {
    /// Force one method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }
}

/// File contents, stored as text when they are UTF-8 so a journal reads
/// as what it records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Contents {
    /// UTF-8 contents.
    Text(String),
    /// Anything else, byte by byte.
    Bytes(Vec<u8>),
}

impl Contents {
    fn new(bytes: Vec<u8>) -> Contents {
        match String::from_utf8(bytes) {
            Ok(s) => Contents::Text(s),
            Err(e) => Contents::Bytes(e.into_bytes()),
        }
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Contents::Text(s) => s.as_bytes(),
            Contents::Bytes(b) => b,
        }
    }
}

/// A file as it was at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    /// Its contents.
    pub contents: Contents,
    /// Permission bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
}

/// One file an apply touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Relative to the root (`etc/passwd`).
    pub path: String,
    /// Before the apply (`None`: it did not exist).
    pub before: Option<FileState>,
    /// After the apply (`None`: it was removed).
    pub after: Option<FileState>,
}

/// What an apply did: its steps, and every file it changed, created or
/// removed (the tools' `passwd-` backups and mail spools included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// How the apply worked.
    pub method: Method,
    /// The steps it carried out.
    pub steps: Vec<Step>,
    /// The files it changed, in path order.
    pub files: Vec<FileRecord>,
}

impl Journal {
    /// Whether the apply changed nothing.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// The account files an apply may change; the tools also write a backup
/// of each, named with a trailing `-`.
pub(crate) const ACCOUNT_FILES: [&str; 6] = [
    "etc/passwd",
    "etc/shadow",
    "etc/group",
    "etc/gshadow",
    "etc/subuid",
    "etc/subgid",
];

/// The shadow tools found on this machine.
#[derive(Debug, Clone)]
pub struct ShadowTools {
    groupadd: PathBuf,
    useradd: PathBuf,
    usermod: PathBuf,
    userdel: PathBuf,
}

impl ShadowTools {
    /// Find `groupadd`, `useradd`, `usermod` and `userdel` on `PATH`,
    /// `/usr/sbin` or `/sbin`, and check that `useradd` knows `--prefix`
    /// (shadow 4.9 and later). `None` when any is missing.
    pub fn find() -> Option<ShadowTools> {
        let tools = ShadowTools {
            groupadd: find_tool("groupadd")?,
            useradd: find_tool("useradd")?,
            usermod: find_tool("usermod")?,
            userdel: find_tool("userdel")?,
        };
        let help = Command::new(&tools.useradd)
            .arg("--help")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&help.stdout);
        text.contains("--prefix").then_some(tools)
    }
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Apply `plan` to the accounts under `root` with the default method.
pub fn apply(root: &Path, plan: &Plan) -> Result<Journal, Error> {
    apply_with(root, plan, &ApplyOptions::default())
}

/// Apply `plan` to the accounts under `root`.
///
/// Refuses a plan with conflicts and a plan whose input files changed
/// since it was made (a plan from [`crate::plan`] records them; one from
/// [`crate::plan_accounts`] has no inputs to check). On failure every file
/// is put back as it was.
pub fn apply_with(root: &Path, plan: &Plan, options: &ApplyOptions) -> Result<Journal, Error> {
    if plan.has_conflicts() {
        return Err(Error::Conflicts {
            count: plan.conflicts.len(),
        });
    }
    let root = fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    if plan.request.platform() == Platform::Macos && root == Path::new("/") {
        return Err(Error::Unsupported(
            "on macOS the accounts live in Directory Services, not /etc/passwd; nixconf applies macOS pools only to a root directory (use dscl or nix-installer on the machine itself)".to_owned(),
        ));
    }
    let tools = match options.method {
        Some(Method::EditFiles) => None,
        Some(Method::ShadowTools) => Some(
            ShadowTools::find()
                .ok_or_else(|| Error::ToolMissing("useradd with --prefix".to_owned()))?,
        ),
        None => ShadowTools::find(),
    };
    let method = if tools.is_some() {
        Method::ShadowTools
    } else {
        Method::EditFiles
    };
    let paths = plan.tracked_paths();
    if plan.steps.is_empty() {
        check_inputs(&root, plan)?;
        return Ok(Journal {
            method,
            steps: Vec::new(),
            files: Vec::new(),
        });
    }
    let (before, after) = match &tools {
        Some(tools) => {
            check_inputs(&root, plan)?;
            let before = snapshot(&root, &paths)?;
            if let Err(e) = run_tools(&root, tools, plan) {
                restore(&root, &before)?;
                return Err(e);
            }
            (before, snapshot(&root, &paths)?)
        }
        None => {
            let _locks = lock_files(&root, ACCOUNT_FILES.iter().copied())?;
            check_inputs(&root, plan)?;
            let before = snapshot(&root, &paths)?;
            edit_files(&root, plan, &before)?;
            (before, snapshot(&root, &paths)?)
        }
    };
    let files = paths
        .iter()
        .filter_map(|p| {
            let b = before.get(p).cloned().flatten();
            let a = after.get(p).cloned().flatten();
            (b != a).then(|| FileRecord {
                path: p.clone(),
                before: b,
                after: a,
            })
        })
        .collect();
    Ok(Journal {
        method,
        steps: plan.steps.clone(),
        files,
    })
}

/// Put every file `journal` records back as it was before the apply.
///
/// Refuses (changing nothing) when any of them changed after the apply.
/// A file already as it was before counts as undone, so an undo
/// interrupted half-way (or finished but not yet recorded as such) can
/// simply run again.
pub fn undo(root: &Path, journal: &Journal) -> Result<(), Error> {
    let root = fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
    let _locks = lock_files(
        &root,
        ACCOUNT_FILES
            .iter()
            .copied()
            .filter(|f| journal.files.iter().any(|r| r.path == *f)),
    )?;
    let mut changed = Vec::new();
    let same = |now: &Option<FileState>, then: &Option<FileState>| match (now, then) {
        (None, None) => true,
        (Some(n), Some(t)) => n.contents == t.contents,
        _ => false,
    };
    for r in &journal.files {
        let now = read_state(&root, &r.path)?;
        if !same(&now, &r.after) && !same(&now, &r.before) {
            changed.push(r.path.clone());
        }
    }
    if !changed.is_empty() {
        return Err(Error::ChangedSinceApply { paths: changed });
    }
    let states: BTreeMap<String, Option<FileState>> = journal
        .files
        .iter()
        .map(|r| (r.path.clone(), r.before.clone()))
        .collect();
    restore(&root, &states)
}

fn check_inputs(root: &Path, plan: &Plan) -> Result<(), Error> {
    for (file, want) in &plan.inputs {
        let now = read_optional(&root.join(file))?;
        if now.as_deref().map(fingerprint) != *want {
            return Err(Error::StalePlan { path: file.clone() });
        }
    }
    Ok(())
}

fn read_state(root: &Path, rel: &str) -> Result<Option<FileState>, Error> {
    let path = root.join(rel);
    let meta = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
    Ok(Some(FileState {
        contents: Contents::new(bytes),
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    }))
}

fn snapshot(root: &Path, paths: &[String]) -> Result<BTreeMap<String, Option<FileState>>, Error> {
    paths
        .iter()
        .map(|p| Ok((p.clone(), read_state(root, p)?)))
        .collect()
}

/// Make every file in `states` as recorded (removing those recorded as
/// absent), each by atomic replacement; files already right are left
/// alone.
fn restore(root: &Path, states: &BTreeMap<String, Option<FileState>>) -> Result<(), Error> {
    for (rel, want) in states.iter().rev() {
        let now = read_state(root, rel)?;
        if now == *want {
            continue;
        }
        let path = root.join(rel);
        match want {
            None => fs::remove_file(&path).map_err(|e| Error::io(&path, e))?,
            Some(s) => write_atomic(&path, s.contents.as_bytes(), s.mode, Some((s.uid, s.gid)))?,
        }
    }
    Ok(())
}

/// Write `path` by writing a temporary file beside it and renaming it
/// over: readers see the old file or the new one, never half of one.
fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), Error> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".nixconf-new");
    let tmp = PathBuf::from(tmp);
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        if let Some((uid, gid)) = owner {
            let meta = f.metadata()?;
            if meta.uid() != uid || meta.gid() != gid {
                std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
            }
        }
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

fn edit_files(
    root: &Path,
    plan: &Plan,
    before: &BTreeMap<String, Option<FileState>>,
) -> Result<(), Error> {
    let bytes = |f: &str| before.get(f).cloned().flatten().map(|s| s.contents);
    let [passwd, group, subuid, subgid, shadow, gshadow] = [
        "etc/passwd",
        "etc/group",
        "etc/subuid",
        "etc/subgid",
        "etc/shadow",
        "etc/gshadow",
    ]
    .map(bytes);
    let accounts = Accounts::parse(
        passwd.as_ref().map(Contents::as_bytes),
        group.as_ref().map(Contents::as_bytes),
        subuid.as_ref().map(Contents::as_bytes),
        subgid.as_ref().map(Contents::as_bytes),
    );
    let mut files = Files::new(
        accounts,
        shadow.as_ref().map(Contents::as_bytes),
        gshadow.as_ref().map(Contents::as_bytes),
    );
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86400);
    files.apply(&plan.steps, days).map_err(Error::Edit)?;
    let mut written: BTreeMap<String, Option<FileState>> = BTreeMap::new();
    for (rel, new) in files.contents() {
        let old = before.get(rel).cloned().flatten();
        if old.as_ref().map(|s| s.contents.as_bytes()) == Some(new.as_slice()) {
            continue;
        }
        let (mode, owner) = old
            .as_ref()
            .map_or((0o644, None), |s| (s.mode, Some((s.uid, s.gid))));
        written.insert(rel.to_owned(), old);
        if let Err(e) = write_atomic(&root.join(rel), &new, mode, owner) {
            restore(root, &written)?;
            return Err(e);
        }
    }
    Ok(())
}

fn run_tools(root: &Path, tools: &ShadowTools, plan: &Plan) -> Result<(), Error> {
    for step in &plan.steps {
        // usermod (shadow 4.13) with --prefix looks the new primary group
        // up in the host's group database, not the root's: a numeric gid
        // is "not found" and a name gets the host's gid. With --root (a
        // chroot) it reads the root's files, so that is what a primary
        // group change uses.
        let chroot = matches!(step, Step::ModifyUser { changes, .. }
            if changes.iter().any(|c| c.attribute == Attribute::PrimaryGroup));
        let (tool, args): (&Path, Vec<String>) = match step {
            Step::CreateGroup { name, gid } => (
                &tools.groupadd,
                vec!["-g".into(), gid.to_string(), name.clone()],
            ),
            Step::CreateUser {
                name,
                uid,
                gid,
                description,
                home,
                shell,
                ..
            } => (
                &tools.useradd,
                vec![
                    "--uid".into(),
                    uid.to_string(),
                    "--gid".into(),
                    gid.to_string(),
                    "--groups".into(),
                    gid.to_string(),
                    "--no-user-group".into(),
                    "--system".into(),
                    "--no-create-home".into(),
                    "--home-dir".into(),
                    home.clone(),
                    "--shell".into(),
                    shell.clone(),
                    "--comment".into(),
                    description.clone(),
                    "--password".into(),
                    "!".into(),
                    name.clone(),
                ],
            ),
            Step::ModifyUser { name, changes } => {
                let mut args = Vec::new();
                for c in changes {
                    let flag = match c.attribute {
                        Attribute::Uid => "--uid",
                        Attribute::PrimaryGroup => "--gid",
                        Attribute::Description => "--comment",
                        Attribute::Home => "--home",
                        Attribute::Shell => "--shell",
                        // Steps carry membership as `AddMember`.
                        Attribute::Membership => continue,
                    };
                    args.push(flag.to_owned());
                    // usermod (shadow 4.13) with --prefix cannot resolve a
                    // numeric gid ("group '30000' does not exist") though
                    // it finds the same group by name.
                    if c.attribute == Attribute::PrimaryGroup && c.to == plan.group.gid.to_string()
                    {
                        args.push(plan.group.name.clone());
                    } else {
                        args.push(c.to.clone());
                    }
                }
                args.push(name.clone());
                (&tools.usermod, args)
            }
            Step::AddMember { group, user } => (
                &tools.usermod,
                vec![
                    "--append".into(),
                    "--groups".into(),
                    group.clone(),
                    user.clone(),
                ],
            ),
            // userdel (shadow 4.13) with --prefix removes the entries from
            // the root's passwd, shadow, group, gshadow, subuid and subgid
            // and nothing of the host's. Without --remove it leaves the
            // home (/var/empty, shared) and any mail spool alone. On `/` it
            // refuses a user that still runs processes: a build in flight.
            Step::RemoveUser { name } => (&tools.userdel, vec![name.clone()]),
        };
        run(root, tool, &args, chroot)?;
    }
    Ok(())
}

fn run(root: &Path, tool: &Path, args: &[String], chroot: bool) -> Result<(), Error> {
    let mut cmd = Command::new(tool);
    let flag = if chroot { "--root" } else { "--prefix" };
    if root != Path::new("/") {
        cmd.arg(flag).arg(root);
    }
    cmd.args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let command = format!(
        "{} {}{}",
        tool.display(),
        if root == Path::new("/") {
            String::new()
        } else {
            format!("{flag} {} ", root.display())
        },
        args.join(" ")
    );
    let out = cmd.output().map_err(|e| Error::io(tool, e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Tool {
            command,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// A lock held the shadow tools' way: `FILE.lock`, hard-linked from a
/// file holding our pid, removed on drop.
#[derive(Debug)]
struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn lock_files<'a>(root: &Path, files: impl Iterator<Item = &'a str>) -> Result<Vec<Lock>, Error> {
    let mut locks = Vec::new();
    for rel in files {
        let file = root.join(rel);
        if !file.exists() {
            continue;
        }
        locks.push(lock_one(root, rel)?);
    }
    Ok(locks)
}

fn lock_one(root: &Path, rel: &str) -> Result<Lock, Error> {
    let pid = std::process::id();
    let file = root.join(rel);
    let lock = PathBuf::from(format!("{}.lock", file.display()));
    let tmp = PathBuf::from(format!("{}.{pid}", file.display()));
    fs::write(&tmp, format!("{pid}")).map_err(|e| Error::io(&tmp, e))?;
    let mut result = fs::hard_link(&tmp, &lock);
    if matches!(&result, Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists)
        && lock_is_stale(&lock)
    {
        let _ = fs::remove_file(&lock);
        result = fs::hard_link(&tmp, &lock);
    }
    let _ = fs::remove_file(&tmp);
    match result {
        Ok(()) => Ok(Lock { path: lock }),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::Locked {
            path: rel.to_owned(),
            lock: format!("{rel}.lock"),
        }),
        Err(e) => Err(Error::io(lock, e)),
    }
}

/// A lock whose pid names no running process (Linux: no `/proc/PID`).
/// Where that cannot be told, the lock counts as held.
fn lock_is_stale(lock: &Path) -> bool {
    let Ok(text) = fs::read_to_string(lock) else {
        return false;
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return false;
    };
    Path::new("/proc/self").exists() && !Path::new(&format!("/proc/{pid}")).exists()
}
