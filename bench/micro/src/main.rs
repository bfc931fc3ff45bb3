//! Micro-benchmarks of the hot pieces: SigV4 verification, Stage JSON encoding, store
//! lookups, a whole signed GetStage through the request handler (no socket), and the data
//! plane's route matching (10 and 1,000 routes), Lambda event encoding and decoding, and JWT
//! verification with cached keys.
//! `cargo run --release -p gatehouse-micro [FILTER]` prints nanoseconds per operation
//! (median of 7 rounds); `bench/run` puts the figures into docs/benchmarks.md. Plain
//! timing loops, no framework.

use std::hint::black_box;
use std::time::Instant;

use gatehouse::auth::credentials::Credentials;
use gatehouse::auth::sigv4::{self, Request};
use gatehouse::server::{self, App};
use gatehouse::settings::{AuthMode, CredentialSource, Settings};
use gatehouse::wire::stages::StageOut;
use gatehouse_core::model::api::{ApiInput, ProtocolType};
use gatehouse_core::model::stage::{StageInput, StageRules};
use gatehouse_core::model::tree::ApiTree;
use gatehouse_core::model::{Api, Scope, Stage};
use gatehouse_core::store::{self, Store, StoreUrl};
use http::{HeaderMap, HeaderValue};

/// `gatehouse-micro [FILTER]` runs the benchmarks whose name contains FILTER;
/// `MICRO_SCALE=N` divides every iteration count by N (for callgrind).
fn time(name: &str, iters: u32, mut f: impl FnMut()) {
    if std::env::args()
        .nth(1)
        .is_some_and(|filter| !name.contains(&filter))
    {
        return;
    }
    let scale: u32 = std::env::var("MICRO_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let iters = (iters / scale.max(1)).max(10);
    for _ in 0..iters / 10 {
        f();
    }
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    rounds.sort_by(|a, b| a.total_cmp(b));
    println!("{name:<40} {:>10.0} ns/op", rounds[3]);
}

/// Headers of a GET of `path` signed at `amz_date` (`YYYYMMDDTHHMMSSZ`) with key AKIABENCH
/// and secret `secret`, and what they present.
fn signed_request(path: &str, amz_date: &str) -> (HeaderMap, sigv4::Presented<'static>) {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:4599"));
    headers.insert("x-amz-date", HeaderValue::from_str(amz_date).unwrap());
    let date = amz_date[..8].to_string();
    let mut p = sigv4::Presented {
        credential: format!("AKIABENCH/{date}/us-east-1/apigateway/aws4_request").into(),
        access_key: "AKIABENCH".into(),
        date: date.into(),
        region: "us-east-1".into(),
        service: "apigateway".into(),
        signed_headers: "host;x-amz-date".into(),
        signature: "".into(),
        amz_date: amz_date.to_string().into(),
        presigned: false,
        expires: None,
        security_token: None,
    };
    let req = Request {
        method: "GET",
        path,
        query: None,
        headers: &headers,
        body: b"",
    };
    let key = sigv4::signing_key("secret", &p.date, &p.region, &p.service);
    p.signature = sigv4::signature(
        &key,
        &sigv4::string_to_sign(&p, &sigv4::canonical_request(&req, &p)),
    )
    .into();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={}, SignedHeaders=host;x-amz-date, Signature={}",
        p.credential, p.signature
    );
    headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
    (headers, p)
}

/// API abcdefghij with stage `prod`, as the store benchmarks keep it.
fn api_with_stage() -> ApiTree {
    let api = Api::create(
        "abcdefghij".into(),
        ApiInput {
            name: Some("m".into()),
            protocol_type: Some(ProtocolType::Http),
            ..Default::default()
        },
        1,
        gatehouse_core::compat::Profile::Aws,
    )
    .unwrap();
    let mut tree = ApiTree::new(api);
    tree.stages.push(stage());
    tree
}

fn stage() -> Stage {
    let rules = StageRules::new(
        ProtocolType::Http,
        "111111111111:abcdefghij".into(),
        vec!["GET /pets".into()],
    );
    let input: StageInput = serde_json::from_str(
        r#"{"stageName":"prod","description":"d","stageVariables":{"a":"1","b":"2"},
            "routeSettings":{"GET /pets":{"throttlingBurstLimit":100,"throttlingRateLimit":2000}},
            "tags":{"team":"core"}}"#,
    )
    .unwrap();
    Stage::create(input, &rules, 1_700_000_000).unwrap()
}

fn main() {
    let path = "/v2/apis/abcdefghij/stages/%24default";
    let (headers, p) = signed_request(path, "20260101T000000Z");
    let req = Request {
        method: "GET",
        path,
        query: None,
        headers: &headers,
        body: b"",
    };
    let key = sigv4::SigningKey::new(&sigv4::signing_key(
        "secret", &p.date, &p.region, &p.service,
    ));
    assert!(sigv4::signature_matches_key(&req, &p, &key));
    assert_eq!(
        sigv4::presented(&headers, None).unwrap().unwrap().signature,
        p.signature
    );
    time("sigv4: parse Authorization", 100_000, || {
        black_box(sigv4::presented(black_box(&headers), None).ok());
    });
    time("sigv4: verify (signing key cached)", 100_000, || {
        black_box(sigv4::signature_matches_key(black_box(&req), &p, &key));
    });
    time("sigv4: verify (key derived)", 50_000, || {
        black_box(sigv4::signature_matches(black_box(&req), &p, "secret"));
    });

    let st = stage();
    time("stage: encode JSON (wire shape)", 200_000, || {
        black_box(serde_json::to_string(&StageOut::new(black_box(&st))).ok());
    });
    let doc = serde_json::to_string(&st).unwrap();
    time("stage: decode stored document", 200_000, || {
        black_box(serde_json::from_str::<Stage>(black_box(&doc)).ok());
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scope = Scope::new("111111111111", "us-east-1");
    let sqlite = store::sqlite::SqliteStore::open(&dir.path().join("m.db")).unwrap();
    let memory = store::memory::MemoryStore::new();
    for (name, s) in [
        ("sqlite", &sqlite as &dyn Store),
        ("memory", &memory as &dyn Store),
    ] {
        rt.block_on(s.create_api(&scope, api_with_stage())).unwrap();
        time(&format!("store ({name}): get stage"), 100_000, || {
            rt.block_on(async {
                black_box(
                    store::get::<Stage>(s, &scope, "abcdefghij", "prod")
                        .await
                        .ok(),
                );
            })
        });
    }
    whole_request(&rt, &dir);
    dataplane();
    jwt(&rt);
}

/// A JWT authorizer's verification with the issuer's keys cached: what a JWT route adds to
/// a request (token decoding, the RS256 signature, the claim checks). The issuer is a local
/// OpenID discovery document and JWKS (the test fixtures' key), fetched once.
fn jwt(rt: &tokio::runtime::Runtime) {
    use gatehouse_dataplane::auth::jwt::{self, Keys};
    use gatehouse_dataplane::context::Incoming;
    use gatehouse_http::client::HttpClient;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../crates/gatehouse/tests/fixtures"
    );
    let jwks = std::fs::read_to_string(format!("{fixtures}/jwt-test-jwks.json")).unwrap();
    let pem = std::fs::read(format!("{fixtures}/jwt-test-key.pem")).unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let discovery = format!(r#"{{"issuer":"{issuer}","jwks_uri":"{issuer}/jwks"}}"#);
    rt.spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (discovery, jwks) = (discovery.clone(), jwks.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let head = String::from_utf8_lossy(&buf[..n]);
                    let body = if head.contains("openid-configuration") {
                        &discovery
                    } else {
                        &jwks
                    };
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if s.write_all(resp.as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let now = gatehouse_core::model::time::now();
    let claims = serde_json::json!({
        "iss": issuer, "aud": "bench", "sub": "u1", "scope": "read write",
        "iat": now, "exp": now + 3600,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("test-key-1".into());
    let signing = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap();
    // A request carrying token number `n` (tokens differ by their `jti`).
    let request = |n: usize| {
        let mut claims = claims.clone();
        claims["jti"] = serde_json::json!(n);
        let token = jsonwebtoken::encode(&header, &claims, &signing).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
        Incoming {
            method: http::Method::GET,
            path: "/items".into(),
            uri: http::Uri::from_static("/items"),
            headers,
            body: Default::default(),
            source_ip: "127.0.0.1".into(),
            protocol: "HTTP/1.1",
            header_names: Vec::new(),
        }
    };
    let incoming = request(0);
    let audience = vec!["bench".to_string()];
    let scopes = vec!["read".to_string()];
    let config = jwt::Config {
        issuer: &issuer,
        audience: &audience,
        identity_source: "$request.header.Authorization",
        scopes: &scopes,
    };
    let (keys, client) = (
        Keys::default(),
        HttpClient::new(gatehouse_dataplane::limits::MAX_BODY),
    );
    // The first verification fetches the keys; every one after uses the cache.
    rt.block_on(keys.verify(&client, &config, &incoming))
        .expect("the benchmark token verifies");
    time("jwt: verify a token sent before", 20_000, || {
        black_box(
            rt.block_on(keys.verify(&client, &config, black_box(&incoming)))
                .ok(),
        );
    });
    // Each request a token never seen: the RS256 signature is checked every time.
    let scale: usize = std::env::var("MICRO_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let fresh: Vec<Incoming> = (1..=(300 * 8 / scale.max(1)).max(100))
        .map(request)
        .collect();
    let mut next = fresh.iter().cycle();
    time("jwt: verify a new token (RS256 signature)", 300, || {
        let incoming = next.next().unwrap();
        black_box(
            rt.block_on(keys.verify(&client, &config, black_box(incoming)))
                .ok(),
        );
    });
}

/// The data plane's pure pieces: route matching against 10 and 1,000 routes (the route tree
/// should make them cost the same), and the Lambda payload 2.0 event encoded and an answer
/// decoded.
fn dataplane() {
    use gatehouse_core::model::deployment::Snapshot;
    use gatehouse_core::model::route::{Route, RouteInput};
    use gatehouse_dataplane::context::{Incoming, Invocation};
    use gatehouse_dataplane::integrations::{event, lambda};
    use gatehouse_dataplane::routing::router::{segments, Router};
    for n in [10usize, 1000] {
        let snapshot = Snapshot {
            routes: (0..n)
                .map(|i| {
                    Route::create(
                        format!("r{i}"),
                        RouteInput {
                            route_key: Some(format!("GET /r{i}/items/{{id}}")),
                            ..Default::default()
                        },
                    )
                    .unwrap()
                })
                .collect(),
            ..Default::default()
        };
        let router = Router::compile(&snapshot);
        let raw = format!("/r{}/items/42", n - 1);
        let path = segments(&raw);
        assert!(router.find("GET", &path).is_some());
        time(&format!("route match: {n} routes"), 500_000, || {
            black_box(router.find(black_box("GET"), black_box(&path)).is_some());
        });
    }
    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("host", "abc.execute-api.localhost"),
        ("user-agent", "curl/8"),
        ("accept", "*/*"),
        ("content-type", "application/json"),
        ("cookie", "a=1; b=2"),
    ] {
        headers.insert(k, HeaderValue::from_static(v));
    }
    let incoming = Incoming {
        method: http::Method::POST,
        path: "/prod/pets/7".into(),
        uri: http::Uri::from_static("/prod/pets/7?a=1&b=2"),
        headers,
        body: bytes::Bytes::from_static(br#"{"name":"rex"}"#),
        source_ip: "127.0.0.1".into(),
        protocol: "HTTP/1.1",
        header_names: Vec::new(),
    };
    let mut inv = Invocation::new(
        incoming,
        HeaderValue::from_static("Mc7UVioPPHcEKPA="),
        1_700_000_000_000,
        false,
    );
    inv.facts.account_id = "111111111111".into();
    inv.facts.api_id = "abcdefghij".into();
    inv.facts.stage = "prod".into();
    inv.facts.route_key = Some("POST /pets/{id}".into());
    inv.after_stage_segment();
    let params = vec![("id".to_string(), "7".to_string())];
    let vars = std::collections::BTreeMap::new();
    let input = event::EventInput {
        request: gatehouse_dataplane::context::Routed {
            inv: &inv,
            template: "/pets/{id}",
            params: &params,
            stage_variables: &vars,
        },
        authorizer: None,
    };
    time("lambda: encode payload 2.0 event", 100_000, || {
        black_box(serde_json::to_vec(&event::event_v2(black_box(&input))).ok());
    });
    let answer = br#"{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"id\":7,\"name\":\"rex\"}","cookies":["s=1"]}"#;
    time("lambda: decode a 2.0 answer", 200_000, || {
        black_box(lambda::decode("2.0", black_box(answer)).ok());
    });
}

/// A signed GetStage through gatehouse's request handler: everything the server does for a
/// request except the socket (strict mode, SQLite store).
fn whole_request(rt: &tokio::runtime::Runtime, dir: &tempfile::TempDir) {
    let mut args = Settings {
        store: StoreUrl::Sqlite(dir.path().join("h.db")),
        auth: AuthMode::Strict,
        ..Settings::ephemeral()
    };
    args.credentials = Some(CredentialSource::Inline(
        Credentials::parse(
            "[[credentials]]\naccess_key_id = \"AKIABENCH\"\nsecret_access_key = \"secret\"\naccount_id = \"111111111111\"\n",
        )
        .unwrap(),
    ));
    let app = rt.block_on(async {
        let store = args.store.open().await.unwrap();
        let scope = Scope::new("111111111111", "us-east-1");
        store.create_api(&scope, api_with_stage()).await.unwrap();
        App::new(&args, args.check().unwrap(), store, None)
    });
    let path = "/v2/apis/abcdefghij/stages/prod";
    let amz_date = gatehouse_core::model::time::amz_date(gatehouse_core::model::time::now());
    let (headers, _) = signed_request(path, &amz_date);
    let request = || {
        let mut r = http::Request::builder()
            .method("GET")
            .uri(path)
            .body(gatehouse_http::body::empty())
            .unwrap();
        *r.headers_mut() = headers.clone();
        r
    };
    let peer = gatehouse_http::server::Peer::new(([127, 0, 0, 1], 40000).into());
    let status = rt.block_on(server::handle(&app, request(), &peer)).status();
    assert_eq!(status, 200);
    time(
        "request: signed GetStage through the handler",
        50_000,
        || {
            rt.block_on(async {
                black_box(server::handle(&app, request(), &peer).await);
            })
        },
    );
}
