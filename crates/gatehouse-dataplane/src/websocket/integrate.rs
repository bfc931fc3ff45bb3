//! Calling a WebSocket route's integration: AWS_PROXY sends the event through the Lambda
//! Invoke API and reads the function's answer (`statusCode`, `body`, `headers`); HTTP_PROXY
//! sends the message (or the handshake) to the backend and reads its answer. Other
//! integration types need mapping templates, which gatehouse does not run yet.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use gatehouse_core::model::integration::{Integration, IntegrationType};
use gatehouse_http::body;
use gatehouse_http::client::{CallError, HttpClient};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use serde_json::Value;

use crate::integrations::http_proxy::substitute_stage_variables;
use crate::integrations::lambda::Invoker;

/// What an integration answered.
#[derive(Debug, Default)]
pub struct Answered {
    /// Its status (a function's `statusCode`, a backend's status).
    pub status: u16,
    /// Its body, if it has one.
    pub body: Option<Bytes>,
    /// The subprotocol it chose (`Sec-WebSocket-Protocol`), for a handshake.
    pub subprotocol: Option<String>,
    /// The status of the call itself (the Invoke API's, the backend's).
    pub integration_status: u16,
}

/// Why an integration did not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    /// The function failed (`X-Amz-Function-Error`).
    Function,
    /// The function's answer is not a Lambda proxy answer.
    Malformed(String),
    /// No answer in time.
    Timeout,
    /// The call could not be made or broke (the reason).
    Unreachable(String),
    /// An integration type gatehouse does not run on WebSocket APIs yet.
    NotServed(String),
}

/// What an integration is sent: the Lambda event, and for HTTP_PROXY the body and headers.
pub struct Sent<'a> {
    /// The Lambda proxy event (AWS_PROXY).
    pub event: Vec<u8>,
    /// The message (HTTP_PROXY's body).
    pub body: Bytes,
    /// Headers for an HTTP backend (the handshake's, on `$connect`).
    pub headers: &'a [(String, String)],
}

/// The integrations' clients.
pub struct Integrator {
    /// Calls functions.
    pub invoker: std::sync::Arc<Invoker>,
    /// Calls HTTP backends.
    pub client: HttpClient,
}

impl Integrator {
    /// Calls `integration` with `sent`, stage variables `vars` substituted into its URI.
    pub async fn call(
        &self,
        integration: &Integration,
        vars: &BTreeMap<String, String>,
        sent: Sent<'_>,
    ) -> Result<Answered, Failed> {
        let deadline = Duration::from_millis(integration.timeout_in_millis.max(50) as u64);
        let uri = integration.integration_uri.as_deref().unwrap_or_default();
        let uri = substitute_stage_variables(uri, vars);
        match integration.integration_type {
            IntegrationType::AwsProxy => self.function(&uri, sent.event, deadline).await,
            IntegrationType::HttpProxy => {
                let method = integration.integration_method.as_deref().unwrap_or("POST");
                self.backend(&uri, method, sent, deadline).await
            }
            other => Err(Failed::NotServed(format!(
                "gatehouse does not run {other:?} integrations (mapping templates) on WebSocket APIs yet"
            ))),
        }
    }

    async fn function(
        &self,
        uri: &str,
        event: Vec<u8>,
        deadline: Duration,
    ) -> Result<Answered, Failed> {
        let (status, failed, output) = self
            .invoker
            .invoke(uri, event, deadline)
            .await
            .map_err(|e| called(e.error))?;
        if failed {
            return Err(Failed::Function);
        }
        let mut answered = proxy_answer(&output)?;
        answered.integration_status = status;
        Ok(answered)
    }

    async fn backend(
        &self,
        uri: &str,
        method: &str,
        sent: Sent<'_>,
        deadline: Duration,
    ) -> Result<Answered, Failed> {
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| Failed::Unreachable(format!("invalid method {method}")))?;
        let mut req = Request::new(body::full(sent.body));
        *req.method_mut() = method;
        *req.uri_mut() = uri.parse().map_err(|_| {
            Failed::Unreachable(format!("The integration URI {uri} is not a valid URL"))
        })?;
        *req.headers_mut() = forwarded(sent.headers);
        let resp = self.client.call(req, deadline).await.map_err(called)?;
        let status = resp.status().as_u16();
        let subprotocol = resp
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let body = resp.into_body();
        Ok(Answered {
            status,
            body: (!body.is_empty()).then_some(body),
            subprotocol,
            integration_status: status,
        })
    }
}

/// A call's failure as the integration's.
fn called(e: CallError) -> Failed {
    match e {
        CallError::Timeout => Failed::Timeout,
        CallError::Failed(why) => Failed::Unreachable(why),
        CallError::TooLarge => Failed::Unreachable("the message is too large".into()),
    }
}

/// The handshake's headers an HTTP backend gets: those of the connection and the upgrade
/// stay with the gateway.
fn forwarded(headers: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        if gatehouse_http::framing::is_connection_header(&name)
            || name.as_str().starts_with("sec-websocket-")
        {
            continue;
        }
        if let Ok(value) = HeaderValue::from_str(value) {
            map.append(name, value);
        }
    }
    map
}

/// A function's answer read as a Lambda proxy answer: `statusCode` (required), `body`
/// (text, base64-decoded when `isBase64Encoded`), and the `Sec-WebSocket-Protocol` among its
/// `headers`.
fn proxy_answer(output: &[u8]) -> Result<Answered, Failed> {
    let malformed = |why: &str| Failed::Malformed(why.to_string());
    let value: Value = serde_json::from_slice(output)
        .map_err(|_| malformed("The Lambda function returned a response that is not JSON"))?;
    let status = value
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| malformed("The Lambda function's response has no valid statusCode"))?;
    let body = match value.get("body") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let body = match body {
        Some(text) if value.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|_| malformed("The Lambda function's body is not valid base64"))?;
            Some(Bytes::from(bytes))
        }
        other => other.map(Bytes::from),
    };
    let subprotocol = value
        .get("headers")
        .and_then(Value::as_object)
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("sec-websocket-protocol"))
                .and_then(|(_, v)| v.as_str().map(String::from))
        });
    Ok(Answered {
        status,
        body,
        subprotocol,
        integration_status: 200,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_answers_are_read_as_proxy_answers() {
        let a = proxy_answer(
            br#"{"statusCode":200,"body":"hi","headers":{"Sec-WebSocket-Protocol":"chat"}}"#,
        )
        .unwrap();
        assert_eq!(
            (a.status, a.body.as_deref(), a.subprotocol.as_deref()),
            (200, Some(&b"hi"[..]), Some("chat"))
        );
        let a = proxy_answer(br#"{"statusCode":401}"#).unwrap();
        assert_eq!((a.status, a.body), (401, None));
        assert!(matches!(proxy_answer(b"null"), Err(Failed::Malformed(_))));
        assert!(matches!(
            proxy_answer(b"not json"),
            Err(Failed::Malformed(_))
        ));
        let a =
            proxy_answer(br#"{"statusCode":200,"body":"aGk=","isBase64Encoded":true}"#).unwrap();
        assert_eq!(a.body.as_deref(), Some(&b"hi"[..]));
    }
}
