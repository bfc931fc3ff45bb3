//! What changed between two deployments of an API (or a deployment and the live
//! configuration): routes, integrations and authorizers added, removed or changed (with the
//! members that changed), and whether the CORS configuration changed.

use serde::Serialize;
use serde_json::Value;

use super::deployment::Snapshot;

/// The changes from one snapshot to another.
#[derive(Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotDiff {
    /// Routes, named by their route keys.
    pub routes: Changes,
    /// Integrations, named by their ids.
    pub integrations: Changes,
    /// Authorizers, named by their names.
    pub authorizers: Changes,
    /// Whether the API's CORS configuration changed.
    pub cors_changed: bool,
}

/// The records of one kind added, removed and changed.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Changes {
    /// Present only in the newer snapshot.
    pub added: Vec<String>,
    /// Present only in the older one.
    pub removed: Vec<String>,
    /// In both, with different members.
    pub changed: Vec<Changed>,
}

/// One record in both snapshots and the members that differ.
#[derive(Debug, Serialize, PartialEq)]
pub struct Changed {
    /// The record's name (route key, integration id, authorizer name).
    pub name: String,
    /// The members whose values differ, by their wire names.
    pub members: Vec<String>,
}

impl SnapshotDiff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        [&self.routes, &self.integrations, &self.authorizers]
            .iter()
            .all(|c| c.added.is_empty() && c.removed.is_empty() && c.changed.is_empty())
            && !self.cors_changed
    }
}

/// What changed from `old` to `new`.
pub fn diff(old: &Snapshot, new: &Snapshot) -> SnapshotDiff {
    SnapshotDiff {
        routes: changes(&old.routes, &new.routes, |r| &r.route_id, |r| &r.route_key),
        integrations: changes(
            &old.integrations,
            &new.integrations,
            |i| &i.integration_id,
            |i| &i.integration_id,
        ),
        authorizers: changes(
            &old.authorizers,
            &new.authorizers,
            |a| &a.authorizer_id,
            |a| &a.name,
        ),
        cors_changed: old.cors_configuration != new.cors_configuration,
    }
}

/// The records of `new` not in `old` (by `id`), those of `old` not in `new`, and those in
/// both whose wire forms differ, each by its `name`.
fn changes<T: Serialize>(
    old: &[T],
    new: &[T],
    id: impl Fn(&T) -> &String,
    name: impl Fn(&T) -> &String,
) -> Changes {
    let find = |list: &'_ [T], wanted: &String| list.iter().position(|x| id(x) == wanted);
    let mut out = Changes::default();
    for n in new {
        match find(old, id(n)) {
            None => out.added.push(name(n).clone()),
            Some(at) => {
                let members = differing(&old[at], n);
                if !members.is_empty() {
                    let name = name(n).clone();
                    out.changed.push(Changed { name, members });
                }
            }
        }
    }
    out.removed = old
        .iter()
        .filter(|o| find(new, id(o)).is_none())
        .map(|o| name(o).clone())
        .collect();
    out
}

/// The wire members whose values differ between `a` and `b`.
fn differing<T: Serialize>(a: &T, b: &T) -> Vec<String> {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::route::{Route, RouteInput};

    fn route(id: &str, key: &str) -> Route {
        let input = RouteInput {
            route_key: Some(key.into()),
            ..Default::default()
        };
        Route::create(id.into(), input).unwrap()
    }

    #[test]
    fn routes_added_removed_and_changed() {
        let old = Snapshot {
            routes: vec![route("r1", "GET /a"), route("r2", "GET /b")],
            ..Default::default()
        };
        let mut changed = route("r1", "GET /a");
        changed.target = Some("integrations/abc".into());
        let new = Snapshot {
            routes: vec![changed, route("r3", "POST /c")],
            ..Default::default()
        };
        let d = diff(&old, &new);
        assert_eq!(d.routes.added, ["POST /c"]);
        assert_eq!(d.routes.removed, ["GET /b"]);
        assert_eq!(d.routes.changed[0].name, "GET /a");
        assert_eq!(d.routes.changed[0].members, ["target"]);
        assert!(!d.is_empty() && diff(&new, &new).is_empty());
    }
}
