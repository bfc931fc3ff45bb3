//! The credentials file of strict mode: TOML with one `[[credentials]]` table per key.
//!
//! ```toml
//! [[credentials]]
//! access_key_id = "AKIAGATEHOUSE0001"
//! secret_access_key = "..."
//! account_id = "111111111111"
//! # session_token = "..."   # optional: then requests must present exactly this token
//! # admin = true            # optional: may reset state in strict mode
//! ```

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

/// One credential.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// The 12-digit account it acts as.
    pub account_id: String,
    /// If set, requests must carry this `x-amz-security-token`.
    #[serde(default)]
    pub session_token: Option<String>,
    /// May use gatehouse's administrative endpoints (`POST /_gatehouse/reset`) in strict
    /// mode.
    #[serde(default)]
    pub admin: bool,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("account_id", &self.account_id)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("admin", &self.admin)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    credentials: Vec<Credential>,
}

/// Credentials by access key id.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    by_key: HashMap<String, Credential>,
}

impl Credentials {
    /// Parses a credentials file's text; errors name the problem.
    pub fn parse(text: &str) -> Result<Credentials, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut by_key = HashMap::new();
        for c in file.credentials {
            if c.access_key_id.is_empty() || c.secret_access_key.is_empty() {
                return Err("access_key_id and secret_access_key must not be empty".into());
            }
            if c.account_id.len() != 12 || !c.account_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "account_id of {} must be 12 digits, got {:?}",
                    c.access_key_id, c.account_id
                ));
            }
            let key = c.access_key_id.clone();
            if by_key.insert(key.clone(), c).is_some() {
                return Err(format!("access_key_id {key} is listed twice"));
            }
        }
        if by_key.is_empty() {
            return Err("the credentials file lists no [[credentials]]".into());
        }
        Ok(Credentials { by_key })
    }

    /// Reads and parses a credentials file.
    pub fn load(path: &Path) -> Result<Credentials, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read credentials file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("credentials file {}: {e}", path.display()))
    }

    /// The credential for an access key id.
    pub fn get(&self, access_key_id: &str) -> Option<&Credential> {
        self.by_key.get(access_key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_bad_files() {
        let ok = Credentials::parse(
            "[[credentials]]\naccess_key_id = \"AK1\"\nsecret_access_key = \"s\"\naccount_id = \"111111111111\"\n",
        )
        .unwrap();
        assert_eq!(ok.get("AK1").unwrap().account_id, "111111111111");
        assert!(!format!("{:?}", ok).contains("\"s\""));
        for bad in [
            "",
            "[[credentials]]\naccess_key_id = \"AK1\"\nsecret_access_key = \"s\"\naccount_id = \"1\"\n",
            "[[credentials]]\naccess_key_id = \"AK1\"\nsecret_access_key = \"s\"\naccount_id = \"111111111111\"\nextra = 1\n",
            "not toml",
        ] {
            assert!(Credentials::parse(bad).is_err(), "{bad}");
        }
    }
}
