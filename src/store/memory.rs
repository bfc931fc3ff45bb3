//! An in-memory store: fast, for tests and throwaway use; state ends with the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Mutator, Page, Store, StoreError, StoreResult};
use crate::model::{Api, Scope, Stage};

type ApiKey = (String, String, String); // account, region, api id
type StageKey = (String, String, String, String); // + stage name

#[derive(Default)]
struct State {
    seq: i64,
    /// (account, region, seq) → API, in creation order.
    apis: BTreeMap<(String, String, i64), Api>,
    api_index: HashMap<ApiKey, i64>,
    /// (account, region, api id, seq) → stage, in creation order.
    stages: BTreeMap<(String, String, String, i64), Stage>,
    stage_index: HashMap<StageKey, i64>,
}

impl State {
    fn api_seq(&self, scope: &Scope, api_id: &str) -> StoreResult<i64> {
        self.api_index
            .get(&(
                scope.account.clone(),
                scope.region.clone(),
                api_id.to_string(),
            ))
            .copied()
            .ok_or(StoreError::ApiNotFound)
    }

    fn stage_seq(&self, scope: &Scope, api_id: &str, name: &str) -> StoreResult<i64> {
        self.api_seq(scope, api_id)?;
        self.stage_index
            .get(&stage_key(scope, api_id, name))
            .copied()
            .ok_or(StoreError::StageNotFound)
    }

    fn stage_count(&self, scope: &Scope, api_id: &str) -> usize {
        self.stages.range(stage_range(scope, api_id, 0)).count()
    }
}

fn stage_key(scope: &Scope, api_id: &str, name: &str) -> StageKey {
    (
        scope.account.clone(),
        scope.region.clone(),
        api_id.to_string(),
        name.to_string(),
    )
}

fn stage_range(
    scope: &Scope,
    api_id: &str,
    after: i64,
) -> std::ops::RangeInclusive<(String, String, String, i64)> {
    let lo = (
        scope.account.clone(),
        scope.region.clone(),
        api_id.to_string(),
        after.saturating_add(1),
    );
    let hi = (
        scope.account.clone(),
        scope.region.clone(),
        api_id.to_string(),
        i64::MAX,
    );
    lo..=hi
}

/// The in-memory store.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| StoreError::Backend("memory store lock poisoned".into()))
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create_api(&self, scope: &Scope, api: Api) -> StoreResult<()> {
        let mut st = self.lock()?;
        let key = (
            scope.account.clone(),
            scope.region.clone(),
            api.api_id.clone(),
        );
        if st.api_index.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        st.seq += 1;
        let seq = st.seq;
        st.api_index.insert(key, seq);
        st.apis
            .insert((scope.account.clone(), scope.region.clone(), seq), api);
        Ok(())
    }

    async fn get_api(&self, scope: &Scope, api_id: &str) -> StoreResult<Api> {
        let st = self.lock()?;
        let seq = st.api_seq(scope, api_id)?;
        st.apis
            .get(&(scope.account.clone(), scope.region.clone(), seq))
            .cloned()
            .ok_or(StoreError::ApiNotFound)
    }

    async fn list_apis(&self, scope: &Scope, after: i64, limit: usize) -> StoreResult<Page<Api>> {
        let st = self.lock()?;
        let lo = (
            scope.account.clone(),
            scope.region.clone(),
            after.saturating_add(1),
        );
        let hi = (scope.account.clone(), scope.region.clone(), i64::MAX);
        let mut items: Vec<(i64, Api)> = st
            .apis
            .range(lo..=hi)
            .take(limit + 1)
            .map(|((_, _, seq), api)| (*seq, api.clone()))
            .collect();
        let more = items.len() > limit;
        items.truncate(limit);
        Ok(Page { items, more })
    }

    async fn update_api(
        &self,
        scope: &Scope,
        api_id: &str,
        change: Mutator<Api>,
    ) -> StoreResult<Api> {
        let mut st = self.lock()?;
        let seq = st.api_seq(scope, api_id)?;
        let key = (scope.account.clone(), scope.region.clone(), seq);
        let mut api = st.apis.get(&key).cloned().ok_or(StoreError::ApiNotFound)?;
        change(&mut api).map_err(StoreError::Rejected)?;
        st.apis.insert(key, api.clone());
        Ok(api)
    }

    async fn delete_api(&self, scope: &Scope, api_id: &str) -> StoreResult<()> {
        let mut st = self.lock()?;
        let seq = st.api_seq(scope, api_id)?;
        st.apis
            .remove(&(scope.account.clone(), scope.region.clone(), seq));
        st.api_index.remove(&(
            scope.account.clone(),
            scope.region.clone(),
            api_id.to_string(),
        ));
        let doomed: Vec<_> = st
            .stages
            .range(stage_range(scope, api_id, 0))
            .map(|(k, s)| (k.clone(), s.stage_name.clone()))
            .collect();
        for (k, name) in doomed {
            st.stages.remove(&k);
            st.stage_index.remove(&stage_key(scope, api_id, &name));
        }
        Ok(())
    }

    async fn create_stage(
        &self,
        scope: &Scope,
        api_id: &str,
        stage: Stage,
        max_stages: usize,
    ) -> StoreResult<()> {
        let mut st = self.lock()?;
        st.api_seq(scope, api_id)?;
        let key = stage_key(scope, api_id, &stage.stage_name);
        if st.stage_index.contains_key(&key) {
            return Err(StoreError::Conflict);
        }
        if st.stage_count(scope, api_id) >= max_stages {
            return Err(StoreError::StageQuota(max_stages));
        }
        st.seq += 1;
        let seq = st.seq;
        st.stage_index.insert(key, seq);
        st.stages.insert(
            (
                scope.account.clone(),
                scope.region.clone(),
                api_id.to_string(),
                seq,
            ),
            stage,
        );
        Ok(())
    }

    async fn get_stage(&self, scope: &Scope, api_id: &str, stage_name: &str) -> StoreResult<Stage> {
        let st = self.lock()?;
        let seq = st.stage_seq(scope, api_id, stage_name)?;
        st.stages
            .get(&(
                scope.account.clone(),
                scope.region.clone(),
                api_id.to_string(),
                seq,
            ))
            .cloned()
            .ok_or(StoreError::StageNotFound)
    }

    async fn list_stages(
        &self,
        scope: &Scope,
        api_id: &str,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<Stage>> {
        let st = self.lock()?;
        st.api_seq(scope, api_id)?;
        let mut items: Vec<(i64, Stage)> = st
            .stages
            .range(stage_range(scope, api_id, after))
            .take(limit + 1)
            .map(|((_, _, _, seq), s)| (*seq, s.clone()))
            .collect();
        let more = items.len() > limit;
        items.truncate(limit);
        Ok(Page { items, more })
    }

    async fn update_stage(
        &self,
        scope: &Scope,
        api_id: &str,
        stage_name: &str,
        change: Mutator<Stage>,
    ) -> StoreResult<Stage> {
        let mut st = self.lock()?;
        let seq = st.stage_seq(scope, api_id, stage_name)?;
        let key = (
            scope.account.clone(),
            scope.region.clone(),
            api_id.to_string(),
            seq,
        );
        let mut stage = st
            .stages
            .get(&key)
            .cloned()
            .ok_or(StoreError::StageNotFound)?;
        change(&mut stage).map_err(StoreError::Rejected)?;
        st.stages.insert(key, stage.clone());
        Ok(stage)
    }

    async fn delete_stage(&self, scope: &Scope, api_id: &str, stage_name: &str) -> StoreResult<()> {
        let mut st = self.lock()?;
        let seq = st.stage_seq(scope, api_id, stage_name)?;
        st.stages.remove(&(
            scope.account.clone(),
            scope.region.clone(),
            api_id.to_string(),
            seq,
        ));
        st.stage_index.remove(&stage_key(scope, api_id, stage_name));
        Ok(())
    }

    async fn count_records(&self) -> StoreResult<u64> {
        let st = self.lock()?;
        Ok((st.apis.len() + st.stages.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn conformance() {
        let store = super::MemoryStore::new();
        super::super::conformance::run(&store).await;
    }
}
