//! Which API an invoke request is for: the host form `{apiId}.execute-api.<anything>` (the
//! region is the label after `execute-api` when it looks like one) and the path form
//! `/_aws/execute-api/{apiId}/…` (LocalStack's).

/// An invoke request's API and the path it asks of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The API id.
    pub api_id: String,
    /// The region the host names, if it names one.
    pub region: Option<String>,
    /// The raw path after the API part (`/prod/pets/1`), always starting with `/`.
    pub path: String,
    /// The domain name the request used (the `Host` header without its port, or AWS's form
    /// for the path form).
    pub domain: Option<String>,
    /// How the request came in, and so how its stage is chosen.
    pub entry: Entry,
}

/// How an invoke request came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The API's own endpoint: the path's first segment may name the stage.
    Endpoint,
    /// A custom domain name's API mapping, which names the stage (`path` is then what follows
    /// the mapping's key).
    Mapped {
        /// The stage the mapping names.
        stage: String,
    },
    /// A custom domain name none of whose API mappings takes the path, or that cannot serve
    /// (`api_id` is empty); why.
    Unmapped(String),
}

impl Target {
    /// Whether the request came through a custom domain name.
    pub fn through_custom_domain(&self) -> bool {
        self.entry != Entry::Endpoint
    }
}

/// The path prefix of the path form.
pub const PATH_PREFIX: &str = "/_aws/execute-api/";

fn is_api_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `label` looks like a region (`us-east-1`, `eu-central-2`).
fn is_region(label: &str) -> bool {
    let parts: Vec<&str> = label.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty())
        && parts
            .last()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
}

/// The target of a request with `host` (the `Host` header) and raw `path`, if it is an
/// invoke request.
#[inline]
pub fn target(host: Option<&str>, path: &str) -> Option<Target> {
    if let Some(rest) = path.strip_prefix(PATH_PREFIX) {
        let (api_id, tail) = match rest.bytes().position(|b| b == b'/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        return is_api_id(api_id).then(|| Target {
            api_id: api_id.to_string(),
            region: None,
            path: tail.to_string(),
            domain: None,
            entry: Entry::Endpoint,
        });
    }
    let name = host_name(host?);
    let mut labels = name.split('.');
    let api_id = labels.next()?;
    if labels.next()? != "execute-api" || !is_api_id(api_id) {
        return None;
    }
    let region = labels.next().filter(|l| is_region(l)).map(String::from);
    Some(Target {
        api_id: api_id.to_ascii_lowercase(),
        region,
        path: path.to_string(),
        domain: Some(name.to_string()),
        entry: Entry::Endpoint,
    })
}

/// The `Host` header's name without its port.
pub fn host_name(host: &str) -> &str {
    host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_path_forms() {
        let t = target(Some("abc123.execute-api.localhost:4599"), "/prod/pets").unwrap();
        assert_eq!(
            (t.api_id.as_str(), t.region, t.path.as_str()),
            ("abc123", None, "/prod/pets")
        );
        let t = target(Some("abc123.execute-api.eu-west-1.amazonaws.com"), "/").unwrap();
        assert_eq!(t.region.as_deref(), Some("eu-west-1"));
        let t = target(Some("127.0.0.1:4599"), "/_aws/execute-api/abc123/prod/x").unwrap();
        assert_eq!((t.api_id.as_str(), t.path.as_str()), ("abc123", "/prod/x"));
        assert_eq!(target(None, "/_aws/execute-api/abc123").unwrap().path, "/");
        assert!(target(Some("127.0.0.1:4599"), "/v2/apis").is_none());
        assert!(target(Some("execute-api.localhost"), "/").is_none());
        assert!(target(Some("a.b.execute-api.localhost"), "/").is_none());
    }
}
