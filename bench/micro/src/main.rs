//! Micro-benchmarks of the hot pieces: SigV4 verification, Stage JSON encoding, store
//! lookups. `cargo run --release -p gatehouse-micro` prints nanoseconds per operation
//! (median of 7 rounds); `bench/run` puts the figures into docs/benchmarks.md. Plain
//! timing loops, no framework.

use std::hint::black_box;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue};
use gatehouse::auth::sigv4::{self, Request};
use gatehouse::model::api::{ApiInput, ProtocolType};
use gatehouse::model::stage::{StageInput, StageRules};
use gatehouse::model::tree::ApiTree;
use gatehouse::model::{Api, Scope, Stage};
use gatehouse::store::{self, Store};
use gatehouse::wire::StageOut;

fn time(name: &str, iters: u32, mut f: impl FnMut()) {
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

fn signed_request() -> (HeaderMap, sigv4::Presented) {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:4599"));
    headers.insert("x-amz-date", HeaderValue::from_static("20260101T000000Z"));
    let mut p = sigv4::Presented {
        access_key: "AKIABENCH".into(),
        date: "20260101".into(),
        region: "us-east-1".into(),
        service: "apigateway".into(),
        signed_headers: vec!["host".into(), "x-amz-date".into()],
        signature: String::new(),
        amz_date: "20260101T000000Z".into(),
        presigned: false,
        expires: None,
        security_token: None,
    };
    let req = Request {
        method: "GET",
        path: "/v2/apis/abcdefghij/stages/%24default",
        query: None,
        headers: &headers,
        body: b"",
    };
    let key = sigv4::signing_key("secret", &p.date, &p.region, &p.service);
    p.signature = sigv4::signature(
        &key,
        &sigv4::string_to_sign(&p, &sigv4::canonical_request(&req, &p)),
    );
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders=host;x-amz-date, Signature={}",
        p.access_key,
        p.scope(),
        p.signature
    );
    headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
    (headers, p)
}

fn stage() -> Stage {
    let rules = StageRules {
        protocol: ProtocolType::Http,
        api_label: "111111111111:abcdefghij".into(),
    };
    let input: StageInput = serde_json::from_str(
        r#"{"stageName":"prod","description":"d","stageVariables":{"a":"1","b":"2"},
            "routeSettings":{"GET /pets":{"throttlingBurstLimit":100,"throttlingRateLimit":2000}},
            "tags":{"team":"core"}}"#,
    )
    .unwrap();
    Stage::create(input, &rules, 1_700_000_000).unwrap()
}

fn main() {
    let (headers, p) = signed_request();
    let req = Request {
        method: "GET",
        path: "/v2/apis/abcdefghij/stages/%24default",
        query: None,
        headers: &headers,
        body: b"",
    };
    let key = sigv4::signing_key("secret", &p.date, &p.region, &p.service);
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
        rt.block_on(async {
            let api = Api::create(
                "abcdefghij".into(),
                ApiInput {
                    name: Some("m".into()),
                    protocol_type: Some(ProtocolType::Http),
                    ..Default::default()
                },
                1,
            )
            .unwrap();
            let mut tree = ApiTree::new(api);
            tree.stages.push(stage());
            s.create_api(&scope, tree).await.unwrap();
        });
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
}
