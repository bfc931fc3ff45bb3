//! Pins the operation table to the AWS model committed in `reference/`: every operation of
//! the model is in the table once, with the model's method, URI, success status and labels,
//! and the table holds nothing else.

use std::collections::BTreeMap;

use super::operations::{specs, Operation};

/// The committed model, read at test time (never at build or run time).
fn model() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../reference/apigatewayv2-2018-11-29.service-2.json"
    );
    let text = std::fs::read_to_string(path).expect("the committed AWS model");
    serde_json::from_str(&text).expect("the model is JSON")
}

fn labels(uri: &str) -> Vec<&str> {
    uri.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|s| s.trim_end_matches('+'))
        .collect()
}

#[test]
fn the_table_is_the_model() {
    let model = model();
    let ops = model["operations"].as_object().expect("operations");
    let table: BTreeMap<&str, _> = specs().into_iter().map(|s| (s.op.name(), s)).collect();
    assert_eq!(
        table.len(),
        Operation::ALL.len(),
        "an operation is listed twice"
    );
    let missing: Vec<&String> = ops
        .keys()
        .filter(|n| !table.contains_key(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "operations of the model not in the table: {missing:?}"
    );
    let extra: Vec<&&str> = table.keys().filter(|n| !ops.contains_key(**n)).collect();
    assert!(
        extra.is_empty(),
        "operations in the table not in the model: {extra:?}"
    );
    for (name, op) in ops {
        let spec = &table[name.as_str()];
        let http = &op["http"];
        let uri = http["requestUri"].as_str().expect("requestUri");
        let uri = uri.split('?').next().unwrap_or(uri);
        assert_eq!(spec.method.as_str(), http["method"], "{name}: method");
        assert_eq!(spec.uri, uri, "{name}: URI");
        assert_eq!(
            u64::from(spec.status),
            http["responseCode"].as_u64().unwrap_or(200),
            "{name}: success status"
        );
        assert_eq!(spec.op.status(), spec.status, "{name}");
        assert_eq!(spec.labels, labels(uri), "{name}: path labels");
        assert_eq!(Operation::from_name(name), Some(spec.op));
    }
}

/// The operations gatehouse leaves out: the developer-portal family (portals, portal
/// products, product pages), which no API Gateway V2 user of an emulator needs.
fn portal_family(name: &str) -> bool {
    ["Portal", "ProductPage", "ProductRestEndpointPage"]
        .iter()
        .any(|w| name.contains(w))
}

#[test]
fn every_operation_of_the_model_is_implemented_but_the_portal_family() {
    let model = model();
    let ops = model["operations"].as_object().expect("operations");
    let table: BTreeMap<&str, _> = specs().into_iter().map(|s| (s.op.name(), s)).collect();
    let missing: Vec<&str> = ops
        .keys()
        .map(String::as_str)
        .filter(|n| !portal_family(n) && !table.get(n).is_some_and(|s| s.implemented))
        .collect();
    assert!(missing.is_empty(), "not implemented: {missing:?}");
    let portal = ops.keys().filter(|n| portal_family(n)).count();
    assert_eq!(portal, 26, "the portal family is 26 operations");
}
