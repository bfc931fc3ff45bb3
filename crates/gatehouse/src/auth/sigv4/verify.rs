//! Signing keys, signatures and the constant-time comparison.

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::canonical::{hex, put_canonical_request, put_string_to_sign};
use super::{HmacSha256, Presented, Request};

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The signing key for a secret and scope.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac(&k, region.as_bytes());
    let k = hmac(&k, service.as_bytes());
    hmac(&k, b"aws4_request")
}

/// The hex signature of `string_to_sign` under `key`.
pub fn signature(key: &[u8; 32], string_to_sign: &str) -> String {
    hex(&hmac(key, string_to_sign.as_bytes()))
}

/// A derived signing key, ready to sign: HMAC-SHA256 keyed once (its padded key blocks
/// already hashed) and cloned for each request.
#[derive(Clone)]
pub struct SigningKey(HmacSha256);

impl SigningKey {
    /// Wraps a key from [`signing_key`].
    pub fn new(key: &[u8; 32]) -> SigningKey {
        // HMAC pads a key shorter than the hash's 64-byte block with zeros.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(key);
        SigningKey(<HmacSha256 as KeyInit>::new(&block.into()))
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// Whether `p.signature` is the request's signature under `secret`, compared in constant
/// time.
pub fn signature_matches(req: &Request<'_>, p: &Presented<'_>, secret: &str) -> bool {
    let key = signing_key(secret, &p.date, &p.region, &p.service);
    signature_matches_key(req, p, &SigningKey::new(&key))
}

/// Like [`signature_matches`] with the signing key already derived. The canonical request
/// and the string to sign are streamed into their hashes, never built.
pub fn signature_matches_key(req: &Request<'_>, p: &Presented<'_>, key: &SigningKey) -> bool {
    let Some(presented) = decode_hex32(&p.signature) else {
        return false;
    };
    let mut creq = Sha256::new();
    put_canonical_request(req, p, &mut creq);
    let mut mac = key.0.clone();
    put_string_to_sign(p, &creq.finalize().into(), &mut mac);
    mac.verify_slice(&presented).is_ok()
}

/// A 64-digit hex signature as its 32 bytes.
pub(super) fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}
