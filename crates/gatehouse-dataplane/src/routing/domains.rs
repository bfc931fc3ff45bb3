//! Custom domain names on the data plane. A request whose `Host` is a stored domain name (in
//! the default region, else in the one region that holds it) is served through that
//! domain's API mappings: the mapping whose key
//! is the longest leading run of the path's segments (the empty key maps the root) names
//! the API and the stage, and what follows the key is the path the API routes. Routing
//! rules send traffic to REST APIs only, which gatehouse does not serve. What a
//! domain maps is reused while the store reports no change, like a resolved stage; so is
//! the knowledge that a host is no domain name.

use std::sync::{Arc, Mutex};

use gatehouse_core::model::domain_name::{ApiMapping, DomainName};
use gatehouse_core::model::Scope;
use gatehouse_core::store::{self, Kind, SharedStore};

use super::resolve::{place, Table};
use super::target::{host_name, Entry, Target};

/// The custom domain names requests name in their `Host`, as read from the store.
pub struct Domains {
    store: SharedStore,
    /// The region domain names are looked up in first.
    region: String,
    cache: Mutex<Table<String, Arc<Domain>>>,
}

/// What a host name maps, as read at one moment (shared, not copied, by the requests that
/// use it).
struct Domain {
    /// Whether the host is a stored domain name.
    exists: bool,
    /// The region it is stored in; why it cannot serve when several regions hold it.
    region: Result<String, String>,
    /// The domain's API mappings.
    mappings: Vec<ApiMapping>,
    generation: u64,
}

/// Most host names remembered; when full, the memory starts over.
const DOMAIN_CACHE: usize = 10_000;

/// The mapping for `path` among `mappings` and the path that follows its key.
pub fn mapping_for<'m>(mappings: &'m [ApiMapping], path: &str) -> Option<(&'m ApiMapping, String)> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    mappings
        .iter()
        .filter_map(|m| {
            let key = m.api_mapping_key.trim_matches('/');
            if key.is_empty() {
                return Some((m, path.to_string(), 0));
            }
            let rest = trimmed.strip_prefix(key)?;
            if rest.is_empty() {
                Some((m, "/".to_string(), key.len()))
            } else if rest.starts_with('/') {
                Some((m, rest.to_string(), key.len()))
            } else {
                None
            }
        })
        .max_by_key(|(_, _, len)| *len)
        .map(|(m, rest, _)| (m, rest))
}

/// Whether `host` (a `Host` value, with or without a port) could be a custom domain name
/// (not an address, not a single label like `localhost`).
pub fn could_be_domain(host: &str) -> bool {
    let name = host_name(host);
    name.contains('.') && name.parse::<std::net::IpAddr>().is_err() && !name.starts_with('[')
}

impl Domains {
    /// The domain names stored in `region`, read from `store`.
    pub fn new(store: SharedStore, region: String) -> Domains {
        Domains {
            store,
            region,
            cache: Mutex::default(),
        }
    }

    /// The invoke target of a request to a custom domain name, if `host` is one and one of
    /// its API mappings takes `path`. A domain name whose mappings take nothing still
    /// answers: 404 `{"message":"Not Found"}` (the target then names no API).
    pub async fn target(&self, host: &str, path: &str) -> Option<Target> {
        if !could_be_domain(host) {
            return None;
        }
        let name = host_name(host).to_ascii_lowercase();
        let domain = self.domain(&name).await?;
        let (api_id, entry, rest) = match (&domain.region, mapping_for(&domain.mappings, path)) {
            (Ok(_), Some((m, rest))) => (
                m.api_id.clone(),
                Entry::Mapped {
                    stage: m.stage.clone(),
                },
                rest,
            ),
            (Ok(_), None) => {
                let why = format!("no API mapping of {name} takes the path {path}");
                (String::new(), Entry::Unmapped(why), path.to_string())
            }
            (Err(why), _) => (
                String::new(),
                Entry::Unmapped(why.clone()),
                path.to_string(),
            ),
        };
        Some(Target {
            api_id,
            region: domain.region.clone().ok(),
            path: rest,
            domain: Some(name),
            entry,
        })
    }

    /// What domain name `name` maps: `None` when it is no stored domain name (or the store
    /// cannot say).
    async fn domain(&self, name: &str) -> Option<Arc<Domain>> {
        let generation = self.store.changes();
        let hit = self.cache.lock().ok().and_then(|m| m.get(name).cloned());
        if let Some(hit) = hit.filter(|hit| hit.generation == generation) {
            return hit.exists.then_some(hit);
        }
        let found = self.store.locate_root(Kind::DomainName, name).await.ok()?;
        let domain = Arc::new(match self.pick(name, &found) {
            None => Domain {
                exists: false,
                region: Err(String::new()),
                mappings: Vec::new(),
                generation,
            },
            Some(Err(why)) => Domain {
                exists: true,
                region: Err(why),
                mappings: Vec::new(),
                generation,
            },
            Some(Ok(scope)) => Domain {
                exists: true,
                mappings: self.mappings(&scope, name).await?,
                region: Ok(scope.region),
                generation,
            },
        });
        if let Ok(mut m) = self.cache.lock() {
            if m.len() >= DOMAIN_CACHE {
                m.clear();
            }
            m.insert(name.to_string(), domain.clone());
        }
        domain.exists.then_some(domain)
    }
}

impl Domains {
    /// Which of the places holding domain name `name` serves it (see [`place`]); why none
    /// does when several other regions hold it.
    fn pick(&self, name: &str, found: &[Scope]) -> Option<Result<Scope, String>> {
        match place(found, &self.region) {
            Ok(scope) => scope.cloned().map(Ok),
            Err(regions) => Some(Err(format!(
                "domain name {name} exists in several regions ({regions}), none of them the default"
            ))),
        }
    }

    /// The API mappings domain name `name` serves through (none when it takes routing rules
    /// only: they send traffic to REST APIs, which gatehouse does not serve).
    async fn mappings(&self, scope: &Scope, name: &str) -> Option<Vec<ApiMapping>> {
        let record: DomainName = self.store.root(scope, name).await.ok()?;
        let page = store::list::<ApiMapping>(self.store.as_ref(), scope, name, 0, 10_000)
            .await
            .ok()?;
        let serves = record.routing_mode != "ROUTING_RULE_ONLY";
        Some(
            page.items
                .into_iter()
                .map(|(_, m)| m)
                .filter(|_| serves)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(key: &str, api: &str) -> ApiMapping {
        ApiMapping {
            api_mapping_id: key.into(),
            api_id: api.into(),
            stage: "prod".into(),
            api_mapping_key: key.into(),
        }
    }

    #[test]
    fn the_longest_key_takes_the_path() {
        let maps = [m("", "root"), m("v1", "one"), m("v1/orders", "orders")];
        let pick = |p: &str| mapping_for(&maps, p).map(|(m, rest)| (m.api_id.clone(), rest));
        assert_eq!(pick("/pets"), Some(("root".into(), "/pets".into())));
        assert_eq!(pick("/v1/pets"), Some(("one".into(), "/pets".into())));
        assert_eq!(pick("/v1"), Some(("one".into(), "/".into())));
        assert_eq!(pick("/v1/orders/7"), Some(("orders".into(), "/7".into())));
        assert_eq!(pick("/v10/x"), Some(("root".into(), "/v10/x".into())));
        assert_eq!(
            mapping_for(&maps[1..], "/v2/x").map(|(m, _)| m.api_id.clone()),
            None
        );
    }
}
