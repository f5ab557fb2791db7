//! Free-gap search over occupied id intervals.

/// A half-open interval of ids, `[start, end)`, held by something.
pub(crate) type Interval = (u64, u64);

/// The first `start >= from`, a multiple of `align`, such that
/// `[start, start + len)` overlaps none of `occupied` and ends at or below
/// `limit + 1` (so the last id is at most `limit`).
pub(crate) fn first_gap(
    occupied: &mut [Interval],
    from: u64,
    len: u64,
    align: u64,
    limit: u64,
) -> Option<u64> {
    let align = align.max(1);
    let align_up = |x: u64| x.div_ceil(align) * align;
    occupied.sort_unstable();
    let mut candidate = align_up(from);
    for &(start, end) in occupied.iter() {
        if end <= candidate {
            continue;
        }
        if start >= candidate.saturating_add(len) {
            break;
        }
        candidate = align_up(end);
        if candidate > limit {
            return None;
        }
    }
    (candidate.saturating_add(len) <= limit.saturating_add(1)).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_gap_after_from() {
        let mut occ = vec![(30001, 30003), (30005, 30006)];
        assert_eq!(first_gap(&mut occ, 30001, 2, 1, u64::MAX), Some(30003));
        assert_eq!(first_gap(&mut occ, 30001, 3, 1, u64::MAX), Some(30006));
        assert_eq!(first_gap(&mut occ, 29000, 3, 1, u64::MAX), Some(29000));
        assert_eq!(first_gap(&mut occ, 30001, 3, 1, 30007), None);
        assert_eq!(first_gap(&mut occ, 30001, 3, 1, 30008), Some(30006));
    }

    #[test]
    fn aligned_gaps_start_on_a_multiple() {
        let mut occ = vec![(65536, 65537)];
        assert_eq!(first_gap(&mut occ, 1, 65536, 65536, u64::MAX), Some(131072));
        assert_eq!(first_gap(&mut occ, 0, 65536, 65536, u64::MAX), Some(0));
    }
}
