//! Pagination: `maxResults` (a string on the wire) and opaque `nextToken`s.
//!
//! Listings are keyset-paginated on the store's creation sequence, so records created or
//! deleted between pages never make another record be skipped or returned twice. A token
//! carries the position of the last record returned plus a checksum that binds it to the
//! listing it came from (operation, account, region, parent resource): a forged, truncated
//! or foreign token is refused with BadRequestException. Tokens stay valid across restarts
//! and replicas.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use gatehouse_core::error::{ApiError, ApiResult};

/// Page size when `maxResults` is absent.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Largest accepted `maxResults`.
pub const MAX_PAGE_SIZE: usize = 500;

const MAC_LEN: usize = 12;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Position of the last record already returned (0 = start).
    pub after: i64,
    /// Most records to return.
    pub limit: usize,
}

fn mac(listing: &str, after: i64) -> [u8; MAC_LEN] {
    let digest = Sha256::new()
        .chain_update(b"gatehouse-page-token-v1\0")
        .chain_update(listing.as_bytes())
        .chain_update(b"\0")
        .chain_update(after.to_be_bytes())
        .finalize();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&digest[..MAC_LEN]);
    out
}

/// The token for the page after position `after` in `listing`.
pub fn token(listing: &str, after: i64) -> String {
    let mut raw = Vec::with_capacity(8 + MAC_LEN);
    raw.extend_from_slice(&after.to_be_bytes());
    raw.extend_from_slice(&mac(listing, after));
    URL_SAFE_NO_PAD.encode(raw)
}

/// Parses `maxResults` and `nextToken` for `listing` (e.g. `stages|{account}|{region}|{apiId}`).
pub fn parse(
    max_results: Option<&str>,
    next_token: Option<&str>,
    listing: &str,
) -> ApiResult<PageRequest> {
    let limit = match max_results {
        None => DEFAULT_PAGE_SIZE,
        Some(s) => match s.trim().parse::<i64>() {
            // AWS accepts page sizes above 500 (scripts ask for 1000 and 2000); pages are
            // capped at MAX_PAGE_SIZE and continue with a nextToken.
            Ok(n) if n >= 1 => (n as usize).min(MAX_PAGE_SIZE),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid maxResults: {s}. maxResults must be a positive integer"
                )))
            }
        },
    };
    let after = match next_token {
        None => 0,
        Some(t) => {
            let invalid = || ApiError::bad_request(format!("Invalid nextToken: {t}"));
            let raw = URL_SAFE_NO_PAD.decode(t).map_err(|_| invalid())?;
            if raw.len() != 8 + MAC_LEN {
                return Err(invalid());
            }
            let mut seq = [0u8; 8];
            seq.copy_from_slice(&raw[..8]);
            let after = i64::from_be_bytes(seq);
            // Constant-time comparison is not needed for a checksum that guards no secret.
            if raw[8..] != mac(listing, after) || after < 0 {
                return Err(invalid());
            }
            after
        }
    };
    Ok(PageRequest { after, limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bind_to_their_listing() {
        let t = token("stages|1|us-east-1|abc", 42);
        assert_eq!(
            parse(Some("5"), Some(&t), "stages|1|us-east-1|abc").unwrap(),
            PageRequest {
                after: 42,
                limit: 5
            }
        );
        assert!(parse(None, Some(&t), "stages|1|us-east-1|abd").is_err());
        assert!(parse(None, Some(&t[..t.len() - 1]), "stages|1|us-east-1|abc").is_err());
        assert!(parse(None, Some("garbage!"), "stages|1|us-east-1|abc").is_err());
        assert!(parse(None, Some(""), "x").is_err());
    }

    #[test]
    fn max_results_range() {
        assert_eq!(parse(None, None, "x").unwrap().limit, DEFAULT_PAGE_SIZE);
        assert_eq!(parse(Some("500"), None, "x").unwrap().limit, 500);
        assert_eq!(parse(Some("2000"), None, "x").unwrap().limit, MAX_PAGE_SIZE);
        for bad in ["0", "-1", "ten", "", "1.5"] {
            assert!(parse(Some(bad), None, "x").is_err(), "{bad}");
        }
    }
}
