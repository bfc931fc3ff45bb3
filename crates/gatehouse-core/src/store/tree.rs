//! Trees as the backends store them, and the diff engine.
//!
//! A backend knows a root only as a [`RawTree`]: the root's JSON document and its children's
//! rows. Typed trees ([`Tree`]: `ApiTree`, `DomainNameTree`, `VpcLinkTree`) are parsed from
//! it and written back as a [`Diff`] against it, so every backend stores every root kind
//! with the same few statements and exactly what a change touched is written.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::Serialize;
use serde_json::{Map, Value};

use super::kind::{Kind, Record};
use super::{StoreError, StoreResult};
use crate::error::ApiError;

/// A stored child record: kind, key, JSON document.
pub type Row = (Kind, String, String);

/// A root and its children as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTree {
    /// The root's kind.
    pub kind: Kind,
    /// The root's id.
    pub id: String,
    /// The root's document.
    pub doc: String,
    /// Child rows in creation order: for a change, the kinds its tree loads; in a dump or a
    /// load, all of them.
    pub rows: Vec<Row>,
}

/// What a change did to a tree, as writes.
#[derive(Debug, Default, PartialEq)]
pub struct Diff {
    /// The root's new document, if it changed.
    pub root: Option<String>,
    /// Rows to insert (new keys), in order.
    pub inserts: Vec<Row>,
    /// Rows whose document changed.
    pub updates: Vec<Row>,
    /// Rows to delete (with the rows that go with them).
    pub deletes: Vec<(Kind, String)>,
}

/// A change as a backend runs it: given the tree as stored (inside the transaction), the
/// writes to make, or a refusal (nothing is written).
pub type RawChange = Box<dyn FnOnce(&RawTree) -> StoreResult<Diff> + Send>;

/// A typed tree: a root record and its children, the unit of change.
pub trait Tree: Clone + Send + 'static {
    /// The root record.
    type Root: Record;
    /// A tree holding only `root`.
    fn with_root(root: Self::Root) -> Self;
    /// The root record.
    fn root(&self) -> &Self::Root;
    /// Appends the rows of the children a change loads, in tree order.
    fn child_rows(&self, out: &mut Vec<Row>) -> StoreResult<()>;
    /// Appends the rows written once by the last change (snapshots of new deployments).
    fn once_rows(&self, out: &mut Vec<Row>) -> StoreResult<()>;
    /// Forgets the rows written once (they are stored).
    fn clear_once(&mut self);
    /// Adds one stored child row.
    fn add_row(&mut self, kind: Kind, key: String, doc: &str) -> StoreResult<()>;
    /// Rules a loaded tree must satisfy beyond its records' own (state-file checks).
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
    /// Writes its members of a state-file entry: the root record, then each child kind's
    /// list (or, for records without a key member, map by key), named by the registry.
    fn write_members<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
    /// Reads a tree from the members of its state-file entry at `at` (`apis[3]`), taking
    /// them out of `members`; errors name the member's path.
    fn read_members(members: &mut Map<String, Value>, at: &str) -> Result<Self, String>;
}

/// Something to do with the tree type of a root kind, whichever it is.
pub trait TreeVisitor {
    /// What it gives back.
    type Out;
    /// Does it with tree type `T`.
    fn visit<T: Tree>(self) -> Self::Out;
}

/// A state-file value as record type `T`; errors name its path under `at`.
pub fn read_value<T: DeserializeOwned>(value: Value, at: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            String::new()
        } else {
            format!(".{path}")
        };
        format!("malformed state file at {at}{path}: {}", e.inner())
    })
}

/// The record in member `name` (required) of a state-file entry.
pub fn read_record<T: DeserializeOwned>(
    members: &mut Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<T, String> {
    let value = members
        .remove(name)
        .ok_or_else(|| format!("malformed state file at {at}: missing field `{name}`"))?;
    read_value(value, &format!("{at}.{name}"))
}

/// The records of `kind` in a state-file entry: a list (absent: none).
pub fn read_list<T: DeserializeOwned>(
    members: &mut Map<String, Value>,
    kind: Kind,
    at: &str,
) -> Result<Vec<T>, String> {
    let name = kind.spec().file_member;
    match members.remove(name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| read_value(v, &format!("{at}.{name}[{i}]")))
            .collect(),
        Some(_) => Err(format!(
            "malformed state file at {at}.{name}: invalid type: expected a sequence"
        )),
    }
}

/// The records of `kind` without a key member in a state-file entry: a map by key
/// (absent: none).
pub fn read_keyed<T: DeserializeOwned>(
    members: &mut Map<String, Value>,
    kind: Kind,
    at: &str,
) -> Result<Vec<(String, T)>, String> {
    let name = kind.spec().file_member;
    match members.remove(name) {
        None => Ok(Vec::new()),
        Some(Value::Object(items)) => items
            .into_iter()
            .map(|(key, v)| {
                let record = read_value(v, &format!("{at}.{name}.{key}"))?;
                Ok((key, record))
            })
            .collect(),
        Some(_) => Err(format!(
            "malformed state file at {at}.{name}: invalid type: expected a map"
        )),
    }
}

/// The kind of the records in `items`.
pub fn kind_of<T: Record>(_: &[T]) -> Kind {
    T::KIND
}

/// Writes keyed records as a map by key, sorted.
pub struct KeyedOut<'a, T>(pub &'a [(String, T)]);

impl<T: Serialize> Serialize for KeyedOut<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut sorted: Vec<&(String, T)> = self.0.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut map = s.serialize_map(Some(sorted.len()))?;
        for (key, item) in sorted {
            map.serialize_entry(key, item)?;
        }
        map.end()
    }
}

/// Appends `items` as rows.
pub fn push_rows<T: Record>(items: &[T], out: &mut Vec<Row>) -> StoreResult<()> {
    for item in items {
        out.push((
            T::KIND,
            item.key().to_string(),
            serde_json::to_string(item)?,
        ));
    }
    Ok(())
}

/// Parses `doc` into `items` if it is of their kind; says whether it was.
pub fn add_to<T: Record>(items: &mut Vec<T>, kind: Kind, doc: &str) -> StoreResult<bool> {
    if kind != T::KIND {
        return Ok(false);
    }
    items.push(serde_json::from_str(doc)?);
    Ok(true)
}

/// Appends keyed records without a key member (snapshots) as rows of `kind`.
pub fn push_keyed<T: Serialize>(
    kind: Kind,
    items: &[(String, T)],
    out: &mut Vec<Row>,
) -> StoreResult<()> {
    for (key, item) in items {
        out.push((kind, key.clone(), serde_json::to_string(item)?));
    }
    Ok(())
}

/// Parses `doc` into `items` under `key` if it is of `kind`; says whether it was.
pub fn add_keyed<T: DeserializeOwned>(
    items: &mut Vec<(String, T)>,
    kind: Kind,
    want: Kind,
    key: String,
    doc: &str,
) -> StoreResult<bool> {
    if kind != want {
        return Ok(false);
    }
    items.push((key, serde_json::from_str(doc)?));
    Ok(true)
}

/// Declares which fields of a typed tree hold which records:
/// `Tree { root: field, children: [fields], once: field as Kind }`.
macro_rules! declare_trees {
    ($($tree:ty { root: $root:ident: $root_ty:ty, children: [$($child:ident),*] $(, once: $once:ident as $once_kind:ident)? })*) => {
        $(impl $crate::store::tree::Tree for $tree {
            type Root = $root_ty;
            fn with_root(root: $root_ty) -> Self {
                Self {
                    $root: root,
                    $($child: Vec::new(),)*
                    $($once: Vec::new(),)?
                }
            }
            fn root(&self) -> &$root_ty {
                &self.$root
            }
            fn child_rows(&self, out: &mut Vec<$crate::store::tree::Row>) -> $crate::store::StoreResult<()> {
                $($crate::store::tree::push_rows(&self.$child, out)?;)*
                let _ = out;
                Ok(())
            }
            fn once_rows(&self, out: &mut Vec<$crate::store::tree::Row>) -> $crate::store::StoreResult<()> {
                $($crate::store::tree::push_keyed($crate::store::Kind::$once_kind, &self.$once, out)?;)?
                let _ = out;
                Ok(())
            }
            fn clear_once(&mut self) {
                $(self.$once.clear();)?
            }
            fn add_row(&mut self, kind: $crate::store::Kind, key: String, doc: &str) -> $crate::store::StoreResult<()> {
                $(if $crate::store::tree::add_to(&mut self.$child, kind, doc)? {
                    return Ok(());
                })*
                $(if $crate::store::tree::add_keyed(&mut self.$once, kind, $crate::store::Kind::$once_kind, key.clone(), doc)? {
                    return Ok(());
                })?
                let _ = (doc, key);
                Err($crate::store::StoreError::Backend(format!(
                    "a {} record does not belong under a {}",
                    kind.as_str(),
                    <$root_ty as $crate::store::Record>::KIND.as_str()
                )))
            }
            fn check(&self) -> Result<(), String> {
                self.check_rules()
            }
            fn write_members<M: serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                map.serialize_entry(<$root_ty as $crate::store::Record>::KIND.spec().record_member, &self.$root)?;
                $(map.serialize_entry(
                    $crate::store::tree::kind_of(&self.$child).spec().file_member,
                    &self.$child,
                )?;)*
                $(map.serialize_entry(
                    $crate::store::Kind::$once_kind.spec().file_member,
                    &$crate::store::tree::KeyedOut(&self.$once),
                )?;)?
                Ok(())
            }
            fn read_members(
                members: &mut serde_json::Map<String, serde_json::Value>,
                at: &str,
            ) -> Result<Self, String> {
                let root: $root_ty = $crate::store::tree::read_record(
                    members,
                    <$root_ty as $crate::store::Record>::KIND.spec().record_member,
                    at,
                )?;
                #[allow(unused_mut)]
                let mut tree = <Self as $crate::store::tree::Tree>::with_root(root);
                $(tree.$child = $crate::store::tree::read_list(
                    members,
                    $crate::store::tree::kind_of(&tree.$child),
                    at,
                )?;)*
                $(tree.$once = $crate::store::tree::read_keyed(members, $crate::store::Kind::$once_kind, at)?;)?
                Ok(tree)
            }
        })*

        /// Runs `visitor` with the tree type of root kind `kind` (`None`: not a root).
        pub fn visit_tree<V: $crate::store::tree::TreeVisitor>(kind: $crate::store::Kind, visitor: V) -> Option<V::Out> {
            $(if kind == <$root_ty as $crate::store::Record>::KIND {
                return Some(visitor.visit::<$tree>());
            })*
            None
        }
    };
}

pub(crate) use declare_trees;

/// The tree as stored: the root's document and every row (loaded children, then the rows
/// written once).
pub fn to_raw<T: Tree>(tree: &T) -> StoreResult<RawTree> {
    let root = tree.root();
    let mut rows = Vec::new();
    tree.child_rows(&mut rows)?;
    tree.once_rows(&mut rows)?;
    Ok(RawTree {
        kind: T::Root::KIND,
        id: root.key().to_string(),
        doc: serde_json::to_string(root)?,
        rows,
    })
}

/// Parses a stored tree. Rows of kinds the tree does not load become its rows written once
/// (so storing the tree again writes them).
pub fn from_raw<T: Tree>(raw: &RawTree) -> StoreResult<T> {
    if raw.kind != T::Root::KIND {
        return Err(StoreError::Backend(format!(
            "a stored {} is not a {}",
            raw.kind.as_str(),
            T::Root::KIND.as_str()
        )));
    }
    let mut tree = T::with_root(serde_json::from_str(&raw.doc)?);
    for (kind, key, doc) in &raw.rows {
        tree.add_row(*kind, key.clone(), doc)?;
    }
    Ok(tree)
}

/// What to write to turn the stored `before` into `after`.
pub fn diff<T: Tree>(before: &RawTree, after: &T) -> StoreResult<Diff> {
    let mut d = Diff::default();
    let root = serde_json::to_string(after.root())?;
    if root != before.doc {
        d.root = Some(root);
    }
    let mut new = Vec::new();
    after.child_rows(&mut new)?;
    let old: HashMap<(Kind, &str), &str> = before
        .rows
        .iter()
        .map(|(k, key, doc)| ((*k, key.as_str()), doc.as_str()))
        .collect();
    let kept: HashSet<(Kind, &str)> = new.iter().map(|(k, key, _)| (*k, key.as_str())).collect();
    for (kind, key, _) in &before.rows {
        if !kept.contains(&(*kind, key.as_str())) {
            d.deletes.push((*kind, key.clone()));
            d.deletes
                .extend(kind.followers().map(|follower| (follower, key.clone())));
        }
    }
    for (kind, key, doc) in new {
        match old.get(&(kind, key.as_str())) {
            None => d.inserts.push((kind, key, doc)),
            Some(stored) if *stored != doc => d.updates.push((kind, key, doc)),
            Some(_) => {}
        }
    }
    after.once_rows(&mut d.inserts)?;
    Ok(d)
}

/// A change to a typed tree, run inside the store's transaction. It either edits the tree
/// or refuses (nothing is written).
pub type Change<T> = Box<dyn FnOnce(&mut T) -> Result<(), ApiError> + Send>;

/// Where a typed change leaves the tree after it, for the caller.
pub type Outcome<T> = Arc<Mutex<Option<T>>>;

/// Wraps a typed change as the [`RawChange`] a backend runs; on success the tree after it
/// is left in `outcome`.
pub fn typed_change<T: Tree>(change: Change<T>, outcome: Outcome<T>) -> RawChange {
    Box::new(move |raw| {
        let mut tree: T = from_raw(raw)?;
        tree.clear_once();
        change(&mut tree).map_err(StoreError::Rejected)?;
        let d = diff(raw, &tree)?;
        tree.clear_once();
        if let Ok(mut slot) = outcome.lock() {
            *slot = Some(tree);
        }
        Ok(d)
    })
}
