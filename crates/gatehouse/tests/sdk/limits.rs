//! Throttling, fault injection, request limits and the per-API quotas.

use std::time::{Duration, Instant};

use aws_sdk_apigatewayv2::config::retry::RetryConfig;
use aws_sdk_apigatewayv2::config::{BehaviorVersion, Credentials, Region};
use gatehouse_core::model::api::{ApiInput, ProtocolType};
use gatehouse_core::model::stage::{StageInput, StageRules};
use gatehouse_core::model::tree::ApiTree;
use gatehouse_core::model::{Api, Scope, Stage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::*;

fn client_with_retries(
    endpoint: &str,
    key: &str,
    retry: RetryConfig,
) -> aws_sdk_apigatewayv2::Client {
    let conf = aws_sdk_apigatewayv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(key, "secret", None, None, "test"))
        .endpoint_url(endpoint)
        .retry_config(retry)
        .build();
    aws_sdk_apigatewayv2::Client::from_conf(conf)
}

/// Stores an API with a `dev` stage straight into the store (spending no request tokens).
async fn seed(s: &gatehouse::server::RunningServer, account: &str, api_id: &str) {
    let api = Api::create(
        api_id.into(),
        ApiInput {
            name: Some("seeded".into()),
            protocol_type: Some(ProtocolType::Http),
            ..Default::default()
        },
        1_700_000_000,
        gatehouse_core::compat::Profile::Aws,
    )
    .unwrap();
    let mut tree = ApiTree::new(api);
    let rules = StageRules::new(
        ProtocolType::Http,
        format!("{account}:{api_id}"),
        Vec::new(),
    );
    let stage_input = StageInput {
        stage_name: Some("dev".into()),
        ..Default::default()
    };
    tree.stages
        .push(Stage::create(stage_input, &rules, 1_700_000_000).unwrap());
    s.store
        .create_api(&Scope::new(account, "us-east-1"), tree)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_burst_sees_exactly_the_allowance_and_other_accounts_are_unaffected() {
    let s = server_with(|a| {
        a.throttle = true;
        a.throttle_rate = 0.001;
        a.throttle_burst = 40.0;
    })
    .await;
    seed(&s, "111111111111", "burstapi01").await;
    seed(&s, "222222222222", "burstapi02").await;
    let a = client_with_retries(&s.endpoint(), "111111111111", RetryConfig::disabled());
    let b = client_with_retries(&s.endpoint(), "222222222222", RetryConfig::disabled());
    let calls = (0..100).map(|_| {
        let a = a.clone();
        tokio::spawn(async move {
            a.get_stage()
                .api_id("burstapi01")
                .stage_name("dev")
                .send()
                .await
        })
    });
    let mut ok = 0;
    let mut throttled = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => {
                let (code, status, msg) = failure::<(), _, _>(Err(e));
                assert_eq!(
                    (code.as_str(), status, msg.as_str()),
                    ("TooManyRequestsException", 429, "Too Many Requests")
                );
                throttled += 1;
            }
        }
    }
    assert_eq!((ok, throttled), (40, 60));
    // Another account has its own bucket.
    for _ in 0..40 {
        b.get_stage()
            .api_id("burstapi02")
            .stage_name("dev")
            .send()
            .await
            .unwrap();
    }
    let (code, _, _) = failure(
        b.get_stage()
            .api_id("burstapi02")
            .stage_name("dev")
            .send()
            .await,
    );
    assert_eq!(code, "TooManyRequestsException");
    // The raw body is AWS's.
    let (status, headers, body) = raw(
        s.addr,
        "GET",
        "/v2/apis/burstapi01/stages/dev",
        &[("authorization", "AWS4-HMAC-SHA256 Credential=111111111111/20260101/us-east-1/apigateway/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"), ("x-amz-date", "20260101T000000Z")],
        b"",
    )
    .await;
    assert_eq!(
        (status, header(&headers, "x-amzn-errortype")),
        (429, Some("TooManyRequestsException"))
    );
    assert_eq!(body, r#"{"message":"Too Many Requests"}"#);
}

#[tokio::test]
async fn standard_retries_recover_from_throttling() {
    let s = server_with(|a| {
        a.throttle = true;
        a.throttle_rate = 20.0;
        a.throttle_burst = 2.0;
    })
    .await;
    seed(&s, "111111111111", "retryapi01").await;
    let c = client_with_retries(
        &s.endpoint(),
        "111111111111",
        RetryConfig::standard().with_max_attempts(10),
    );
    for _ in 0..12 {
        c.get_stage()
            .api_id("retryapi01")
            .stage_name("dev")
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn create_deployment_is_limited_to_one_every_five_seconds() {
    let s = server_with(|a| a.throttle = true).await;
    let c = client_with_retries(&s.endpoint(), "AKIDEXAMPLE", RetryConfig::disabled());
    let id = http_api(&c).await;
    deploy_something(&c, &id).await;
    let (code, status, _) = failure(c.create_deployment().api_id(&id).send().await);
    assert_eq!((code.as_str(), status), ("TooManyRequestsException", 429));
    assert_eq!(
        c.get_deployments()
            .api_id(&id)
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        1
    );
}

#[tokio::test]
async fn injected_faults_fail_chosen_calls_and_change_nothing() {
    let s = server_with(|a| {
        a.faults = vec![
            "GetStages=TooManyRequestsException#2".into(),
            "CreateStage=ConflictException@1".into(),
            "GetApi=delay:200ms#1".into(),
        ]
    })
    .await;
    let plain = client_with_retries(&s.endpoint(), "AKIDEXAMPLE", RetryConfig::disabled());
    let id = http_api(&plain).await;
    for _ in 0..2 {
        let (code, status, msg) = failure(plain.get_stages().api_id(&id).send().await);
        assert_eq!(
            (code.as_str(), status, msg.as_str()),
            ("TooManyRequestsException", 429, "Too Many Requests")
        );
    }
    plain.get_stages().api_id(&id).send().await.unwrap();
    let (code, status, msg) = failure(
        plain
            .create_stage()
            .api_id(&id)
            .stage_name("x")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ConflictException", 409));
    assert!(msg.contains("CreateStage=ConflictException@1"), "{msg}");
    assert!(plain
        .get_stages()
        .api_id(&id)
        .send()
        .await
        .unwrap()
        .items()
        .is_empty());
    let started = Instant::now();
    plain.get_api().api_id(&id).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));

    // With retries on, a client rides out the injected throttling.
    let s = server_with(|a| a.faults = vec!["GetApis=TooManyRequestsException#2".into()]).await;
    let retrying = client_with_retries(
        &s.endpoint(),
        "AKIDEXAMPLE",
        RetryConfig::standard().with_max_attempts(3),
    );
    retrying.get_apis().send().await.unwrap();
}

#[tokio::test]
async fn bad_fault_rules_are_refused_at_start() {
    let args = gatehouse::settings::Settings {
        faults: vec!["GetStage=NoSuchException".into()],
        ..gatehouse::settings::Settings::ephemeral()
    };
    let err = gatehouse::server::start(&args).await.err().unwrap();
    assert!(err.contains("unknown exception"), "{err}");
}

#[tokio::test]
async fn load_is_shed_with_503_beyond_the_concurrency_cap() {
    let s = server_with(|a| {
        a.max_concurrent_requests = 2;
        a.faults = vec!["GetApis=delay:1500ms".into()];
    })
    .await;
    let addr = s.addr;
    let calls: Vec<_> = (0..8)
        .map(|_| tokio::spawn(async move { raw(addr, "GET", "/v2/apis", &[], b"").await }))
        .collect();
    let mut statuses = Vec::new();
    for c in calls {
        let (status, headers, _) = c.await.unwrap();
        if status == 503 {
            assert_eq!(
                header(&headers, "x-amzn-errortype"),
                Some("ServiceUnavailableException")
            );
        }
        statuses.push(status);
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let shed = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(ok + shed, 8, "{statuses:?}");
    assert!((1..=2).contains(&ok) && shed >= 6, "{statuses:?}");
}

/// Reads until the peer closes; returns what was read.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
        .await
        .expect("the server closes the connection in time")
        .ok();
    buf
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed() {
    // Headers never finished (the idle timeout is far away, so this is the header timeout).
    let s = server_with(|a| {
        a.header_timeout = 0.5;
        a.idle_timeout = 30.0;
    })
    .await;
    let mut slow = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(b"GET /v2/apis HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    read_until_closed(&mut slow).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(5),
        "{waited:?}"
    );

    // A keep-alive connection left idle after one request.
    let s = server_with(|a| {
        a.header_timeout = 30.0;
        a.idle_timeout = 0.7;
    })
    .await;
    let mut idle = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    idle.write_all(b"GET /v2/apis HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let started = Instant::now();
    read_until_closed(&mut idle).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(500) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

#[tokio::test]
async fn stage_quota_is_enforced_and_configurable() {
    let s = server_with(|a| a.max_stages_per_api = 3).await;
    let c = client(&s);
    let id = http_api(&c).await;
    for name in ["a", "b", "c"] {
        c.create_stage()
            .api_id(&id)
            .stage_name(name)
            .send()
            .await
            .unwrap();
    }
    let (code, status, msg) = failure(c.create_stage().api_id(&id).stage_name("d").send().await);
    // AWS answers per-API quotas with status 429 and type ConflictException.
    assert_eq!((code.as_str(), status), ("ConflictException", 429));
    assert_eq!(
        msg,
        "Maximum number of Stages for this API has been reached. Please contact AWS if you need additional Stages."
    );
    c.delete_stage()
        .api_id(&id)
        .stage_name("a")
        .send()
        .await
        .unwrap();
    new_stage(&c, &id, "d").await;
}

#[tokio::test]
async fn default_quota_is_ten() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    for i in 0..10 {
        c.create_stage()
            .api_id(&id)
            .stage_name(format!("s{i}"))
            .send()
            .await
            .unwrap();
    }
    let (code, _, _) = failure(c.create_stage().api_id(&id).stage_name("s10").send().await);
    assert_eq!(code, "ConflictException");
}

#[tokio::test]
async fn route_and_integration_quotas_are_awss() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    for i in 0..300 {
        c.create_route()
            .api_id(&id)
            .route_key(format!("GET /r{i}"))
            .send()
            .await
            .unwrap();
        c.create_integration()
            .api_id(&id)
            .integration_type(aws_sdk_apigatewayv2::types::IntegrationType::HttpProxy)
            .integration_method("GET")
            .integration_uri("https://example.com")
            .send()
            .await
            .unwrap();
    }
    let (code, status, msg) = failure(
        c.create_route()
            .api_id(&id)
            .route_key("GET /one-more")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ConflictException", 429));
    assert_eq!(msg, "Maximum number of Routes for this API has been reached. Please contact AWS if you need additional Routes.");
    let (code, status, msg) = failure(
        c.create_integration()
            .api_id(&id)
            .integration_type(aws_sdk_apigatewayv2::types::IntegrationType::HttpProxy)
            .integration_method("GET")
            .integration_uri("https://example.com")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ConflictException", 429));
    assert!(msg.starts_with("Maximum number of Integrations"), "{msg}");
}
