//! OpenAPI 3.0 definitions of HTTP APIs, with the `x-amazon-apigateway-*` extensions AWS
//! documents (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html>):
//! [`import`] turns a JSON or YAML document into an API's routes, integrations, authorizers
//! and CORS configuration (ImportApi, ReimportApi); [`export`] writes them back (ExportApi).

pub mod export;
pub mod import;

use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// `x-amazon-apigateway-integration`.
pub const X_INTEGRATION: &str = "x-amazon-apigateway-integration";
/// `x-amazon-apigateway-authorizer`.
pub const X_AUTHORIZER: &str = "x-amazon-apigateway-authorizer";
/// `x-amazon-apigateway-cors`.
pub const X_CORS: &str = "x-amazon-apigateway-cors";
/// `x-amazon-apigateway-any-method`.
pub const X_ANY_METHOD: &str = "x-amazon-apigateway-any-method";
/// `x-amazon-apigateway-importexport-version`.
pub const X_IMPORTEXPORT: &str = "x-amazon-apigateway-importexport-version";

/// The HTTP methods an OpenAPI path item may hold, as route-key methods.
pub const METHODS: &[(&str, &str)] = &[
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
    (X_ANY_METHOD, "ANY"),
];

/// Parses a definition: JSON when it starts with `{`, YAML otherwise.
pub fn parse_document(body: &str) -> ApiResult<Value> {
    let trimmed = body.trim_start();
    let value: Value = if trimmed.starts_with('{') {
        serde_json::from_str(trimmed).map_err(|e| {
            ApiError::bad_request(format!(
                "Unable to parse the definition: malformed JSON at line {}, column {}",
                e.line(),
                e.column()
            ))
        })?
    } else {
        serde_yaml_ng::from_str(trimmed).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
                .unwrap_or_default();
            ApiError::bad_request(format!(
                "Unable to parse the definition: malformed YAML{at}"
            ))
        })?
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "Unable to parse the definition: the document is not an object",
        ));
    }
    Ok(value)
}

/// A scalar as text (`version: 2.0` in YAML is a number, AWS keeps it as `2.0`).
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => {
            let s = n.to_string();
            Some(if n.is_f64() && !s.contains('.') {
                format!("{s}.0")
            } else {
                s
            })
        }
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
