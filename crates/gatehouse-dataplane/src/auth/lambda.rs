//! The Lambda REQUEST authorizer step: the identity sources read (any missing → 401
//! without calling the function), a decision cached for the authorizer's TTL reused, else
//! the function called through the Invoke API and its answer read ([`super::lambda_rules`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gatehouse_core::model::authorizer::Authorizer;
use gatehouse_http::client::CallError;

use super::lambda_rules::{self, Decision};
use crate::context::{Authorized, Routed};
use crate::gateway::{not_served, refuse, GatewayError, Refusal};
use crate::integrations::event::EventInput;
use crate::integrations::http_proxy::substitute_stage_variables;
use crate::integrations::lambda::Invoker;

/// (account, apiId, authorizerId, identity values) → (expiry, decision).
type DecisionCache = HashMap<String, (Instant, Decision)>;

/// Most cached decisions; when full, the cache starts over.
const DECISIONS: usize = 10_000;

/// Runs Lambda REQUEST authorizers and keeps their decisions for their TTLs.
pub struct LambdaAuthorizers {
    invoker: Arc<Invoker>,
    decisions: Mutex<DecisionCache>,
}

impl LambdaAuthorizers {
    /// Authorizers called through `invoker`.
    pub fn new(invoker: Arc<Invoker>) -> LambdaAuthorizers {
        LambdaAuthorizers {
            invoker,
            decisions: Mutex::default(),
        }
    }

    /// Runs `authorizer` for a request (or reuses its cached decision, saying so in
    /// `cached`), in `region`.
    pub async fn authorize(
        &self,
        authorizer: &Authorizer,
        region: &str,
        request: &Routed<'_>,
        cached: &mut Option<bool>,
    ) -> Result<Authorized, Refusal> {
        let sources = authorizer.identity_source.clone().unwrap_or_default();
        let identity = lambda_rules::identity(&sources, request.inv, request.stage_variables)
            .ok_or_else(|| {
                not_served(GatewayError::Unauthorized, "an identity source is missing")
            })?;
        let ttl = authorizer.authorizer_result_ttl_in_seconds.unwrap_or(0);
        let facts = request.facts();
        let cache_key = (ttl > 0 && !sources.is_empty()).then(|| {
            format!(
                "{}|{}|{}|{}",
                facts.account_id,
                facts.api_id,
                authorizer.authorizer_id,
                identity.join("\u{1f}")
            )
        });
        let reused = cache_key.as_ref().and_then(|k| self.cached(k));
        *cached = Some(reused.is_some());
        let decision = match reused {
            Some(d) => d,
            None => {
                let d = self.run(authorizer, region, request, &identity).await?;
                if let Some(k) = cache_key {
                    self.keep(k, ttl, &d);
                }
                d
            }
        };
        match decision {
            Decision::Deny => Err(not_served(
                GatewayError::Forbidden,
                "the authorizer denied the request",
            )),
            Decision::Allow(context, principal) => Ok(Authorized::Lambda { context, principal }),
        }
    }

    /// A decision still cached under `key`.
    fn cached(&self, key: &str) -> Option<Decision> {
        let cache = self.decisions.lock().ok()?;
        cache
            .get(key)
            .filter(|(expiry, _)| *expiry > Instant::now())
            .map(|(_, d)| d.clone())
    }

    /// Keeps `decision` under `key` for `ttl` seconds.
    fn keep(&self, key: String, ttl: i32, decision: &Decision) {
        if let Ok(mut cache) = self.decisions.lock() {
            if cache.len() > DECISIONS {
                cache.clear();
            }
            let expiry = Instant::now() + Duration::from_secs(ttl.max(0) as u64);
            cache.insert(key, (expiry, decision.clone()));
        }
    }

    /// Calls the authorizer's function and reads its decision.
    async fn run(
        &self,
        authorizer: &Authorizer,
        region: &str,
        request: &Routed<'_>,
        identity: &[String],
    ) -> Result<Decision, Refusal> {
        let version = authorizer
            .authorizer_payload_format_version
            .as_deref()
            .unwrap_or("2.0");
        let incoming = request.incoming();
        let arn = lambda_rules::route_arn(
            region,
            request.facts(),
            incoming.method.as_str(),
            request.path(),
        );
        let input = EventInput {
            request: *request,
            authorizer: None,
        };
        let event = lambda_rules::event(version, &input, identity, &arn);
        let uri = substitute_stage_variables(
            authorizer.authorizer_uri.as_deref().unwrap_or(""),
            request.stage_variables,
        );
        let (_, failed, output) = self
            .invoker
            .invoke(
                &uri,
                serde_json::to_vec(&event).unwrap_or_default(),
                Duration::from_secs(10),
            )
            .await
            .map_err(|e| refused_call(e.error))?;
        let output: serde_json::Value = serde_json::from_slice(&output).map_err(|_| {
            refuse(
                GatewayError::Internal,
                "the authorizer's answer is not JSON",
            )
        })?;
        if failed {
            return Err(function_error(&output));
        }
        let simple = version == "2.0" && authorizer.enable_simple_responses == Some(true);
        lambda_rules::decide(&output, simple, &arn)
            .map_err(|why| refuse(GatewayError::Internal, why))
    }
}

/// Why calling the authorizer failed, as the gateway answers it.
fn refused_call(e: CallError) -> Refusal {
    match e {
        CallError::Timeout => refuse(GatewayError::Internal, "the authorizer timed out"),
        CallError::Failed(why) => refuse(GatewayError::Internal, why),
        CallError::TooLarge => refuse(GatewayError::Internal, "the authorizer event is too large"),
    }
}

/// The answer to an authorizer function that failed: one that fails with "Unauthorized"
/// refuses the caller (401), any other failure is 500.
fn function_error(output: &serde_json::Value) -> Refusal {
    if output.get("errorMessage").and_then(|m| m.as_str()) == Some("Unauthorized") {
        refuse(
            GatewayError::Unauthorized,
            "the authorizer refused the caller",
        )
    } else {
        refuse(GatewayError::Internal, "the authorizer function failed")
    }
}
