//! Why a setting has its value: every line that touched it, in the order
//! Nix applied them.

use std::path::Path;

use crate::error::{ConfError, Location};
use crate::eval::{evaluate_tracing, minor_of, Mode, ShowOptions, Source};
use crate::schema;

/// One line that touched the setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    /// Where: the file as messages print it, the line, the name's column.
    pub location: Location,
    /// The name as written (an alias, or `extra-NAME`).
    pub written_name: String,
    /// The value as written, its tokens joined by single spaces.
    pub value: String,
    /// `extra-NAME`: the value was appended.
    pub appends: bool,
    /// The name is an alias of the setting.
    pub alias: bool,
}

/// The history of one setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The setting's canonical name.
    pub setting: &'static str,
    /// Every line that touched it, in the order Nix applied them
    /// (includes followed; from Nix 2.16 the `experimental-features`
    /// lines of a file come before its other lines).
    pub steps: Vec<TraceStep>,
    /// The value as `nix show-config` prints it when the files set it.
    pub value: Option<String>,
    /// Nix's default, where the reference knows it.
    pub default: Option<&'static str>,
}

/// Read `conf_dir/nix.conf` and what it includes as `options.version`
/// does, recording every line that touches `name` (canonical, alias or
/// `extra-` spelling). `Ok(None)`: that version has no such setting.
///
/// ```
/// use nixconf_format::{trace, MemSource, Network, ShowOptions};
/// let mut files = MemSource::new();
/// files.insert("/etc/nix/nix.conf", "build-max-jobs = 2\ninclude more.conf\n");
/// files.insert("/etc/nix/more.conf", "max-jobs = 8\n");
/// let options = ShowOptions { version: "2.8.0".parse().unwrap(), network: Network::Offline };
/// let t = trace(&files, "/etc/nix".as_ref(), &options, "max-jobs").unwrap().unwrap();
/// assert_eq!(t.steps.len(), 2);
/// assert!(t.steps[0].alias);
/// assert_eq!((t.steps[1].location.file.as_str(), t.steps[1].location.line), ("more.conf", 1));
/// assert_eq!(t.value.as_deref(), Some("8"));
/// ```
pub fn trace(
    source: &dyn Source,
    conf_dir: &Path,
    options: &ShowOptions,
    name: &str,
) -> Result<Option<Trace>, ConfError> {
    let minor = minor_of(&options.version)?;
    let base = name
        .strip_prefix("extra-")
        .filter(|_| schema::resolve(name.as_bytes(), minor).is_none());
    let Some(setting) = schema::resolve(base.unwrap_or(name).as_bytes(), minor) else {
        return Ok(None);
    };
    let canonical = schema::defs()[usize::from(setting)].name;
    let (settings, steps) =
        evaluate_tracing(source, conf_dir, options, Mode::Trace, Some(setting))?;
    Ok(Some(Trace {
        setting: canonical,
        steps,
        value: settings.get(canonical),
        default: schema::defs()[usize::from(setting)].default_text(minor),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{show_with, MemSource, Network};

    fn traced(version: &str, files: &[(&str, &str)], name: &str) -> (Trace, String) {
        let mut source = MemSource::new();
        for (path, text) in files {
            source.insert(*path, *text);
        }
        let options = ShowOptions {
            version: version.parse().unwrap(),
            network: Network::Offline,
        };
        let t = trace(&source, "/etc/nix".as_ref(), &options, name)
            .unwrap()
            .unwrap();
        let shown = show_with(&source, "/etc/nix".as_ref(), &options).unwrap();
        (t, shown.settings.get(name).cloned().unwrap_or_default())
    }

    fn lines(t: &Trace) -> Vec<(String, usize, bool)> {
        t.steps
            .iter()
            .map(|s| (s.location.file.clone(), s.location.line, s.appends))
            .collect()
    }

    /// From 2.16, a file's experimental-features lines are applied before
    /// its other lines; the trace is in that order, and ends at the value
    /// `show` prints.
    #[test]
    fn features_first_and_the_same_value_as_show() {
        let files = [
            ("/etc/nix/nix.conf", "extra-experimental-features = flakes\ninclude b.conf\nexperimental-features = nix-command\n"),
            ("/etc/nix/b.conf", "extra-experimental-features = ca-derivations\n"),
        ];
        let (t, shown) = traced("2.24.0", &files, "experimental-features");
        assert_eq!(
            lines(&t),
            [
                ("nix.conf".to_owned(), 1, true),
                ("b.conf".to_owned(), 1, true),
                ("nix.conf".to_owned(), 3, false),
            ]
        );
        assert_eq!(t.value.as_deref(), Some(shown.as_str()));
        // Before 2.16 lines apply as met, includes where they stand.
        let (t, shown) = traced("2.8.0", &files, "experimental-features");
        assert_eq!(
            lines(&t),
            [
                ("nix.conf".to_owned(), 1, true),
                ("b.conf".to_owned(), 1, true),
                ("nix.conf".to_owned(), 3, false),
            ]
        );
        assert_eq!(t.value.as_deref(), Some(shown.as_str()));
    }

    /// An unknown name has no trace; `extra-NAME` traces NAME.
    #[test]
    fn names() {
        let files = [("/etc/nix/nix.conf", "extra-substituters = https://a\n")];
        let (t, _) = traced("2.18.1", &files, "extra-substituters");
        assert_eq!(t.setting, "substituters");
        assert_eq!(t.steps.len(), 1);
        let mut source = MemSource::new();
        source.insert("/etc/nix/nix.conf", "");
        let options = ShowOptions {
            version: "2.18.1".parse().unwrap(),
            network: Network::Offline,
        };
        assert_eq!(
            trace(&source, "/etc/nix".as_ref(), &options, "no-such").unwrap(),
            None
        );
    }
}
