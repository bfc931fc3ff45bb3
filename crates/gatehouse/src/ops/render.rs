//! Wire JSON of stored child documents, rendered once per distinct document.
//!
//! GetStage, GetRoute, GetIntegration, GetDeployment and their listings otherwise decode the
//! stored JSON and encode the wire JSON on every request (a tenth of a GetStage's server
//! CPU). The wire form is a pure function of the stored document, so the document itself
//! is the key: a changed record is a different key, and nothing ever needs invalidating.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

use gatehouse_core::error::ApiResult;
use gatehouse_core::store::{Kind, Record, StoreError};

use crate::wire::{self, ToWire};

/// Most documents kept per kind; when full, the kind's cache starts over.
const CAP: usize = 4096;

/// The cache: one map per kind (in its registry slot), stored document → wire JSON
/// (shared, never copied).
pub struct RenderCache {
    kinds: Vec<Mutex<HashMap<Box<str>, Bytes>>>,
}

impl Default for RenderCache {
    fn default() -> Self {
        RenderCache {
            kinds: Kind::ALL.iter().map(|_| Mutex::default()).collect(),
        }
    }
}

/// Renders one stored document without the cache.
pub fn render_uncached<T: Record + ToWire>(doc: &str) -> ApiResult<String> {
    // An unreadable stored record is a store failure (logged, 500), as on every read.
    let record: T = serde_json::from_str(doc).map_err(|e| StoreError::from(e).into_api_error())?;
    let json = wire::to_json(&record.to_wire());
    json
}

impl RenderCache {
    /// The wire JSON of stored document `doc` of type `T`.
    pub fn render<T: Record + ToWire>(&self, doc: &str) -> ApiResult<Bytes> {
        let Some(map) = self.kinds.get(T::KIND.slot()) else {
            return render_uncached::<T>(doc).map(Bytes::from);
        };
        if let Some(hit) = map.lock().ok().and_then(|m| m.get(doc).cloned()) {
            return Ok(hit);
        }
        let rendered = Bytes::from(render_uncached::<T>(doc)?);
        if let Ok(mut m) = map.lock() {
            if m.len() >= CAP {
                m.clear();
            }
            m.insert(doc.into(), rendered.clone());
        }
        Ok(rendered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::model::api::ProtocolType;
    use gatehouse_core::model::stage::{StageInput, StageRules};
    use gatehouse_core::model::Stage;

    fn stored(name: &str, description: Option<&str>) -> String {
        let stage = Stage::create(
            StageInput {
                stage_name: Some(name.into()),
                description: description.map(String::from),
                ..Default::default()
            },
            &StageRules::new(ProtocolType::Http, "123456789012:abc".into(), Vec::new()),
            1_600_000_000,
        )
        .unwrap();
        serde_json::to_string(&stage).unwrap()
    }

    #[test]
    fn renders_as_the_uncached_path_and_follows_changes() {
        let cache = RenderCache::default();
        let a = stored("dev", None);
        let b = stored("dev", Some("changed"));
        for _ in 0..2 {
            assert_eq!(
                cache.render::<Stage>(&a).unwrap(),
                render_uncached::<Stage>(&a).unwrap()
            );
        }
        let text = |b: Bytes| String::from_utf8(b.to_vec()).unwrap();
        let changed = text(cache.render::<Stage>(&b).unwrap());
        assert!(changed.contains("\"description\":\"changed\""), "{changed}");
        assert!(!text(cache.render::<Stage>(&a).unwrap()).contains("description"));
        assert!(cache.render::<Stage>("{not json").is_err());
    }
}
