//! The Lambda proxy events of WebSocket routes — CONNECT, MESSAGE and DISCONNECT — with their
//! members in the order AWS writes them (as in the events recorded from AWS: aws-lambda-go's
//! `apigw-websocket-request-*.json`, powertools' `apiGatewayWebSocketApi*.json`). Headers and
//! query strings only on CONNECT; DISCONNECT carries AWS's fixed synthetic headers; the
//! authorizer's output, when one ran, goes in every event of the connection, just before
//! `eventType` (a choice: the one capture with it shows it right before `eventType`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::registry::Info;

/// What every event of a connection says about it and about the event.
pub struct Common<'a> {
    /// The route key (`$connect`, the selected key, `$default`, `$disconnect`).
    pub route_key: &'a str,
    /// The event's request id (also `extendedRequestId`).
    pub request_id: &'a str,
    /// When the event happened, ms since the epoch.
    pub time_ms: i64,
    /// The stage.
    pub stage: &'a str,
    /// When the connection was made, ms since the epoch.
    pub connected_at: i64,
    /// The client's address.
    pub source_ip: &'a str,
    /// The client's `User-Agent`, if it sent one.
    pub user_agent: Option<&'a str>,
    /// The host the client connected to.
    pub domain_name: &'a str,
    /// The connection.
    pub connection_id: &'a str,
    /// The API.
    pub api_id: &'a str,
    /// What the `$connect` authorizer passed on (`principalId` and its context).
    pub authorizer: Option<&'a Value>,
    /// The stage's variables.
    pub stage_variables: &'a BTreeMap<String, String>,
}

impl<'a> Common<'a> {
    /// The members of an event of connection `info` on a stage with `stage_variables`,
    /// happening now.
    pub fn of(
        info: &'a Info,
        stage_variables: &'a BTreeMap<String, String>,
        route_key: &'a str,
        request_id: &'a str,
    ) -> Common<'a> {
        Common {
            route_key,
            request_id,
            time_ms: gatehouse_core::model::time::now_millis(),
            stage: &info.stage,
            connected_at: info.connected_at,
            source_ip: &info.source_ip,
            user_agent: info.user_agent.as_deref(),
            domain_name: &info.domain_name,
            connection_id: &info.id,
            api_id: &info.api_id,
            authorizer: info.authorizer.as_ref(),
            stage_variables,
        }
    }
}

/// The client, as every event of its connection names it: `userAgent` (only when it sent
/// one) before `sourceIp`, as AWS's recorded events list them.
#[derive(Serialize)]
struct Identity<'a> {
    #[serde(rename = "userAgent", skip_serializing_if = "Option::is_none")]
    user_agent: Option<&'a str>,
    #[serde(rename = "sourceIp")]
    source_ip: &'a str,
}

/// The members every event's `requestContext` ends with, in AWS's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Tail<'a> {
    stage: &'a str,
    connected_at: i64,
    request_time_epoch: i64,
    identity: Identity<'a>,
    request_id: &'a str,
    domain_name: &'a str,
    connection_id: &'a str,
    api_id: &'a str,
}

impl<'a> Common<'a> {
    fn tail(&self) -> Tail<'a> {
        Tail {
            stage: self.stage,
            connected_at: self.connected_at,
            request_time_epoch: self.time_ms,
            identity: Identity {
                source_ip: self.source_ip,
                user_agent: self.user_agent,
            },
            request_id: self.request_id,
            domain_name: self.domain_name,
            connection_id: self.connection_id,
            api_id: self.api_id,
        }
    }

    fn request_time(&self) -> String {
        gatehouse_core::model::time::clf(self.time_ms.div_euclid(1000))
    }

    fn stage_variables(&self) -> Option<&'a BTreeMap<String, String>> {
        (!self.stage_variables.is_empty()).then_some(self.stage_variables)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectContext<'a> {
    route_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorizer: Option<&'a Value>,
    event_type: &'static str,
    extended_request_id: &'a str,
    request_time: String,
    message_direction: &'static str,
    #[serde(flatten)]
    tail: Tail<'a>,
}

/// Headers as an event's map: each name once, as written, sorted without regard to case
/// (AWS writes `Connection`, `content-length`, `Host` in that order).
pub struct SortedHeaders<T>(Vec<(String, T)>);

impl SortedHeaders<String> {
    /// Each name with its last value.
    pub fn single(pairs: &[(String, String)]) -> SortedHeaders<String> {
        let mut out: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            match out.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => v.clone_from(value),
                None => out.push((name.clone(), value.clone())),
            }
        }
        out.sort_by_key(|(n, _)| n.to_ascii_lowercase());
        SortedHeaders(out)
    }
}

impl SortedHeaders<Vec<String>> {
    /// Each name with all its values, in order.
    pub fn multi(pairs: &[(String, String)]) -> SortedHeaders<Vec<String>> {
        let mut out: Vec<(String, Vec<String>)> = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            match out.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => v.push(value.clone()),
                None => out.push((name.clone(), vec![value.clone()])),
            }
        }
        out.sort_by_key(|(n, _)| n.to_ascii_lowercase());
        SortedHeaders(out)
    }
}

impl<T: Serialize> Serialize for SortedHeaders<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectEvent<'a> {
    headers: SortedHeaders<String>,
    multi_value_headers: SortedHeaders<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_string_parameters: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_value_query_string_parameters: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage_variables: Option<&'a BTreeMap<String, String>>,
    request_context: ConnectContext<'a>,
    is_base64_encoded: bool,
}

/// The request headers and query of a `$connect`, as the event carries them.
pub struct Handshake<'a> {
    /// Header names as the client wrote them, with their values, in order.
    pub headers: &'a [(String, String)],
    /// Decoded query pairs, in order.
    pub query: &'a [(String, String)],
}

/// A CONNECT event's `requestContext` (the REQUEST authorizer's event carries it too).
pub fn connect_context<'a>(common: &'a Common<'a>) -> impl Serialize + 'a {
    ConnectContext {
        route_key: common.route_key,
        authorizer: common.authorizer,
        event_type: "CONNECT",
        extended_request_id: common.request_id,
        request_time: common.request_time(),
        message_direction: "IN",
        tail: common.tail(),
    }
}

/// The CONNECT event.
pub fn connect(common: &Common<'_>, handshake: &Handshake<'_>) -> serde_json::Result<Vec<u8>> {
    let (query, multi_query) = if handshake.query.is_empty() {
        (None, None)
    } else {
        let mut multi: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in handshake.query {
            multi.entry(k.clone()).or_default().push(v.clone());
        }
        let last = multi
            .iter()
            .filter_map(|(k, vs)| vs.last().map(|v| (k.clone(), v.clone())))
            .collect();
        (Some(last), Some(multi))
    };
    serde_json::to_vec(&ConnectEvent {
        headers: SortedHeaders::single(handshake.headers),
        multi_value_headers: SortedHeaders::multi(handshake.headers),
        query_string_parameters: query,
        multi_value_query_string_parameters: multi_query,
        stage_variables: common.stage_variables(),
        request_context: ConnectContext {
            route_key: common.route_key,
            authorizer: common.authorizer,
            event_type: "CONNECT",
            extended_request_id: common.request_id,
            request_time: common.request_time(),
            message_direction: "IN",
            tail: common.tail(),
        },
        is_base64_encoded: false,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageContext<'a> {
    route_key: &'a str,
    message_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorizer: Option<&'a Value>,
    event_type: &'static str,
    extended_request_id: &'a str,
    request_time: String,
    message_direction: &'static str,
    #[serde(flatten)]
    tail: Tail<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageEvent<'a> {
    request_context: MessageContext<'a>,
    body: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage_variables: Option<&'a BTreeMap<String, String>>,
    is_base64_encoded: bool,
}

/// The MESSAGE event of message `message_id`, whose text is `body`.
pub fn message(common: &Common<'_>, message_id: &str, body: &str) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&MessageEvent {
        request_context: MessageContext {
            route_key: common.route_key,
            message_id,
            authorizer: common.authorizer,
            event_type: "MESSAGE",
            extended_request_id: common.request_id,
            request_time: common.request_time(),
            message_direction: "IN",
            tail: common.tail(),
        },
        body,
        stage_variables: common.stage_variables(),
        is_base64_encoded: false,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DisconnectContext<'a> {
    route_key: &'a str,
    disconnect_status_code: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorizer: Option<&'a Value>,
    event_type: &'static str,
    extended_request_id: &'a str,
    request_time: String,
    message_direction: &'static str,
    disconnect_reason: &'a str,
    #[serde(flatten)]
    tail: Tail<'a>,
}

/// AWS's fixed DISCONNECT headers, in its order (not sorted: `Host` before `x-api-key`).
#[derive(Serialize)]
struct DisconnectHeaders<T> {
    #[serde(rename = "Host")]
    host: T,
    #[serde(rename = "x-api-key")]
    api_key: T,
    #[serde(rename = "X-Forwarded-For")]
    forwarded_for: T,
    #[serde(rename = "x-restapi")]
    restapi: T,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DisconnectEvent<'a> {
    headers: DisconnectHeaders<&'a str>,
    multi_value_headers: DisconnectHeaders<[&'a str; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage_variables: Option<&'a BTreeMap<String, String>>,
    request_context: DisconnectContext<'a>,
    is_base64_encoded: bool,
}

/// The DISCONNECT event, for a close with `code` and `reason`.
pub fn disconnect(common: &Common<'_>, code: u16, reason: &str) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&DisconnectEvent {
        headers: DisconnectHeaders {
            host: common.domain_name,
            api_key: "",
            forwarded_for: "",
            restapi: "",
        },
        multi_value_headers: DisconnectHeaders {
            host: [common.domain_name],
            api_key: [""],
            forwarded_for: [""],
            restapi: [""],
        },
        stage_variables: common.stage_variables(),
        request_context: DisconnectContext {
            route_key: common.route_key,
            disconnect_status_code: code,
            authorizer: common.authorizer,
            event_type: "DISCONNECT",
            extended_request_id: common.request_id,
            request_time: common.request_time(),
            message_direction: "IN",
            disconnect_reason: reason,
            tail: common.tail(),
        },
        is_base64_encoded: false,
    })
}
