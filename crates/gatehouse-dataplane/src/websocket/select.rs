//! Route selection: a message's route key from the API's `routeSelectionExpression`, evaluated
//! once over the message as JSON. `$request.body.a.b` is the value at that path; a template
//! mixes literals and `${request.body.x}` parts; anything else is a static key (`\$default`
//! escapes a literal `$`). A path that is not found is `""` in a template; a value that is
//! not a string is its JSON text, an array `[item1, item2]`. A message that is not JSON, or
//! an expression that cannot be evaluated, selects nothing (the caller falls back to
//! `$default`).

use serde_json::Value;

/// The route key `expression` selects for `message`, if it can be evaluated.
pub fn route_key(expression: &str, message: &str) -> Option<String> {
    let expression = expression.trim();
    if let Some(path) = expression.strip_prefix("$request.body") {
        let body: Value = serde_json::from_str(message).ok()?;
        return at(&body, path).map(text);
    }
    if !expression.contains("${") {
        // A static key.
        return Some(expression.replace("\\$", "$"));
    }
    let body: Value = serde_json::from_str(message).ok()?;
    let mut out = String::new();
    let mut rest = expression;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start].replace("\\$", "$"));
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let path = after[..end].strip_prefix("request.body")?;
        if let Some(v) = at(&body, path) {
            out.push_str(&text(v));
        }
        rest = &after[end + 1..];
    }
    out.push_str(&rest.replace("\\$", "$"));
    Some(out)
}

/// The value at a JSONPath suffix (`.a.b`, `['a']`, `[0]`; empty: the whole body).
fn at<'v>(body: &'v Value, path: &str) -> Option<&'v Value> {
    let mut at = body;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            at = at.get(&after[..end])?;
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let key = after[..end].trim_matches(|c| c == '\'' || c == '"');
            at = match key.parse::<usize>() {
                Ok(i) if at.is_array() => at.get(i)?,
                _ => at.get(key)?,
            };
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(at)
}

/// A selected value as a route key: a string as it is, an array as `[a, b]`, anything else
/// as its JSON text.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(text).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::route_key;

    #[test]
    fn expressions_select_as_aws_documents() {
        let m = r#"{"action":"join","service":"chat","n":7,"a":{"b":"deep"},"list":["x","y"]}"#;
        let key = |e: &str| route_key(e, m);
        assert_eq!(key("$request.body.action").as_deref(), Some("join"));
        assert_eq!(key("$request.body.a.b").as_deref(), Some("deep"));
        assert_eq!(key("$request.body['a']['b']").as_deref(), Some("deep"));
        assert_eq!(key("$request.body.n").as_deref(), Some("7"));
        assert_eq!(key("$request.body.list").as_deref(), Some("[x, y]"));
        assert_eq!(key("$request.body.list[1]").as_deref(), Some("y"));
        assert_eq!(key("$request.body.nope"), None);
        assert_eq!(
            key("${request.body.service}/${request.body.action}").as_deref(),
            Some("chat/join")
        );
        assert_eq!(
            key("${request.body.action}-${request.body.nope}").as_deref(),
            Some("join-")
        );
        assert_eq!(key("action").as_deref(), Some("action"));
        assert_eq!(key("\\$default").as_deref(), Some("$default"));
        assert_eq!(route_key("$request.body.action", "not json"), None);
        assert_eq!(route_key("${request.body.action}", "[1"), None);
    }
}
