//! Identifiers in AWS's formats: apiId is 10 lowercase letters and digits.

use rand::RngExt;

/// The characters of AWS's resource ids.
pub const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A random string of `len` lowercase letters and digits.
pub fn random_id(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A request id in the UUID shape AWS sends in `x-amzn-RequestId`.
pub fn request_id() -> String {
    // A version-4 UUID, written digit by digit (this runs for every request).
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_ids_look_like_aws() {
        for _ in 0..100 {
            let id = random_id(10);
            assert_eq!(id.len(), 10);
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        }
    }

    #[test]
    fn request_ids_are_uuids() {
        let id = request_id();
        let parts: Vec<_> = id.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12]);
        assert_eq!(&id[14..15], "4", "version 4: {id}");
        assert!("89ab".contains(&id[19..20]), "RFC 4122 variant: {id}");
        assert!(id.bytes().all(|c| c == b'-' || c.is_ascii_hexdigit()));
        assert_ne!(id, request_id());
    }
}
