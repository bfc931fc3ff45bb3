//! The outbound HTTP client both integrations use (HTTP_PROXY backends and the Lambda Invoke
//! API): pooled keep-alive connections, a deadline per call, bodies read whole.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The largest response body accepted from an integration (AWS's payload limit, 10 MB).
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No answer before the deadline.
    Timeout,
    /// No connection, or the connection broke, or the URL cannot be used; the reason.
    Failed(String),
}

/// A pooled HTTP/1.1 client.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpConnector, Full<Bytes>>,
}

impl Default for HttpClient {
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(true);
        HttpClient {
            inner: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
        }
    }
}

impl HttpClient {
    /// Sends `req` and reads the whole answer, within `deadline`.
    pub async fn call(
        &self,
        req: Request<Full<Bytes>>,
        deadline: Duration,
    ) -> Result<Response<Bytes>, CallError> {
        let work = async {
            let resp = self
                .inner
                .request(req)
                .await
                .map_err(|e| CallError::Failed(describe(&e)))?;
            let (parts, body) = resp.into_parts();
            let bytes = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|_| {
                    CallError::Failed(
                        "the integration's response body could not be read or is larger than 10 MB"
                            .into(),
                    )
                })?
                .to_bytes();
            Ok(Response::from_parts(parts, bytes))
        };
        match tokio::time::timeout(deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Timeout),
        }
    }
}

fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}
