//! The one place an answer becomes an HTTP response: an operation's reply with the table's
//! success status, or an error with its status, `x-amzn-ErrorType` and `{"message": ...}`.
//! Request-id headers are added by the pipeline for every response.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::error::ApiError;

use crate::ops::Reply;

/// A reply's response with `status`.
pub fn reply(status: StatusCode, reply: Reply) -> Response {
    match reply.body {
        Some(body) => {
            let mut r = (status, body).into_response();
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static(reply.content_type));
            r
        }
        None => (status, Body::empty()).into_response(),
    }
}

/// An error's response: status from the error table, `x-amzn-ErrorType`, JSON body
/// `{"message": ...}`.
pub fn error(e: ApiError) -> Response {
    let status = StatusCode::from_u16(e.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({ "message": e.message }).to_string();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("x-amzn-errortype", HeaderValue::from_static(e.kind.name()));
    response
}
