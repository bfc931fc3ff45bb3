//! The integrate step: the route's integration answers the request. HTTP_PROXY calls the
//! backend ([`http_proxy`], with parameter [`mapping`]); AWS_PROXY sends the payload 1.0 or
//! 2.0 [`event`] to the function through the Lambda Invoke API and reads its answer by
//! AWS's rules ([`lambda`]).

pub mod event;
pub mod http_proxy;
pub mod lambda;
pub mod mapping;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::model::integration::{Integration, IntegrationType};
use gatehouse_http::body::{self, Body};
use gatehouse_http::client::{CallError, HttpClient};
use http::{Response, Uri};

use self::lambda::Invoker;
use crate::context::{Authorized, Invocation, Routed};
use crate::exchange::{Answer, HeaderText, Sent, SentHeaders, Url};
use crate::gateway::{not_served, refuse, GatewayError, Refusal};
use crate::limits::OVER_PAYLOAD_LIMIT;

/// What the route hands its integration.
pub struct Call<'a> {
    /// The integration.
    pub integration: &'a Integration,
    /// Its URI parsed when the deployment was compiled (none when it names stage variables).
    pub parsed: Option<&'a Uri>,
    /// The route's path template (empty for `$default`).
    pub template: &'a str,
    /// The route's path parameters.
    pub params: &'a [(String, String)],
    /// The stage's variables.
    pub stage_variables: &'a BTreeMap<String, String>,
    /// What the route's authorizer let through.
    pub authorized: Option<&'a Authorized>,
}

/// The integrations' clients.
pub struct Integrations {
    client: HttpClient,
    invoker: Arc<Invoker>,
}

impl Integrations {
    /// Integrations calling HTTP backends through `client` and functions through `invoker`.
    pub fn new(client: HttpClient, invoker: Arc<Invoker>) -> Integrations {
        Integrations { client, invoker }
    }

    /// The integration's answer to the request (`body`: the request body as it arrives,
    /// when it was not read whole into the invocation), within the integration's timeout.
    pub async fn answer(
        &self,
        inv: &mut Invocation,
        call: &Call<'_>,
        body: Option<Body>,
    ) -> Result<Response<Body>, Refusal> {
        let integration = call.integration;
        let deadline = Duration::from_millis(integration.timeout_in_millis.max(50) as u64);
        let uri = integration.integration_uri.as_deref().unwrap_or_default();
        let outcome = match integration.integration_type {
            IntegrationType::HttpProxy => {
                let proxied = http_proxy::Proxied {
                    integration,
                    uri,
                    parsed: call.parsed,
                    params: call.params,
                    template: call.template,
                    stage_variables: call.stage_variables,
                };
                let body = body.unwrap_or_else(|| body::full(inv.incoming.body.clone()));
                proxied.answer(&self.client, inv, body, deadline).await
            }
            IntegrationType::AwsProxy => Box::pin(self.function(inv, call, uri, deadline)).await,
            other => Err(CallError::Failed(format!(
                "gatehouse does not serve {other:?} integrations on HTTP APIs"
            ))),
        };
        outcome.map_err(|e| match e {
            CallError::Timeout => refuse(
                GatewayError::Unavailable,
                "The integration did not answer within its timeout",
            ),
            CallError::Failed(why) => refuse(GatewayError::Internal, why),
            CallError::TooLarge => not_served(GatewayError::TooLarge, OVER_PAYLOAD_LIMIT),
        })
    }

    /// An AWS_PROXY integration's answer: the function `uri` names called with the event of
    /// the integration's payload format, its output read as an answer.
    async fn function(
        &self,
        inv: &mut Invocation,
        call: &Call<'_>,
        uri: &str,
        deadline: Duration,
    ) -> Result<Response<Body>, CallError> {
        let version = call
            .integration
            .payload_format_version
            .as_deref()
            .unwrap_or("1.0");
        let routed = Routed {
            inv,
            template: call.template,
            params: call.params,
            stage_variables: call.stage_variables,
        };
        let event = event::encode(version, &routed, call.authorized)
            .map_err(|_| CallError::Failed("cannot encode the Lambda event".into()))?;
        let uri = http_proxy::substitute_stage_variables(uri, call.stage_variables);
        let event = bytes::Bytes::from(event);
        let invoked = match self.invoker.url(&uri) {
            Ok(url) => {
                let invoked = self.invoker.invoke_at(&url, event.clone(), deadline).await;
                note_sent(inv, url, event);
                invoked
            }
            Err(e) => Err(e.into()),
        };
        // (The Invoke API's own status when it refused the call, as AWS logs the Lambda
        // service's.)
        inv.facts.integration_status = match &invoked {
            Ok((status, ..)) => Some(*status),
            Err(e) => e.status,
        };
        if let (Some(x), Ok((status, _, output))) = (inv.exchange(), &invoked) {
            x.answer = Some(Answer {
                status: *status,
                headers: Some(HeaderText::default()),
                body: x.keep(output),
            });
        }
        let (_, failed, output) = invoked.map_err(|e| e.error)?;
        if failed {
            return Err(CallError::Failed(
                "The Lambda function returned an error".into(),
            ));
        }
        lambda::decode(version, &output)
            .map(|r| r.map(body::full))
            .map_err(CallError::Failed)
    }
}

/// The Invoke API call, as the inspector keeps it (while it records).
fn note_sent(inv: &mut Invocation, url: String, event: bytes::Bytes) {
    if let Some(x) = inv.exchange() {
        x.sent = Some(Sent {
            kind: "AWS_PROXY",
            method: http::Method::POST,
            url: Url::Whole(url),
            headers: SentHeaders::Invoke,
            body: x.keep_event(event),
        });
    }
}
