//! Recently read child documents, per root.
//!
//! Only this process writes the file (the writer thread), so the cache can stay exact: after
//! each commit the writer drops the written roots' entries and bumps `generation`; a reader
//! fills the cache only if no commit happened while it read the database, so a stale read is
//! never cached.

use std::collections::HashMap;
use std::sync::Arc;

use crate::store::Kind;

/// (account, region, root kind, root id).
pub type RootKey = (String, String, Kind, String);

/// Most cached documents; the cache is emptied when it is full.
const CAP: usize = 100_000;

/// The cache.
#[derive(Default)]
pub struct DocCache {
    generation: u64,
    len: usize,
    roots: HashMap<RootKey, HashMap<(Kind, String), Arc<str>>>,
}

impl DocCache {
    /// The commit generation a reader starts from.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// A cached document.
    pub fn get(&self, root: &RootKey, kind: Kind, key: &str) -> Option<&Arc<str>> {
        // A (Kind, String) key cannot be looked up by (Kind, &str) without building it.
        self.roots
            .get(root)
            .and_then(|docs| docs.get(&(kind, key.to_string())))
    }

    /// Caches a document read at `generation`, unless a commit happened since.
    pub fn fill(&mut self, generation: u64, root: RootKey, kind: Kind, key: String, doc: &str) {
        if self.generation != generation {
            return;
        }
        if self.len >= CAP {
            self.roots.clear();
            self.len = 0;
        }
        let docs = self.roots.entry(root).or_default();
        if docs.insert((kind, key), Arc::from(doc)).is_none() {
            self.len += 1;
        }
    }

    /// After a commit that wrote `written` (`None`: every root).
    pub fn committed<'a>(&mut self, written: impl Iterator<Item = &'a Option<RootKey>>) {
        self.generation += 1;
        for root in written {
            match root {
                Some(root) => {
                    if let Some(docs) = self.roots.remove(root) {
                        self.len -= docs.len();
                    }
                }
                None => {
                    self.roots.clear();
                    self.len = 0;
                }
            }
        }
    }
}
