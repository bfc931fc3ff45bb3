//! The answers the gateway gives itself (never a backend's): JSON `{"message": …}` bodies
//! with AWS's texts and statuses; and [`Refusal`], where a step stopped serving.

use std::sync::Arc;

use bytes::Bytes;
use gatehouse_http::body::{self, Body};
use http::{HeaderValue, Response, StatusCode};

use crate::context::Facts;

/// Where serving stopped early: the gateway's answer, why, and a `www-authenticate` value.
#[derive(Debug)]
pub struct Refusal {
    /// The gateway's answer.
    pub error: GatewayError,
    /// Why, in words, for the server's log line (empty when the answer says all).
    pub why: String,
    /// Whether `why` is also `$context.integrationErrorMessage`: calling an integration or
    /// an authorizer failed (not so for a request no stage or route serves).
    pub calling: bool,
    /// A `www-authenticate` value.
    pub challenge: Option<String>,
    /// The account and region of the API, when it was found before the request was
    /// refused (for the server's log line; who may be told why).
    pub found: Option<Found>,
}

/// Where a refused request's API is.
#[derive(Debug, Clone)]
pub struct Found {
    /// The account that holds it.
    pub account: Arc<str>,
    /// Its region.
    pub region: Arc<str>,
}

/// A refusal with `error` because calling something failed, for the reason `why`
/// (`$context.integrationErrorMessage` too).
pub fn refuse(error: GatewayError, why: impl Into<String>) -> Refusal {
    Refusal {
        error,
        why: why.into(),
        calling: true,
        challenge: None,
        found: None,
    }
}

/// A refusal with `error` of a request nothing was called for (no API, stage, deployment
/// or route serves it; the endpoint is disabled), for the reason `why`, which only the
/// server's log line names.
pub fn not_served(error: GatewayError, why: impl Into<String>) -> Refusal {
    Refusal {
        calling: false,
        ..refuse(error, why)
    }
}

impl Refusal {
    /// The refusal of a request for an API `account` holds in `region`.
    pub fn found_in(self, account: &str, region: &str) -> Refusal {
        let found = Found {
            account: account.into(),
            region: region.into(),
        };
        Refusal {
            found: Some(found),
            ..self
        }
    }

    /// The gateway's answer, its error noted in `facts`. Out of line: most requests are
    /// answered by their integrations.
    #[cold]
    #[inline(never)]
    pub fn answer(self, facts: &mut Facts) -> Response<Body> {
        facts.error_message = Some(self.error.parts().1.to_string());
        facts.error_response_type = Some(self.error.response_type().to_string());
        if !self.why.is_empty() {
            if self.calling {
                facts.integration_error.get_or_insert(self.why.clone());
            }
            facts.reason.get_or_insert(self.why);
        }
        let mut resp = self.error.response().map(body::full);
        if let Some(v) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
        }
        resp
    }
}

/// A response the gateway generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayError {
    /// 404 `Not Found`: no stage, no route.
    NotFound,
    /// 403 `Forbidden`: the execute-api endpoint is disabled; an authorizer denied.
    Forbidden,
    /// 401 `Unauthorized`.
    Unauthorized,
    /// 413 `Request Entity Too Large`: a body over 10 MB.
    TooLarge,
    /// 431 `Request Header Fields Too Large`: request line and header values over 10,240
    /// bytes.
    HeadersTooLarge,
    /// 429 `Too Many Requests`: a stage or route throttle.
    Throttled,
    /// 500 `Internal Server Error`: a Lambda error or bad answer, an unreachable backend.
    Internal,
    /// 503 `Service Unavailable`: the integration timed out.
    Unavailable,
}

impl GatewayError {
    /// Status and message.
    pub const fn parts(self) -> (StatusCode, &'static str) {
        match self {
            GatewayError::NotFound => (StatusCode::NOT_FOUND, "Not Found"),
            GatewayError::Forbidden => (StatusCode::FORBIDDEN, "Forbidden"),
            GatewayError::Unauthorized => (StatusCode::UNAUTHORIZED, "Unauthorized"),
            GatewayError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
            GatewayError::HeadersTooLarge => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request Header Fields Too Large",
            ),
            GatewayError::Throttled => (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
            GatewayError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
            GatewayError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
        }
    }

    /// `$context.error.responseType`.
    pub const fn response_type(self) -> &'static str {
        match self {
            GatewayError::NotFound => "RESOURCE_NOT_FOUND",
            GatewayError::Forbidden => "ACCESS_DENIED",
            GatewayError::Unauthorized => "UNAUTHORIZED",
            GatewayError::TooLarge | GatewayError::HeadersTooLarge => "REQUEST_TOO_LARGE",
            GatewayError::Throttled => "THROTTLED",
            GatewayError::Internal => "INTEGRATION_FAILURE",
            GatewayError::Unavailable => "INTEGRATION_TIMEOUT",
        }
    }

    /// The response: `{"message":"Not Found"}`, `content-type: application/json`.
    pub fn response(self) -> Response<Bytes> {
        let (status, message) = self.parts();
        let mut r = Response::new(Bytes::from(format!("{{\"message\":\"{message}\"}}")));
        *r.status_mut() = status;
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_awss() {
        let r = GatewayError::Internal.response();
        assert_eq!(r.status(), 500);
        assert_eq!(
            r.body().as_ref(),
            b"{\"message\":\"Internal Server Error\"}"
        );
        assert_eq!(r.body().len(), 35);
        assert_eq!(GatewayError::Unavailable.response().body().len(), 33);
    }
}
