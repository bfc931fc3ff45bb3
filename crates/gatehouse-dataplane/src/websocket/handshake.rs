//! The opening handshake (RFC 6455 §4.2): what makes a request one, the `101` that accepts
//! it, the gateway's refusals, and the handshake's headers as the `$connect` event carries
//! them.

use bytes::Bytes;
use gatehouse_http::body::{self, Body};
use gatehouse_http::server::upgrade::OnUpgrade;
use http::{header, HeaderValue, Response, StatusCode};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::context::Incoming;

/// Why a request cannot open a WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotOpening {
    /// It asks for no upgrade at all (a plain HTTP request to a WebSocket stage).
    NoUpgrade,
    /// It asks, but not as RFC 6455 says (method, `Upgrade`, `Connection`, key).
    Malformed,
    /// It speaks another version of the protocol than 13.
    Version,
}

/// The `Sec-WebSocket-Accept` for a request that opens a WebSocket, or why it does not.
pub fn accept_key(incoming: &Incoming) -> Result<String, NotOpening> {
    let upgrade = incoming.header("upgrade");
    if upgrade.is_none() {
        return Err(NotOpening::NoUpgrade);
    }
    let connection_upgrade = incoming
        .headers
        .get_all(header::CONNECTION)
        .iter()
        .any(|v| gatehouse_http::framing::has_token(v.as_bytes(), b"upgrade"));
    let websocket = upgrade.is_some_and(|u| u.trim().eq_ignore_ascii_case("websocket"));
    if incoming.method != http::Method::GET || !connection_upgrade || !websocket {
        return Err(NotOpening::Malformed);
    }
    if incoming.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Err(NotOpening::Version);
    }
    let key = incoming
        .header("sec-websocket-key")
        .map(str::trim)
        .filter(|k| is_nonce(k))
        .ok_or(NotOpening::Malformed)?;
    Ok(derive_accept_key(key.as_bytes()))
}

/// Whether `key` is the base64 of 16 bytes, as a client's nonce must be.
fn is_nonce(key: &str) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(key)
        .is_ok_and(|k| k.len() == 16)
}

/// The gateway's answer to a request that does not open a WebSocket: 426 (with
/// `upgrade: websocket`) to a plain request, 400 to a malformed handshake (with the version
/// it speaks when the version was wrong).
pub fn refusal(why: NotOpening) -> Response<Body> {
    let (status, message) = match why {
        NotOpening::NoUpgrade => (StatusCode::UPGRADE_REQUIRED, "Upgrade Required"),
        NotOpening::Malformed | NotOpening::Version => (StatusCode::BAD_REQUEST, "Bad Request"),
    };
    let mut resp = answer(status, message);
    match why {
        NotOpening::NoUpgrade => {
            resp.headers_mut()
                .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        NotOpening::Version => {
            resp.headers_mut()
                .insert("sec-websocket-version", HeaderValue::from_static("13"));
        }
        NotOpening::Malformed => {}
    }
    resp
}

/// A refused handshake's answer: `status`, `{"message": …}`.
pub fn answer(status: StatusCode, message: &str) -> Response<Body> {
    let text = serde_json::json!({ "message": message }).to_string();
    let mut resp = Response::new(body::full(Bytes::from(text)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A handshake refused with `status` by the `$connect` integration (its body is not passed
/// on).
pub fn refused_by_integration(status: u16) -> Response<Body> {
    let mut resp = Response::new(body::empty());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    resp
}

/// The `101` that accepts a handshake: the accept key, the subprotocol `$connect` chose (if
/// it chose one), and who takes the connection.
pub fn switching(accept: &str, subprotocol: Option<&str>, takes: OnUpgrade) -> Response<Body> {
    let mut resp = Response::new(body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = resp.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    if let Ok(v) = HeaderValue::from_str(accept) {
        headers.insert("sec-websocket-accept", v);
    }
    if let Some(v) = subprotocol.and_then(|p| HeaderValue::from_str(p).ok()) {
        headers.insert("sec-websocket-protocol", v);
    }
    resp.extensions_mut().insert(takes);
    resp
}

/// The handshake's headers as the `$connect` event carries them: each as the client wrote
/// its name (in the order sent), less `Connection`, `Upgrade` and `Content-Length`; then
/// `X-Amzn-Trace-Id` (unless sent), `X-Forwarded-For`, `X-Forwarded-Port` and
/// `X-Forwarded-Proto` as API Gateway adds them.
pub fn event_headers(incoming: &Incoming, trace_id: &str) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(incoming.headers.len() + 4);
    let mut seen: Vec<(http::HeaderName, usize)> = Vec::new();
    for raw in &incoming.header_names {
        let Ok(name) = http::HeaderName::from_bytes(raw) else {
            continue;
        };
        if matches!(
            name,
            header::CONNECTION | header::UPGRADE | header::CONTENT_LENGTH
        ) {
            continue;
        }
        // The next value of this name (a name sent twice has two values, in order).
        let nth = match seen.iter_mut().find(|(n, _)| *n == name) {
            Some((_, i)) => {
                *i += 1;
                *i
            }
            None => {
                seen.push((name.clone(), 0));
                0
            }
        };
        if let Some(value) = incoming.headers.get_all(&name).iter().nth(nth) {
            let name = String::from_utf8_lossy(raw).into_owned();
            out.push((name, String::from_utf8_lossy(value.as_bytes()).into_owned()));
        }
    }
    if !out
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("x-amzn-trace-id"))
    {
        out.push(("X-Amzn-Trace-Id".into(), trace_id.into()));
    }
    let forwarded_for = out
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-forwarded-for"))
        .map(|(_, v)| format!("{v}, {}", incoming.source_ip))
        .unwrap_or_else(|| incoming.source_ip.to_string());
    out.retain(|(n, _)| !n.to_ascii_lowercase().starts_with("x-forwarded-"));
    out.push(("X-Forwarded-For".into(), forwarded_for));
    out.push(("X-Forwarded-Port".into(), "443".into()));
    out.push(("X-Forwarded-Proto".into(), "https".into()));
    out
}
