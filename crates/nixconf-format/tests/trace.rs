//! `trace`: every line that touched a setting, in Nix's order.

use nixconf_format::{show_with, trace, MemSource, Network, ShowOptions, Trace};

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
