//! What this process is running on: whether a root is the host's `/`, and
//! the crash-test failpoint (a leaf, used by the lowest layers).

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Whether `root` is the host's `/` (compared by device and inode, so
/// `/.`, `//` and bind-mount spellings count too).
pub(crate) fn is_host_root(root: &Path) -> bool {
    match (fs::metadata(root), fs::metadata("/")) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Test hook for crash tests: with `NIXCONF_FAILPOINT=N` in the
/// environment, the process aborts (as if killed: no destructor, no
/// cleanup) right before its Nth durable operation (a write, rename,
/// mode or owner change, directory made or entry removed, or build users
/// action started). Unset, it costs one atomic load.
pub(crate) fn failpoint(_what: &str) -> io::Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;
    static AT: OnceLock<Option<usize>> = OnceLock::new();
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let at = AT.get_or_init(|| {
        std::env::var("NIXCONF_FAILPOINT")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if let Some(at) = at {
        if COUNT.fetch_add(1, Ordering::SeqCst) + 1 == *at {
            std::process::abort();
        }
    }
    Ok(())
}
