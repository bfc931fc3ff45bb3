//! The one error table and the one place an error becomes an HTTP response.
//!
//! Every failure that reaches a client is an [`ApiError`]: a [`ErrorKind`] (which fixes the
//! exception name sent in `x-amzn-ErrorType` and the HTTP status, as the AWS model lists them)
//! plus a human message sent as `{"message": "..."}`. Internal causes (store, parsing, auth)
//! convert into it; [`ApiError::into_response`] is the only renderer.
//!
//! See <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/errors.html>.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The exceptions gatehouse can answer with. Names and statuses follow the AWS model
/// (`apigatewayv2-2018-11-29`) and, for the front-door errors, what API Gateway sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request is invalid (validation, malformed JSON, bad pagination token).
    BadRequest,
    /// 403: the caller may not do this.
    AccessDenied,
    /// 404: the API, stage or other resource does not exist (for this account and region).
    NotFound,
    /// 409: the resource already exists.
    Conflict,
    /// 429: throttled.
    TooManyRequests,
    /// 403: the Authorization header is malformed (API Gateway's front door).
    IncompleteSignature,
    /// 403: no SigV4 signature at all (strict mode).
    MissingAuthenticationToken,
    /// 403: the access key (or session token) is not known (strict mode).
    UnrecognizedClient,
    /// 403: the signature does not match, is expired or not yet valid, or is scoped to
    /// another service (strict mode).
    InvalidSignature,
    /// 413: the body is larger than the configured limit.
    PayloadTooLarge,
    /// 404: no operation is bound to this method and path.
    UnknownOperation,
    /// 500: an unexpected failure inside gatehouse (the store failed, a bug).
    Internal,
    /// 503: the store is unavailable; SDKs retry this.
    ServiceUnavailable,
}

impl ErrorKind {
    /// The error table: exception name (as sent in `x-amzn-ErrorType`) and HTTP status.
    pub const fn wire(self) -> (&'static str, u16) {
        match self {
            ErrorKind::BadRequest => ("BadRequestException", 400),
            ErrorKind::AccessDenied => ("AccessDeniedException", 403),
            ErrorKind::NotFound => ("NotFoundException", 404),
            ErrorKind::Conflict => ("ConflictException", 409),
            ErrorKind::TooManyRequests => ("TooManyRequestsException", 429),
            ErrorKind::IncompleteSignature => ("IncompleteSignatureException", 403),
            ErrorKind::MissingAuthenticationToken => ("MissingAuthenticationTokenException", 403),
            ErrorKind::UnrecognizedClient => ("UnrecognizedClientException", 403),
            ErrorKind::InvalidSignature => ("InvalidSignatureException", 403),
            ErrorKind::PayloadTooLarge => ("PayloadTooLargeException", 413),
            ErrorKind::UnknownOperation => ("NotFoundException", 404),
            ErrorKind::Internal => ("InternalServerErrorException", 500),
            ErrorKind::ServiceUnavailable => ("ServiceUnavailableException", 503),
        }
    }

    /// The exception name sent in `x-amzn-ErrorType`.
    pub const fn name(self) -> &'static str {
        self.wire().0
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.wire().1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// A client-visible error: an exception kind and its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct ApiError {
    /// Which exception this is.
    pub kind: ErrorKind,
    /// The text sent as `message`.
    pub message: String,
}

impl ApiError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }

    /// A 400 BadRequestException.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    /// A 404 NotFoundException.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// A 409 ConflictException.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }

    /// A 500 for failures the client cannot fix.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

/// Result alias for operations.
pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    /// The only place an error is rendered: status from the table, `x-amzn-ErrorType`,
    /// JSON body `{"message": ...}`. Request-id headers are added by the server for every
    /// response.
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message }).to_string();
        let mut response = (self.kind.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static(self.kind.name()),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_model() {
        assert_eq!(ErrorKind::BadRequest.status(), StatusCode::BAD_REQUEST);
        assert_eq!(ErrorKind::NotFound.status(), StatusCode::NOT_FOUND);
        assert_eq!(ErrorKind::Conflict.status(), StatusCode::CONFLICT);
        assert_eq!(ErrorKind::TooManyRequests.status().as_u16(), 429);
        assert_eq!(ErrorKind::AccessDenied.status().as_u16(), 403);
    }
}
