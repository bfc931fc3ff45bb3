//! An in-memory store: fast, for tests and throwaway use; state ends with the process.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    Changes, Diff, Kind, LoadMode, Page, RawChange, RawTree, Row, Store, StoreError, StoreResult,
    Stored,
};
use crate::model::Scope;

/// (account, region).
type ScopeKey = (String, String);
/// (account, region, root kind, root id).
type RootKey = (String, String, Kind, String);

struct Entry {
    seq: i64,
    doc: String,
    /// (kind, seq) → (key, document): each kind in creation order.
    children: BTreeMap<(Kind, i64), (String, String)>,
    index: HashMap<(Kind, String), i64>,
}

impl Entry {
    fn raw(&self, kind: Kind, id: &str, all: bool) -> RawTree {
        RawTree {
            kind,
            id: id.to_string(),
            doc: self.doc.clone(),
            rows: self.rows(all),
        }
    }

    /// Child rows, each kind in creation order (all kinds, or the kinds a tree loads); a
    /// dump (`all`) interleaves the kinds in creation order, as the other backends do.
    fn rows(&self, all: bool) -> Vec<Row> {
        let mut rows: Vec<(i64, Row)> = self
            .children
            .iter()
            .filter(|((kind, _), _)| all || kind.spec().loaded)
            .map(|((kind, seq), (key, doc))| (*seq, (*kind, key.clone(), doc.clone())))
            .collect();
        if all {
            rows.sort_by_key(|(seq, _)| *seq);
        }
        rows.into_iter().map(|(_, row)| row).collect()
    }

    fn apply(&mut self, d: Diff, next_seq: &mut i64) -> StoreResult<()> {
        if let Some(doc) = d.root {
            self.doc = doc;
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
    /// Per scope and root kind: root seq → root id, in creation order.
    order: HashMap<(ScopeKey, Kind), BTreeMap<i64, String>>,
    roots: HashMap<RootKey, Entry>,
}

/// Whether `rows` holds a (kind, key) twice.
fn has_duplicates(rows: &[Row]) -> bool {
    let mut seen = HashSet::new();
    rows.iter()
        .any(|(k, key, _)| !seen.insert((*k, key.as_str())))
}

impl State {
    fn insert(&mut self, scope: &Scope, tree: RawTree) -> StoreResult<()> {
        let k = key(scope, tree.kind, &tree.id);
        if self.roots.contains_key(&k) || has_duplicates(&tree.rows) {
            return Err(StoreError::Conflict);
        }
        self.seq += 1;
        let seq = self.seq;
        let mut entry = Entry {
            seq,
            doc: tree.doc,
            children: BTreeMap::new(),
            index: HashMap::new(),
        };
        let d = Diff {
            inserts: tree.rows,
            ..Diff::default()
        };
        entry.apply(d, &mut self.seq)?;
        self.order
            .entry((scope_key(scope), tree.kind))
            .or_default()
            .insert(seq, tree.id);
        self.roots.insert(k, entry);
        Ok(())
    }

    fn remove(&mut self, scope: &Scope, kind: Kind, id: &str) -> StoreResult<()> {
        let entry = self
            .roots
            .remove(&key(scope, kind, id))
            .ok_or(StoreError::NotFound(kind))?;
        if let Some(order) = self.order.get_mut(&(scope_key(scope), kind)) {
            order.remove(&entry.seq);
        }
        Ok(())
    }

    fn entry(&self, scope: &Scope, kind: Kind, id: &str) -> StoreResult<&Entry> {
        self.roots
            .get(&key(scope, kind, id))
            .ok_or(StoreError::NotFound(kind))
    }
}

fn scope_key(scope: &Scope) -> ScopeKey {
    (scope.account.clone(), scope.region.clone())
}

fn key(scope: &Scope, kind: Kind, id: &str) -> RootKey {
    (
        scope.account.clone(),
        scope.region.clone(),
        kind,
        id.to_string(),
    )
}

/// The in-memory store.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    changes: Changes,
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
    async fn write_roots(
        &self,
        roots: Vec<(Scope, RawTree)>,
        mode: LoadMode,
        gone: Vec<(Scope, Kind, String)>,
    ) -> StoreResult<()> {
        let mut st = self.lock()?;
        // Every check before the first write, so a refused load changes nothing.
        let mut seen = HashSet::new();
        for (scope, tree) in &roots {
            let k = key(scope, tree.kind, &tree.id);
            if (mode == LoadMode::Add && st.roots.contains_key(&k))
                || !seen.insert(k)
                || has_duplicates(&tree.rows)
            {
                return Err(StoreError::Conflict);
            }
        }
        // (Counted even when one of these fails: part of the load may have been written.)
        self.changes.advance();
        for (scope, kind, id) in &gone {
            if st.roots.contains_key(&key(scope, *kind, id)) {
                st.remove(scope, *kind, id)?;
            }
        }
        for (scope, tree) in roots {
            if st.roots.contains_key(&key(&scope, tree.kind, &tree.id)) {
                st.remove(&scope, tree.kind, &tree.id)?;
            }
            st.insert(&scope, tree)?;
        }
        Ok(())
    }

    async fn insert(&self, scope: &Scope, tree: RawTree) -> StoreResult<()> {
        let inserted = self.lock()?.insert(scope, tree);
        self.changes.committed(inserted)
    }

    async fn get_root(&self, scope: &Scope, kind: Kind, id: &str) -> StoreResult<String> {
        Ok(self.lock()?.entry(scope, kind, id)?.doc.clone())
    }

    async fn find_root(&self, region: &str, kind: Kind, id: &str) -> StoreResult<Option<String>> {
        let st = self.lock()?;
        Ok(st
            .roots
            .keys()
            .find(|(_, r, k, i)| r == region && *k == kind && i == id)
            .map(|(account, ..)| account.clone()))
    }

    async fn locate_root(&self, kind: Kind, id: &str) -> StoreResult<Vec<Scope>> {
        let st = self.lock()?;
        let mut found: Vec<(i64, Scope)> = st
            .roots
            .iter()
            .filter(|((_, _, k, i), _)| *k == kind && i == id)
            .map(|((account, region, ..), entry)| {
                (entry.seq, Scope::new(account.clone(), region.clone()))
            })
            .collect();
        found.sort_by_key(|(seq, _)| *seq);
        Ok(found.into_iter().map(|(_, scope)| scope).collect())
    }

    async fn list_roots(
        &self,
        scope: &Scope,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>> {
        let st = self.lock()?;
        let Some(order) = st.order.get(&(scope_key(scope), kind)) else {
            return Ok(Page {
                items: Vec::new(),
                more: false,
            });
        };
        let mut items = Vec::new();
        for (seq, id) in order.range(after.saturating_add(1)..).take(limit + 1) {
            if let Some(e) = st.roots.get(&key(scope, kind, id)) {
                items.push((*seq, e.doc.clone()));
            }
        }
        let more = items.len() > limit;
        items.truncate(limit);
        Ok(Page { items, more })
    }

    async fn delete_root(&self, scope: &Scope, kind: Kind, id: &str) -> StoreResult<()> {
        let removed = self.lock()?.remove(scope, kind, id);
        self.changes.committed(removed)
    }

    async fn modify_raw(
        &self,
        scope: &Scope,
        kind: Kind,
        id: &str,
        change: RawChange,
    ) -> StoreResult<()> {
        let mut guard = self.lock()?;
        let st = &mut *guard;
        let entry = st
            .roots
            .get_mut(&key(scope, kind, id))
            .ok_or(StoreError::NotFound(kind))?;
        let d = change(&entry.raw(kind, id, false))?;
        // Check inserts first so a conflict leaves the entry untouched.
        if d.inserts
            .iter()
            .any(|(kind, key, _)| entry.index.contains_key(&(*kind, key.clone())))
        {
            return Err(StoreError::Conflict);
        }
        self.changes.committed(entry.apply(d, &mut st.seq))
    }

    async fn get_doc(
        &self,
        scope: &Scope,
        root_id: &str,
        kind: Kind,
        key_: &str,
    ) -> StoreResult<String> {
        let st = self.lock()?;
        let entry = st.entry(scope, kind.root(), root_id)?;
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
        root_id: &str,
        kind: Kind,
        after: i64,
        limit: usize,
    ) -> StoreResult<Page<String>> {
        let st = self.lock()?;
        let entry = st.entry(scope, kind.root(), root_id)?;
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
                st.roots.clear();
                st.order.clear();
            }
            Some(a) => {
                st.roots.retain(|(acct, _, _, _), _| acct != a);
                st.order.retain(|((acct, _), _), _| acct != a);
            }
        }
        self.changes.advance();
        Ok(())
    }

    async fn dump(&self, account: Option<&str>) -> StoreResult<Vec<(Scope, RawTree)>> {
        let st = self.lock()?;
        let mut entries: Vec<_> = st
            .roots
            .iter()
            .filter(|((a, _, _, _), _)| account.is_none_or(|want| a == want))
            .collect();
        entries.sort_by_key(|(_, e)| e.seq);
        Ok(entries
            .into_iter()
            .map(|((a, r, kind, id), e)| (Scope::new(a.clone(), r.clone()), e.raw(*kind, id, true)))
            .collect())
    }

    fn changes(&self) -> u64 {
        self.changes.now()
    }

    async fn count_records(&self) -> StoreResult<u64> {
        let st = self.lock()?;
        Ok(st.roots.values().map(|e| 1 + e.children.len() as u64).sum())
    }

    async fn stats(&self) -> StoreResult<Stored> {
        let st = self.lock()?;
        Ok(Stored {
            apis: st
                .roots
                .keys()
                .filter(|(_, _, k, _)| *k == Kind::Api)
                .count() as u64,
            stages: st
                .roots
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
