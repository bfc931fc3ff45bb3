//! `gatehouse deploy`: a template read here (the SAM transform run here too) and sent to a
//! running gatehouse's `PUT /_gatehouse/stacks/{name}`, which applies it in one
//! transaction; signed with `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` when they are set
//! (a strict-mode server needs that).

use std::time::Duration;

use bytes::Bytes;
use gatehouse_core::model::time;
use gatehouse_http::body;
use gatehouse_http::client::HttpClient;
use http::{HeaderMap, HeaderValue, Method, Request};
use serde_json::Value;

use crate::auth::sigv4::sign::Signer;
use crate::settings::template::DeployArgs;
use crate::template::{self, report};

/// Deploys (or deletes) the stack; the lines to print.
pub async fn deploy(args: &DeployArgs) -> Result<Vec<String>, String> {
    let (request, _) = template::request_from(&args.template, &args.region).await?;
    let path = format!("/_gatehouse/stacks/{}", request.stack_name);
    if args.delete {
        send(args, Method::DELETE, &path, Bytes::new()).await?;
        return Ok(vec![format!(
            "gatehouse: stack {} deleted",
            request.stack_name
        )]);
    }
    let body = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    let answer = send(args, Method::PUT, &path, body.into()).await?;
    Ok(report::lines(&answer))
}

async fn send(args: &DeployArgs, method: Method, path: &str, body: Bytes) -> Result<Value, String> {
    let endpoint = args.endpoint.trim_end_matches('/');
    let uri: http::Uri = format!("{endpoint}{path}")
        .parse()
        .map_err(|_| format!("--endpoint {endpoint} is not a URL"))?;
    let host = uri
        .authority()
        .map(|a| a.to_string())
        .ok_or_else(|| format!("--endpoint {endpoint} names no host"))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::HOST,
        HeaderValue::from_str(&host).map_err(|e| e.to_string())?,
    );
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let (Ok(key), Ok(secret)) = (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        let signer = Signer {
            access_key: &key,
            secret: &secret,
            region: &args.region,
            service: "apigateway",
        };
        signer.sign(
            method.as_str(),
            path,
            None,
            &mut headers,
            &body,
            &time::amz_date(time::now()),
        );
    }
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .body(body::full(body))
        .map_err(|e| e.to_string())?;
    *req.headers_mut() = headers;
    let client = HttpClient::new(64 * 1024 * 1024);
    let resp = client
        .call(req, Duration::from_secs(300))
        .await
        .map_err(|e| format!("cannot reach {endpoint}: {e}"))?;
    let status = resp.status();
    let value: Value = serde_json::from_slice(resp.body()).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(value);
    }
    let message = value
        .get("message")
        .or_else(|| value.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    Err(format!(
        "{endpoint} refused the stack ({status}): {message}"
    ))
}
