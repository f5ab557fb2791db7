//! "Did you mean": the closest known name to a misspelt one.

use nixconf_diagnostic::edit_distance;

/// The candidate closest to `name` by edit distance (insertions, deletions,
/// substitutions and swaps of neighbours, ignoring case), if it is close
/// enough to be a likely typo: at most a third of the name's length, and
/// at least 1 and at most 3 edits.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_plausible_names() {
        let names = ["settings", "registry", "nixPath", "buildMachines"];
        assert_eq!(closest("setings", names), Some("settings"));
        assert_eq!(closest("nixpath", names), Some("nixPath"));
        assert_eq!(closest("buildMachine", names), Some("buildMachines"));
        assert_eq!(closest("noSuchOption", names), None);
        assert_eq!(closest("x", names), None);
    }
}
