//! Authorization on `$connect`, the only route a WebSocket API authorizes: a Lambda REQUEST
//! authorizer (identity sources `route.request.header.X`, `route.request.querystring.x`,
//! `stageVariables.x`, `context.x`; one missing → 401 without calling it; its IAM policy
//! evaluated for `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect`), or
//! `AWS_IAM` (the handshake's `execute-api` signature, checked by the server). What a Lambda
//! authorizer allows with — `principalId` and its `context`, values as text — goes into every
//! later event of the connection as `requestContext.authorizer`.

use std::time::Duration;

use gatehouse_core::model::authorizer::Authorizer;
use gatehouse_core::model::route::AuthorizationType;
use gatehouse_core::model::Stage;
use serde::Serialize;
use serde_json::{Map, Value};

use super::events::{Common, SortedHeaders};
use super::Env;
use crate::auth::iam;
use crate::auth::lambda_rules::{self, Decision};
use crate::context::{claim_text, Invocation};
use crate::integrations::http_proxy::substitute_stage_variables;
use crate::routing::router::Compiled;

/// Why the handshake is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// 401 `Unauthorized`.
    Unauthorized,
    /// 403 `Forbidden`.
    Forbidden,
    /// 500: the authorizer failed or answered nonsense.
    Failed,
}

/// What the authorizer is given about the handshake.
pub struct Asked<'a> {
    /// The `$connect` route.
    pub route: &'a Compiled,
    /// The stage.
    pub stage: &'a Stage,
    /// The invocation of the handshake (its request, and the API's facts).
    pub inv: &'a Invocation,
    /// The CONNECT event's common members.
    pub common: &'a Common<'a>,
    /// The handshake's headers as the `$connect` event carries them.
    pub headers: &'a [(String, String)],
    /// The handshake's query.
    pub query: &'a [(String, String)],
    /// The API's region.
    pub region: &'a str,
}

/// Runs `$connect`'s authorizer: what it passes on to the connection's events, if anything.
pub async fn authorize(env: &Env, asked: &Asked<'_>) -> Result<Option<Value>, (Refused, String)> {
    match asked.route.route.authorization_type {
        AuthorizationType::AwsIam => iam::check(env.iam.as_deref(), asked.inv)
            .map(|()| None)
            .map_err(|r| (Refused::Forbidden, r.why)),
        AuthorizationType::Custom => {
            let authorizer = asked.route.authorizer.as_ref().ok_or((
                Refused::Failed,
                "the route's authorizer is not in the deployment".to_string(),
            ))?;
            lambda(env, authorizer, asked).await.map(Some)
        }
        _ => Ok(None),
    }
}

/// Calls a Lambda REQUEST authorizer and reads its policy.
async fn lambda(
    env: &Env,
    authorizer: &Authorizer,
    asked: &Asked<'_>,
) -> Result<Value, (Refused, String)> {
    if !identity_present(authorizer, asked) {
        return Err((
            Refused::Unauthorized,
            "an identity source is missing".to_string(),
        ));
    }
    let arn = format!(
        "arn:aws:execute-api:{}:{}:{}/{}/$connect",
        asked.region, asked.inv.facts.account_id, asked.common.api_id, asked.common.stage
    );
    let event = event(asked, &arn).map_err(|e| (Refused::Failed, e.to_string()))?;
    let uri = substitute_stage_variables(
        authorizer.authorizer_uri.as_deref().unwrap_or(""),
        &asked.stage.stage_variables,
    );
    let (_, failed, output) = env
        .integrator
        .invoker
        .invoke(&uri, event, Duration::from_secs(10))
        .await
        .map_err(|e| {
            (
                Refused::Failed,
                format!("the authorizer could not be called: {}", e.error),
            )
        })?;
    let output: Value = serde_json::from_slice(&output).map_err(|_| {
        (
            Refused::Failed,
            "the authorizer's answer is not JSON".to_string(),
        )
    })?;
    if failed {
        let unauthorized =
            output.get("errorMessage").and_then(Value::as_str) == Some("Unauthorized");
        return Err(match unauthorized {
            true => (
                Refused::Unauthorized,
                "the authorizer refused the caller".into(),
            ),
            false => (Refused::Failed, "the authorizer function failed".into()),
        });
    }
    match lambda_rules::decide(&output, false, &arn).map_err(|why| (Refused::Failed, why))? {
        Decision::Deny => Err((
            Refused::Forbidden,
            "the authorizer denied the connection".into(),
        )),
        Decision::Allow(context, principal) => Ok(passed_on(context, principal)),
    }
}

/// Whether every identity source has a value (not empty).
fn identity_present(authorizer: &Authorizer, asked: &Asked<'_>) -> bool {
    let sources = authorizer.identity_source.as_deref().unwrap_or_default();
    sources.iter().all(|s| {
        let value = if let Some(h) = s.strip_prefix("route.request.header.") {
            asked
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(h))
                .map(|(_, v)| v.clone())
        } else if let Some(q) = s.strip_prefix("route.request.querystring.") {
            asked
                .query
                .iter()
                .find(|(k, _)| k == q)
                .map(|(_, v)| v.clone())
        } else if let Some(v) = s.strip_prefix("stageVariables.") {
            asked.stage.stage_variables.get(v).cloned()
        } else if let Some(c) = s.strip_prefix("context.") {
            asked.inv.variable(c)
        } else {
            None
        };
        value.is_some_and(|v| !v.is_empty())
    })
}

/// `principalId` and the context's values as text, as the connection's events carry them.
fn passed_on(context: Value, principal: Option<String>) -> Value {
    let mut out = Map::new();
    if let Some(p) = principal {
        out.insert("principalId".into(), Value::String(p));
    }
    for (k, v) in context.as_object().into_iter().flatten() {
        out.insert(k.clone(), Value::String(claim_text(v)));
    }
    Value::Object(out)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizerEvent<'a, C> {
    #[serde(rename = "type")]
    kind: &'static str,
    method_arn: &'a str,
    headers: SortedHeaders<String>,
    multi_value_headers: SortedHeaders<Vec<String>>,
    query_string_parameters: std::collections::BTreeMap<String, String>,
    multi_value_query_string_parameters: std::collections::BTreeMap<String, Vec<String>>,
    stage_variables: &'a std::collections::BTreeMap<String, String>,
    request_context: C,
}

/// The REQUEST authorizer event: the handshake's headers (with `Connection`, `Upgrade` and a
/// `content-length` of 0, as AWS adds them for the authorizer), the query and stage variables
/// (`{}` when empty), and the CONNECT event's `requestContext`.
fn event(asked: &Asked<'_>, arn: &str) -> serde_json::Result<Vec<u8>> {
    let mut headers = asked.headers.to_vec();
    headers.push(("Connection".into(), "upgrade".into()));
    headers.push(("content-length".into(), "0".into()));
    headers.push(("Upgrade".into(), "websocket".into()));
    // AWS leaves the key out of the single-value map (but not of the other).
    let single: Vec<(String, String)> = headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("sec-websocket-key"))
        .cloned()
        .collect();
    let mut query = std::collections::BTreeMap::new();
    let mut multi_query: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (k, v) in asked.query {
        query.insert(k.clone(), v.clone());
        multi_query.entry(k.clone()).or_default().push(v.clone());
    }
    serde_json::to_vec(&AuthorizerEvent {
        kind: "REQUEST",
        method_arn: arn,
        headers: SortedHeaders::single(&single),
        multi_value_headers: SortedHeaders::multi(&headers),
        query_string_parameters: query,
        multi_value_query_string_parameters: multi_query,
        stage_variables: &asked.stage.stage_variables,
        request_context: super::events::connect_context(asked.common),
    })
}
