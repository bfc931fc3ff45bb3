//! Connection, request and message ids in AWS's form: 16 characters, the URL-safe base64 of
//! 11 bytes and one `=` (`L0SM9cOFvHcCIhw=`). Each is unique for the process's life: eight of
//! the bytes are a bijective mix of a counter (no two draws give the same eight bytes), the
//! other three are random, and the counter starts at a random point, so that two processes
//! do not walk the same sequence.
//!
//! A connection id also carries the tag of the replica that holds the connection (two
//! bytes, masked by a hash of the rest so that ids still look random): any replica can tell
//! from the id alone where to pass an `@connections` request. Replicas alive together hold
//! different tags, so their ids differ too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::observe::request_id::ALPHABET;

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

/// A new connection id, carrying `tag`.
pub fn connection(tag: u16) -> String {
    let mut bytes = [0u8; 11];
    let mixed = mix(count());
    let salt: u8 = rand::random();
    bytes[..2].copy_from_slice(&(tag ^ mask(mixed, salt)).to_be_bytes());
    bytes[2..10].copy_from_slice(&mixed.to_be_bytes());
    bytes[10] = salt;
    encode(&bytes)
}

/// The tag a connection id carries; `None` when `id` does not have an id's form.
pub fn tag_of(id: &str) -> Option<u16> {
    let bytes = decode(id)?;
    let mut mixed = [0u8; 8];
    mixed.copy_from_slice(&bytes[2..10]);
    let masked = u16::from_be_bytes([bytes[0], bytes[1]]);
    Some(masked ^ mask(u64::from_be_bytes(mixed), bytes[10]))
}

/// What hides a tag: two bytes of a hash of the id's other bytes.
fn mask(mixed: u64, salt: u8) -> u16 {
    (mix(mixed ^ (u64::from(salt) << 56) ^ 0x9E37_79B9_7F4A_7C15) >> 48) as u16
}

/// Eleven bytes as 15 base64 characters and `=`.
fn encode(bytes: &[u8; 11]) -> String {
    let bits = bytes
        .iter()
        .fold(0u128, |bits, b| bits << 8 | u128::from(*b));
    crate::observe::request_id::encode(bits)
        .iter()
        .map(|b| char::from(*b))
        .collect()
}

/// The eleven bytes of an id (`None` when it does not have an id's form).
fn decode(id: &str) -> Option<[u8; 11]> {
    if !is_well_formed(id) {
        return None;
    }
    let value = |c: u8| ALPHABET.iter().position(|a| *a == c).map(|p| p as u128);
    let chars = id.as_bytes();
    let mut bits = 0u128;
    for c in &chars[..14] {
        bits = bits << 6 | value(*c)?;
    }
    let last = value(chars[14])?;
    if last & 3 != 0 {
        return None;
    }
    bits = bits << 4 | last >> 2;
    let mut bytes = [0u8; 11];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (bits >> (80 - 8 * i)) as u8;
    }
    Some(bytes)
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

    #[test]
    fn a_connection_id_carries_its_replicas_tag_and_still_looks_random() {
        for tag in [0u16, 1, 7, 0xBEEF, u16::MAX] {
            let ids: Vec<String> = (0..1000).map(|_| connection(tag)).collect();
            for id in &ids {
                assert!(is_well_formed(id), "{id}");
                assert_eq!(tag_of(id), Some(tag), "{id}");
                assert_eq!(decode(id).map(|b| encode(&b)), Some(id.clone()));
            }
            // The first characters differ from id to id although the tag is the same.
            let starts: std::collections::HashSet<&str> = ids.iter().map(|i| &i[..2]).collect();
            assert!(starts.len() > 500, "{}", starts.len());
        }
        assert_eq!(tag_of("not an id"), None);
        assert_eq!(tag_of("L0SM9cOFvHcCIh+="), None);
    }
}
