//! What a configuration asks for: the typed request the planner works from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The platform whose account conventions the pool follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux: group `nixbld` with gid 30000, users `nixbld1..` from uid
    /// 30001 (the NixOS `ids` and nix-installer's defaults).
    Linux,
    /// macOS: group `nixbld` with gid 350, users `_nixbld1..` from uid 351,
    /// the range nix-installer moved to because macOS 15 Sequoia claims
    /// uids 301 to 304 for its own accounts.
    Macos,
}

impl Platform {
    /// The base uid: build user `i` gets `base + i`.
    pub fn default_base_uid(self) -> u32 {
        match self {
            Platform::Linux => 30000,
            Platform::Macos => 350,
        }
    }

    /// The gid of the build-users group.
    pub fn default_gid(self) -> u32 {
        match self {
            Platform::Linux => 30000,
            Platform::Macos => 350,
        }
    }

    /// The user-name prefix: `nixbld` on Linux, `_nixbld` on macOS (macOS
    /// system accounts start with an underscore).
    pub fn default_name_prefix(self) -> &'static str {
        match self {
            Platform::Linux => "nixbld",
            Platform::Macos => "_nixbld",
        }
    }

    /// Nix's default `start-id` (a multiple of [`Platform::ids_per_build`]).
    pub fn default_start_id(self) -> u32 {
        match self {
            Platform::Linux => 0x3400_0000,
            Platform::Macos => 56930,
        }
    }

    /// Nix's default `id-count`.
    pub fn default_id_count(self) -> u32 {
        match self {
            Platform::Linux => 8_388_608,
            Platform::Macos => 128,
        }
    }

    /// How many ids one build takes with `auto-allocate-uids` (Nix's
    /// `maxIdsPerBuild`): a whole 65536-id user namespace on Linux, one id
    /// elsewhere.
    pub fn ids_per_build(self) -> u32 {
        match self {
            Platform::Linux => 1 << 16,
            Platform::Macos => 1,
        }
    }

    /// The highest base uid [`crate::free_range`] considers: macOS shows
    /// accounts with uids of 500 and above in the login window.
    pub fn max_uid(self) -> u32 {
        match self {
            Platform::Linux => u32::MAX - 1,
            Platform::Macos => 499,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::Linux => "linux",
            Platform::Macos => "macos",
        })
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "linux" => Ok(Platform::Linux),
            "macos" | "darwin" => Ok(Platform::Macos),
            _ => Err(Error::InvalidRequest(format!(
                "unknown platform `{s}` (expected `linux` or `macos`)"
            ))),
        }
    }
}

/// Nix's `max-jobs`: a number, or `auto` (one job per core).
///
/// As JSON: `"auto"` or a number, as in nix.conf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "MaxJobsRepr", try_from = "MaxJobsRepr")]
pub enum MaxJobs {
    /// One job per logical core; unknown when planning.
    #[default]
    Auto,
    /// A fixed number of jobs.
    Jobs(u32),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum MaxJobsRepr {
    Jobs(u32),
    Word(String),
}

impl From<MaxJobs> for MaxJobsRepr {
    fn from(m: MaxJobs) -> Self {
        match m {
            MaxJobs::Auto => MaxJobsRepr::Word("auto".to_owned()),
            MaxJobs::Jobs(n) => MaxJobsRepr::Jobs(n),
        }
    }
}

impl TryFrom<MaxJobsRepr> for MaxJobs {
    type Error = String;

    fn try_from(r: MaxJobsRepr) -> Result<Self, String> {
        match r {
            MaxJobsRepr::Jobs(n) => Ok(MaxJobs::Jobs(n)),
            MaxJobsRepr::Word(w) if w == "auto" => Ok(MaxJobs::Auto),
            MaxJobsRepr::Word(w) => Err(format!(
                "max-jobs must be a number or \"auto\", not \"{w}\""
            )),
        }
    }
}

/// The build-user pool a configuration asks for.
///
/// Built with [`PoolRequest::builder`]; every field has the default the
/// NixOS module (Linux) or nix-installer (macOS) uses.
///
/// As JSON it is an object of the same fields in camelCase (`count`,
/// `baseUid`, `gid`, `group`, `namePrefix`, `home`, `shell`,
/// `autoAllocateUids`, `startId`, `idCount`, `maxJobs`,
/// `adoptExistingGroup`, `renumber`) plus `platform`; reading one goes through the
/// builder, so missing fields take their defaults and bad names are
/// refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RequestSpec")]
pub struct PoolRequest {
    platform: Platform,
    count: u32,
    base_uid: u32,
    gid: u32,
    group: String,
    name_prefix: String,
    home: String,
    shell: String,
    auto_allocate_uids: bool,
    start_id: u32,
    id_count: u32,
    max_jobs: MaxJobs,
    adopt_existing_group: bool,
    renumber: bool,
}

impl PoolRequest {
    /// A builder with the platform's defaults.
    pub fn builder(platform: Platform) -> PoolRequestBuilder {
        PoolRequestBuilder {
            platform,
            count: None,
            base_uid: None,
            gid: None,
            group: None,
            name_prefix: None,
            home: None,
            shell: None,
            auto_allocate_uids: false,
            start_id: None,
            id_count: None,
            max_jobs: MaxJobs::Auto,
            adopt_existing_group: false,
            renumber: false,
        }
    }

    /// The platform whose conventions apply.
    pub fn platform(&self) -> Platform {
        self.platform
    }
    /// How many build users (`nix.nrBuildUsers`).
    pub fn count(&self) -> u32 {
        self.count
    }
    /// Build user `i` gets uid `base_uid + i` (`ids.uids.nixbld`).
    pub fn base_uid(&self) -> u32 {
        self.base_uid
    }
    /// The gid of the build-users group (`ids.gids.nixbld`).
    pub fn gid(&self) -> u32 {
        self.gid
    }
    /// The build-users group's name (`build-users-group`).
    pub fn group(&self) -> &str {
        &self.group
    }
    /// User `i` is named `name_prefix` followed by `i`.
    pub fn name_prefix(&self) -> &str {
        &self.name_prefix
    }
    /// The build users' home directory.
    pub fn home(&self) -> &str {
        &self.home
    }
    /// The build users' login shell.
    pub fn shell(&self) -> &str {
        &self.shell
    }
    /// Whether `auto-allocate-uids` is on.
    pub fn auto_allocate_uids(&self) -> bool {
        self.auto_allocate_uids
    }
    /// `start-id`: the first id Nix allocates with `auto-allocate-uids`.
    pub fn start_id(&self) -> u32 {
        self.start_id
    }
    /// `id-count`: how many ids Nix allocates from `start-id`.
    pub fn id_count(&self) -> u32 {
        self.id_count
    }
    /// `max-jobs`, for the capacity lint.
    pub fn max_jobs(&self) -> MaxJobs {
        self.max_jobs
    }
    /// Whether an existing group of the right name but another gid is
    /// adopted rather than reported as a conflict.
    pub fn adopt_existing_group(&self) -> bool {
        self.adopt_existing_group
    }
    /// Whether existing build users are moved to the pool's uids
    /// (`users.renumber`); by default they keep the uids they have.
    pub fn renumber(&self) -> bool {
        self.renumber
    }

    /// The name of build user `i` (1-based).
    pub fn user_name(&self, i: u32) -> String {
        format!("{}{i}", self.name_prefix)
    }

    /// The uid of build user `i` (1-based); `build` checked it fits.
    pub fn user_uid(&self, i: u32) -> u32 {
        self.base_uid.saturating_add(i)
    }

    /// The description of build user `i`, as the NixOS module writes it.
    pub fn user_description(i: u32) -> String {
        format!("Nix build user {i}")
    }

    /// The same request with another base uid (what a conflict's fix
    /// suggests).
    pub fn with_base_uid(&self, base_uid: u32) -> Result<PoolRequest, Error> {
        check_pool_fits(base_uid, self.count)?;
        Ok(PoolRequest {
            base_uid,
            ..self.clone()
        })
    }
}

/// A request as written down: every field but the platform optional.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequestSpec {
    platform: Platform,
    count: Option<u32>,
    base_uid: Option<u32>,
    gid: Option<u32>,
    group: Option<String>,
    name_prefix: Option<String>,
    home: Option<String>,
    shell: Option<String>,
    #[serde(default)]
    auto_allocate_uids: bool,
    start_id: Option<u32>,
    id_count: Option<u32>,
    #[serde(default)]
    max_jobs: MaxJobs,
    #[serde(default)]
    adopt_existing_group: bool,
    #[serde(default)]
    renumber: bool,
}

impl TryFrom<RequestSpec> for PoolRequest {
    type Error = Error;

    fn try_from(s: RequestSpec) -> Result<PoolRequest, Error> {
        PoolRequestBuilder {
            platform: s.platform,
            count: s.count,
            base_uid: s.base_uid,
            gid: s.gid,
            group: s.group,
            name_prefix: s.name_prefix,
            home: s.home,
            shell: s.shell,
            auto_allocate_uids: s.auto_allocate_uids,
            start_id: s.start_id,
            id_count: s.id_count,
            max_jobs: s.max_jobs,
            adopt_existing_group: s.adopt_existing_group,
            renumber: s.renumber,
        }
        .build()
    }
}

/// Builds a [`PoolRequest`]; see [`PoolRequest::builder`].
#[derive(Debug, Clone)]
pub struct PoolRequestBuilder {
    platform: Platform,
    count: Option<u32>,
    base_uid: Option<u32>,
    gid: Option<u32>,
    group: Option<String>,
    name_prefix: Option<String>,
    home: Option<String>,
    shell: Option<String>,
    auto_allocate_uids: bool,
    start_id: Option<u32>,
    id_count: Option<u32>,
    max_jobs: MaxJobs,
    adopt_existing_group: bool,
    renumber: bool,
}

impl PoolRequestBuilder {
    /// `nix.nrBuildUsers`. Without it the count is the module's default:
    /// 0 with `auto-allocate-uids`, else `max(32, max-jobs)` where `auto`
    /// counts as 0.
    pub fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }
    /// `ids.uids.nixbld`.
    pub fn base_uid(mut self, base_uid: u32) -> Self {
        self.base_uid = Some(base_uid);
        self
    }
    /// `ids.gids.nixbld`.
    pub fn gid(mut self, gid: u32) -> Self {
        self.gid = Some(gid);
        self
    }
    /// The group name (`build-users-group`, default `nixbld`).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }
    /// The user-name prefix.
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = Some(prefix.into());
        self
    }
    /// The home directory (default `/var/empty`).
    pub fn home(mut self, home: impl Into<String>) -> Self {
        self.home = Some(home.into());
        self
    }
    /// The login shell (default `/sbin/nologin`, where nix-installer
    /// points build users outside NixOS).
    pub fn shell(mut self, shell: impl Into<String>) -> Self {
        self.shell = Some(shell.into());
        self
    }
    /// `auto-allocate-uids`.
    pub fn auto_allocate_uids(mut self, on: bool) -> Self {
        self.auto_allocate_uids = on;
        self
    }
    /// `start-id`.
    pub fn start_id(mut self, start_id: u32) -> Self {
        self.start_id = Some(start_id);
        self
    }
    /// `id-count`.
    pub fn id_count(mut self, id_count: u32) -> Self {
        self.id_count = Some(id_count);
        self
    }
    /// `max-jobs`.
    pub fn max_jobs(mut self, max_jobs: MaxJobs) -> Self {
        self.max_jobs = max_jobs;
        self
    }
    /// Adopt an existing group of the right name whatever its gid.
    pub fn adopt_existing_group(mut self, adopt: bool) -> Self {
        self.adopt_existing_group = adopt;
        self
    }
    /// Move existing build users to the pool's uids (base + i) instead
    /// of keeping the uids they have.
    pub fn renumber(mut self, renumber: bool) -> Self {
        self.renumber = renumber;
        self
    }

    /// The request, or why it cannot be: names and paths that would
    /// corrupt the account files, or uids past the largest one.
    pub fn build(self) -> Result<PoolRequest, Error> {
        let p = self.platform;
        let count = self.count.unwrap_or(if self.auto_allocate_uids {
            0
        } else {
            match self.max_jobs {
                MaxJobs::Auto => 32,
                MaxJobs::Jobs(j) => j.max(32),
            }
        });
        let count_option = if self.count.is_some() {
            "nix.nrBuildUsers"
        } else {
            "nix.settings.max-jobs"
        };
        if count > MAX_BUILD_USERS {
            return Err(Error::InvalidOption {
                option: count_option.to_owned(),
                message: format!(
                    "{count} build users is more than {MAX_BUILD_USERS}: each is an account in etc/passwd, etc/shadow and the group's member list, and Nix runs one build per user at a time, so more users than parallel builds only slow every login lookup down; set nix.nrBuildUsers to at most {MAX_BUILD_USERS} (or use auto-allocate-uids)"
                ),
            });
        }
        let base_uid = self.base_uid.unwrap_or(p.default_base_uid());
        check_pool_fits(base_uid, count)?;
        let group = self.group.unwrap_or_else(|| "nixbld".to_owned());
        check_name("nix.settings.build-users-group", "group name", &group, 0)?;
        let name_prefix = self
            .name_prefix
            .unwrap_or_else(|| p.default_name_prefix().to_owned());
        check_name(
            "users.namePrefix",
            "user-name prefix",
            &name_prefix,
            count.max(1).to_string().len(),
        )?;
        let home = self.home.unwrap_or_else(|| "/var/empty".to_owned());
        check_field("users.home", "home directory", &home)?;
        let shell = self.shell.unwrap_or_else(|| "/sbin/nologin".to_owned());
        check_field("users.shell", "shell", &shell)?;
        Ok(PoolRequest {
            platform: p,
            count,
            base_uid,
            gid: self.gid.unwrap_or(p.default_gid()),
            group,
            name_prefix,
            home,
            shell,
            auto_allocate_uids: self.auto_allocate_uids,
            start_id: self.start_id.unwrap_or(p.default_start_id()),
            id_count: self.id_count.unwrap_or(p.default_id_count()),
            max_jobs: self.max_jobs,
            adopt_existing_group: self.adopt_existing_group,
            renumber: self.renumber,
        })
    }
}

/// The most build users a pool may have.
pub const MAX_BUILD_USERS: u32 = 10_000;

/// The longest account name the shadow tools accept (`useradd` and
/// `groupadd` refuse 33 characters).
const MAX_NAME_LEN: usize = 32;

fn check_pool_fits(base_uid: u32, count: u32) -> Result<(), Error> {
    // uid 4294967295 is (uid_t)-1, which chown(2) and setuid(2) read as
    // "no change": it can never be a real account.
    if u64::from(base_uid) + u64::from(count) >= u64::from(u32::MAX) {
        return Err(Error::InvalidOption {
            option: "ids.uids.nixbld".to_owned(),
            message: format!(
                "{count} build users from base uid {base_uid} run past the largest uid {}",
                u32::MAX - 1
            ),
        });
    }
    Ok(())
}

/// Account names the shadow tools accept (`[A-Za-z0-9_.][A-Za-z0-9_.-]*`,
/// at most 32 characters, not all digits, not `.` or `..`), which is also
/// what keeps the files parseable. `digits` more are appended to a
/// prefix.
fn check_name(option: &str, what: &str, name: &str, digits: usize) -> Result<(), Error> {
    let bad = |why: String| {
        Err(Error::InvalidOption {
            option: option.to_owned(),
            message: format!("{what} `{}` {why}", name.escape_debug()),
        })
    };
    let chars_ok = !name.is_empty()
        && !name.starts_with('-')
        && !name.starts_with('+')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !chars_ok {
        return bad(
            "is not a valid account name (letters, digits, `_`, `.`, `-`, not starting with `-`)"
                .to_owned(),
        );
    }
    if digits == 0 && (name == "." || name == ".." || name.bytes().all(|b| b.is_ascii_digit())) {
        return bad("is not a valid account name (`.`, `..` and all-digit names are refused by the shadow tools)".to_owned());
    }
    if name.len() + digits > MAX_NAME_LEN {
        return bad(if digits == 0 {
            format!(
                "is longer than {MAX_NAME_LEN} characters, the most useradd and groupadd accept"
            )
        } else {
            format!(
                "is too long: with the pool's numbers ({digits} digits) the names would be longer than {MAX_NAME_LEN} characters, the most useradd accepts"
            )
        });
    }
    Ok(())
}

/// A passwd field nixconf writes: an absolute path without `:`, a line
/// break or NUL (any of which would corrupt the file or be cut off).
fn check_field(option: &str, what: &str, value: &str) -> Result<(), Error> {
    let why = if value.contains(['\n', '\r']) {
        Some("holds a line break")
    } else if value.contains('\0') {
        Some("holds a NUL byte")
    } else if value.contains(':') {
        Some("holds a `:`, the passwd field separator")
    } else if !value.starts_with('/') {
        Some("is not an absolute path")
    } else {
        None
    };
    match why {
        Some(why) => Err(Error::InvalidOption {
            option: option.to_owned(),
            message: format!("{what} `{}` {why}", value.escape_debug()),
        }),
        None => Ok(()),
    }
}
