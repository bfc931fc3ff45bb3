//! Connection, request and message ids in AWS's form: 16 characters, the URL-safe base64 of
//! 11 bytes and one `=` (`L0SM9cOFvHcCIhw=`). Each is unique for the process's life: eight of
//! the bytes are a bijective mix of a counter (no two draws give the same eight bytes), the
//! other three are random, and the counter starts at a random point, so that two processes
//! (replicas) do not walk the same sequence.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The URL-safe base64 alphabet.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The next value of the process's counter.
fn count() -> u64 {
    static COUNTER: OnceLock<AtomicU64> = OnceLock::new();
    COUNTER
        .get_or_init(|| AtomicU64::new(rand::random()))
        .fetch_add(1, Ordering::Relaxed)
}

/// SplitMix64's finaliser: a bijection on 64-bit values that scatters consecutive inputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A new id.
pub fn next() -> String {
    let mut bytes = [0u8; 11];
    bytes[..8].copy_from_slice(&mix(count()).to_be_bytes());
    bytes[8..].copy_from_slice(&rand::random::<[u8; 3]>());
    encode(&bytes)
}

/// Eleven bytes as 15 base64 characters and `=`.
fn encode(bytes: &[u8; 11]) -> String {
    let mut bits = 0u128;
    for b in bytes {
        bits = bits << 8 | u128::from(*b);
    }
    let mut id = String::with_capacity(16);
    for i in 0..14 {
        id.push(char::from(ALPHABET[(bits >> (82 - 6 * i) & 63) as usize]));
    }
    id.push(char::from(ALPHABET[((bits & 0xF) << 2) as usize]));
    id.push('=');
    id
}

/// Whether `id` has the form of one (16 characters of URL-safe base64 ending in `=`).
pub fn is_well_formed(id: &str) -> bool {
    id.len() == 16 && id.ends_with('=') && id[..15].bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn ids_look_like_aws_and_do_not_repeat() {
        let ids: std::collections::HashSet<String> = (0..100_000).map(|_| next()).collect();
        assert_eq!(ids.len(), 100_000);
        for id in ids.iter().take(200) {
            assert!(is_well_formed(id), "{id}");
            let bytes = base64::engine::general_purpose::URL_SAFE
                .decode(id)
                .unwrap();
            assert_eq!(bytes.len(), 11);
            assert_eq!(
                &base64::engine::general_purpose::URL_SAFE.encode(&bytes),
                id
            );
        }
        assert!(!is_well_formed("L0SM9cOFvHcCIhw"));
        assert!(!is_well_formed("L0SM9cOFvH+CIhw="));
        assert!(is_well_formed("D-j5-fe7IAMCKMA="));
    }
}
