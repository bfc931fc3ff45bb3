//! Tag rules: <https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-tagging-supported-resources.html>.

use std::collections::BTreeMap;

use crate::error::{ApiError, ApiResult};

/// At most this many tags on one resource.
pub const MAX_TAGS: usize = 50;
/// Longest tag key, in characters.
pub const MAX_KEY: usize = 128;
/// Longest tag value, in characters.
pub const MAX_VALUE: usize = 256;

/// Checks a full tag set against AWS's limits.
pub fn validate(tags: &BTreeMap<String, String>) -> ApiResult<()> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::bad_request(format!(
            "Too many tags: a resource can have at most {MAX_TAGS} tags"
        )));
    }
    for (k, v) in tags {
        let klen = k.chars().count();
        if klen == 0 || klen > MAX_KEY {
            return Err(ApiError::bad_request(format!(
                "Invalid tag key: {k:?}. Tag keys must be between 1 and {MAX_KEY} characters"
            )));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(ApiError::bad_request(format!(
                "Invalid tag key: {k:?}. Tag keys starting with 'aws:' are reserved"
            )));
        }
        if v.chars().count() > MAX_VALUE {
            return Err(ApiError::bad_request(format!(
                "Invalid tag value for key {k:?}: tag values must be at most {MAX_VALUE} characters"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let ok: BTreeMap<_, _> = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(validate(&ok).is_ok());
        let many: BTreeMap<_, _> = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(validate(&many).is_err());
        let reserved = BTreeMap::from([("aws:x".to_string(), "v".to_string())]);
        assert!(validate(&reserved).is_err());
        let long = BTreeMap::from([("k".to_string(), "v".repeat(257))]);
        assert!(validate(&long).is_err());
        let long_key = BTreeMap::from([("k".repeat(129), String::new())]);
        assert!(validate(&long_key).is_err());
    }
}
