//! Export and import: the whole state (or one account's) as one versioned JSON document, so a
//! team can snapshot a fixture state, commit it and load it in CI.
//!
//! ```json
//! {"format": "gatehouse-state", "version": 1, "exportedAt": "...", "apis": [
//!   {"account": "123456789012", "region": "us-east-1", "api": {...},
//!    "stages": [...], "routes": [...], "integrations": [...], "deployments": [...],
//!    "snapshots": {"<deploymentId>": {"routes": [...], "integrations": [...]}}}],
//!  "domainNames": [...], "vpcLinks": [...]}
//! ```
//!
//! One list per root kind and, in each entry, one member per child kind, all named by the
//! store's kind registry (`domainNames` and `vpcLinks` only when there are any). Records are
//! in the store's own shapes (tags live on their resources). Loading is all-or-nothing: the
//! file is checked completely first, then written in one store transaction.

use std::collections::{HashMap, HashSet};

use gatehouse_core::model::{time, Scope};
use gatehouse_core::store::tree::{from_raw, to_raw};
use gatehouse_core::store::{
    visit_tree, Kind, LoadMode, RawTree, Store, StoreError, Tree, TreeVisitor,
};
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// The value of `format`.
pub const FORMAT: &str = "gatehouse-state";
/// The newest version this build writes and reads.
pub const VERSION: u64 = 1;

/// A state file: every root with everything under it, in creation order.
#[derive(Debug, Clone, PartialEq)]
pub struct StateFile {
    /// When it was written (RFC 3339).
    pub exported_at: Option<String>,
    /// The gatehouse version that wrote it.
    pub gatehouse_version: Option<String>,
    /// The roots, as the store keeps them.
    pub roots: Vec<(Scope, RawTree)>,
}

impl StateFile {
    /// How many APIs it holds.
    pub fn apis(&self) -> usize {
        self.roots
            .iter()
            .filter(|(_, r)| r.kind == Kind::Api)
            .count()
    }
}

/// The root kinds, in registry order.
fn root_kinds() -> impl Iterator<Item = Kind> {
    Kind::ALL.iter().copied().filter(|k| k.is_root())
}

impl Serialize for StateFile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("format", FORMAT)?;
        m.serialize_entry("version", &VERSION)?;
        if let Some(at) = &self.exported_at {
            m.serialize_entry("exportedAt", at)?;
        }
        if let Some(v) = &self.gatehouse_version {
            m.serialize_entry("gatehouseVersion", v)?;
        }
        for kind in root_kinds() {
            let entries: Vec<&(Scope, RawTree)> =
                self.roots.iter().filter(|(_, r)| r.kind == kind).collect();
            if kind == Kind::Api || !entries.is_empty() {
                m.serialize_entry(kind.spec().file_member, &Entries(entries))?;
            }
        }
        m.end()
    }
}

/// One root kind's entries.
struct Entries<'a>(Vec<&'a (Scope, RawTree)>);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (scope, raw) in &self.0 {
            seq.serialize_element(&Entry { scope, raw })?;
        }
        seq.end()
    }
}

/// One root's entry: its scope, then its tree's members.
struct Entry<'a> {
    scope: &'a Scope,
    raw: &'a RawTree,
}

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Write<'a, S: Serializer>(&'a Entry<'a>, S);
        impl<S: Serializer> TreeVisitor for Write<'_, S> {
            type Out = Result<S::Ok, S::Error>;
            fn visit<T: Tree>(self) -> Self::Out {
                let Write(entry, s) = self;
                let tree: T = from_raw(entry.raw).map_err(S::Error::custom)?;
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("account", &entry.scope.account)?;
                m.serialize_entry("region", &entry.scope.region)?;
                tree.write_members(&mut m)?;
                m.end()
            }
        }
        visit_tree(self.raw.kind, Write(self, s))
            .unwrap_or_else(|| Err(S::Error::custom("a stored root of no known kind")))
    }
}

/// Everything in `store` (or only `account`'s roots) as a state file.
pub async fn export(store: &dyn Store, account: Option<&str>) -> Result<StateFile, String> {
    let roots = store
        .dump(account)
        .await
        .map_err(|e| format!("cannot read the store: {e}"))?;
    Ok(StateFile {
        exported_at: Some(time::rfc3339(time::now())),
        gatehouse_version: Some(env!("CARGO_PKG_VERSION").into()),
        roots,
    })
}

/// Parses and checks a state file's text; the error says what is wrong and where.
pub fn parse(text: &str) -> Result<StateFile, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
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
    let Value::Object(mut top) = value else {
        return Err("not a gatehouse state file: expected a JSON object".into());
    };
    let text_member = |top: &mut Map<String, Value>, name: &str| match top.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!(
            "malformed state file at {name}: invalid type: expected a string"
        )),
    };
    top.remove("format");
    top.remove("version");
    let exported_at = text_member(&mut top, "exportedAt")?;
    let gatehouse_version = text_member(&mut top, "gatehouseVersion")?;
    let mut roots = Vec::new();
    let mut present = false;
    for kind in root_kinds() {
        let name = kind.spec().file_member;
        let entries = match top.remove(name) {
            None => continue,
            Some(Value::Array(entries)) => entries,
            Some(_) => {
                return Err(format!(
                    "malformed state file at {name}: invalid type: expected a sequence"
                ))
            }
        };
        present |= kind == Kind::Api;
        for (i, entry) in entries.into_iter().enumerate() {
            roots.push(read_entry(kind, entry, &format!("{name}[{i}]"))?);
        }
    }
    if let Some(extra) = top.keys().next() {
        return Err(format!(
            "malformed state file at .: unknown field `{extra}`, expected one of {}",
            expected(
                &["format", "version", "exportedAt", "gatehouseVersion"],
                root_kinds()
            )
        ));
    }
    if !present {
        return Err("malformed state file at .: missing field `apis`".into());
    }
    let file = StateFile {
        exported_at,
        gatehouse_version,
        roots,
    };
    check(&file)?;
    Ok(file)
}

/// `` `a`, `b` `` for an error message: the fixed names, then the registry's.
fn expected(fixed: &[&str], kinds: impl Iterator<Item = Kind>) -> String {
    fixed
        .iter()
        .map(|n| n.to_string())
        .chain(kinds.map(|k| k.spec().file_member.to_string()))
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
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

/// One root's entry at `at` (`apis[3]`), read as its tree type and checked: the scope is
/// well formed, every member known, and the tree's own rules hold.
fn read_entry(kind: Kind, entry: Value, at: &str) -> Result<(Scope, RawTree), String> {
    let Value::Object(mut members) = entry else {
        return Err(format!(
            "malformed state file at {at}: invalid type: expected a map"
        ));
    };
    let scope_member = |members: &mut Map<String, Value>, name: &str| match members.remove(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!(
            "malformed state file at {at}.{name}: invalid type: expected a string"
        )),
        None => Err(format!(
            "malformed state file at {at}: missing field `{name}`"
        )),
    };
    let account = scope_member(&mut members, "account")?;
    let region = scope_member(&mut members, "region")?;
    struct Read<'a>(&'a mut Map<String, Value>, &'a str);
    impl TreeVisitor for Read<'_> {
        type Out = Result<(RawTree, Result<(), String>), String>;
        fn visit<T: Tree>(self) -> Self::Out {
            let tree = T::read_members(self.0, self.1)?;
            let raw = to_raw(&tree).map_err(|e| format!("{}: {e}", self.1))?;
            Ok((raw, tree.check()))
        }
    }
    let (raw, rules) = visit_tree(kind, Read(&mut members, at))
        .unwrap_or_else(|| Err(format!("{at}: not a root kind")))?;
    if let Some(extra) = members.keys().next() {
        let spec = kind.spec();
        let mut known = vec!["account", "region", spec.record_member];
        known.extend(kind.children().map(|c| c.spec().file_member));
        return Err(format!(
            "malformed state file at {at}: unknown field `{extra}`, expected one of {}",
            expected(&known, std::iter::empty())
        ));
    }
    let named = format!("{at} ({} {:?})", kind.spec().key, raw.id);
    if !is_account(&account) {
        return Err(format!("{named}: account must be 12 digits"));
    }
    if !is_region(&region) {
        return Err(format!("{named}: region {region:?} is not a region name"));
    }
    if raw.id.is_empty() {
        return Err(format!("{named}: {} must not be empty", kind.spec().key));
    }
    rules.map_err(|e| format!("{named}: {e}"))?;
    Ok((Scope::new(account, region), raw))
}

/// The rules the store relies on across the whole file: root ids unique per scope and kind,
/// record keys unique per kind within their root, and records that go with another (a
/// snapshot with its deployment) having it.
fn check(file: &StateFile) -> Result<(), String> {
    let mut roots = HashSet::new();
    let mut seen: HashMap<Kind, usize> = HashMap::new();
    for (scope, raw) in &file.roots {
        let i = seen.entry(raw.kind).or_default();
        let at = format!(
            "{}[{}] ({} {:?})",
            raw.kind.spec().file_member,
            *i,
            raw.kind.spec().key,
            raw.id
        );
        *i += 1;
        if !roots.insert((&scope.account, &scope.region, raw.kind, &raw.id)) {
            return Err(format!(
                "{at}: the same {} appears twice in {}/{}",
                raw.kind.spec().key,
                scope.account,
                scope.region
            ));
        }
        let mut keys = HashSet::new();
        for (kind, key, _) in &raw.rows {
            if !keys.insert((*kind, key.as_str())) {
                return Err(format!("{at}: {} {key:?} appears twice", kind.as_str()));
            }
        }
        for (kind, key, _) in &raw.rows {
            if let Some(owner) = kind.spec().goes_with {
                if !keys.contains(&(owner, key.as_str())) {
                    return Err(format!(
                        "{at}: {} {key:?} belongs to no {} in the file",
                        kind.as_str(),
                        owner.as_str()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Loads a checked state file into `store` in one transaction; returns how many APIs it
/// holds. With `overwrite`, stored roots with the same ids are replaced;
/// without it, any such root refuses the whole import.
pub async fn import(store: &dyn Store, file: StateFile, overwrite: bool) -> Result<usize, String> {
    let n = file.apis();
    let mode = if overwrite {
        LoadMode::Overwrite
    } else {
        LoadMode::Add
    };
    match store.load(file.roots, mode).await {
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
            (
                r#"{"format":"gatehouse-state","version":1,"apis":[{"account":"123456789012","region":"us-east-1"}]}"#,
                "apis[0]: missing field `api`",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
        let ok = parse(r#"{"format":"gatehouse-state","version":1,"apis":[]}"#).unwrap();
        assert!(ok.roots.is_empty());
    }
}
