//! The one place an answer becomes an HTTP response, for every service gatehouse answers
//! as: an operation's reply with the table's success status, or an error with the status,
//! `x-amzn-ErrorType` and body the error table gives its kind (`{"message": ...}`, or none).
//! Request-id headers are added by the front that answered.

use bytes::Bytes;
use gatehouse_core::error::{self, ApiError};
use gatehouse_http::body::{self, Body};
use http::{HeaderValue, Response, StatusCode};

use crate::ops::Reply;

/// A reply's response with `status`.
pub fn reply(status: StatusCode, reply: Reply) -> Response<Body> {
    match reply.body {
        Some(bytes) => {
            let mut r = with_status(status, body::full(bytes));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static(reply.content_type),
            );
            r
        }
        None => with_status(status, body::empty()),
    }
}

/// An error's response: status from the error table, `x-amzn-ErrorType`, and the body its
/// kind has (JSON `{"message": ...}`, or none).
pub fn error(e: ApiError) -> Response<Body> {
    let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match e.kind.body() {
        error::Body::Message => {
            let text = serde_json::json!({ "message": e.message }).to_string();
            let mut r = with_status(status, body::full(Bytes::from(text)));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        error::Body::Empty => with_status(status, body::empty()),
    };
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(e.kind.name()));
    response
}

fn with_status(status: StatusCode, body: Body) -> Response<Body> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::error::ErrorKind;
    use http_body::Body as _;

    #[test]
    fn each_service_s_errors_are_rendered_from_the_table() {
        let r = error(ApiError::not_found("Invalid API identifier specified"));
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers()["x-amzn-errortype"], "NotFoundException");
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.body().size_hint().exact(), Some(46));
        // The @connections API's 410 has no body at all, as AWS sends it.
        let r = error(ApiError::new(ErrorKind::Gone, ""));
        assert_eq!(r.status(), 410);
        assert_eq!(r.headers()["x-amzn-errortype"], "GoneException");
        assert!(r.headers().get("content-type").is_none());
        assert!(r.body().is_end_stream());
        let r = error(ApiError::new(ErrorKind::Forbidden, "Forbidden"));
        assert_eq!(
            (
                r.status().as_u16(),
                r.headers()["x-amzn-errortype"].to_str().unwrap()
            ),
            (403, "ForbiddenException")
        );
    }
}
