//! AWS_PROXY integrations' other half: the function an integration URI names, the Invoke API
//! call (`POST {endpoint}/2015-03-31/functions/{name}/invocations`, which the Lambda runtime
//! interface emulator, `cargo lambda watch`, SAM's `start-lambda` and LocalStack serve), and
//! the function's answer read by AWS's rules. The events are [`super::event`]'s.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use serde_json::Value;

use gatehouse_http::body;

use crate::exchange::INVOKE_HEADERS;
use gatehouse_http::client::{CallError, HttpClient};

/// What a function name may hold unescaped in the Invoke path, as the AWS SDKs send it: the
/// unreserved characters (a name of letters, digits, `-` and `_` goes as it is).
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Calls functions through the Lambda Invoke API: each at its own endpoint when the
/// settings name one for it, else at the one every function is called at.
pub struct Invoker {
    client: HttpClient,
    /// Function name → Invoke API base URL.
    endpoints: BTreeMap<String, String>,
    /// The Invoke API every other function is called at (`--lambda-endpoint`).
    default: Option<String>,
}

/// The function an integration URI names, and its qualifier: a Lambda ARN
/// (`arn:aws:lambda:r:acct:function:name[:qualifier]`), API Gateway's invocation URI around
/// one, or a bare function name.
pub fn function(uri: &str) -> (String, Option<String>) {
    let arn = uri
        .split_once("/functions/")
        .map(|(_, rest)| rest.trim_end_matches("/invocations"))
        .unwrap_or(uri);
    match arn.split_once(":function:") {
        Some((_, rest)) => match rest.split_once(':') {
            Some((name, qualifier)) => (name.to_string(), Some(qualifier.to_string())),
            None => (rest.to_string(), None),
        },
        None => (arn.to_string(), None),
    }
}

impl Invoker {
    /// An invoker calling through `client`.
    pub fn new(
        client: HttpClient,
        endpoints: BTreeMap<String, String>,
        default: Option<String>,
    ) -> Invoker {
        Invoker {
            client,
            endpoints,
            default,
        }
    }

    /// Calls the function `uri` names with `event`, within `deadline`: the Invoke API's
    /// status, whether the function failed (`X-Amz-Function-Error`), and its output.
    pub async fn invoke(
        &self,
        uri: &str,
        event: impl Into<Bytes>,
        deadline: Duration,
    ) -> Result<(u16, bool, Bytes), InvokeError> {
        let url = self.url(uri)?;
        self.invoke_at(&url, event.into(), deadline).await
    }

    /// Calls the Invoke API at `url` (see [`Invoker::url`]) with `event`, within
    /// `deadline`.
    pub async fn invoke_at(
        &self,
        url: &str,
        event: Bytes,
        deadline: Duration,
    ) -> Result<(u16, bool, Bytes), InvokeError> {
        invoke(&self.client, url, event, deadline).await
    }

    /// The Invoke API URL the function `uri` names is called at.
    pub fn url(&self, uri: &str) -> Result<String, CallError> {
        let (name, qualifier) = function(uri);
        let endpoint = self
            .endpoints
            .get(&name)
            .or(self.default.as_ref())
            .ok_or_else(|| {
                CallError::Failed(format!(
                    "No Lambda endpoint is configured for function {name} (--lambda-endpoint, or lambda_endpoints in the settings file)"
                ))
            })?;
        let mut url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            endpoint.trim_end_matches('/'),
            percent_encoding::utf8_percent_encode(&name, PATH_SEGMENT)
        );
        if let Some(q) = qualifier {
            url = format!("{url}?Qualifier={q}");
        }
        Ok(url)
    }
}

/// The headers of an Invoke API call.
pub fn invoke_headers() -> http::HeaderMap {
    INVOKE_HEADERS
        .iter()
        .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
        .collect()
}

/// Calls the Invoke API at `url` with `event`: the Invoke API's status, whether the
/// function failed (`X-Amz-Function-Error`), and its output.
async fn invoke(
    client: &HttpClient,
    url: &str,
    event: Bytes,
    deadline: Duration,
) -> Result<(u16, bool, Bytes), InvokeError> {
    let mut req = http::Request::new(body::full(event));
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = url
        .parse()
        .map_err(|_| CallError::Failed(format!("invalid Lambda endpoint in {url}")))?;
    *req.headers_mut() = invoke_headers();
    let resp = client.call(req, deadline).await?;
    let status = Some(resp.status().as_u16());
    if resp.status().as_u16() == 429 {
        let error = CallError::Timeout;
        return Err(InvokeError { status, error });
    }
    if !resp.status().is_success() {
        let error = CallError::Failed(format!("The Lambda Invoke API answered {}", resp.status()));
        return Err(InvokeError { status, error });
    }
    let failed = resp.headers().contains_key("x-amz-function-error");
    Ok((resp.status().as_u16(), failed, resp.into_body()))
}

/// A call of the Invoke API that brought no function output: the status the Invoke API
/// answered (none when it did not answer: `$context.integrationStatus`), and why.
#[derive(Debug)]
pub struct InvokeError {
    /// The Invoke API's status.
    pub status: Option<u16>,
    /// Why there is no output.
    pub error: CallError,
}

impl From<CallError> for InvokeError {
    fn from(error: CallError) -> InvokeError {
        InvokeError {
            status: None,
            error,
        }
    }
}

fn set_header(resp: &mut Response<Bytes>, name: &str, value: &str) -> Result<(), String> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("invalid header name {name:?} in the Lambda response"))?;
    let v = HeaderValue::from_str(value)
        .map_err(|_| format!("invalid value for header {name} in the Lambda response"))?;
    resp.headers_mut().append(n, v);
    Ok(())
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The answer's `headers`, and in payload 1.0 its `multiValueHeaders` merged with them: each
/// distinct value of a name once (AWS's Lambda proxy output format). Payload 2.0 has no
/// `multiValueHeaders`: AWS ignores the member there, and so does this.
fn answer_headers(
    resp: &mut Response<Bytes>,
    version: &str,
    object: &serde_json::Map<String, Value>,
) -> Result<(), String> {
    let single = object.get("headers").and_then(Value::as_object);
    let multi = object
        .get("multiValueHeaders")
        .and_then(Value::as_object)
        .filter(|_| version == "1.0");
    let mut names: Vec<&String> = single.into_iter().flat_map(|h| h.keys()).collect();
    names.extend(multi.into_iter().flat_map(|h| h.keys()));
    let mut done: Vec<&str> = Vec::new();
    for name in names {
        if done.iter().any(|d| d.eq_ignore_ascii_case(name)) {
            continue;
        }
        done.push(name);
        let mut values: Vec<String> = Vec::new();
        let of = |h: &serde_json::Map<String, Value>| -> Vec<String> {
            h.iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .flat_map(|(_, v)| match v {
                    Value::Array(vs) => vs.iter().map(value_text).collect(),
                    v => vec![value_text(v)],
                })
                .collect()
        };
        for v in single.map(of).into_iter().chain(multi.map(of)).flatten() {
            if !values.contains(&v) {
                values.push(v);
            }
        }
        for v in &values {
            set_header(resp, name, v)?;
        }
    }
    Ok(())
}

/// The client's response from a function's output, by payload version. `Err` is the reason
/// the output is not a valid answer (the client then gets 500).
pub fn decode(version: &str, output: &[u8]) -> Result<Response<Bytes>, String> {
    let value: Value = serde_json::from_slice(output)
        .map_err(|_| "The Lambda function returned a response that is not JSON".to_string())?;
    let object = value.as_object().filter(|o| o.contains_key("statusCode"));
    let Some(object) = object else {
        if version == "1.0" {
            return Err("The Lambda function's response has no statusCode (payload format 1.0 requires one)".into());
        }
        // 2.0 without statusCode: 200, the output as JSON (a JSON string as its text).
        let text = match &value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut resp = Response::new(Bytes::from(text));
        set_header(&mut resp, "content-type", "application/json")?;
        return Ok(resp);
    };
    let status = object
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or("The Lambda function's statusCode is not a valid HTTP status")?;
    let body_text = object.get("body").map(value_text).unwrap_or_default();
    let base64 = object
        .get("isBase64Encoded")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let body = if base64 {
        STANDARD
            .decode(body_text.as_bytes())
            .map_err(|_| "The Lambda function's body is not valid base64".to_string())?
    } else {
        body_text.into_bytes()
    };
    let mut resp = Response::new(Bytes::from(body));
    *resp.status_mut() = status;
    answer_headers(&mut resp, version, object)?;
    if version != "1.0" {
        for c in object
            .get("cookies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            set_header(&mut resp, "set-cookie", &value_text(c))?;
        }
    }
    if !resp.headers().contains_key(http::header::CONTENT_TYPE) {
        let default = if version == "1.0" {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        set_header(&mut resp, "content-type", default)?;
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_go_on_the_invoke_path_as_sdks_send_them() {
        let invoker = Invoker::new(
            HttpClient::new(1024),
            BTreeMap::new(),
            Some("http://127.0.0.1:9001".into()),
        );
        assert_eq!(
            invoker
                .url("arn:aws:lambda:us-east-1:123456789012:function:my-fn_v2:live")
                .unwrap(),
            "http://127.0.0.1:9001/2015-03-31/functions/my-fn_v2/invocations?Qualifier=live"
        );
    }

    #[test]
    fn functions_from_uris() {
        assert_eq!(
            function("arn:aws:lambda:us-east-1:123456789012:function:hello"),
            ("hello".into(), None)
        );
        assert_eq!(
            function("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:hello:live/invocations"),
            ("hello".into(), Some("live".into()))
        );
        assert_eq!(function("hello"), ("hello".into(), None));
    }

    #[test]
    fn answers_by_awss_rules() {
        let r = decode("2.0", br#"{"message":"hi"}"#).unwrap();
        assert_eq!(
            (r.status(), r.body().as_ref()),
            (StatusCode::OK, &br#"{"message":"hi"}"#[..])
        );
        assert_eq!(r.headers()["content-type"], "application/json");
        let r = decode("2.0", br#""Hello""#).unwrap();
        assert_eq!(r.body().as_ref(), b"Hello");
        let r = decode(
            "2.0",
            br#"{"statusCode":201,"body":"aGk=","isBase64Encoded":true,"cookies":["a=1","b=2"]}"#,
        )
        .unwrap();
        assert_eq!((r.status().as_u16(), r.body().as_ref()), (201, &b"hi"[..]));
        assert_eq!(r.headers().get_all("set-cookie").iter().count(), 2);
        assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
        assert!(decode("2.0", b"not json").is_err());
        assert!(decode("1.0", br#"{"body":"x"}"#).is_err());
        assert!(decode("2.0", br#"{"statusCode":99}"#).is_err());
        let r = decode(
            "1.0",
            br#"{"statusCode":200,"body":"x","multiValueHeaders":{"x-a":["1","2"]}}"#,
        )
        .unwrap();
        assert_eq!(r.headers().get_all("x-a").iter().count(), 2);
    }

    fn values(r: &Response<Bytes>, name: &str) -> Vec<String> {
        r.headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    /// Payload 2.0 answers have no `multiValueHeaders` (AWS's 2.0 response format; the API
    /// Gateway team's answer in serverless-java-container#377): the member is ignored, its
    /// content type too.
    #[test]
    fn payload_2_0_ignores_multi_value_headers() {
        let r = decode(
            "2.0",
            br#"{"statusCode":200,"body":"x","headers":{"x-b":"1"},"multiValueHeaders":{"x-a":["1","2"],"content-type":["application/json"]}}"#,
        )
        .unwrap();
        assert!(values(&r, "x-a").is_empty());
        assert_eq!(values(&r, "x-b"), ["1"]);
        assert_eq!(values(&r, "content-type"), ["text/plain; charset=utf-8"]);
    }

    /// Payload 1.0: a name in both `headers` and `multiValueHeaders` gets each distinct value
    /// once (the Lambda proxy output format merges the two lists).
    #[test]
    fn payload_1_0_merges_headers_and_multi_value_headers() {
        let r = decode(
            "1.0",
            br#"{"statusCode":200,"body":"x","headers":{"x-a":"1","x-c":"3"},"multiValueHeaders":{"X-A":["1","2"],"x-d":["4","4"]}}"#,
        )
        .unwrap();
        assert_eq!(values(&r, "x-a"), ["1", "2"]);
        assert_eq!(values(&r, "x-c"), ["3"]);
        assert_eq!(values(&r, "x-d"), ["4"]);
    }
}
