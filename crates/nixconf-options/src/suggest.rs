//! "Did you mean": the closest known name to a misspelt one.

/// The candidate closest to `name` by edit distance (insertions, deletions,
/// substitutions and swaps of neighbours, ignoring case), if it is close
/// enough to be a likely typo: at most a third of the name's length, and
/// at least 1 and at most 3 edits.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance between two strings, by characters.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows suffice: the current one, the previous one and the one
    // before it (for transpositions).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("settings", "settings"), 0);
        assert_eq!(distance("setings", "settings"), 1);
        assert_eq!(distance("settnigs", "settings"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

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
