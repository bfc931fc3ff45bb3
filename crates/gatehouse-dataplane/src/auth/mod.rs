//! Running a route's authorizer: JWT (verified here with the issuer's keys) or a Lambda
//! REQUEST authorizer (called through the Invoke API, its decision cached for the TTL).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use gatehouse_core::model::Stage;

use crate::client::CallError;
use crate::context::{Facts, Incoming};
use crate::gateway::GatewayError;
use crate::{
    event, http_proxy, jwt, lambda_authorizer, refuse, routed, router, DataPlane, Refusal,
};

/// What a route's authorizer let through.
pub(crate) enum Authorized {
    /// A verified JWT.
    Jwt(jwt::Verified),
    /// A Lambda authorizer's context (and principal, for IAM policy answers).
    Lambda(serde_json::Value, Option<String>),
}

impl Authorized {
    /// What the Lambda event of payload format `version` carries as its `authorizer`:
    /// under `jwt` or `lambda` in 2.0; the claims and scopes, or the context with its
    /// `principalId`, in 1.0.
    pub(crate) fn event_context(&self, version: &str) -> serde_json::Value {
        match self {
            Authorized::Jwt(v) => {
                let claims: serde_json::Map<String, serde_json::Value> = v
                    .claims
                    .iter()
                    .map(|(k, c)| (k.clone(), serde_json::Value::String(jwt::claim_text(c))))
                    .collect();
                let scopes = if v.scopes.is_empty() {
                    serde_json::Value::Null
                } else {
                    serde_json::json!(v.scopes)
                };
                if version == "2.0" {
                    serde_json::json!({"jwt": {"claims": claims, "scopes": scopes}})
                } else {
                    serde_json::json!({"claims": claims, "scopes": scopes})
                }
            }
            Authorized::Lambda(context, principal) => {
                if version == "2.0" {
                    serde_json::json!({ "lambda": context })
                } else {
                    let mut c = context.as_object().cloned().unwrap_or_default();
                    if let Some(p) = principal {
                        c.insert("principalId".into(), serde_json::json!(p));
                    }
                    serde_json::Value::Object(c)
                }
            }
        }
    }
}

/// (account, apiId, authorizerId, identity values) → (expiry, decision).
pub(crate) type DecisionCache = HashMap<String, (Instant, lambda_authorizer::Decision)>;

impl DataPlane {
    /// Verifies the JWT of a request to a route with a JWT authorizer; its claims go to the
    /// access log's `$context.authorizer.claims.*`.
    pub(crate) async fn verify_jwt(
        &self,
        matched: &router::Matched<'_>,
        incoming: &Incoming,
        facts: &mut Facts,
    ) -> Result<jwt::Verified, Refusal> {
        let authorizer = matched.route.authorizer.as_ref().ok_or_else(|| {
            refuse(
                GatewayError::Internal,
                "the route's authorizer is not in the deployment",
            )
        })?;
        let jwt_config = authorizer.jwt_configuration.as_ref().ok_or_else(|| {
            refuse(
                GatewayError::Internal,
                "the JWT authorizer has no configuration",
            )
        })?;
        let config = jwt::Config {
            issuer: jwt_config.issuer.as_deref().unwrap_or(""),
            audience: jwt_config.audience.as_deref().unwrap_or_default(),
            identity_source: authorizer
                .identity_source
                .as_ref()
                .and_then(|s| s.first())
                .map_or("$request.header.Authorization", String::as_str),
            scopes: matched
                .route
                .route
                .authorization_scopes
                .as_deref()
                .unwrap_or_default(),
        };
        match self.keys.verify(&self.client, &config, incoming).await {
            Ok(v) => {
                facts.authorizer = v
                    .claims
                    .iter()
                    .map(|(k, c)| (format!("claims.{k}"), jwt::claim_text(c)))
                    .collect();
                Ok(v)
            }
            Err(jwt::Refused::Unauthorized(challenge)) => Err(Refusal {
                error: GatewayError::Unauthorized,
                why: String::new(),
                challenge: Some(challenge),
            }),
            Err(jwt::Refused::Forbidden(challenge)) => Err(Refusal {
                error: GatewayError::Forbidden,
                why: String::new(),
                challenge: Some(challenge),
            }),
        }
    }

    /// Runs a route's Lambda REQUEST authorizer (or reuses its cached decision).
    pub(crate) async fn authorize_lambda(
        &self,
        region: &str,
        matched: &router::Matched<'_>,
        path: &str,
        stage: &Stage,
        incoming: &Incoming,
        facts: &mut Facts,
    ) -> Result<Authorized, Refusal> {
        use lambda_authorizer::Decision;
        let authorizer = matched.route.authorizer.as_ref().ok_or_else(|| {
            refuse(
                GatewayError::Internal,
                "the route's authorizer is not in the deployment",
            )
        })?;
        let sources = authorizer.identity_source.clone().unwrap_or_default();
        let identity =
            lambda_authorizer::identity(&sources, incoming, facts, &stage.stage_variables)
                .ok_or_else(|| {
                    refuse(GatewayError::Unauthorized, "an identity source is missing")
                })?;
        let ttl = authorizer.authorizer_result_ttl_in_seconds.unwrap_or(0);
        let cache_key = (ttl > 0 && !sources.is_empty()).then(|| {
            format!(
                "{}|{}|{}|{}",
                facts.account_id,
                facts.api_id,
                authorizer.authorizer_id,
                identity.join("\u{1f}")
            )
        });
        let cached = cache_key.as_ref().and_then(|k| {
            let cache = self.decisions.lock().ok()?;
            cache
                .get(k)
                .filter(|(expiry, _)| *expiry > Instant::now())
                .map(|(_, d)| d.clone())
        });
        let decision = match cached {
            Some(d) => d,
            None => {
                let d = self
                    .run_lambda_authorizer(region, matched, path, stage, incoming, facts, &identity)
                    .await?;
                if let (Some(k), Ok(mut cache)) = (cache_key, self.decisions.lock()) {
                    if cache.len() > 10_000 {
                        cache.clear();
                    }
                    let expiry = Instant::now() + Duration::from_secs(ttl.max(0) as u64);
                    cache.insert(k, (expiry, d.clone()));
                }
                d
            }
        };
        match decision {
            Decision::Deny => Err(refuse(
                GatewayError::Forbidden,
                "the authorizer denied the request",
            )),
            Decision::Allow(context, principal) => {
                facts.authorizer = context
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), jwt::claim_text(v)))
                    .chain(
                        principal
                            .iter()
                            .map(|p| ("principalId".to_string(), p.clone())),
                    )
                    .collect();
                Ok(Authorized::Lambda(context, principal))
            }
        }
    }

    /// Calls a Lambda REQUEST authorizer and reads its decision.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run_lambda_authorizer(
        &self,
        region: &str,
        matched: &router::Matched<'_>,
        path: &str,
        stage: &Stage,
        incoming: &Incoming,
        facts: &Facts,
        identity: &[String],
    ) -> Result<lambda_authorizer::Decision, Refusal> {
        let Some(authorizer) = matched.route.authorizer.as_ref() else {
            return Err(refuse(GatewayError::Internal, "no authorizer"));
        };
        let version = authorizer
            .authorizer_payload_format_version
            .clone()
            .unwrap_or_else(|| "2.0".into());
        let arn = lambda_authorizer::route_arn(region, facts, incoming.method.as_str(), path);
        let input = event::EventInput {
            request: routed(incoming, facts, path, matched, stage),
            authorizer: None,
        };
        let event = lambda_authorizer::event(&version, &input, identity, &arn);
        let uri = http_proxy::substitute_stage_variables(
            authorizer.authorizer_uri.as_deref().unwrap_or(""),
            &stage.stage_variables,
        );
        let (_, failed, output) = self
            .invoke(
                &uri,
                serde_json::to_vec(&event).unwrap_or_default(),
                Duration::from_secs(10),
            )
            .await
            .map_err(|e| match e {
                CallError::Timeout => refuse(GatewayError::Internal, "the authorizer timed out"),
                CallError::Failed(why) => refuse(GatewayError::Internal, why),
                CallError::TooLarge => {
                    refuse(GatewayError::Internal, "the authorizer event is too large")
                }
            })?;
        let output: serde_json::Value = serde_json::from_slice(&output).map_err(|_| {
            refuse(
                GatewayError::Internal,
                "the authorizer's answer is not JSON",
            )
        })?;
        if failed {
            // A function that fails with "Unauthorized" refuses the caller.
            let unauthorized =
                output.get("errorMessage").and_then(|m| m.as_str()) == Some("Unauthorized");
            return Err(if unauthorized {
                refuse(
                    GatewayError::Unauthorized,
                    "the authorizer refused the caller",
                )
            } else {
                refuse(GatewayError::Internal, "the authorizer function failed")
            });
        }
        let simple = version == "2.0" && authorizer.enable_simple_responses == Some(true);
        lambda_authorizer::decide(&output, simple, &arn)
            .map_err(|why| refuse(GatewayError::Internal, why))
    }
}
