//! Export and import: the whole state (or one account's) as one versioned JSON document, so a
//! team can snapshot a fixture state, commit it and load it in CI.
//!
//! ```json
//! {"format": "gatehouse-state", "version": 1, "exportedAt": "...", "apis": [
//!   {"account": "123456789012", "region": "us-east-1", "api": {...},
//!    "stages": [...], "routes": [...], "integrations": [...], "deployments": [...],
//!    "snapshots": {"<deploymentId>": {"routes": [...], "integrations": [...]}}}]}
//! ```
//!
//! Records are in the store's own shapes (tags live on the API and its stages). Loading is
//! all-or-nothing: the file is checked completely first, then written in one store
//! transaction.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::model::deployment::{Deployment, Snapshot};
use crate::model::integration::Integration;
use crate::model::route::Route;
use crate::model::tree::ApiTree;
use crate::model::{time, Api, Scope, Stage};
use crate::store::{LoadMode, Store, StoreError};

/// The value of `format`.
pub const FORMAT: &str = "gatehouse-state";
/// The newest version this build writes and reads.
pub const VERSION: u64 = 1;

/// A state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The file's version ([`VERSION`] when written by this build).
    pub version: u64,
    /// When it was written (RFC 3339).
    #[serde(default)]
    pub exported_at: Option<String>,
    /// The gatehouse version that wrote it.
    #[serde(default)]
    pub gatehouse_version: Option<String>,
    /// Every API with everything under it, in creation order.
    pub apis: Vec<ApiState>,
}

/// One API and everything under it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiState {
    /// The 12-digit account that owns it.
    pub account: String,
    /// Its region.
    pub region: String,
    /// The API.
    pub api: Api,
    /// Its stages, in creation order.
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Its routes, in creation order.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Its integrations, in creation order.
    #[serde(default)]
    pub integrations: Vec<Integration>,
    /// Its deployments, in creation order.
    #[serde(default)]
    pub deployments: Vec<Deployment>,
    /// What each deployment froze, by deployment id.
    #[serde(default)]
    pub snapshots: BTreeMap<String, Snapshot>,
}

impl ApiState {
    fn from_tree(scope: Scope, tree: ApiTree) -> ApiState {
        ApiState {
            account: scope.account,
            region: scope.region,
            api: tree.api,
            stages: tree.stages,
            routes: tree.routes,
            integrations: tree.integrations,
            deployments: tree.deployments,
            snapshots: tree.new_snapshots.into_iter().collect(),
        }
    }

    fn into_tree(self) -> (Scope, ApiTree) {
        let mut tree = ApiTree::new(self.api);
        tree.stages = self.stages;
        tree.routes = self.routes;
        tree.integrations = self.integrations;
        tree.deployments = self.deployments;
        tree.new_snapshots = self.snapshots.into_iter().collect();
        (Scope::new(self.account, self.region), tree)
    }
}

/// Everything in `store` (or only `account`'s APIs) as a state file.
pub async fn export(store: &dyn Store, account: Option<&str>) -> Result<StateFile, String> {
    let apis = store
        .dump(account)
        .await
        .map_err(|e| format!("cannot read the store: {e}"))?;
    Ok(StateFile {
        format: FORMAT.into(),
        version: VERSION,
        exported_at: Some(time::rfc3339(time::now())),
        gatehouse_version: Some(env!("CARGO_PKG_VERSION").into()),
        apis: apis
            .into_iter()
            .map(|(scope, tree)| ApiState::from_tree(scope, tree))
            .collect(),
    })
}

/// Parses and checks a state file's text; the error says what is wrong and where.
pub fn parse(text: &str) -> Result<StateFile, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let format = value.get("format").and_then(|f| f.as_str());
    if format != Some(FORMAT) {
        return Err(format!(
            "not a gatehouse state file: \"format\" must be \"{FORMAT}\""
        ));
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v > VERSION => {
            return Err(format!(
                "state file version {v} is newer than this gatehouse ({}) reads (up to {VERSION}); upgrade gatehouse",
                env!("CARGO_PKG_VERSION")
            ))
        }
        Some(v) if v >= 1 => {}
        _ => return Err("\"version\" must be a positive whole number".into()),
    }
    let file: StateFile = serde_path_to_error::deserialize(value)
        .map_err(|e| format!("malformed state file at {}: {}", e.path(), e.inner()))?;
    check(&file)?;
    Ok(file)
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The rules the store relies on: well-formed scopes, ids unique where the API keeps them
/// unique, and references that point at something.
fn check(file: &StateFile) -> Result<(), String> {
    let mut apis = HashSet::new();
    for (i, a) in file.apis.iter().enumerate() {
        let at = format!("apis[{i}] (apiId {:?})", a.api.api_id);
        if !is_account(&a.account) {
            return Err(format!("{at}: account must be 12 digits"));
        }
        if !is_region(&a.region) {
            return Err(format!("{at}: region {:?} is not a region name", a.region));
        }
        if a.api.api_id.is_empty() {
            return Err(format!("{at}: apiId must not be empty"));
        }
        if !apis.insert((&a.account, &a.region, &a.api.api_id)) {
            return Err(format!(
                "{at}: the same apiId appears twice in {}/{}",
                a.account, a.region
            ));
        }
        unique(&at, "stage", a.stages.iter().map(|s| s.stage_name.as_str()))?;
        unique(&at, "route", a.routes.iter().map(|r| r.route_id.as_str()))?;
        unique(
            &at,
            "integration",
            a.integrations.iter().map(|x| x.integration_id.as_str()),
        )?;
        unique(
            &at,
            "deployment",
            a.deployments.iter().map(|d| d.deployment_id.as_str()),
        )?;
        unique(
            &at,
            "route key",
            a.routes.iter().map(|r| r.route_key.as_str()),
        )?;
        let deployments: HashSet<&str> = a
            .deployments
            .iter()
            .map(|d| d.deployment_id.as_str())
            .collect();
        for s in &a.stages {
            if let Some(d) = &s.deployment_id {
                if !deployments.contains(d.as_str()) {
                    return Err(format!(
                        "{at}: stage {:?} points at deployment {d:?}, which is not in the file",
                        s.stage_name
                    ));
                }
            }
        }
        for id in a.snapshots.keys() {
            if !deployments.contains(id.as_str()) {
                return Err(format!(
                    "{at}: snapshot {id:?} belongs to no deployment in the file"
                ));
            }
        }
    }
    Ok(())
}

fn unique<'a>(at: &str, what: &str, ids: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(format!("{at}: {what} {id:?} appears twice"));
        }
    }
    Ok(())
}

/// Loads a checked state file into `store` in one transaction; returns how many APIs it
/// holds. With `overwrite`, stored APIs with the same ids are replaced; without it, any
/// such API refuses the whole import.
pub async fn import(store: &dyn Store, file: StateFile, overwrite: bool) -> Result<usize, String> {
    let n = file.apis.len();
    let apis = file.apis.into_iter().map(ApiState::into_tree).collect();
    let mode = if overwrite {
        LoadMode::Overwrite
    } else {
        LoadMode::Add
    };
    match store.load(apis, mode).await {
        Ok(()) => Ok(n),
        Err(StoreError::Conflict) => Err(
            "an API in the file already exists in the store; nothing was imported (use --replace to overwrite APIs with the same ids)"
                .into(),
        ),
        Err(e) => Err(format!("import failed; nothing was imported: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_cannot_read() {
        for (text, says) in [
            ("{", "not valid JSON"),
            ("[]", "not a gatehouse state file"),
            (
                r#"{"format":"gatehouse-state","version":2,"apis":[]}"#,
                "newer",
            ),
            (
                r#"{"format":"gatehouse-state","version":0,"apis":[]}"#,
                "version",
            ),
            (
                r#"{"format":"gatehouse-state","version":1}"#,
                "missing field `apis`",
            ),
            (
                r#"{"format":"gatehouse-state","version":1,"apis":[],"extra":1}"#,
                "unknown field `extra`",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
        let ok = parse(r#"{"format":"gatehouse-state","version":1,"apis":[]}"#).unwrap();
        assert!(ok.apis.is_empty());
    }
}
