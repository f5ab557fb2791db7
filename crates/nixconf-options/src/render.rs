//! Writing an evaluation's files under a root directory, all or nothing.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::output::{Evaluation, WritePolicy};

/// Write every file of [`Evaluation::files`] under `root`, creating
/// directories as needed, and return the paths written.
///
/// Nothing is written when NixOS would refuse the configuration (a failed
/// assertion). The files are first written into a staging directory inside
/// `root` and only then renamed into place, so a failure while writing
/// leaves no half-written file behind. Files with
/// [`WritePolicy::IfAbsent`] are left alone when they exist.
pub fn render_into(eval: &Evaluation, root: &Path) -> Result<Vec<PathBuf>, Error> {
    if !eval.failed_assertions.is_empty() {
        return Err(Error::FailedAssertions(
            eval.failed_assertions.iter().map(|a| a.message()).collect(),
        ));
    }
    let io = |file: &Path| {
        let file = file.display().to_string();
        move |source| Error::Write { file, source }
    };
    fs::create_dir_all(root).map_err(io(root))?;
    let staging = tempfile::Builder::new()
        .prefix(".nixconf-render-")
        .tempdir_in(root)
        .map_err(io(root))?;
    let mut planned = Vec::new();
    for file in eval.files() {
        let target = root.join(&file.path);
        if file.policy == WritePolicy::IfAbsent && target.exists() {
            continue;
        }
        let staged = staging.path().join(planned.len().to_string());
        let mut f = fs::File::create(&staged).map_err(io(&staged))?;
        f.write_all(file.contents.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(io(&staged))?;
        fs::set_permissions(&staged, fs::Permissions::from_mode(file.mode)).map_err(io(&staged))?;
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        planned.push((staged, target));
    }
    let mut written = Vec::with_capacity(planned.len());
    for (staged, target) in planned {
        fs::rename(&staged, &target).map_err(io(&target))?;
        written.push(target);
    }
    Ok(written)
}
