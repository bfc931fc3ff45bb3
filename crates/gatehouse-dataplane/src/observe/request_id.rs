//! Request ids: the `apigw-requestid` every data-plane answer carries (also
//! `$context.requestId`), drawn per thread without locking.

use bytes::Bytes;
use http::HeaderValue;

/// The header every data-plane answer carries its request id in.
pub const APIGW_REQUESTID: http::HeaderName = http::HeaderName::from_static("apigw-requestid");

thread_local! {
    /// SplitMix64 state for request ids, seeded from the OS's randomness once per thread:
    /// the ids must not repeat, not be secret, and drawing them from the cryptographic
    /// generator cost more than the rest of an answer's headers.
    static REQUEST_IDS: std::cell::Cell<u64> = std::cell::Cell::new(rand::random());
}

/// The next SplitMix64 output.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The URL-safe base64 alphabet, which AWS's ids use (`LV7fzho-PHcEJPw=`: `-` and `_`,
/// never `+` or `/`).
pub const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The low 88 bits of `bits` (eleven bytes) as AWS writes an id: 14 characters of 6 bits,
/// one of 4 bits, then `=` (written by hand: the base64 engine's general path cost more
/// than drawing the bits).
pub fn encode(bits: u128) -> [u8; 16] {
    let mut id = [b'='; 16];
    for (i, c) in id.iter_mut().take(14).enumerate() {
        *c = ALPHABET[(bits >> (82 - 6 * i) & 63) as usize];
    }
    id[14] = ALPHABET[((bits & 0xF) << 2) as usize];
    id
}

/// A new `apigw-requestid` value: 11 random bytes in AWS's form (`LV7fzho-PHcEJPw=`).
pub fn next() -> HeaderValue {
    let (a, b) = REQUEST_IDS.with(|cell| {
        let mut state = cell.get();
        let pair = (splitmix(&mut state), splitmix(&mut state));
        cell.set(state);
        pair
    });
    // 88 random bits: eleven bytes.
    let id = encode((u128::from(a) << 64 | u128::from(b)) >> 40);
    // (Base64 is always a valid header value.)
    HeaderValue::from_maybe_shared(Bytes::copy_from_slice(&id))
        .unwrap_or(HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_look_like_aws_and_do_not_repeat() {
        let ids: std::collections::HashSet<String> = (0..10_000)
            .map(|_| super::next().to_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 16 && id.ends_with('=') && !id.ends_with("==")));
        // URL-safe, as AWS's (`LV7fzho-PHcEJPw=`): among 10,000 ids, `-` and `_` turn up,
        // `+` and `/` never.
        assert!(ids.iter().all(|id| !id.contains(['+', '/'])));
        assert!(ids.iter().any(|id| id.contains('-')) && ids.iter().any(|id| id.contains('_')));
        // Each is the URL-safe base64 of eleven bytes.
        use base64::Engine;
        for id in ids.iter().take(100) {
            let bytes = base64::engine::general_purpose::URL_SAFE
                .decode(id)
                .unwrap();
            assert_eq!(bytes.len(), 11);
            assert_eq!(
                &base64::engine::general_purpose::URL_SAFE.encode(&bytes),
                id
            );
        }
    }
}
