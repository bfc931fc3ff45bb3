//! The outbound HTTP client both integrations use (HTTP_PROXY backends and the Lambda Invoke
//! API): pooled keep-alive connections, a deadline per call; answers read whole
//! ([`HttpClient::call`]) or streamed ([`HttpClient::send`]).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::body::{self, Body};

/// Why an answer read whole was refused (it broke off, or it is over the 10 MB limit).
pub const UNREADABLE_ANSWER: &str =
    "the integration's response body could not be read or is larger than 10 MB";

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No answer before the deadline.
    Timeout,
    /// No connection, or the connection broke, or the URL cannot be used; the reason.
    Failed(String),
    /// The client's request body went over the 10 MB limit on its way to the backend.
    TooLarge,
}

/// A pooled HTTP/1.1 client, over TLS (the system's root certificates) for `https://`.
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpsConnector<HttpConnector>, Body>,
}

/// A TLS configuration that trusts no certificate (when the system has none to offer).
fn without_roots() -> rustls::ClientConfig {
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(rustls::DEFAULT_VERSIONS)
    .map(|b| {
        b.with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    })
    .unwrap_or_else(|_| unreachable!("aws-lc-rs supports the default TLS versions"))
}

impl Default for HttpClient {
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let builder = match HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "no system root certificates: https:// integrations will fail");
                HttpsConnectorBuilder::new().with_tls_config(without_roots())
            }
        };
        HttpClient {
            inner: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(
                    builder
                        .https_or_http()
                        .enable_http1()
                        .wrap_connector(connector),
                ),
        }
    }
}

impl HttpClient {
    /// Sends `req` and returns the answer once its head arrived (within `deadline`); the
    /// body streams after that.
    pub async fn send(
        &self,
        req: Request<Body>,
        deadline: Duration,
    ) -> Result<Response<hyper::body::Incoming>, CallError> {
        match tokio::time::timeout(deadline, self.inner.request(req)).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(failed(&e)),
            Err(_) => Err(CallError::Timeout),
        }
    }

    /// Sends `req` and reads the whole answer, within `deadline`.
    pub async fn call(
        &self,
        req: Request<Body>,
        deadline: Duration,
    ) -> Result<Response<Bytes>, CallError> {
        let work = async {
            let resp = self.inner.request(req).await.map_err(|e| failed(&e))?;
            let (parts, body) = resp.into_parts();
            let bytes = body::read(body::boxed(body))
                .await
                .map_err(|_| CallError::Failed(UNREADABLE_ANSWER.into()))?;
            Ok(Response::from_parts(parts, bytes))
        };
        match tokio::time::timeout(deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(CallError::Timeout),
        }
    }
}

fn failed(e: &hyper_util::client::legacy::Error) -> CallError {
    if crate::body::is_over_limit(e) {
        CallError::TooLarge
    } else {
        CallError::Failed(describe(e))
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
