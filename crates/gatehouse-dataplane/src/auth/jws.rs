//! Compact JWS tokens signed with RSA (RS256, RS384, RS512), as JWT authorizers receive
//! them: the three parts split and decoded, and the signature checked with the issuer's key,
//! which is parsed once (its arithmetic set up once) and then reused for every token.

use std::sync::OnceLock;

use aws_lc_rs::signature::{
    ParsedPublicKey, RsaParameters, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_2048_8192_SHA384,
    RSA_PKCS1_2048_8192_SHA512,
};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::Value;

/// base64url, padded or not.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The RSA algorithms a token may be signed with.
const ALGORITHMS: [(&str, &RsaParameters); 3] = [
    ("RS256", &RSA_PKCS1_2048_8192_SHA256),
    ("RS384", &RSA_PKCS1_2048_8192_SHA384),
    ("RS512", &RSA_PKCS1_2048_8192_SHA512),
];

/// An issuer's RSA public key from its JWKS, parsed for each algorithm on first use.
pub struct RsaKey {
    /// Its `kid`.
    pub kid: String,
    der: Vec<u8>,
    parsed: [OnceLock<Option<ParsedPublicKey>>; 3],
}

/// A DER length.
fn der_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// A DER INTEGER holding the unsigned big-endian `value`.
fn der_integer(value: &[u8], out: &mut Vec<u8>) {
    let value = &value[value.iter().take_while(|b| **b == 0).count()..];
    let pad = value.first().is_none_or(|b| b & 0x80 != 0);
    out.push(0x02);
    der_length(value.len() + usize::from(pad), out);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(value);
}

impl RsaKey {
    /// The key a JWK describes, if it is an RSA key with a `kid`.
    pub fn from_jwk(jwk: &Value) -> Option<RsaKey> {
        if jwk.get("kty")?.as_str()? != "RSA" {
            return None;
        }
        let part = |name: &str| B64URL.decode(jwk.get(name)?.as_str()?).ok();
        let (n, e) = (part("n")?, part("e")?);
        // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
        let mut body = Vec::with_capacity(n.len() + e.len() + 16);
        der_integer(&n, &mut body);
        der_integer(&e, &mut body);
        let mut der = vec![0x30];
        der_length(body.len(), &mut der);
        der.extend_from_slice(&body);
        Some(RsaKey {
            kid: jwk.get("kid")?.as_str()?.to_string(),
            der,
            parsed: Default::default(),
        })
    }

    /// Whether `signature` is this key's signature of `message` with algorithm `alg`.
    fn verifies(&self, alg: &str, message: &[u8], signature: &[u8]) -> bool {
        let Some(at) = ALGORITHMS.iter().position(|(name, _)| *name == alg) else {
            return false;
        };
        let parsed =
            self.parsed[at].get_or_init(|| ParsedPublicKey::new(ALGORITHMS[at].1, &self.der).ok());
        parsed
            .as_ref()
            .is_some_and(|key| key.verify_sig(message, signature).is_ok())
    }
}

/// A token's parts.
pub struct Token<'a> {
    /// The header's `alg`.
    pub alg: String,
    /// The header's `kid`.
    pub kid: Option<String>,
    signed: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

/// Splits and decodes `token` (`header.payload.signature`, base64url); `None` when it is not
/// a compact JWS with a JSON header.
pub fn parse(token: &str) -> Option<Token<'_>> {
    let (signed, signature) = token.rsplit_once('.')?;
    let (header, payload) = signed.split_once('.')?;
    let header: Value = serde_json::from_slice(&B64URL.decode(header).ok()?).ok()?;
    Some(Token {
        alg: header.get("alg")?.as_str()?.to_string(),
        kid: header.get("kid").and_then(Value::as_str).map(String::from),
        signed,
        payload,
        signature: B64URL.decode(signature).ok()?,
    })
}

/// Whether the token is an RSA-signed one.
pub fn is_rsa(alg: &str) -> bool {
    ALGORITHMS.iter().any(|(name, _)| *name == alg)
}

impl Token<'_> {
    /// Whether `key` signed this token.
    pub fn signed_by(&self, key: &RsaKey) -> bool {
        key.verifies(&self.alg, self.signed.as_bytes(), &self.signature)
    }

    /// The claims: the payload, a JSON object.
    pub fn claims(&self) -> Option<serde_json::Map<String, Value>> {
        serde_json::from_slice(&B64URL.decode(self.payload).ok()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_integers_are_minimal_and_positive() {
        let mut out = Vec::new();
        der_integer(&[0x01, 0x00, 0x01], &mut out);
        assert_eq!(out, [0x02, 0x03, 0x01, 0x00, 0x01]);
        out.clear();
        der_integer(&[0x00, 0x80], &mut out);
        assert_eq!(out, [0x02, 0x02, 0x00, 0x80]);
        out.clear();
        der_length(300, &mut out);
        assert_eq!(out, [0x82, 0x01, 0x2c]);
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for t in ["", "a.b", "!!.e30.sig", "e30.e30.***"] {
            assert!(parse(t).is_none(), "{t}");
        }
        // `{}` as header: no alg.
        assert!(parse("e30.e30.c2ln").is_none());
        assert!(parse("eyJhbGciOiJSUzI1NiJ9.e30.c2ln").is_some());
    }
}
