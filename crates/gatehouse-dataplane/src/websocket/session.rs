//! An open connection, served in its own task until it closes: text messages are routed by
//! the API's route selection expression and go to their route's integration (each in a task
//! of its own, as AWS invokes per message), `@connections` posts and closes arrive through the
//! registry, and the connection closes on the client's close, a broken connection, the idle
//! and maximum-duration limits, an oversize message (1009), a binary one (1003), a
//! `DELETE @connections` (1000) or the server's shutdown (1001). Then `$disconnect` runs,
//! once, with the close's code and reason; it cannot stop the close.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use gatehouse_core::model::time;
use gatehouse_http::server::upgrade::Upgraded;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use super::events::{self, Common};
use super::ids;
use super::integrate::{Failed, Sent};
use super::registry::{Command, Info};
use super::select;
use super::Env;
use crate::context::{Incoming, Invocation, WebSocketFacts};
use crate::exchange::Exchange;
use crate::observe::{self, access_log};
use crate::routing::resolve::Resolved;
use crate::routing::router::{Compiled, Router};
use crate::routing::target::Target;

/// AWS's frame and message limits (bigger → close 1009).
const MAX_FRAME: usize = 32 * 1024;
const MAX_MESSAGE: usize = 128 * 1024;

/// How long `$disconnect` may take when the server is shutting down.
const DISCONNECT_GRACE: Duration = Duration::from_secs(5);

/// A connection and the stage it was made on.
pub struct Bound {
    /// What is known of it.
    pub info: Info,
    /// Resolves its stage (by name) for each event.
    pub target: Target,
}

/// How a connection closed: the code and reason `$disconnect` gets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Closed {
    code: u16,
    reason: String,
}

impl Closed {
    fn new(code: u16, reason: &str) -> Closed {
        Closed {
            code,
            reason: reason.to_string(),
        }
    }
}

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;

/// Serves an upgraded connection until it closes, then runs `$disconnect`.
pub async fn run(env: Arc<Env>, bound: Bound, upgraded: Upgraded) {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_frame_size(Some(MAX_FRAME))
        .max_message_size(Some(MAX_MESSAGE));
    let Upgraded {
        io,
        read,
        mut shutdown,
    } = upgraded;
    let ws =
        WebSocketStream::from_partially_read(io, Vec::from(read), Role::Server, Some(config)).await;
    let (live, mut commands) = env.registry.open(bound.info.clone());
    let bound = Arc::new(bound);
    let (mut sink, mut stream) = ws.split();
    let started = Instant::now();
    let until = started + env.limits.max_duration;
    let mut idle_until = started + env.limits.idle;
    let closed = loop {
        tokio::select! {
            incoming = stream.next() => {
                let now = Instant::now();
                match incoming {
                    Some(Ok(Message::Text(text))) => {
                        idle_until = now + env.limits.idle;
                        live.touch(time::now_millis());
                        env.metrics.message_in();
                        let (env, bound, tx) = (env.clone(), bound.clone(), Some(live.sender()));
                        tokio::spawn(async move { message(&env, &bound, text.as_str(), tx).await });
                    }
                    Some(Ok(Message::Binary(_))) => {
                        break close(&mut sink, 1003, "Binary frames are not supported").await;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        // tungstenite has queued the reply (the client's code echoed); send it.
                        let _ = sink.flush().await;
                        break client_closed(frame);
                    }
                    Some(Ok(_)) => {}
                    Some(Err(WsError::Capacity(_))) => {
                        break close(&mut sink, 1009, "Message too big").await;
                    }
                    Some(Err(_)) | None => break Closed::new(1006, "Connection Closed Abnormally"),
                }
            }
            command = commands.recv() => match command {
                Some(Command::Send(data)) => {
                    idle_until = Instant::now() + env.limits.idle;
                    live.touch(time::now_millis());
                    if send(&mut sink, data).await.is_err() {
                        break Closed::new(1006, "Connection Closed Abnormally");
                    }
                    env.metrics.message_out();
                }
                Some(Command::Close) => {
                    let _ = close(&mut sink, 1000, "").await;
                    break Closed::new(1000, "Connection Closed Normally");
                }
                None => break Closed::new(1006, "Connection Closed Abnormally"),
            },
            _ = sleep_until(idle_until) => break close(&mut sink, 1001, "Going away").await,
            _ = sleep_until(until) => break close(&mut sink, 1001, "Going away").await,
            _ = shutdown.changed() => break close(&mut sink, 1001, "Going away").await,
        }
    };
    // The socket closes now: `$disconnect` runs after the close and cannot hold it open.
    drop((sink, stream));
    env.registry.close(&bound.info.id);
    env.metrics.disconnected(closed.code);
    let shutting_down = *shutdown.borrow();
    let disconnect = disconnect(&env, &bound, &closed);
    if shutting_down {
        let _ = tokio::time::timeout(DISCONNECT_GRACE, disconnect).await;
    } else {
        disconnect.await;
    }
}

/// `data` as one message: text when it is UTF-8, else binary.
async fn send(sink: &mut Sink, data: Bytes) -> Result<(), WsError> {
    let message = match String::from_utf8(data.to_vec()) {
        Ok(text) => Message::text(text),
        Err(_) => Message::binary(data),
    };
    sink.send(message).await
}

/// Closes the connection from this side with `code` and `reason`.
async fn close(sink: &mut Sink, code: u16, reason: &str) -> Closed {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
    let reason = match code {
        1003 => "Unsupported data",
        _ => reason,
    };
    Closed::new(code, reason)
}

/// How a close the client started reads in `$disconnect`.
fn client_closed(frame: Option<CloseFrame>) -> Closed {
    match frame {
        Some(f) => Closed {
            code: u16::from(f.code),
            reason: f.reason.to_string(),
        },
        None => Closed::new(1005, "Client-side close frame status not set"),
    }
}

/// The connection's stage and deployment now.
async fn stage(env: &Env, bound: &Bound) -> Option<(Arc<Resolved>, Arc<Router>)> {
    let r = env.resolver.resolve(&bound.target, "/").await.ok()?;
    let router = match r.router() {
        Some(router) => router,
        None => env.resolver.router_of(&r).await.ok()?,
    };
    Some((r, router))
}

/// A message's route: the one its selection expression names, else `$default`.
fn route<'r>(router: &'r Router, expression: &str, text: &str) -> Option<&'r Compiled> {
    select::route_key(expression, text)
        .and_then(|key| router.keyed(&key))
        .filter(|r| r.key.as_ref() != "$connect" && r.key.as_ref() != "$disconnect")
        .or_else(|| router.keyed("$default"))
}

/// Serves one text message: routed, sent to its integration, the answer sent back when the
/// route is two-way; an error frame when nothing serves it.
async fn message(env: &Env, bound: &Bound, text: &str, reply: Option<mpsc::Sender<Command>>) {
    let request_id = ids::next();
    let message_id = ids::next();
    let Some((r, router)) = stage(env, bound).await else {
        frame_error(&reply, bound, &request_id, "Forbidden").await;
        return;
    };
    // The message's event, for the access log and the inspector, once its status is known.
    let record = |route_key: &str, status| {
        let event = Event {
            event_type: "MESSAGE",
            route_key,
            message_id: Some(&message_id),
            request_id: &request_id,
            status,
            body: text.as_bytes(),
        };
        record_event(env, bound, &r, event);
    };
    let Some(route) = route(&router, &r.route_selection_expression, text) else {
        frame_error(&reply, bound, &request_id, "Forbidden").await;
        record("-", 403);
        return;
    };
    if super::throttle(env, &r, &bound.info.region, &route.key)
        .await
        .is_err()
    {
        frame_error(&reply, bound, &request_id, "Too Many Requests").await;
        record(&route.key, 429);
        return;
    }
    let common = Common::of(
        &bound.info,
        &r.stage.stage_variables,
        &route.key,
        &request_id,
    );
    let called = match (
        route.integration.as_ref(),
        events::message(&common, &message_id, text),
    ) {
        (Some(integration), Ok(event)) => {
            let sent = Sent {
                event,
                body: Bytes::copy_from_slice(text.as_bytes()),
                headers: &[],
            };
            env.integrator
                .call(integration, &r.stage.stage_variables, sent)
                .await
        }
        _ => Err(Failed::Unreachable("The route has no integration".into())),
    };
    let status = match called {
        Ok(answered) => {
            if let (true, Some(body), Some(tx)) = (route.two_way, answered.body, &reply) {
                let _ = tx.send(Command::Send(body)).await;
            }
            answered.status
        }
        Err(failed) => {
            let (status, text) = match &failed {
                Failed::Timeout => (504, "Endpoint request timed out"),
                _ => (500, "Internal server error"),
            };
            tracing::info!(request_id = %request_id, why = ?failed, "WebSocket message failed");
            frame_error(&reply, bound, &request_id, text).await;
            status
        }
    };
    record(&route.key, status);
}

/// AWS's error frame: `{"message": "…", "connectionId":"…", "requestId":"…"}`, byte for byte.
async fn frame_error(
    reply: &Option<mpsc::Sender<Command>>,
    bound: &Bound,
    request_id: &str,
    text: &str,
) {
    let Some(tx) = reply else {
        return;
    };
    let frame = format!(
        "{{\"message\": \"{text}\", \"connectionId\":\"{}\", \"requestId\":\"{request_id}\"}}",
        bound.info.id
    );
    let _ = tx.send(Command::Send(Bytes::from(frame))).await;
}

/// Runs `$disconnect` (when the stage has the route) for a connection that closed.
async fn disconnect(env: &Env, bound: &Bound, closed: &Closed) {
    let Some((r, router)) = stage(env, bound).await else {
        return;
    };
    let request_id = ids::next();
    let Some(route) = router.keyed("$disconnect") else {
        record_event(
            env,
            bound,
            &r,
            Event {
                event_type: "DISCONNECT",
                route_key: "$disconnect",
                message_id: None,
                request_id: &request_id,
                status: 200,
                body: b"",
            },
        );
        return;
    };
    let common = Common::of(
        &bound.info,
        &r.stage.stage_variables,
        "$disconnect",
        &request_id,
    );
    let (Some(integration), Ok(event)) = (
        route.integration.as_ref(),
        events::disconnect(&common, closed.code, &closed.reason),
    ) else {
        return;
    };
    let sent = Sent {
        event,
        body: Bytes::new(),
        headers: &[],
    };
    let status = match env
        .integrator
        .call(integration, &r.stage.stage_variables, sent)
        .await
    {
        Ok(a) => a.status,
        Err(failed) => {
            tracing::info!(request_id = %request_id, why = ?failed, "$disconnect failed");
            500
        }
    };
    record_event(
        env,
        bound,
        &r,
        Event {
            event_type: "DISCONNECT",
            route_key: "$disconnect",
            message_id: None,
            request_id: &request_id,
            status,
            body: b"",
        },
    );
}

/// What happened on a connection, for its stage's access log and the inspector.
struct Event<'a> {
    event_type: &'static str,
    route_key: &'a str,
    message_id: Option<&'a str>,
    request_id: &'a str,
    status: u16,
    /// The message (empty for other events).
    body: &'a [u8],
}

/// Writes an event's access-log line, when its stage keeps one, and keeps its trace while
/// the inspector records.
fn record_event(env: &Env, bound: &Bound, r: &Resolved, event: Event<'_>) {
    let format = r
        .stage
        .access_log_settings
        .as_ref()
        .and_then(|a| a.format.as_deref());
    let traced = env.inspector.records();
    if format.is_none() && !traced {
        return;
    }
    let info = &bound.info;
    let mut headers = http::HeaderMap::new();
    if let Some(v) = info
        .user_agent
        .as_deref()
        .and_then(|u| http::HeaderValue::from_str(u).ok())
    {
        headers.insert(http::header::USER_AGENT, v);
    }
    let incoming = Incoming {
        method: http::Method::GET,
        path: "/".into(),
        uri: http::Uri::from_static("/"),
        headers,
        body: Bytes::new(),
        source_ip: info.source_ip.as_str().into(),
        protocol: "HTTP/1.1",
        header_names: Vec::new(),
    };
    let request_id =
        http::HeaderValue::from_str(event.request_id).unwrap_or(http::HeaderValue::from_static(""));
    let mut inv = Invocation::new(incoming, request_id, time::now_millis(), false);
    inv.facts.account_id = r.account.clone();
    inv.facts.api_id = r.api_id.clone();
    inv.facts.domain_name = info.domain_name.as_str().into();
    inv.facts.stage = r.stage_name.clone();
    inv.facts.route_key = Some(event.route_key.into());
    inv.facts.status = event.status;
    inv.facts.websocket = Some(Box::new(WebSocketFacts {
        event_type: event.event_type,
        connection_id: info.id.clone(),
        message_id: event.message_id.map(String::from),
        connected_at: info.connected_at,
    }));
    let line = format.map(|f| access_log::render(f, &inv));
    if traced {
        // (The message is the trace's request body.)
        let limit = env.inspector.body_bytes();
        let mut x = Exchange::new(std::time::Instant::now(), limit);
        x.request_body = x.keep(event.body);
        inv.facts.exchange = Some(Box::new(x));
    }
    let region: Arc<str> = info.region.as_str().into();
    observe::log_and_keep(&env.logs, &env.inspector, &region, inv, line, None);
}
