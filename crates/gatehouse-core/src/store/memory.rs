//! An in-memory store: fast, for tests and throwaway use; state ends with the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    apply_change, dumped_tree, tree_from_rows, Change, Diff, Kind, LoadMode, Page, Store,
    StoreError, StoreResult,
};
use crate::model::tree::ApiTree;
use crate::model::{Api, Scope};

type ScopeKey = (String, String);

struct Entry {
    seq: i64,
    api: Api,
    /// (kind, seq) → (key, document): each kind in creation order.
    children: BTreeMap<(Kind, i64), (String, String)>,
    index: HashMap<(Kind, String), i64>,
}

impl Entry {
    fn tree(&self) -> StoreResult<ApiTree> {
        let rows = self
            .children
            .iter()
            .filter(|((kind, _), _)| *kind != Kind::Snapshot)
            .map(|((kind, _), (_, doc))| (*kind, doc.clone()))
            .collect();
        tree_from_rows(self.api.clone(), rows)
    }

    fn apply(&mut self, d: Diff, next_seq: &mut i64) -> StoreResult<()> {
        if let Some(doc) = d.api {
            self.api = serde_json::from_str(&doc)?;
        }
        for (kind, key) in d.deletes {
            if let Some(seq) = self.index.remove(&(kind, key)) {
                self.children.remove(&(kind, seq));
            }
        }
        for (kind, key, doc) in d.updates {
            if let Some(seq) = self.index.get(&(kind, key.clone())) {
                self.children.insert((kind, *seq), (key, doc));
            }
        }
        for (kind, key, doc) in d.inserts {
            if self.index.contains_key(&(kind, key.clone())) {
                return Err(StoreError::Conflict);
            }
            *next_seq += 1;
            self.index.insert((kind, key.clone()), *next_seq);
            self.children.insert((kind, *next_seq), (key, doc));
        }
        Ok(())
    }
}

#[derive(Default)]
struct State {
    seq: i64,
    /// Per scope: API seq → API id, in creation order.
    order: HashMap<ScopeKey, BTreeMap<i64, String>>,
    apis: HashMap<(String, String, String), Entry>,
}

impl State {
    fn insert(&mut self, scope: &Scope, tree: ApiTree) -> StoreResult<()> {
        let k = key(scope, &tree.api.api_id);
        if self.apis.contains_key(&k) {
            return Err(StoreError::Conflict);
        }
        let d = super::diff(&ApiTree::new(tree.api.clone()), &tree)?;
        self.seq += 1;
        let seq = self.seq;
        let mut entry = Entry {
            seq,
            api: tree.api.clone(),
            children: BTreeMap::new(),
            index: HashMap::new(),
        };
        let mut next = self.seq;
        entry.apply(d, &mut next)?;
        self.seq = next;
        self.order
            .entry((scope.account.clone(), scope.region.clone()))
            .or_default()
            .insert(seq, tree.api.api_id.clone());
        self.apis.insert(k, entry);
        Ok(())
    }

    fn remove(&mut self, scope: &Scope, api_id: &str) -> StoreResult<()> {
        let entry = self
            .apis
            .remove(&key(scope, api_id))
            .ok_or(StoreError::ApiNotFound)?;
        if let Some(order) = self
            .order
            .get_mut(&(scope.account.clone(), scope.region.clone()))
        {
            order.remove(&entry.seq);
        }
        Ok(())
    }
}

fn key(scope: &Scope, api_id: &str) -> (String, String, String) {
    (
        scope.account.clone(),
        scope.region.clone(),
        api_id.to_string(),
    )
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
    async fn create_api(&self, scope: &Scope, tree: ApiTree) -> StoreResult<()> {
        self.lock()?.insert(scope, tree)
    }

    async fn get_api(&self, scope: &Scope, api_id: &str) -> StoreResult<Api> {
        let st = self.lock()?;
        st.apis
            .get(&key(scope, api_id))
            .map(|e| e.api.clone())
            .ok_or(StoreError::ApiNotFound)
    }

    async fn list_apis(&self, scope: &Scope, after: i64, limit: usize) -> StoreResult<Page<Api>> {
        let st = self.lock()?;
        let Some(order) = st.order.get(&(scope.account.clone(), scope.region.clone())) else {
            return Ok(Page {
                items: Vec::new(),
                more: false,
            });
        };
        let mut items = Vec::new();
        for (seq, id) in order.range(after.saturating_add(1)..).take(limit + 1) {
            if let Some(e) = st.apis.get(&key(scope, id)) {
                items.push((*seq, e.api.clone()));
            }
        }
        let more = items.len() > limit;
        items.truncate(limit);
        Ok(Page { items, more })
    }

    async fn delete_api(&self, scope: &Scope, api_id: &str) -> StoreResult<()> {
        self.lock()?.remove(scope, api_id)
    }

    async fn modify(&self, scope: &Scope, api_id: &str, change: Change) -> StoreResult<ApiTree> {
        let mut guard = self.lock()?;
        let st = &mut *guard;
        let entry = st
            .apis
            .get_mut(&key(scope, api_id))
            .ok_or(StoreError::ApiNotFound)?;
        let before = entry.tree()?;
        let (after, d) = apply_change(&before, change)?;
        // Check inserts first so a conflict leaves the entry untouched.
        if d.inserts
            .iter()
            .any(|(kind, key, _)| entry.index.contains_key(&(*kind, key.clone())))
        {
            return Err(StoreError::Conflict);
        }
        entry.apply(d, &mut st.seq)?;
        Ok(after)
    }

    async fn get_doc(
        &self,
        scope: &Scope,
        api_id: &str,
        kind: Kind,
        key_: &str,
    ) -> StoreResult<String> {
        let st = self.lock()?;
        let entry = st
            .apis
            .get(&key(scope, api_id))
            .ok_or(StoreError::ApiNotFound)?;
        let seq = entry
            .index
            .get(&(kind, key_.to_string()))
            .ok_or(StoreError::NotFound(kind))?;
        entry
            .children
            .get(&(kind, *seq))
            .map(|(_, doc)| doc.clone())
            .ok_or(StoreError::NotFound(kind))
    }

    async fn list_docs(
        &self,
        scope: &Scope,
        api_id: &str,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>> {
        let st = self.lock()?;
        let entry = st
            .apis
            .get(&key(scope, api_id))
            .ok_or(StoreError::ApiNotFound)?;
        let mut items: Vec<(i64, String)> = entry
            .children
            .range((kind, after.saturating_add(1))..=(kind, i64::MAX))
            .take(limit + 1)
            .map(|((_, seq), (_, doc))| (*seq, doc.clone()))
            .collect();
        let more = items.len() > limit;
        items.truncate(limit);
        Ok(Page { items, more })
    }

    async fn reset(&self, account: Option<&str>) -> StoreResult<()> {
        let mut st = self.lock()?;
        match account {
            None => {
                st.apis.clear();
                st.order.clear();
            }
            Some(a) => {
                st.apis.retain(|(acct, _, _), _| acct != a);
                st.order.retain(|(acct, _), _| acct != a);
            }
        }
        Ok(())
    }

    async fn dump(&self, account: Option<&str>) -> StoreResult<Vec<(Scope, ApiTree)>> {
        let st = self.lock()?;
        let mut entries: Vec<_> = st
            .apis
            .iter()
            .filter(|((a, _, _), _)| account.is_none_or(|want| a == want))
            .collect();
        entries.sort_by_key(|(_, e)| e.seq);
        entries
            .into_iter()
            .map(|((a, r, _), e)| {
                let rows = e
                    .children
                    .iter()
                    .map(|((kind, _), (key, doc))| (*kind, key.clone(), doc.clone()))
                    .collect();
                Ok((
                    Scope::new(a.clone(), r.clone()),
                    dumped_tree(e.api.clone(), rows)?,
                ))
            })
            .collect()
    }

    async fn load(&self, apis: Vec<(Scope, ApiTree)>, mode: LoadMode) -> StoreResult<()> {
        let mut st = self.lock()?;
        // Every check before the first write, so a refused load changes nothing.
        let mut seen = std::collections::HashSet::new();
        for (scope, tree) in &apis {
            let k = key(scope, &tree.api.api_id);
            if (mode == LoadMode::Add && st.apis.contains_key(&k)) || !seen.insert(k) {
                return Err(StoreError::Conflict);
            }
            super::diff(&ApiTree::new(tree.api.clone()), tree)?;
        }
        for (scope, tree) in apis {
            if st.apis.contains_key(&key(&scope, &tree.api.api_id)) {
                st.remove(&scope, &tree.api.api_id)?;
            }
            st.insert(&scope, tree)?;
        }
        Ok(())
    }

    async fn count_records(&self) -> StoreResult<u64> {
        let st = self.lock()?;
        Ok(st.apis.values().map(|e| 1 + e.children.len() as u64).sum())
    }

    async fn stats(&self) -> StoreResult<super::Stored> {
        let st = self.lock()?;
        Ok(super::Stored {
            apis: st.apis.len() as u64,
            stages: st
                .apis
                .values()
                .map(|e| e.index.keys().filter(|(k, _)| *k == Kind::Stage).count() as u64)
                .sum(),
        })
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
