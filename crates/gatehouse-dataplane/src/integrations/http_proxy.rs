//! HTTP_PROXY integrations: the request passed to the backend the integration URI names
//! (path variables and stage variables substituted; the `$default` route appends the whole
//! request path), the answer passed back; hop-by-hop headers dropped both ways.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use http::uri::{Authority, Scheme};
use http::{header, HeaderValue, Method, Response, Uri};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use bytes::Bytes;
use gatehouse_core::model::integration::Integration;

use gatehouse_http::body::{self, Body};
use gatehouse_http::client::{CallError, HttpClient, UNREADABLE_ANSWER};
use gatehouse_http::framing::{self, Headers};

use super::mapping;
use crate::context::{Invocation, Routed};
use crate::exchange::{shown, Answer, HeaderText, Recorded, Sent, SentHeaders, Url};
use crate::limits::MAX_BODY;

/// What a path variable's value may hold unescaped in a URI path.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%');

/// `${stageVariables.name}` replaced by the stage's variables (unknown ones by nothing); the
/// text itself when it names none.
pub fn substitute_stage_variables<'t>(
    text: &'t str,
    vars: &BTreeMap<String, String>,
) -> Cow<'t, str> {
    if !text.contains("${") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${stageVariables.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${stageVariables.".len()..];
        match after.find('}') {
            Some(end) => {
                if let Some(v) = vars.get(&after[..end]) {
                    out.push_str(v);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Query pairs encoded back into a query string.
pub fn encode_query(pairs: &[(String, String)]) -> String {
    const QUERY: &AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, QUERY),
                utf8_percent_encode(v, QUERY)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The backend URL for a request: the integration URI with stage variables and path
/// variables (`{id}`, `{proxy}`) filled in, the request path appended for the `$default`
/// route (`default_route`; a `path` starting with `=` replaces the URI's path instead, for
/// `overwrite:path`), and the request's query string added.
pub fn backend_url(
    uri: &str,
    vars: &BTreeMap<String, String>,
    params: &[(String, String)],
    default_route: bool,
    path: &str,
    query: Option<&str>,
) -> String {
    let mut url = substitute_stage_variables(uri, vars);
    if url.bytes().any(|b| b == b'{') {
        for (name, value) in params {
            let encoded = utf8_percent_encode(value, PATH).to_string();
            url = Cow::Owned(
                url.replace(&format!("{{{name}+}}"), &encoded)
                    .replace(&format!("{{{name}}}"), &encoded),
            );
        }
    }
    let (base, existing) = match url.bytes().position(|b| b == b'?') {
        Some(i) => (&url[..i], &url[i + 1..]),
        None => (&url[..], ""),
    };
    let query = query.unwrap_or("");
    let mut out = String::with_capacity(base.len() + path.len() + existing.len() + query.len() + 2);
    if let Some(p) = path.strip_prefix("=") {
        // `overwrite:path`: the mapped path replaces the URI's.
        let origin_end = base
            .find("://")
            .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
            .unwrap_or(base.len());
        out.push_str(&base[..origin_end]);
        out.push_str(p);
    } else if default_route {
        out.push_str(base.trim_end_matches('/'));
        out.push_str(path);
    } else {
        out.push_str(base);
    }
    for (i, part) in [existing, query]
        .into_iter()
        .filter(|q| !q.is_empty())
        .enumerate()
    {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(part);
    }
    out
}

/// One request answered through an HTTP_PROXY integration.
pub struct Proxied<'a> {
    /// The route's integration.
    pub integration: &'a Integration,
    /// Its URI (`integrationUri`).
    pub uri: &'a str,
    /// The URI parsed, when it names no stage variable.
    pub parsed: Option<&'a Uri>,
    /// The route's path parameters.
    pub params: &'a [(String, String)],
    /// The route's path template (empty for `$default`, whose URI gets the request path
    /// appended).
    pub template: &'a str,
    /// The stage's variables.
    pub stage_variables: &'a BTreeMap<String, String>,
}

/// The request as parameter mapping changed it: headers, path (`=`-prefixed when it
/// replaces the URI's) and query.
type MappedRequest = (http::HeaderMap, String, Option<String>);

/// Where the backend is called: its origin (from the URI parsed when the deployment was
/// compiled, or from one built for this request) and the request target.
struct Backend<'a> {
    parsed: Option<&'a Uri>,
    built: Option<Uri>,
    target: String,
}

impl Backend<'_> {
    fn origin(&self) -> Option<(&Scheme, &Authority)> {
        let uri = self.parsed.or(self.built.as_ref())?;
        Some((uri.scheme()?, uri.authority()?))
    }
}

impl<'a> Proxied<'a> {
    /// What parameter mapping reads, for this request (and the backend's answer).
    fn sources<'s>(
        &'s self,
        inv: &'s Invocation,
        response: Option<mapping::Answer<'s>>,
    ) -> mapping::Sources<'s> {
        mapping::Sources {
            request: Routed {
                inv,
                template: self.template,
                params: self.params,
                stage_variables: self.stage_variables,
            },
            response,
        }
    }

    /// The backend's answer to the client's request (`body` streams to it): request
    /// parameters mapped, the backend URL built, the call made within `deadline`, response
    /// parameters mapped. The backend's status goes in `inv.facts.integration_status`.
    pub async fn answer(
        &self,
        client: &HttpClient,
        inv: &mut Invocation,
        body: Body,
        deadline: Duration,
    ) -> Result<Response<Body>, CallError> {
        let mapped = self.map_request(inv);
        let resp = {
            // Without parameter mapping the request's own headers, path and query go on as
            // they are (not copied).
            let (headers, path, query) = match &mapped {
                Some((h, p, q)) => (h, p.as_str(), q.as_deref()),
                None => (&inv.incoming.headers, inv.path(), inv.incoming.query()),
            };
            // Headers the client's `connection` header names are its connection's alone.
            let trimmed = framing::without_named(headers);
            let headers = trimmed.as_ref().unwrap_or(headers);
            let backend = self.backend(mapped.is_some(), path, query)?;
            let origin = backend.origin().ok_or_else(|| not_http(self.uri))?;
            let method = match self.integration.integration_method.as_deref() {
                Some(m) if m != "ANY" => m,
                _ => inv.incoming.method.as_str(),
            };
            let method = Method::from_bytes(method.as_bytes())
                .map_err(|_| CallError::Failed(format!("invalid method {method}")))?;
            // In place of any the client sent; `host` is the backend's (the client writes it).
            let extra = forwarded(&inv.facts.domain_name, &inv.incoming.source_ip)
                .map(|v| [(header::FORWARDED, v)]);
            let noted = inv
                .facts
                .exchange
                .is_some()
                .then(|| (origin.0.clone(), origin.1.clone()));
            let extra_headers = extra.as_ref().map_or(&[][..], |e| &e[..]);
            let to = (origin, backend.target.as_str());
            let called = call(client, to, &method, headers, body, extra_headers, deadline).await;
            let mapped = mapped.is_some();
            let sent = noted.map(|o| sent(o, method, backend.target, headers, mapped, extra));
            (sent, called)
        };
        let (sent, resp) = resp;
        if let Some(x) = inv.exchange() {
            x.sent = sent;
        }
        let resp = resp?;
        inv.facts.integration_status = Some(resp.status().as_u16());
        if let Some(x) = inv.exchange() {
            x.answer = Some(Answer {
                status: resp.status().as_u16(),
                headers: Some(HeaderText::of(resp.headers())),
                body: Recorded::None,
            });
        }
        let mapped = self.map_response(inv, resp).await;
        if let (Some(x), Ok(_)) = (inv.exchange(), &mapped) {
            x.passed_on = !self.maps_response();
        }
        mapped
    }

    /// Whether the integration maps its answer (`responseParameters`).
    fn maps_response(&self) -> bool {
        self.integration
            .response_parameters
            .as_ref()
            .is_some_and(|p| !p.is_empty())
    }

    /// The request as the integration's `requestParameters` map it, if it maps any.
    fn map_request(&self, inv: &Invocation) -> Option<MappedRequest> {
        let params = self
            .integration
            .request_parameters
            .as_ref()
            .filter(|p| !p.is_empty())?;
        let m = mapping::request(params, &self.sources(inv, None));
        let path = match m.path {
            Some(p) => format!("={p}"),
            None => inv.path().to_string(),
        };
        Some((m.headers, path, Some(encode_query(&m.query))))
    }

    /// Where the backend is called for `path` and `query`. A URI parsed when its deployment
    /// was compiled takes the request's path and query as they are (both valid in a URI, as
    /// the client's request line was); one with stage variables or a mapped path is built
    /// whole and parsed.
    fn backend(
        &self,
        mapped: bool,
        path: &str,
        query: Option<&str>,
    ) -> Result<Backend<'a>, CallError> {
        let url_from = |base: &str| {
            backend_url(
                base,
                self.stage_variables,
                self.params,
                self.template.is_empty(),
                path,
                query,
            )
        };
        let quick = self.parsed.filter(|_| !mapped).and_then(|base| {
            let mut target = url_from(base.path_and_query().map_or("", |p| p.as_str()));
            if target.is_empty() || target.starts_with('?') {
                target.insert(0, '/');
            }
            base.scheme()?;
            base.authority()?;
            // (A byte a request line cannot carry sends it the long way, to be refused.)
            target
                .bytes()
                .all(|b| b > b' ' && b != 0x7F && b != b'#')
                .then_some(target)
        });
        if let Some(target) = quick {
            return Ok(Backend {
                parsed: self.parsed,
                built: None,
                target,
            });
        }
        let url = url_from(self.uri);
        let built = parse_url(&url)?;
        if built.authority().is_none() {
            return Err(not_http(&url));
        }
        let target = built
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        Ok(Backend {
            parsed: None,
            built: Some(built),
            target,
        })
    }

    /// The backend's answer as the integration's `responseParameters` map it (for its
    /// status), if it maps any.
    async fn map_response(
        &self,
        inv: &Invocation,
        resp: Response<Body>,
    ) -> Result<Response<Body>, CallError> {
        let Some(params) = self
            .integration
            .response_parameters
            .as_ref()
            .filter(|p| !p.is_empty())
        else {
            return Ok(resp);
        };
        let (mut parts, answer) = resp.into_parts();
        // `$response.body.…` needs the answer whole; otherwise it streams on.
        let (answer, bytes) = if mapping::reads_response_body(params) {
            let bytes = body::read(answer, MAX_BODY)
                .await
                .map_err(|_| CallError::Failed(UNREADABLE_ANSWER.into()))?;
            (body::full(bytes.clone()), bytes)
        } else {
            (answer, Bytes::new())
        };
        let headers = parts.headers.clone();
        let answered = mapping::Answer {
            headers: &headers,
            body: &bytes,
        };
        mapping::response(params, &mut parts, &self.sources(inv, Some(answered)));
        Ok(Response::from_parts(parts, answer))
    }
}

/// An integration URI as a URL an HTTP_PROXY integration can call.
fn parse_url(url: &str) -> Result<Uri, CallError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| CallError::Failed(format!("The integration URI {url} is not a valid URL")))?;
    match uri.scheme_str() {
        Some("http" | "https") => Ok(uri),
        _ => Err(not_http(url)),
    }
}

fn not_http(url: &str) -> CallError {
    CallError::Failed(format!(
        "The integration URI {url} is not an http:// or https:// URL"
    ))
}

/// The `Forwarded` header the backend gets, in place of any the client sent.
fn forwarded(domain: &str, ip: &str) -> Option<HeaderValue> {
    let mut forwarded = String::with_capacity(2 * domain.len() + ip.len() + 30);
    for part in ["by=", domain, ";for=", ip, ";host=", domain, ";proto=https"] {
        forwarded.push_str(part);
    }
    HeaderValue::try_from(forwarded).ok()
}

/// The integration request as the inspector keeps it: the backend's origin and the
/// request target, and (when parameter mapping made them) the headers it went out with.
fn sent(
    (scheme, authority): (Scheme, Authority),
    method: Method,
    target: String,
    headers: &http::HeaderMap,
    mapped: bool,
    extra: Option<[(header::HeaderName, HeaderValue); 1]>,
) -> Sent {
    let forwarded = extra.map(|[(_, v)]| v);
    let headers = match mapped {
        false => SentHeaders::Client { forwarded },
        true => {
            let host = Some(authority.as_str());
            let pairs = shown::passed_on(headers, host, forwarded.as_ref());
            SentHeaders::Own(HeaderText::from_pairs(&pairs))
        }
    };
    Sent {
        kind: "HTTP_PROXY",
        method,
        url: Url::Backend(scheme, authority, target),
        headers,
        body: Recorded::None,
    }
}

/// Calls the backend at `origin`, asking for `target`, with the client's request (`method`
/// as the integration says; `body` streams to the backend as it arrives; `extra` headers in
/// place of any of the client's of the same name), within `deadline` for the answer's
/// head; the answer's body streams back, held to the 10 MB limit.
async fn call(
    client: &HttpClient,
    ((scheme, authority), target): ((&Scheme, &Authority), &str),
    method: &Method,
    headers: &http::HeaderMap,
    body: Body,
    extra: &[(header::HeaderName, HeaderValue)],
    deadline: Duration,
) -> Result<Response<Body>, CallError> {
    // A body of a stated length (within the limit, checked before) is held to it by the
    // connection that reads it; only one of no stated length needs counting here.
    let body = match http_body::Body::size_hint(&body).exact() {
        Some(n) if n <= MAX_BODY as u64 => body,
        _ => body::limited(body, MAX_BODY),
    };
    // The client's headers go on as they are, less those that belong to its connection.
    let headers = Headers {
        map: headers,
        skip: framing::is_connection_header,
        extra,
    };
    let resp = client
        .forward(method, scheme, authority, target, headers, body, deadline)
        .await?;
    // (The client has read the answer's framing headers and passes none of them on.) The
    // body's length passes on when the backend gave one (it is not re-chunked); a body of no
    // stated length is held to the limit as it streams.
    let (parts, answer) = resp.into_parts();
    let answer = match http_body::Body::size_hint(&answer).exact() {
        Some(n) if n > MAX_BODY as u64 => {
            return Err(CallError::Failed(
                "The integration's response is larger than 10 MB".into(),
            ))
        }
        Some(_) => answer,
        None => body::limited(answer, MAX_BODY),
    };
    Ok(Response::from_parts(parts, answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_urls() {
        let vars = BTreeMap::from([("host".to_string(), "backend:8080".to_string())]);
        let p = vec![("proxy".to_string(), "a b/c".to_string())];
        assert_eq!(
            backend_url(
                "http://${stageVariables.host}/pets/{proxy}",
                &vars,
                &p,
                false,
                "/x",
                Some("q=1")
            ),
            "http://backend:8080/pets/a%20b/c?q=1"
        );
        assert_eq!(
            backend_url("http://b/", &vars, &[], true, "/store/checkout", None),
            "http://b/store/checkout"
        );
        assert_eq!(
            backend_url("http://b/x?a=1", &vars, &[], false, "/", Some("b=2")),
            "http://b/x?a=1&b=2"
        );
    }
}
