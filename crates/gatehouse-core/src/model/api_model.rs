//! Models (WebSocket APIs): JSON schemas that validate request and response bodies:
//! <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-models.html>.

use serde::{Deserialize, Serialize};

use crate::compat::{Profile, Rule};
use crate::error::{ApiError, ApiResult};

/// A model as stored (and, member for member, as sent on the wire).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// `contentType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 6 lowercase letters and digits.
    pub model_id: String,
    /// `name`: alphanumeric, unique in the API.
    pub name: String,
    /// `schema`: a JSON Schema draft 4 document, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

/// The members CreateModel and UpdateModel accept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInput {
    /// `contentType`.
    pub content_type: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `schema`.
    pub schema: Option<String>,
}

/// The draft 4 meta-schema's id, which a model's `$schema` names when it names one.
pub const DRAFT4: &str = "http://json-schema.org/draft-04/schema#";

/// JSON Schema draft 4 keywords whose value must be of one JSON type.
const KEYWORD_TYPES: &[(&str, &str)] = &[
    ("properties", "object"),
    ("patternProperties", "object"),
    ("definitions", "object"),
    ("required", "array"),
    ("enum", "array"),
    ("allOf", "array"),
    ("anyOf", "array"),
    ("oneOf", "array"),
    ("title", "string"),
    ("description", "string"),
    ("pattern", "string"),
    ("$ref", "string"),
    ("minLength", "integer"),
    ("maxLength", "integer"),
    ("minItems", "integer"),
    ("maxItems", "integer"),
    ("minProperties", "integer"),
    ("maxProperties", "integer"),
    ("minimum", "number"),
    ("maximum", "number"),
    ("multipleOf", "number"),
    ("uniqueItems", "boolean"),
    ("exclusiveMinimum", "boolean"),
    ("exclusiveMaximum", "boolean"),
];

const SIMPLE_TYPES: &[&str] = &[
    "array", "boolean", "integer", "null", "number", "object", "string",
];

fn is_type(v: &serde_json::Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => false,
    }
}

/// Checks one schema object (and the schemas nested in it) against draft 4's meta-schema
/// rules that matter in practice: keyword value types and `type` names.
fn check_schema(v: &serde_json::Value, at: &str) -> Result<(), String> {
    let Some(obj) = v.as_object() else {
        return Err(format!("{at} must be a JSON object"));
    };
    for (keyword, t) in KEYWORD_TYPES {
        if let Some(value) = obj.get(*keyword) {
            if !is_type(value, t) {
                return Err(format!("{at}.{keyword} must be of type {t}"));
            }
        }
    }
    if let Some(t) = obj.get("type") {
        let names: Vec<&serde_json::Value> = match t {
            serde_json::Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        for n in names {
            if !n.as_str().is_some_and(|s| SIMPLE_TYPES.contains(&s)) {
                return Err(format!("{at}.type has an unknown type {n}"));
            }
        }
    }
    for keyword in ["properties", "patternProperties", "definitions"] {
        if let Some(map) = obj.get(keyword).and_then(|m| m.as_object()) {
            for (name, sub) in map {
                check_schema(sub, &format!("{at}.{keyword}.{name}"))?;
            }
        }
    }
    for keyword in ["allOf", "anyOf", "oneOf"] {
        if let Some(list) = obj.get(keyword).and_then(|m| m.as_array()) {
            for (i, sub) in list.iter().enumerate() {
                check_schema(sub, &format!("{at}.{keyword}[{i}]"))?;
            }
        }
    }
    for keyword in ["items", "not", "additionalProperties", "additionalItems"] {
        match obj.get(keyword) {
            Some(serde_json::Value::Bool(_)) | None => {}
            Some(serde_json::Value::Array(list)) if keyword == "items" => {
                for (i, sub) in list.iter().enumerate() {
                    check_schema(sub, &format!("{at}.items[{i}]"))?;
                }
            }
            Some(sub) => check_schema(sub, &format!("{at}.{keyword}"))?,
        }
    }
    Ok(())
}

/// Checks a model schema as AWS does: a JSON object valid as a draft 4 schema.
pub fn validate_schema(schema: &str) -> ApiResult<()> {
    let invalid = |why: String| {
        Err(ApiError::bad_request(format!(
            "Model schema must be a valid JSON schema draft 4: {why}"
        )))
    };
    let value: serde_json::Value = match serde_json::from_str(schema) {
        Ok(v) => v,
        Err(e) => {
            return invalid(format!(
                "the text is not JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        }
    };
    if let Some(s) = value.get("$schema") {
        if s.as_str().map(|s| s.trim_end_matches('#')) != Some(DRAFT4.trim_end_matches('#')) {
            return invalid(format!("$schema must be {DRAFT4}"));
        }
    }
    check_schema(&value, "schema").or_else(invalid)
}

fn check_name(name: &str) -> ApiResult<()> {
    let n = name.chars().count();
    if (1..=128).contains(&n) && name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "Model name must be alphanumeric and between 1 and 128 characters",
        ))
    }
}

impl Model {
    /// A new model from CreateModel's input.
    pub fn create(model_id: String, input: ModelInput, profile: Profile) -> ApiResult<Model> {
        let name = input
            .name
            .clone()
            .ok_or_else(|| ApiError::bad_request("Name is a required parameter"))?;
        if input.schema.is_none() && profile.enforces(Rule::ModelSchemaDraft4) {
            return Err(ApiError::bad_request("Schema is a required parameter"));
        }
        let mut model = Model {
            content_type: None,
            description: None,
            model_id,
            name,
            schema: None,
        };
        model.apply(input, profile)?;
        Ok(model)
    }

    /// Applies the members present in `input`.
    pub fn apply(&mut self, input: ModelInput, profile: Profile) -> ApiResult<()> {
        let strict = profile.enforces(Rule::ModelSchemaDraft4);
        if let Some(v) = input.name {
            self.name = v;
        }
        if strict {
            check_name(&self.name)?;
        }
        if let Some(v) = input.schema {
            if strict {
                validate_schema(&v)?;
            }
            self.schema = Some(v);
        }
        if let Some(v) = input.content_type {
            self.content_type = Some(v);
        }
        if let Some(v) = input.description {
            self.description = Some(v);
        }
        Ok(())
    }

    /// GetModelTemplate's `value`: a sample document the schema describes, as AWS's
    /// mapping-template generator writes it (`#set($inputRoot = $input.path('$'))` and one
    /// line per property).
    pub fn template(&self) -> String {
        let schema: serde_json::Value = self
            .schema
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        let mut out = String::from("#set($inputRoot = $input.path('$'))\n");
        write_template(&schema, "$inputRoot", 0, &mut out);
        out.push('\n');
        out
    }
}

fn write_template(schema: &serde_json::Value, path: &str, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    match schema.get("type").and_then(|t| t.as_str()) {
        Some("array") => {
            let item = format!("$elem{depth}");
            out.push_str(&format!(
                "[\n{indent}#foreach({item} in {path})\n{indent}  "
            ));
            write_template(
                schema.get("items").unwrap_or(&serde_json::Value::Null),
                &item,
                depth + 1,
                out,
            );
            out.push_str(&format!(
                "#if($foreach.hasNext),#end\n{indent}#end\n{indent}]"
            ));
        }
        Some("object") | None if schema.get("properties").is_some() => {
            out.push_str("{\n");
            let props = schema
                .get("properties")
                .and_then(|p| p.as_object())
                .cloned()
                .unwrap_or_default();
            let n = props.len();
            for (i, (name, sub)) in props.iter().enumerate() {
                out.push_str(&format!("{indent}  \"{name}\" : "));
                write_template(sub, &format!("{path}.{name}"), depth + 1, out);
                out.push_str(if i + 1 < n { ",\n" } else { "\n" });
            }
            out.push_str(&format!("{indent}}}"));
        }
        Some("string") => out.push_str(&format!("\"{path}\"")),
        _ => out.push_str(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_must_be_draft4_json() {
        assert!(validate_schema(r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"a":{"type":"string"}},"required":["a"]}"#).is_ok());
        assert!(validate_schema(r#"{"type":"object"}"#).is_ok());
        for bad in [
            "cs",
            "[1]",
            r#"{"type":"thing"}"#,
            r#"{"required":"a"}"#,
            r#"{"$schema":"http://json-schema.org/draft-07/schema#"}"#,
            r#"{"properties":{"a":{"minLength":"x"}}}"#,
        ] {
            assert!(validate_schema(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn models_are_checked_per_profile() {
        let input = ModelInput {
            name: Some("nm".into()),
            schema: Some("cs".into()),
            ..Default::default()
        };
        assert!(Model::create("m".into(), input.clone(), Profile::Aws).is_err());
        assert!(Model::create("m".into(), input, Profile::Moto).is_ok());
        let m = Model::create(
            "m".into(),
            ModelInput {
                name: Some("Pet".into()),
                schema: Some(r#"{"type":"object","properties":{"name":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}}}"#.into()),
                ..Default::default()
            },
            Profile::Aws,
        )
        .unwrap();
        let t = m.template();
        assert!(
            t.starts_with("#set($inputRoot = $input.path('$'))\n{"),
            "{t}"
        );
        assert!(t.contains("\"name\" : \"$inputRoot.name\""), "{t}");
        assert!(t.contains("#foreach($elem1 in $inputRoot.tags)"), "{t}");
    }
}
