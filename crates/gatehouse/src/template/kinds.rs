//! The resource types the template engine applies, one row each: where the management API
//! keeps them, which properties are in the path, which cannot change in place, what `Ref`
//! and `Fn::GetAtt` give; and a template's properties turned into the operation's body.

use serde_json::{Map, Value};

/// Where a record of a type lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// A root of its own.
    None,
    /// Under the API its `ApiId` names.
    Api,
    /// Under the custom domain its `DomainName` names.
    Domain,
}

/// One applied resource type.
#[derive(Debug)]
pub struct Type {
    /// `AWS::ApiGatewayV2::Route`.
    pub name: &'static str,
    /// Where it lives.
    pub parent: Parent,
    /// The collection's path under its root (`/routes`; `/routes/{RouteId}/routeresponses`:
    /// `{Prop}` is filled from the property); for a root, the collection itself.
    pub collection: &'static str,
    /// Its id in a create's answer (`routeId`), which `Ref` gives.
    pub id_member: &'static str,
    /// How long the ids AWS issues for it are (0: its id is a name, or is drawn by the
    /// operation itself).
    pub id_len: usize,
    /// Properties that cannot change in place: a change replaces the record.
    pub create_only: &'static [&'static str],
    /// Properties whose members are the user's keys, kept as written (tags, variables).
    pub maps: &'static [&'static str],
}

const API_MAPS: &[&str] = &["Tags"];

/// Every type the engine applies, in no particular order.
pub const TYPES: &[Type] = &[
    Type {
        name: "AWS::ApiGatewayV2::Api",
        parent: Parent::None,
        collection: "/v2/apis",
        id_member: "apiId",
        id_len: 10,
        create_only: &["ProtocolType"],
        maps: API_MAPS,
    },
    Type {
        name: "AWS::ApiGatewayV2::Stage",
        parent: Parent::Api,
        collection: "/stages",
        id_member: "stageName",
        id_len: 0,
        create_only: &["ApiId", "StageName"],
        maps: &["Tags", "StageVariables", "RouteSettings"],
    },
    Type {
        name: "AWS::ApiGatewayV2::Route",
        parent: Parent::Api,
        collection: "/routes",
        id_member: "routeId",
        id_len: 7,
        create_only: &["ApiId"],
        maps: &["RequestModels", "RequestParameters"],
    },
    Type {
        name: "AWS::ApiGatewayV2::Integration",
        parent: Parent::Api,
        collection: "/integrations",
        id_member: "integrationId",
        id_len: 7,
        create_only: &["ApiId"],
        maps: &[
            "RequestParameters",
            "RequestTemplates",
            "ResponseParameters",
        ],
    },
    Type {
        name: "AWS::ApiGatewayV2::Authorizer",
        parent: Parent::Api,
        collection: "/authorizers",
        id_member: "authorizerId",
        id_len: 6,
        create_only: &["ApiId"],
        maps: &[],
    },
    Type {
        name: "AWS::ApiGatewayV2::Deployment",
        parent: Parent::Api,
        collection: "/deployments",
        id_member: "deploymentId",
        id_len: 0,
        create_only: &["ApiId", "StageName"],
        maps: &[],
    },
    Type {
        name: "AWS::ApiGatewayV2::Model",
        parent: Parent::Api,
        collection: "/models",
        id_member: "modelId",
        id_len: 6,
        create_only: &["ApiId"],
        maps: &[],
    },
    Type {
        name: "AWS::ApiGatewayV2::RouteResponse",
        parent: Parent::Api,
        collection: "/routes/{RouteId}/routeresponses",
        id_member: "routeResponseId",
        id_len: 6,
        create_only: &["ApiId", "RouteId"],
        maps: &["ResponseModels", "ResponseParameters"],
    },
    Type {
        name: "AWS::ApiGatewayV2::IntegrationResponse",
        parent: Parent::Api,
        collection: "/integrations/{IntegrationId}/integrationresponses",
        id_member: "integrationResponseId",
        id_len: 6,
        create_only: &["ApiId", "IntegrationId"],
        maps: &["ResponseParameters", "ResponseTemplates"],
    },
    Type {
        name: "AWS::ApiGatewayV2::DomainName",
        parent: Parent::None,
        collection: "/v2/domainnames",
        id_member: "domainName",
        id_len: 0,
        create_only: &["DomainName"],
        maps: &["Tags"],
    },
    Type {
        name: "AWS::ApiGatewayV2::ApiMapping",
        parent: Parent::Domain,
        collection: "/apimappings",
        id_member: "apiMappingId",
        id_len: 6,
        create_only: &["DomainName"],
        maps: &[],
    },
    Type {
        name: "AWS::ApiGatewayV2::VpcLink",
        parent: Parent::None,
        collection: "/v2/vpclinks",
        id_member: "vpcLinkId",
        id_len: 6,
        create_only: &["SubnetIds", "SecurityGroupIds"],
        maps: &["Tags"],
    },
];

/// The row of type `name`, if the engine applies it.
pub fn find(name: &str) -> Option<&'static Type> {
    TYPES.iter().find(|t| t.name == name)
}

/// Properties that only say where the record lives (in the path, not the body).
pub fn in_path(t: &Type, property: &str) -> bool {
    match (t.parent, property) {
        (Parent::Api, "ApiId") | (Parent::Domain, "DomainName") => true,
        _ => t.collection.contains(&format!("{{{property}}}")),
    }
}

/// Properties the engine reads itself rather than sending (an API's OpenAPI body and how
/// to import it).
pub const IMPORT_PROPERTIES: &[&str] = &["Body", "BodyS3Location", "FailOnWarnings", "BasePath"];

/// `PascalCase` → `camelCase` (a template's property name → the wire's member name).
pub fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A template's properties as the operation's JSON body: members in camelCase, the user's
/// keys of map properties kept, and the few shapes CloudFormation writes differently.
pub fn body(t: &Type, properties: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in properties {
        if in_path(t, name) || IMPORT_PROPERTIES.contains(&name.as_str()) {
            continue;
        }
        let value = if t.maps.contains(&name.as_str()) {
            map_property(t, name, value)
        } else if name == "Schema" {
            // A model's schema is a JSON document in CloudFormation, a string on the wire.
            match value {
                Value::String(_) => value.clone(),
                other => Value::String(other.to_string()),
            }
        } else {
            members(value)
        };
        out.insert(camel(name), value);
    }
    out
}

/// A property whose keys are the user's: values that are objects are still recased
/// (`RouteSettings`, a route's `RequestParameters`), and an integration's
/// `ResponseParameters` lists become the wire's maps.
fn map_property(t: &Type, name: &str, value: &Value) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    let integration = t.name == "AWS::ApiGatewayV2::Integration" && name == "ResponseParameters";
    let kept = map.iter().map(|(k, v)| {
        let v = match v {
            Value::Object(inner) if integration => response_parameters(inner),
            Value::Object(_) => members(v),
            other => other.clone(),
        };
        (k.clone(), v)
    });
    Value::Object(kept.collect())
}

/// `{"ResponseParameters": [{"Destination": d, "Source": s}]}` → `{d: s}`.
fn response_parameters(inner: &Map<String, Value>) -> Value {
    let list = inner.get("ResponseParameters").and_then(Value::as_array);
    let pairs = list.into_iter().flatten().filter_map(|p| {
        let d = p.get("Destination")?.as_str()?;
        Some((d.to_string(), p.get("Source")?.clone()))
    });
    Value::Object(pairs.collect())
}

/// Objects with their members in camelCase, all the way down.
fn members(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (camel(k), members(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(members).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire(t: &str, props: Value) -> Value {
        let Value::Object(p) = props else { panic!() };
        Value::Object(body(find(t).unwrap(), &p))
    }

    #[test]
    fn properties_become_operation_bodies() {
        assert_eq!(
            wire(
                "AWS::ApiGatewayV2::Stage",
                json!({"ApiId": "a", "StageName": "$default", "AutoDeploy": true,
                       "StageVariables": {"Fn": "x"},
                       "DefaultRouteSettings": {"ThrottlingBurstLimit": 5},
                       "RouteSettings": {"GET /a": {"ThrottlingRateLimit": 1}}})
            ),
            json!({"stageName": "$default", "autoDeploy": true, "stageVariables": {"Fn": "x"},
                   "defaultRouteSettings": {"throttlingBurstLimit": 5},
                   "routeSettings": {"GET /a": {"throttlingRateLimit": 1}}})
        );
        assert_eq!(
            wire(
                "AWS::ApiGatewayV2::Route",
                json!({"ApiId": "a", "RouteKey": "GET /", "RequestParameters": {"route.request.header.x": {"Required": true}}})
            ),
            json!({"routeKey": "GET /", "requestParameters": {"route.request.header.x": {"required": true}}})
        );
        assert_eq!(
            wire(
                "AWS::ApiGatewayV2::Integration",
                json!({"ApiId": "a", "IntegrationType": "HTTP_PROXY",
                       "ResponseParameters": {"200": {"ResponseParameters": [{"Destination": "overwrite:header.x", "Source": "1"}]}}})
            ),
            json!({"integrationType": "HTTP_PROXY", "responseParameters": {"200": {"overwrite:header.x": "1"}}})
        );
        assert_eq!(
            wire(
                "AWS::ApiGatewayV2::RouteResponse",
                json!({"ApiId": "a", "RouteId": "r", "RouteResponseKey": "$default"})
            ),
            json!({"routeResponseKey": "$default"})
        );
        assert_eq!(
            wire(
                "AWS::ApiGatewayV2::Model",
                json!({"ApiId": "a", "Name": "M", "Schema": {"type": "object"}})
            ),
            json!({"name": "M", "schema": "{\"type\":\"object\"}"})
        );
    }
}
