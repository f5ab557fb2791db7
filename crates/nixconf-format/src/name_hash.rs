//! The hash of the settings-name table: the one copy that both the
//! generator (`codegen/generate.rs`, which includes this file by path and
//! searches a seed that makes it perfect) and the runtime lookup in
//! `schema.rs` use. It depends on `std` only.

/// Width of the perfect-hash table index, in bits.
pub const HASH_BITS: u32 = 12;

/// The table index of `name` under `seed`: three little-endian words (the
/// head, the tail and the middle of the name) and its length, mixed.
#[inline]
pub fn name_hash(name: &[u8], seed: u64) -> usize {
    let n = name.len();
    let head = load_le(&name[..n.min(8)]);
    let tail = load_le(&name[n.saturating_sub(8)..]);
    let m = n / 2;
    let mid = load_le(&name[m.saturating_sub(4)..(m + 4).min(n)]);
    let mut h = (head ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= tail.rotate_left(29) ^ mid.rotate_left(43) ^ (n as u64);
    h = h.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    (h >> (64 - HASH_BITS)) as usize
}

/// Up to eight bytes as a little-endian word, zero-padded.
#[inline]
pub fn load_le(bytes: &[u8]) -> u64 {
    if let Ok(word) = <[u8; 8]>::try_from(bytes) {
        return u64::from_le_bytes(word);
    }
    let mut word = [0u8; 8];
    word[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(word)
}
