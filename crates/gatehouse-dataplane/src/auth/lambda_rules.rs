//! Lambda REQUEST authorizers on HTTP APIs: identity sources read from the request (any
//! missing → 401 without calling the function), the authorizer event (payload 1.0 or 2.0),
//! and the function's answer read as a simple response (`isAuthorized`) or an IAM policy
//! evaluated for `execute-api:Invoke` on the route's ARN.

use serde_json::{json, Value};

use crate::context::{query_pairs, Facts, Invocation};
use crate::integrations::event::{self, EventInput};

/// The values of an authorizer's identity sources, or `None` when one is missing.
pub fn identity(
    sources: &[String],
    inv: &Invocation,
    stage_variables: &std::collections::BTreeMap<String, String>,
) -> Option<Vec<String>> {
    let incoming = &inv.incoming;
    let query = query_pairs(incoming.query());
    sources
        .iter()
        .map(|s| {
            if let Some(h) = s.strip_prefix("$request.header.") {
                incoming.header(&h.to_ascii_lowercase()).map(String::from)
            } else if let Some(q) = s.strip_prefix("$request.querystring.") {
                query.iter().find(|(k, _)| k == q).map(|(_, v)| v.clone())
            } else if let Some(v) = s.strip_prefix("$stageVariables.") {
                stage_variables.get(v).cloned()
            } else if let Some(c) = s.strip_prefix("$context.") {
                inv.variable(c)
            } else {
                None
            }
            .filter(|v| !v.is_empty())
        })
        .collect()
}

/// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}{path}`.
pub fn route_arn(region: &str, facts: &Facts, method: &str, path: &str) -> String {
    format!(
        "arn:aws:execute-api:{region}:{}:{}/{}/{method}{path}",
        facts.account_id, facts.api_id, facts.stage
    )
}

/// The authorizer event for `version`.
pub fn event(version: &str, input: &EventInput<'_>, identity: &[String], arn: &str) -> Value {
    if version == "2.0" {
        let mut e = serde_json::to_value(event::event_v2(input)).unwrap_or(Value::Null);
        if let Some(o) = e.as_object_mut() {
            o.remove("body");
            o.remove("isBase64Encoded");
            o.insert("type".into(), json!("REQUEST"));
            o.insert("routeArn".into(), json!(arn));
            o.insert("identitySource".into(), json!(identity));
        }
        e
    } else {
        let mut e = serde_json::to_value(event::event_v1(input)).unwrap_or(Value::Null);
        if let Some(o) = e.as_object_mut() {
            o.remove("body");
            o.remove("isBase64Encoded");
            o.insert("type".into(), json!("REQUEST"));
            o.insert("methodArn".into(), json!(arn));
            o.insert("identitySource".into(), json!(identity.join(",")));
            if let Some(token) = input.request.incoming().header("authorization") {
                o.insert("authorizationToken".into(), json!(token));
            }
        }
        e
    }
}

/// What the authorizer decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Allowed, with the context to pass on (and the principal, for IAM responses).
    Allow(Value, Option<String>),
    /// Denied: 403.
    Deny,
}

/// Whether `pattern` (with `*` and `?`) matches `text`.
fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads the function's answer: a simple response when `simple`, else an IAM policy for
/// `arn`. `Err` when the answer is neither (500).
pub fn decide(output: &Value, simple: bool, arn: &str) -> Result<Decision, String> {
    let context = output.get("context").cloned().unwrap_or(json!({}));
    if simple {
        return match output.get("isAuthorized").and_then(Value::as_bool) {
            Some(true) => Ok(Decision::Allow(context, None)),
            Some(false) => Ok(Decision::Deny),
            None => Err("the authorizer's simple response has no boolean isAuthorized".into()),
        };
    }
    let statements = output
        .pointer("/policyDocument/Statement")
        .ok_or("the authorizer's response has no policyDocument.Statement")?;
    let statements: Vec<&Value> = match statements {
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    let mut allowed = false;
    for st in statements {
        let actions = strings(st.get("Action"));
        let resources = strings(st.get("Resource"));
        let acts = actions.iter().any(|a| wildcard(a, "execute-api:Invoke"));
        let on = resources.iter().any(|r| wildcard(r, arn));
        if !(acts && on) {
            continue;
        }
        match st.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Ok(Decision::Deny),
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    let principal = output
        .get("principalId")
        .and_then(Value::as_str)
        .map(String::from);
    Ok(if allowed {
        Decision::Allow(context, principal)
    } else {
        Decision::Deny
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_and_simple_answers() {
        let arn = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets";
        let allow = json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/*"}
        ]}, "context": {"tier": "gold"}});
        assert_eq!(
            decide(&allow, false, arn).unwrap(),
            Decision::Allow(json!({"tier": "gold"}), Some("u".into()))
        );
        let deny = json!({"policyDocument": {"Statement": [
            {"Action": "execute-api:*", "Effect": "Allow", "Resource": ["*"]},
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [arn]}
        ]}});
        assert_eq!(decide(&deny, false, arn).unwrap(), Decision::Deny);
        assert_eq!(
            decide(&json!({"policyDocument": {"Statement": []}}), false, arn).unwrap(),
            Decision::Deny
        );
        assert!(decide(&json!({"x": 1}), false, arn).is_err());
        assert_eq!(
            decide(&json!({"isAuthorized": false}), true, arn).unwrap(),
            Decision::Deny
        );
        assert!(decide(&json!({"isAuthorized": "yes"}), true, arn).is_err());
        assert!(wildcard("a*c?e", "abbbcde"));
        assert!(!wildcard("a*c", "abd"));
    }
}
