//! A fingerprint of an account file, so an apply can refuse a plan made
//! against files that have changed since.

use sha2::{Digest, Sha256};

/// The file's SHA-256, in hex: a plan records it for each input file
/// and an apply compares it with the file as it is then.
pub(crate) fn fingerprint(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}
