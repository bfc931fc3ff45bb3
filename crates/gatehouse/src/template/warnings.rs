//! What an applied stack holds that works today but is likely not what its author meant.

use gatehouse_core::model::stack::{Stack, StackResource};
use serde_json::Value;

const API: &str = "AWS::ApiGatewayV2::Api";
const ROUTE: &str = "AWS::ApiGatewayV2::Route";
const STAGE: &str = "AWS::ApiGatewayV2::Stage";
const DEPLOYMENT: &str = "AWS::ApiGatewayV2::Deployment";

fn of_type<'s>(stack: &'s Stack, t: &'s str) -> impl Iterator<Item = &'s StackResource> {
    stack.resources.iter().filter(move |r| r.resource_type == t)
}

fn prop<'r>(r: &'r StackResource, name: &str) -> Option<&'r Value> {
    r.properties.get(name)
}

/// The warnings for `stack`, one line each.
pub fn of(stack: &Stack) -> Vec<String> {
    let mut out = Vec::new();
    for api in of_type(stack, API).filter(|a| prop(a, "Body").is_some()) {
        let routes = of_type(stack, ROUTE)
            .filter(|r| r.root_id.as_deref() == Some(api.physical_id.as_str()));
        if routes.count() > 0 {
            out.push(format!(
                "{}: an API with an OpenAPI Body and Route resources of its own; AWS advises against it, and a later re-import drops the routes the body does not define",
                api.logical_id
            ));
        }
    }
    for stage in of_type(stack, STAGE) {
        let auto = prop(stage, "AutoDeploy").and_then(Value::as_bool) == Some(true);
        let pinned = prop(stage, "DeploymentId").is_some();
        let deployed_to = of_type(stack, DEPLOYMENT).any(|d| {
            d.root_id == stage.root_id
                && prop(d, "StageName") == Some(&Value::String(stage.physical_id.clone()))
        });
        if !(auto || pinned || deployed_to) {
            out.push(format!(
                "{}: stage {} has nothing deployed (no AutoDeploy, no DeploymentId, no Deployment naming it): its invoke URL answers 404, as on AWS",
                stage.logical_id, stage.physical_id
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn res(logical: &str, t: &str, id: &str, root: Option<&str>, props: Value) -> StackResource {
        StackResource {
            logical_id: logical.into(),
            resource_type: t.into(),
            physical_id: id.into(),
            root_id: root.map(String::from),
            properties: props,
            attributes: Default::default(),
        }
    }

    #[test]
    fn body_with_routes_and_stages_with_nothing_deployed_are_named() {
        let stack = Stack {
            stack_name: "s".into(),
            last_updated: String::new(),
            outputs: Default::default(),
            resources: vec![
                res("Api", API, "a", None, json!({"Body": {}})),
                res("Route", ROUTE, "r", Some("a"), json!({})),
                res(
                    "Auto",
                    STAGE,
                    "auto",
                    Some("a"),
                    json!({"AutoDeploy": true}),
                ),
                res("Bare", STAGE, "bare", Some("a"), json!({})),
                res("Named", STAGE, "named", Some("a"), json!({})),
                res(
                    "Dep",
                    DEPLOYMENT,
                    "d",
                    Some("a"),
                    json!({"StageName": "named"}),
                ),
            ],
        };
        let w = of(&stack);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].starts_with("Api: an API with an OpenAPI Body"));
        assert!(w[1].starts_with("Bare: stage bare has nothing deployed"));
    }
}
