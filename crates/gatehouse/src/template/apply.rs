//! Applying a stack: each template's resources in dependency order, each created, kept,
//! changed in place or replaced by comparing it with what the stack's record says the
//! last apply did (by logical id), then what the template no longer has deleted. The
//! operations run on a scratch copy of the account's state; the roots the stack touches
//! and its record are then written to the store in one transaction, so a failure
//! anywhere changes nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use gatehouse_core::error::ApiError;
use gatehouse_core::model::stack::{Stack, StackResource, StackTree};
use gatehouse_core::model::{ids, time, Scope};
use gatehouse_core::store::memory::MemoryStore;
use gatehouse_core::store::tree::to_raw;
use gatehouse_core::store::{Kind, LoadMode, SharedStore, StoreError};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::calls::Calls;
use super::intrinsics;
use super::kinds::{self, Parent, Type};
use super::names::{self, Frame, Made};
use super::order::order;
use super::source::Template;
use super::{Failure, Outcome, Request};
use crate::ops::{Service, ServiceConfig};

/// Lambda resource types the engine reads (names, aliases) and needs not report.
const READ: &[&str] = &[
    "AWS::Lambda::Function",
    "AWS::Lambda::Alias",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Version",
];

/// Applies `request` in `scope`; the store is written only if every step succeeds.
pub async fn apply(
    store: &SharedStore,
    config: &ServiceConfig,
    scope: &Scope,
    request: &Request,
) -> Result<Outcome, Failure> {
    // One apply at a time in this process: two applies must not interleave the read of
    // the state with the write of what they made of it.
    static APPLYING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = APPLYING.lock().await;
    let previous = previous(store, scope, &request.stack_name).await?;
    let scratch: SharedStore = Arc::new(MemoryStore::new());
    seed(store, &scratch, scope).await?;
    let svc = Service::new(scratch.clone(), config.clone());
    let mut run = Run {
        calls: Calls { svc: &svc, scope },
        request,
        previous: previous
            .as_ref()
            .map(|s| s.resources.clone())
            .unwrap_or_default(),
        record: Vec::new(),
        outcome: Outcome::default(),
        outputs: Map::new(),
    };
    let mut exports = HashMap::new();
    for template in &request.templates {
        run.template(template, request.templates.len() > 1, &mut exports)
            .await?;
    }
    run.remove_leftovers().await?;
    let stack = Stack {
        stack_name: request.stack_name.clone(),
        last_updated: time::rfc3339(time::now()),
        resources: std::mem::take(&mut run.record),
        outputs: std::mem::take(&mut run.outputs),
    };
    commit(store, &scratch, scope, &stack, previous.as_ref()).await?;
    let mut outcome = run.outcome;
    outcome.warnings = super::warnings::of(&stack);
    outcome.stack = Some(stack);
    Ok(outcome)
}

async fn previous(
    store: &SharedStore,
    scope: &Scope,
    name: &str,
) -> Result<Option<Stack>, Failure> {
    match store.root::<Stack>(scope, name).await {
        Ok(s) => Ok(Some(s)),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(Failure::plain(format!(
            "cannot read the stack's record: {e}"
        ))),
    }
}

/// The scratch store starts as the account's state in the region.
async fn seed(store: &SharedStore, scratch: &SharedStore, scope: &Scope) -> Result<(), Failure> {
    let roots = store
        .dump(Some(&scope.account))
        .await
        .map_err(|e| Failure::plain(format!("cannot read the stored state: {e}")))?;
    let here: Vec<_> = roots.into_iter().filter(|(s, _)| s == scope).collect();
    scratch
        .load(here, LoadMode::Add)
        .await
        .map_err(|e| Failure::plain(format!("cannot copy the stored state: {e}")))
}

/// The roots the stack touched (now or before), from the scratch store, and the stack's
/// record, written in one transaction with the deletion of the roots it no longer has.
async fn commit(
    store: &SharedStore,
    scratch: &SharedStore,
    scope: &Scope,
    stack: &Stack,
    previous: Option<&Stack>,
) -> Result<(), Failure> {
    let mut touched: HashSet<(Kind, String)> = HashSet::new();
    for r in stack
        .resources
        .iter()
        .chain(previous.into_iter().flat_map(|p| &p.resources))
    {
        if let Some(root) = root_of(r) {
            touched.insert(root);
        }
    }
    let after = scratch
        .dump(Some(&scope.account))
        .await
        .map_err(|e| Failure::plain(format!("cannot read the applied state: {e}")))?;
    let mut roots = Vec::new();
    let mut kept = HashSet::new();
    for (s, raw) in after {
        if s == *scope && touched.contains(&(raw.kind, raw.id.clone())) {
            kept.insert((raw.kind, raw.id.clone()));
            roots.push((s, raw));
        }
    }
    let record = to_raw(&StackTree {
        stack: stack.clone(),
    })
    .map_err(|e| Failure::plain(format!("cannot write the stack's record: {e}")))?;
    roots.push((scope.clone(), record));
    let gone = touched
        .difference(&kept)
        .map(|(kind, id)| (scope.clone(), *kind, id.clone()))
        .collect();
    store.replace(roots, gone).await.map_err(|e| {
        Failure::plain(format!(
            "cannot write the applied state; nothing was changed: {e}"
        ))
    })
}

/// The root a resource lives in or is.
fn root_of(r: &StackResource) -> Option<(Kind, String)> {
    let t = kinds::find(&r.resource_type)?;
    let kind = match (t.parent, t.id_member) {
        (Parent::Api, _) => Kind::Api,
        (Parent::Domain, _) | (Parent::None, "domainName") => Kind::DomainName,
        (Parent::None, "vpcLinkId") => Kind::VpcLink,
        (Parent::None, _) => Kind::Api,
    };
    let id = match t.parent {
        Parent::None => r.physical_id.clone(),
        _ => r.root_id.clone()?,
    };
    Some((kind, id))
}

/// A stable id for a resource: the same stack and logical id give the same id.
fn planned_id(scope: &Scope, stack: &str, logical: &str, len: usize) -> Option<String> {
    if len == 0 {
        return None;
    }
    let digest = Sha256::digest(format!(
        "{}\n{}\n{stack}\n{logical}",
        scope.account, scope.region
    ));
    Some(
        digest
            .iter()
            .take(len)
            .map(|b| ids::ALPHABET[*b as usize % ids::ALPHABET.len()] as char)
            .collect(),
    )
}

struct Run<'a> {
    calls: Calls<'a>,
    request: &'a Request,
    previous: Vec<StackResource>,
    record: Vec<StackResource>,
    outcome: Outcome,
    outputs: Map<String, Value>,
}

impl Run<'_> {
    async fn template(
        &mut self,
        template: &Template,
        several: bool,
        exports: &mut HashMap<String, Value>,
    ) -> Result<(), Failure> {
        let prefix = if several {
            format!("{}/", template.name)
        } else {
            String::new()
        };
        let parameters = names::parameters(&template.body, &self.request.parameters)
            .map_err(|e| Failure::plain(format!("{prefix}{e}")))?;
        let mut frame = Frame {
            body: &template.body,
            scope: self.calls.scope,
            stack: &self.request.stack_name,
            parameters,
            conditions: HashMap::new(),
            functions: BTreeMap::new(),
            made: HashMap::new(),
            exports,
        };
        names::conditions(&mut frame).map_err(|e| Failure::plain(format!("{prefix}{e}")))?;
        let order = order(&frame)?;
        self.functions(&mut frame, &order, &template.name)?;
        for logical in &order {
            let Some(t) = frame.type_of(logical).and_then(kinds::find) else {
                self.note_skipped(&frame, logical);
                continue;
            };
            let made = self
                .resource(&frame, t, logical, &format!("{prefix}{logical}"))
                .await?;
            frame.made.insert(logical.clone(), made);
        }
        let made = outputs(&frame, &prefix, &mut self.outputs)?;
        drop(frame);
        exports.extend(made);
        Ok(())
    }

    /// The template's Lambda functions: the name integrations call (its `FunctionName`,
    /// else its logical id, then the alias map).
    fn functions(
        &mut self,
        frame: &mut Frame<'_>,
        order: &[String],
        template: &str,
    ) -> Result<(), Failure> {
        for logical in order {
            if frame.type_of(logical) != Some("AWS::Lambda::Function") {
                continue;
            }
            let res = frame.resource(logical).cloned().unwrap_or_default();
            let given = match res.pointer("/Properties/FunctionName") {
                Some(v) => intrinsics::resolve(v, frame, "Properties.FunctionName")
                    .map_err(|u| Failure::at(logical, "AWS::Lambda::Function", &u.at, &u.why))?
                    .and_then(|v| v.as_str().map(String::from)),
                None => None,
            };
            let name = given.unwrap_or_else(|| logical.clone());
            let cdk_path = res
                .pointer("/Metadata/aws:cdk:path")
                .and_then(Value::as_str)
                .map(|p| p.trim_end_matches("/Resource").to_string());
            let keys = [
                Some(logical.clone()),
                Some(format!("{template}/{logical}")),
                cdk_path,
                Some(name.clone()),
            ];
            let aliased = keys
                .iter()
                .flatten()
                .find_map(|k| self.request.functions.get(k))
                .cloned();
            let name = aliased.unwrap_or(name);
            self.outcome.functions.push((logical.clone(), name.clone()));
            frame.functions.insert(logical.clone(), name);
        }
        Ok(())
    }

    fn note_skipped(&mut self, frame: &Frame<'_>, logical: &str) {
        let Some(t) = frame.type_of(logical) else {
            return;
        };
        if !READ.contains(&t) {
            *self.outcome.skipped.entry(t.to_string()).or_default() += 1;
        }
    }

    /// One resource: created, kept, changed or replaced; what it stands for.
    async fn resource(
        &mut self,
        frame: &Frame<'_>,
        t: &'static Type,
        logical: &str,
        key: &str,
    ) -> Result<Made, Failure> {
        let props = properties(frame, t, logical, key)?;
        let before = self
            .previous
            .iter()
            .position(|r| r.logical_id == key)
            .map(|i| self.previous.remove(i));
        let made = self.change(t, key, before, &props).await.map_err(|e| {
            let why = format!("{}: {}", e.kind.name(), e.message);
            Failure::at(key, t.name, "Properties", &why)
        })?;
        self.record.push(StackResource {
            logical_id: key.to_string(),
            resource_type: t.name.to_string(),
            physical_id: made.physical.clone(),
            root_id: root_id(t, &props),
            properties: Value::Object(props),
            attributes: made.attributes.clone(),
        });
        Ok(made)
    }

    /// What the last apply made of `key` (`before`) kept, updated or replaced; or made.
    async fn change(
        &mut self,
        t: &'static Type,
        key: &str,
        before: Option<StackResource>,
        props: &Map<String, Value>,
    ) -> Result<Made, ApiError> {
        let Some(old) = before else {
            return self.create(t, key, props).await;
        };
        let same_type = old.resource_type == t.name;
        if same_type && old.properties.as_object() == Some(props) {
            return Ok(Made {
                physical: old.physical_id,
                attributes: old.attributes,
            });
        }
        if same_type && !replaces(t, &old.properties, props) {
            let old_props = old.properties.as_object().cloned().unwrap_or_default();
            self.outcome
                .changes
                .push(format!("update {} {key}", t.name));
            return self
                .calls
                .update(t, &old.physical_id, &old_props, props)
                .await;
        }
        self.delete(&old)
            .await
            .map_err(|f| ApiError::bad_request(f.message))?;
        if t.parent == Parent::None {
            // What lived under a replaced root went with it: made again below.
            self.previous
                .retain(|r| r.root_id.as_deref() != Some(old.physical_id.as_str()));
        }
        self.create(t, key, props).await
    }

    async fn create(
        &mut self,
        t: &Type,
        key: &str,
        props: &Map<String, Value>,
    ) -> Result<Made, ApiError> {
        let planned = planned_id(self.calls.scope, &self.request.stack_name, key, t.id_len);
        let made = self.calls.create(t, props, planned).await?;
        self.outcome
            .changes
            .push(format!("create {} {key} ({})", t.name, made.physical));
        Ok(made)
    }

    async fn delete(&mut self, old: &StackResource) -> Result<(), Failure> {
        let Some(t) = kinds::find(&old.resource_type) else {
            return Ok(());
        };
        let props = old.properties.as_object().cloned().unwrap_or_default();
        self.calls
            .delete(t, &old.physical_id, &props)
            .await
            .map_err(|e| {
                Failure::at(
                    &old.logical_id,
                    t.name,
                    "",
                    &format!("cannot delete it: {}", e.message),
                )
            })?;
        self.outcome
            .changes
            .push(format!("delete {} {}", t.name, old.logical_id));
        Ok(())
    }

    /// What the last apply made and this one no longer has: deleted, newest first.
    async fn remove_leftovers(&mut self) -> Result<(), Failure> {
        let leftovers = std::mem::take(&mut self.previous);
        for old in leftovers.iter().rev() {
            self.delete(old).await?;
        }
        Ok(())
    }
}

/// A resource's properties, evaluated.
fn properties(
    frame: &Frame<'_>,
    t: &Type,
    logical: &str,
    key: &str,
) -> Result<Map<String, Value>, Failure> {
    let resolved = intrinsics::resolve(&frame.raw_properties(logical), frame, "Properties")
        .map_err(|u| Failure::at(key, t.name, &u.at, &u.why))?;
    match resolved {
        Some(Value::Object(props)) => Ok(props),
        None | Some(Value::Null) => Ok(Map::new()),
        Some(_) => Err(Failure::at(key, t.name, "Properties", "must be an object")),
    }
}

/// The root a record of `t` with these properties lives under, for a child.
fn root_id(t: &Type, props: &Map<String, Value>) -> Option<String> {
    let member = match t.parent {
        Parent::None => return None,
        Parent::Api => "ApiId",
        Parent::Domain => "DomainName",
    };
    props.get(member).and_then(Value::as_str).map(String::from)
}

/// Whether a change of properties needs a new record (a property fixed for life changed).
fn replaces(t: &Type, old: &Value, new: &Map<String, Value>) -> bool {
    t.create_only.iter().any(|p| old.get(*p) != new.get(*p))
}

/// The template's outputs, resolved into the stack's; its exports for later templates.
fn outputs(
    frame: &Frame<'_>,
    prefix: &str,
    into: &mut Map<String, Value>,
) -> Result<HashMap<String, Value>, Failure> {
    let mut exports = HashMap::new();
    let declared = frame.body.get("Outputs").and_then(Value::as_object);
    for (name, output) in declared.into_iter().flatten() {
        if let Some(c) = output.get("Condition").and_then(Value::as_str) {
            if frame.conditions.get(c) != Some(&true) {
                continue;
            }
        }
        let at = format!("Outputs.{name}");
        let resolved = intrinsics::resolve(output, frame, &at)
            .map_err(|u| Failure::plain(format!("{prefix}{}: {}", u.at, u.why)))?;
        let Some(resolved) = resolved else { continue };
        if let Some(value) = resolved.get("Value") {
            into.insert(format!("{prefix}{name}"), value.clone());
            if let Some(export) = resolved.pointer("/Export/Name").and_then(Value::as_str) {
                exports.insert(export.to_string(), value.clone());
            }
        }
    }
    Ok(exports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn properties_must_be_an_object() {
        let scope = Scope::new("123456789012", "us-east-1");
        let exports = HashMap::new();
        let body = json!({"Resources": {"A": {"Properties": "x"}, "B": {}}});
        let t = kinds::find("AWS::ApiGatewayV2::Api").unwrap();
        let f = Frame::for_tests(&body, &scope, &exports);
        let err = properties(&f, t, "A", "A").unwrap_err();
        assert_eq!(err.message, "Properties: must be an object");
        assert_eq!(properties(&f, t, "B", "B").unwrap(), Map::new());
    }

    #[test]
    fn planned_ids_are_stable_and_shaped_as_aws_issues_them() {
        let scope = Scope::new("123456789012", "us-east-1");
        let a = planned_id(&scope, "stack", "Api", 10).unwrap();
        assert_eq!(a.len(), 10);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_eq!(planned_id(&scope, "stack", "Api", 10), Some(a.clone()));
        assert_ne!(planned_id(&scope, "other", "Api", 10), Some(a.clone()));
        assert_ne!(
            planned_id(&Scope::new("123456789012", "eu-west-1"), "stack", "Api", 10),
            Some(a)
        );
        assert_eq!(planned_id(&scope, "stack", "Stage", 0), None);
    }
}
