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
