//! The one error table, for every service gatehouse answers as.
//!
//! Every failure that reaches a client is an [`ApiError`]: an [`ErrorKind`] (which fixes the
//! service it belongs to, the exception name sent in `x-amzn-ErrorType`, the HTTP status, as
//! the AWS models list them, and the shape of the body) plus a human message, sent as
//! `{"message": "..."}` where the exception has one. Internal causes (store, parsing, auth)
//! convert into it; the server renders it in exactly one place. A new service's errors are
//! lines of this table.
//!
//! See <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/errors.html> and the
//! `apigatewaymanagementapi` model.

/// The AWS services gatehouse answers as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// API Gateway V2's management API (`apigatewayv2`).
    ApiGatewayV2,
    /// The `@connections` API of WebSocket stages (`apigatewaymanagementapi`, signing name
    /// `execute-api`).
    ManagementApi,
}

/// What an error's body holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `{"message": "..."}`.
    Message,
    /// Nothing (the exception has no members and AWS sends no body).
    Empty,
}

/// Defines [`ErrorKind`] from one table: variant, service, exception name, HTTP status,
/// whether `--fault` may inject it, and the body.
macro_rules! error_kinds {
    ($($(#[$doc:meta])* $kind:ident => $service:ident, $name:literal, $status:literal, $injectable:literal, $body:ident;)*) => {
        /// The exceptions gatehouse can answer with. Names and statuses follow the AWS models
        /// (`apigatewayv2-2018-11-29`, `apigatewaymanagementapi-2018-11-29`) and, for the
        /// front-door errors, what API Gateway sends.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $($(#[$doc])* $kind,)*
        }

        impl ErrorKind {
            /// Every kind, in table order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind,)*];

            /// The error table: exception name (as sent in `x-amzn-ErrorType`), HTTP status,
            /// and whether a fault rule may inject it.
            pub const fn wire(self) -> (&'static str, u16, bool) {
                match self {
                    $(ErrorKind::$kind => ($name, $status, $injectable),)*
                }
            }

            /// The service whose exception this is.
            pub const fn service(self) -> Service {
                match self {
                    $(ErrorKind::$kind => Service::$service,)*
                }
            }

            /// What its body holds.
            pub const fn body(self) -> Body {
                match self {
                    $(ErrorKind::$kind => Body::$body,)*
                }
            }
        }
    };
}

error_kinds! {
    /// 400: the request is invalid (validation, malformed JSON, bad pagination token).
    BadRequest => ApiGatewayV2, "BadRequestException", 400, true, Message;
    /// 403: the caller may not do this.
    AccessDenied => ApiGatewayV2, "AccessDeniedException", 403, true, Message;
    /// 404: the API, stage or other resource does not exist (for this account and region).
    NotFound => ApiGatewayV2, "NotFoundException", 404, true, Message;
    /// 409: the resource already exists.
    Conflict => ApiGatewayV2, "ConflictException", 409, true, Message;
    /// 429: a per-API quota is reached; AWS answers these with type ConflictException and
    /// status 429 (`Maximum number of Stages for this API has been reached. …`).
    QuotaReached => ApiGatewayV2, "ConflictException", 429, true, Message;
    /// 429: throttled.
    TooManyRequests => ApiGatewayV2, "TooManyRequestsException", 429, true, Message;
    /// 403: the Authorization header is malformed (API Gateway's front door).
    IncompleteSignature => ApiGatewayV2, "IncompleteSignatureException", 403, false, Message;
    /// 403: no SigV4 signature at all (strict mode).
    MissingAuthenticationToken => ApiGatewayV2, "MissingAuthenticationTokenException", 403, false, Message;
    /// 403: the access key (or session token) is not known (strict mode).
    UnrecognizedClient => ApiGatewayV2, "UnrecognizedClientException", 403, false, Message;
    /// 403: the signature does not match, is expired or not yet valid, or is scoped to
    /// another service (strict mode).
    InvalidSignature => ApiGatewayV2, "InvalidSignatureException", 403, false, Message;
    /// 413: the body is larger than the configured limit.
    PayloadTooLarge => ApiGatewayV2, "PayloadTooLargeException", 413, false, Message;
    /// 404: no operation is bound to this method and path.
    UnknownOperation => ApiGatewayV2, "NotFoundException", 404, false, Message;
    /// 501: an operation of the AWS model that gatehouse does not implement yet.
    NotImplemented => ApiGatewayV2, "NotImplementedException", 501, false, Message;
    /// 500: an unexpected failure inside gatehouse (the store failed, a bug).
    Internal => ApiGatewayV2, "InternalServerErrorException", 500, true, Message;
    /// 503: the store is unavailable; SDKs retry this.
    ServiceUnavailable => ApiGatewayV2, "ServiceUnavailableException", 503, true, Message;
    /// 410, `@connections`: the connection is closed, never existed, or is still in
    /// `$connect`. AWS sends no body.
    Gone => ManagementApi, "GoneException", 410, false, Empty;
    /// 403, `@connections`: the caller may not manage this connection, or the URL names no
    /// stage.
    Forbidden => ManagementApi, "ForbiddenException", 403, false, Message;
    /// 413, `@connections`: the data is larger than a frame may be.
    DataTooLarge => ManagementApi, "PayloadTooLargeException", 413, false, Message;
    /// 429, `@connections`: too many requests, or the client's buffer is full.
    LimitExceeded => ManagementApi, "LimitExceededException", 429, false, Message;
}

impl ErrorKind {
    /// The exception name sent in `x-amzn-ErrorType`.
    pub const fn name(self) -> &'static str {
        self.wire().0
    }

    /// The HTTP status code.
    pub const fn status(self) -> u16 {
        self.wire().1
    }

    /// Whether `--fault` rules may answer with it (the management API's own errors only).
    pub const fn injectable(self) -> bool {
        self.wire().2
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

    /// A 429 ConflictException: the API has as many `{what}` as AWS's quota allows, in
    /// AWS's words (`Maximum number of Authorizers for this API has been reached. …`).
    pub fn quota(what: &str) -> Self {
        Self::new(
            ErrorKind::QuotaReached,
            format!("Maximum number of {what} for this API has been reached. Please contact AWS if you need additional {what}."),
        )
    }

    /// A 500 for failures the client cannot fix.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

/// Result alias for operations.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_model() {
        assert_eq!(ErrorKind::BadRequest.status(), 400);
        assert_eq!(ErrorKind::NotFound.status(), 404);
        assert_eq!(ErrorKind::Conflict.status(), 409);
        assert_eq!(ErrorKind::TooManyRequests.status(), 429);
        assert_eq!(ErrorKind::AccessDenied.status(), 403);
    }

    #[test]
    fn every_kind_is_in_the_table_once() {
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(ErrorKind::ALL.iter().position(|x| x == k), Some(i));
        }
    }
}
