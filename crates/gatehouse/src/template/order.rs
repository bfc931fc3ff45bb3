//! Which of a template's resources are applied, in which order: CloudFormation's format
//! rules for the `Resources` block, conditions, and each resource after what it names.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::intrinsics::references;
use super::names::Frame;
use super::Failure;

/// CloudFormation's answer to a template without resources.
pub const NO_RESOURCES: &str =
    "Template format error: At least one Resources member must be defined.";

/// The template's resources that its conditions keep, each after what it names.
pub fn order(frame: &Frame<'_>) -> Result<Vec<String>, Failure> {
    let resources = frame
        .body
        .get("Resources")
        .and_then(Value::as_object)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| Failure::plain(NO_RESOURCES.into()))?;
    check_shapes(frame, resources)?;
    let kept: Vec<&String> = resources
        .iter()
        .filter(|(_, r)| match r.get("Condition").and_then(Value::as_str) {
            Some(c) => frame.conditions.get(c) == Some(&true),
            None => true,
        })
        .map(|(k, _)| k)
        .collect();
    let deps: HashMap<&str, Vec<String>> = kept
        .iter()
        .map(|k| {
            let r = &resources[k.as_str()];
            let mut out = Vec::new();
            references(r.get("Properties").unwrap_or(&Value::Null), &mut out);
            out.extend(depends_on(r).map(String::from));
            out.retain(|d| d != k.as_str() && kept.iter().any(|x| x == &d));
            (k.as_str(), out)
        })
        .collect();
    let mut done: Vec<String> = Vec::new();
    let mut pending: Vec<&str> = kept.iter().map(|k| k.as_str()).collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|k| {
            let ready = deps[k].iter().all(|d| done.contains(d));
            if ready {
                done.push(k.to_string());
            }
            !ready
        });
        if pending.len() == before {
            return Err(Failure::plain(format!(
                "Circular dependency between resources: [{}]",
                pending.join(", ")
            )));
        }
    }
    Ok(done)
}

/// CloudFormation's format rules for each resource: an object with a `Type`, and a
/// `Condition` (if any) that names one of the template's conditions.
fn check_shapes(frame: &Frame<'_>, resources: &Map<String, Value>) -> Result<(), Failure> {
    let wrong = |at: String, why: &str| {
        Err(Failure::plain(format!(
            "Template format error: [{at}] {why}"
        )))
    };
    for (name, r) in resources {
        let at = format!("/Resources/{name}");
        let Some(r) = r.as_object() else {
            return wrong(at, "Every Resources member must be an object.");
        };
        if !r.get("Type").is_some_and(Value::is_string) {
            return wrong(at, "Every Resources object must contain a Type member.");
        }
        match r.get("Condition") {
            None => {}
            Some(Value::String(c)) if frame.conditions.contains_key(c) => {}
            Some(c) => {
                return wrong(
                    format!("{at}/Condition"),
                    &format!(
                        "Condition {} is not defined in Conditions.",
                        c.as_str().map_or_else(|| c.to_string(), String::from)
                    ),
                )
            }
        }
    }
    let unknown: Vec<&str> = resources
        .values()
        .flat_map(depends_on)
        .filter(|d| !resources.contains_key(*d))
        .collect();
    if !unknown.is_empty() {
        return Err(Failure::plain(format!(
            "Template format error: Unresolved resource dependencies [{}] in the Resources block of the template",
            unknown.join(", ")
        )));
    }
    Ok(())
}

/// The logical ids a resource's `DependsOn` names (a string or a list of strings).
fn depends_on(resource: &Value) -> impl Iterator<Item = &str> {
    let names: Vec<&str> = match resource.get("DependsOn") {
        Some(Value::String(d)) => vec![d.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    names.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::model::Scope;
    use serde_json::json;

    #[test]
    fn resources_come_after_what_they_name_and_conditions_leave_some_out() {
        let scope = Scope::new("123456789012", "us-east-1");
        let exports = HashMap::new();
        let body = json!({"Resources": {
            "Route": {"Type": "R", "Properties": {"ApiId": {"Ref": "Api"}, "Target": {"Fn::Sub": "integrations/${Int}"}}},
            "Int": {"Type": "I", "Properties": {"ApiId": {"Fn::GetAtt": ["Api", "ApiId"]}}},
            "Stage": {"Type": "S", "DependsOn": ["Route"], "Properties": {}},
            "Gone": {"Type": "G", "Condition": "No", "Properties": {}},
            "Api": {"Type": "A", "Properties": {}},
        }});
        let sorted = order(&Frame::for_tests(&body, &scope, &exports)).unwrap();
        let at = |n: &str| sorted.iter().position(|o| o == n).unwrap();
        assert!(at("Api") < at("Int") && at("Int") < at("Route") && at("Route") < at("Stage"));
        assert!(!sorted.contains(&"Gone".to_string()));
        let cycle = json!({"Resources": {"A": {"Type": "T", "Properties": {"X": {"Ref": "B"}}}, "B": {"Type": "T", "DependsOn": "A"}}});
        let err = order(&Frame::for_tests(&cycle, &scope, &exports)).unwrap_err();
        assert_eq!(err.message, "Circular dependency between resources: [A, B]");
        for empty in [
            json!({}),
            json!({"Resources": {}}),
            json!({"Resources": []}),
        ] {
            let err = order(&Frame::for_tests(&empty, &scope, &exports)).unwrap_err();
            assert_eq!(err.message, NO_RESOURCES);
        }
        for (resources, message) in [
            (
                json!({"A": "x"}),
                "[/Resources/A] Every Resources member must be an object.",
            ),
            (
                json!({"A": {}}),
                "[/Resources/A] Every Resources object must contain a Type member.",
            ),
            (
                json!({"A": {"Type": 5}}),
                "[/Resources/A] Every Resources object must contain a Type member.",
            ),
            (
                json!({"A": {"Type": "T", "Condition": "Typo"}}),
                "[/Resources/A/Condition] Condition Typo is not defined in Conditions.",
            ),
            (
                json!({"A": {"Type": "T", "DependsOn": ["Nope"]}}),
                "Unresolved resource dependencies [Nope] in the Resources block of the template",
            ),
        ] {
            let body = json!({ "Resources": resources });
            let err = order(&Frame::for_tests(&body, &scope, &exports)).unwrap_err();
            assert_eq!(err.message, format!("Template format error: {message}"));
        }
    }
}
