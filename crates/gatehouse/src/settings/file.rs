//! The settings file: TOML whose keys are the [`Settings`] fields; unknown keys are an
//! error, and every value is checked whether a flag overrides it or not.

use std::path::Path;

use super::Settings;

/// Parses a settings file's text; the error names the bad key.
pub fn parse(text: &str) -> Result<Settings, String> {
    serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
        let inner = e.inner().to_string().trim_end().to_string();
        match e.path().to_string().as_str() {
            "." => inner,
            key => format!("{key}: {inner}"),
        }
    })
}

/// Reads and parses a settings file.
pub fn load(path: &Path) -> Result<Settings, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read settings file {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("settings file {}: {e}", path.display()))
}

/// Checks a settings file the way `serve --config` would use it (with no flags or
/// environment): every key known, every value valid, credentials readable, the seed file a
/// state file.
pub fn check(path: &Path) -> Result<(), String> {
    let settings = load(path)?;
    let prefix = |e: String| format!("settings file {}: {e}", path.display());
    settings.validate().map_err(prefix)?;
    if let Some(seed) = &settings.seed {
        let text = std::fs::read_to_string(seed)
            .map_err(|e| prefix(format!("seed: cannot read {}: {e}", seed.display())))?;
        crate::statefile::parse(&text)
            .map_err(|e| prefix(format!("seed {}: {e}", seed.display())))?;
    }
    Ok(())
}

impl Settings {
    /// These settings (from flags, environment and defaults) over the settings file's:
    /// the file's value is taken for every setting `given` says no flag or environment
    /// variable set.
    pub fn over_file(mut self, file: Settings, given: impl Fn(&str) -> bool) -> Settings {
        self.layer_over(file, given);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_key() {
        for (text, says) in [
            ("lisen = \"127.0.0.1:1\"", "unknown field `lisen`"),
            ("listen = \"nowhere\"", "listen: "),
            ("auth = \"sometimes\"", "auth: "),
            ("max_stages_per_api = \"ten\"", "max_stages_per_api: "),
            ("store = \"mysql://x\"", "store: "),
            ("credentials = [{ access_key_id = \"A\" }]", "credentials: "),
        ] {
            let err = parse(text).map(|_| ()).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
        let s = parse("auth = \"strict\"\nthrottle = true\n[[credentials]]\naccess_key_id = \"A\"\nsecret_access_key = \"s\"\naccount_id = \"111111111111\"\n").unwrap();
        assert!(s.throttle && s.check().is_ok());
        assert_eq!(s.max_stages_per_api, 10, "the rest are the defaults");
    }
}
