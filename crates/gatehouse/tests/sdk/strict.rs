//! Strict mode: SigV4 verified against a credentials file, through the Rust SDK and raw
//! requests signed by the `aws-sigv4` crate.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_apigatewayv2::config::{BehaviorVersion, Region};
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use gatehouse::server::RunningServer;
use gatehouse::settings::AuthMode;

use crate::common::*;

pub const CREDENTIALS: &str = r#"
[[credentials]]
access_key_id = "AKIASTRICTA"
secret_access_key = "secret-a"
account_id = "111111111111"

[[credentials]]
access_key_id = "AKIASTRICTB"
secret_access_key = "secret-b"
account_id = "222222222222"

[[credentials]]
access_key_id = "ASIASESSION"
secret_access_key = "secret-s"
account_id = "111111111111"
session_token = "token-of-the-session"

[[credentials]]
access_key_id = "AKIAADMIN"
secret_access_key = "secret-admin"
account_id = "333333333333"
admin = true
"#;

async fn strict_server() -> (RunningServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.toml");
    std::fs::write(&path, CREDENTIALS).unwrap();
    let s = server_with(|a| {
        a.auth = AuthMode::Strict;
        a.credentials = Some(path.clone().into());
    })
    .await;
    (s, dir)
}

/// A strict server whose Lambda endpoint is a stub recording every event (answering 200).
async fn strict_server_with_stub() -> (RunningServer, tempfile::TempDir, crate::dataplane::Seen) {
    let seen: crate::dataplane::Seen = Default::default();
    let stub =
        crate::dataplane::lambda_stub(seen.clone(), (200, false, r#"{"statusCode":200}"#)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.toml");
    std::fs::write(&path, CREDENTIALS).unwrap();
    let s = server_with(|a| {
        a.auth = AuthMode::Strict;
        a.credentials = Some(path.clone().into());
        a.lambda_endpoint = Some(format!("http://{stub}"));
    })
    .await;
    (s, dir, seen)
}

fn sdk(
    s: &RunningServer,
    key: &str,
    secret: &str,
    token: Option<&str>,
) -> aws_sdk_apigatewayv2::Client {
    sdk_at(&s.endpoint(), key, secret, token)
}

/// An SDK client of the server at `endpoint`, signing with `key` and `secret`.
pub fn sdk_at(
    endpoint: &str,
    key: &str,
    secret: &str,
    token: Option<&str>,
) -> aws_sdk_apigatewayv2::Client {
    let conf = aws_sdk_apigatewayv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            key,
            secret,
            token.map(String::from),
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_apigatewayv2::Client::from_conf(conf)
}

pub struct Signing<'a> {
    pub key: &'a str,
    pub secret: &'a str,
    pub token: Option<&'a str>,
    pub service: &'a str,
    pub time: SystemTime,
    pub presign: bool,
}

impl Default for Signing<'_> {
    fn default() -> Self {
        Signing {
            key: "AKIASTRICTA",
            secret: "secret-a",
            token: None,
            service: "apigateway",
            time: SystemTime::now(),
            presign: false,
        }
    }
}

/// Signs a request with the aws-sigv4 crate; returns (path?query, headers without host).
fn signed(
    addr: std::net::SocketAddr,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    how: Signing<'_>,
) -> (String, Vec<(String, String)>) {
    let identity =
        Credentials::new(how.key, how.secret, how.token.map(String::from), None, "t").into();
    let mut settings = SigningSettings::default();
    if how.presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(300));
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(how.service)
        .time(how.time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = format!("http://{addr}{path_and_query}");
    let host = addr.to_string();
    let mut headers = vec![("host".to_string(), host)];
    if !body.is_empty() {
        headers.push(("content-type".into(), "application/json".into()));
    }
    let signable = SignableRequest::new(
        method,
        &uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = http::Request::builder().method(method).uri(&uri);
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    let mut req = req.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let out = req
        .headers()
        .iter()
        .filter(|(k, _)| k.as_str() != "host")
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    (pq, out)
}

pub async fn send(
    addr: std::net::SocketAddr,
    method: &str,
    pq: &str,
    body: &[u8],
    how: Signing<'_>,
) -> (u16, String, String) {
    let (pq, headers) = signed(addr, method, pq, body, how);
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, h, text) = raw(addr, method, &pq, &refs, body).await;
    (
        status,
        header(&h, "x-amzn-errortype").unwrap_or("").to_string(),
        text,
    )
}

#[tokio::test]
async fn signed_clients_work_and_act_as_their_account() {
    let (s, _dir) = strict_server().await;
    let a = sdk(&s, "AKIASTRICTA", "secret-a", None);
    let b = sdk(&s, "AKIASTRICTB", "secret-b", None);
    let session = sdk(&s, "ASIASESSION", "secret-s", Some("token-of-the-session"));
    let id = http_api(&a).await;
    new_stage(&a, &id, "$default").await;
    // The session credential maps to the same account as A.
    let got = session
        .get_stage()
        .api_id(&id)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    assert_eq!(got.stage_name(), Some("$default"));
    // B is another account: not found, with B's account in the message.
    let (code, status, msg) = failure(b.get_api().api_id(&id).send().await);
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
    assert_eq!(
        msg,
        format!("Invalid API identifier specified 222222222222:{id}")
    );
    assert!(b.get_apis().send().await.unwrap().items().is_empty());

    // Raw requests signed by aws-sigv4: header auth with a body and an encoded label, and a
    // presigned URL.
    let body = br#"{"description":"signed"}"#;
    let (status, _, text) = send(
        s.addr,
        "PATCH",
        &format!("/v2/apis/{id}/stages/%24default"),
        body,
        Signing::default(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let (status, _, text) = send(
        s.addr,
        "GET",
        &format!("/v2/apis/{id}/stages?maxResults=5"),
        b"",
        Signing {
            presign: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("signed"));
}

#[tokio::test]
async fn every_bad_signature_is_refused_before_anything_runs() {
    let (s, _dir) = strict_server().await;
    let before = s.store.count_records().await.unwrap();
    let create = br#"{"name":"x","protocolType":"HTTP"}"#;
    let ten_minutes = Duration::from_secs(600);
    let cases: Vec<(Signing, &str, &str)> = vec![
        (
            Signing {
                key: "AKIAUNKNOWN",
                ..Default::default()
            },
            "UnrecognizedClientException",
            "security token included in the request is invalid",
        ),
        (
            Signing {
                secret: "wrong",
                ..Default::default()
            },
            "InvalidSignatureException",
            "signature we calculated does not match",
        ),
        (
            Signing {
                time: SystemTime::now() - ten_minutes,
                ..Default::default()
            },
            "InvalidSignatureException",
            "Signature expired",
        ),
        (
            Signing {
                time: SystemTime::now() + ten_minutes,
                ..Default::default()
            },
            "InvalidSignatureException",
            "Signature not yet current",
        ),
        (
            Signing {
                service: "execute-api",
                ..Default::default()
            },
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'apigateway'",
        ),
        (
            Signing {
                key: "ASIASESSION",
                secret: "secret-s",
                ..Default::default()
            },
            "UnrecognizedClientException",
            "security token",
        ),
        (
            Signing {
                key: "ASIASESSION",
                secret: "secret-s",
                token: Some("stolen"),
                ..Default::default()
            },
            "UnrecognizedClientException",
            "security token",
        ),
        (
            Signing {
                token: Some("unexpected"),
                ..Default::default()
            },
            "UnrecognizedClientException",
            "security token",
        ),
        (
            Signing {
                secret: "wrong",
                presign: true,
                ..Default::default()
            },
            "InvalidSignatureException",
            "does not match",
        ),
    ];
    for (how, name, needle) in cases {
        let (status, got, text) = send(s.addr, "POST", "/v2/apis", create, how).await;
        assert_eq!((status, got.as_str()), (403, name), "{text}");
        assert!(text.contains(needle), "{name}: {text}");
    }
    // No signature at all.
    let (status, h, text) = raw(s.addr, "GET", "/v2/apis", &[], b"").await;
    assert_eq!(status, 403);
    assert_eq!(
        header(&h, "x-amzn-errortype"),
        Some("MissingAuthenticationTokenException")
    );
    assert_eq!(text, r#"{"message":"Missing Authentication Token"}"#);
    // A body changed after signing.
    let (pq, headers) = signed(s.addr, "POST", "/v2/apis", create, Signing::default());
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, h, _) = raw(
        s.addr,
        "POST",
        &pq,
        &refs,
        br#"{"name":"y","protocolType":"HTTP"}"#,
    )
    .await;
    assert_eq!(
        (status, header(&h, "x-amzn-errortype")),
        (403, Some("InvalidSignatureException"))
    );
    // Nothing was created by any refused request.
    assert_eq!(s.store.count_records().await.unwrap(), before);
    // The SDK with a wrong secret sees the modeled-less 403 by name.
    let wrong = sdk(&s, "AKIASTRICTA", "nope", None);
    let err = wrong.get_apis().send().await.unwrap_err();
    let meta = aws_sdk_apigatewayv2::error::ProvideErrorMetadata::code(&err);
    assert_eq!(meta, Some("InvalidSignatureException"));
}

#[tokio::test]
async fn strict_mode_needs_credentials_and_open_mode_needs_loopback() {
    let mut args = gatehouse::settings::Settings {
        auth: AuthMode::Strict,
        ..gatehouse::settings::Settings::ephemeral()
    };
    let err = gatehouse::server::start(&args).await.err().unwrap();
    assert!(err.contains("--credentials"), "{err}");
    args.auth = AuthMode::Open;
    args.listen = "0.0.0.0:0".parse().unwrap();
    let err = gatehouse::server::start(&args).await.err().unwrap();
    assert!(err.contains("--allow-unauthenticated-remote"), "{err}");
    args.allow_unauthenticated_remote = true;
    let s = gatehouse::server::start(&args).await.unwrap();
    s.stop().await;
}

#[tokio::test]
async fn reset_needs_an_admin_credential_in_strict_mode() {
    let (s, _dir) = strict_server().await;
    let a = sdk(&s, "AKIASTRICTA", "secret-a", None);
    let api = http_api(&a).await;
    let (status, h, _) = raw(s.addr, "POST", "/moto-api/reset", &[], b"").await;
    assert_eq!(
        (status, header(&h, "x-amzn-errortype")),
        (403, Some("MissingAuthenticationTokenException"))
    );
    for path in ["/_gatehouse/reset", "/moto-api/reset"] {
        let (status, kind, body) = send(s.addr, "POST", path, b"", Signing::default()).await;
        assert_eq!(
            (status, kind.as_str()),
            (403, "AccessDeniedException"),
            "{body}"
        );
        assert!(body.contains("admin = true"), "{body}");
    }
    let forged = Signing {
        key: "AKIAADMIN",
        secret: "not-the-secret",
        ..Signing::default()
    };
    let (status, kind, _) = send(s.addr, "POST", "/_gatehouse/reset", b"", forged).await;
    assert_eq!((status, kind.as_str()), (403, "InvalidSignatureException"));
    a.get_api().api_id(&api).send().await.unwrap();

    let admin = Signing {
        key: "AKIAADMIN",
        secret: "secret-admin",
        ..Signing::default()
    };
    let (status, _, body) = send(s.addr, "POST", "/_gatehouse/reset", b"", admin).await;
    assert_eq!(status, 200, "{body}");
    let (code, _, _) = failure(a.get_api().api_id(&api).send().await);
    assert_eq!(code, "NotFoundException");
    let (status, _, _) = raw(s.addr, "GET", "/_gatehouse/health", &[], b"").await;
    assert_eq!(status, 200, "health needs no signature");
}

#[tokio::test]
async fn aws_iam_routes_verify_execute_api_signatures() {
    let (s, _dir) = strict_server().await;
    let a = sdk(&s, "AKIASTRICTA", "secret-a", None);
    let api = a
        .create_api()
        .name("iam")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http)
        .target("http://127.0.0.1:9/")
        .send()
        .await
        .unwrap();
    let api_id = api.api_id().unwrap();
    let routes = a.get_routes().api_id(api_id).send().await.unwrap();
    a.update_route()
        .api_id(api_id)
        .route_id(routes.items()[0].route_id().unwrap())
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::AwsIam)
        .send()
        .await
        .unwrap();
    let path = format!("/_aws/execute-api/{api_id}/anything");
    let send = |how: Signing<'static>| {
        let (pq, headers) = signed(s.addr, "GET", &path, b"", how);
        let addr = s.addr;
        async move {
            let h: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            raw(addr, "GET", &pq, &h, b"").await
        }
    };
    // Unsigned, signed for the wrong service, signed by another account: 403.
    let (status, _, body) = raw(s.addr, "GET", &path, &[], b"").await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    for how in [
        Signing::default(),
        Signing {
            service: "execute-api",
            key: "AKIASTRICTB",
            secret: "secret-b",
            ..Signing::default()
        },
        Signing {
            service: "execute-api",
            secret: "wrong",
            ..Signing::default()
        },
    ] {
        assert_eq!(send(how).await.0, 403);
    }
    // The owner's execute-api signature passes the gateway (the backend is down: 500).
    let (status, _, body) = send(Signing {
        service: "execute-api",
        ..Signing::default()
    })
    .await;
    assert_eq!(
        (status, body.as_str()),
        (500, r#"{"message":"Internal Server Error"}"#)
    );
}

/// `@connections` in strict mode: signed for `execute-api` by the account that owns the
/// API, or refused (unsigned 403, another account's signature 403 ForbiddenException); the
/// signature covers the id's `%3D` as SDKs send it.
#[tokio::test]
async fn connections_answer_only_the_owning_account() {
    let (s, _dir, seen) = strict_server_with_stub().await;
    let a = sdk(&s, "AKIASTRICTA", "secret-a", None);
    let api = &crate::dataplane::ws_api(&a, &["$connect"]).await;
    let url = format!("ws://{}/_aws/execute-api/{api}/prod", s.addr);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let id = seen.lock().unwrap()[0].1["requestContext"]["connectionId"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!(
        "/_aws/execute-api/{api}/prod/@connections/{}",
        id.replace('=', "%3D")
    );
    let (status, kind, _) = {
        let (status, h, body) = raw(s.addr, "POST", &path, &[], b"x").await;
        (
            status,
            header(&h, "x-amzn-errortype").unwrap_or("").to_string(),
            body,
        )
    };
    assert_eq!(
        (status, kind.as_str()),
        (403, "MissingAuthenticationTokenException")
    );
    let other = Signing {
        service: "execute-api",
        key: "AKIASTRICTB",
        secret: "secret-b",
        ..Signing::default()
    };
    let (status, kind, _) = send(s.addr, "POST", &path, b"x", other).await;
    assert_eq!((status, kind.as_str()), (403, "ForbiddenException"));
    let owner = Signing {
        service: "execute-api",
        ..Signing::default()
    };
    let (status, _, body) = send(s.addr, "POST", &path, b"for you", owner).await;
    assert_eq!(status, 200, "{body}");
    use futures_util::StreamExt;
    let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(frame.into_text().unwrap().as_str(), "for you");
}

/// `AWS_IAM` on a WebSocket API's `$connect`: the handshake must be signed for
/// `execute-api` by the owning account, in headers or as a presigned URL (what the SDKs'
/// presigners make for browsers); else 403 and no connection.
#[tokio::test]
async fn aws_iam_connect_routes_take_signed_and_presigned_handshakes() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (s, _dir, seen) = strict_server_with_stub().await;
    let a = sdk(&s, "AKIASTRICTA", "secret-a", None);
    let iam = Some(aws_sdk_apigatewayv2::types::AuthorizationType::AwsIam);
    let api = crate::dataplane::ws_api_authorized(&a, &["$connect"], iam).await;
    let stage = format!("/_aws/execute-api/{api}/prod");
    let handshake = |pq: &str, headers: &[(String, String)]| {
        let mut req = format!("ws://{}{pq}", s.addr)
            .into_client_request()
            .unwrap();
        for (k, v) in headers {
            req.headers_mut()
                .insert(k.parse::<http::HeaderName>().unwrap(), v.parse().unwrap());
        }
        async move {
            match tokio_tungstenite::connect_async(req).await {
                Ok(_) => 101,
                Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
                Err(e) => panic!("handshake: {e}"),
            }
        }
    };
    let execute_api = |key: &'static str, secret: &'static str, presign: bool| Signing {
        service: "execute-api",
        key,
        secret,
        presign,
        ..Signing::default()
    };
    // Unsigned, signed for the management API, another account's, a wrong secret: 403.
    assert_eq!(handshake(&stage, &[]).await, 403);
    for how in [
        Signing::default(),
        execute_api("AKIASTRICTB", "secret-b", false),
        execute_api("AKIASTRICTA", "wrong", true),
    ] {
        let (pq, headers) = signed(s.addr, "GET", &stage, b"", how);
        assert_eq!(handshake(&pq, &headers).await, 403);
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "$connect ran for a refused handshake"
    );
    // The owner's signature, in headers or presigned: the connection opens.
    let (pq, headers) = signed(
        s.addr,
        "GET",
        &stage,
        b"",
        execute_api("AKIASTRICTA", "secret-a", false),
    );
    assert_eq!(handshake(&pq, &headers).await, 101);
    let (pq, _) = signed(
        s.addr,
        "GET",
        &stage,
        b"",
        execute_api("AKIASTRICTA", "secret-a", true),
    );
    assert!(pq.contains("X-Amz-Signature="), "{pq}");
    assert_eq!(handshake(&pq, &[]).await, 101);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn explain_answers_only_the_owning_account_or_an_admin() {
    let (s, _dir) = strict_server().await;
    let a = sdk(&s, "AKIASTRICTA", "secret-a", None);
    let api = http_api(&a).await;
    a.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    a.create_route()
        .api_id(&api)
        .route_key("GET /pets")
        .send()
        .await
        .unwrap();
    let pq = format!("/_gatehouse/explain?apiId={api}&stage=%24default&path=/x");
    let other = Signing {
        key: "AKIASTRICTB",
        secret: "secret-b",
        ..Signing::default()
    };
    let admin = Signing {
        key: "AKIAADMIN",
        secret: "secret-admin",
        ..Signing::default()
    };
    let (status, _, _) = raw(s.addr, "GET", &pq, &[], b"").await;
    assert_eq!(status, 403, "unsigned");
    let (status, kind, _) = send(s.addr, "GET", &pq, b"", other).await;
    assert_eq!((status, kind.as_str()), (403, "AccessDeniedException"));
    // Another account cannot tell a missing API from another's: the same refusal.
    let missing = "/_gatehouse/explain?apiId=nosuchapi0&stage=prod";
    let other = Signing {
        key: "AKIASTRICTB",
        secret: "secret-b",
        ..Signing::default()
    };
    let (status, kind, _) = send(s.addr, "GET", missing, b"", other).await;
    assert_eq!((status, kind.as_str()), (403, "AccessDeniedException"));
    for signing in [Signing::default(), admin] {
        let (status, _, body) = send(s.addr, "GET", &pq, b"", signing).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("no route matches GET /x"), "{body}");
    }
}
