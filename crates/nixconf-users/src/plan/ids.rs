//! Choosing ids: the uids a platform reserves, the subordinate ranges
//! that hold ids, and the first free base for a pool.

use crate::accounts::{Accounts, SubIdEntry, Table};
use crate::ranges::{first_gap, Interval};
use crate::request::Platform;

/// Sequoia's accounts (`_aonsensed` and friends) took uids 301 to 304,
/// where the old macOS installer put `_nixbld1..4`.
const MACOS_SEQUOIA_UIDS: Interval = (301, 305);
/// `(uint16_t) -1`: old interfaces read it as "no id".
const UID_16BIT_MINUS_ONE: u32 = 65535;

/// The uids a platform reserves, as intervals, with why.
pub(super) fn reserved(platform: Platform) -> Vec<(Interval, &'static str)> {
    let mut r = vec![(
        (
            u64::from(UID_16BIT_MINUS_ONE),
            u64::from(UID_16BIT_MINUS_ONE) + 1,
        ),
        "uid 65535 is (uint16_t)-1, which 16-bit interfaces read as \"no uid\"",
    )];
    if platform == Platform::Macos {
        r.push((
            MACOS_SEQUOIA_UIDS,
            "macOS 15 Sequoia claims uids 301-304 for its own accounts",
        ));
    }
    r
}

/// The first base uid `>= from` at which `count` build users (uids
/// `base + 1 ..= base + count`) clash with no account, no subordinate-uid
/// range and no uid the platform reserves.
pub fn free_range(accounts: &Accounts, count: u32, from: u32, platform: Platform) -> Option<u32> {
    free_base(accounts, count, from, platform, &|_| false)
}

pub(super) fn free_base(
    accounts: &Accounts,
    count: u32,
    from: u32,
    platform: Platform,
    ignore: &dyn Fn(&str) -> bool,
) -> Option<u32> {
    let t = &accounts.passwd;
    let mut occupied: Vec<Interval> = (0..t.lines.len())
        .filter_map(|i| match t.holder(i)? {
            // Ids at or below the base cannot block a pool above it.
            (name, Some(id), _) if id > from && !name.is_some_and(ignore) => {
                Some((u64::from(id), u64::from(id) + 1))
            }
            _ => None,
        })
        .collect();
    occupied.extend(subid_intervals(&accounts.subuid));
    occupied.extend(reserved(platform).into_iter().map(|(i, _)| i));
    let first = first_gap(
        &mut occupied,
        u64::from(from) + 1,
        u64::from(count),
        1,
        u64::from(platform.max_uid()),
    )?;
    u32::try_from(first - 1).ok()
}

pub(super) fn subid_intervals(t: &Table<SubIdEntry>) -> Vec<Interval> {
    t.entries()
        .map(|(_, s)| (s.start, s.start.saturating_add(s.count)))
        .collect()
}

/// The sub-id range containing `id`, with its line.
pub(super) fn subid_containing(t: &Table<SubIdEntry>, id: u32) -> Option<(usize, SubIdEntry)> {
    let id = u64::from(id);
    t.entries()
        .find(|(_, s)| s.start <= id && id < s.start.saturating_add(s.count))
}
