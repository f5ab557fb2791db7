//! "Did you mean": edit distance and the closest known name.

/// The optimal-string-alignment distance between two names, by characters:
/// the fewest insertions, deletions, substitutions and swaps of neighbours
/// that turn one into the other, so that `substiutters` is one edit from
/// `substituters`.
///
/// ```
/// use nixconf_diagnostic::edit_distance;
/// assert_eq!(edit_distance("substituter", "substituters"), 1);
/// assert_eq!(edit_distance("substiutters", "substituters"), 1);
/// assert_eq!(edit_distance("kitten", "sitting"), 3);
/// ```
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows suffice: the current one, the previous one and the one
    // before it (for swaps).
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `name` by [`edit_distance`] ignoring case, if
/// it is close enough to be a likely typo: at most a third of the name's
/// length, and at least 1 and at most 3 edits. The first of equally close
/// candidates wins.
///
/// ```
/// use nixconf_diagnostic::closest;
/// let names = ["settings", "registry", "nixPath"];
/// assert_eq!(closest("setings", names), Some("settings"));
/// assert_eq!(closest("nixpath", names), Some("nixPath"));
/// assert_eq!(closest("noSuchOption", names), None);
/// ```
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
    fn distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("settnigs", "settings"), 1);
    }

    #[test]
    fn suggests_only_plausible_names() {
        let names = ["settings", "registry", "nixPath", "buildMachines"];
        assert_eq!(closest("buildMachine", names), Some("buildMachines"));
        assert_eq!(closest("x", names), None);
    }
}
