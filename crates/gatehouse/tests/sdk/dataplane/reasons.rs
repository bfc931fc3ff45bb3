//! What a newcomer sees when an invocation fails: the client gets AWS's answer, unchanged,
//! and the server's own log line (at the default level) names the API, region, stage and
//! route, and why; an API outside the default region is reachable through the path form;
//! a custom domain name takes every path, `/v2/…` included; the start-up lines say where
//! the state is and where stages answer.

use aws_sdk_apigatewayv2::types::{DomainNameConfiguration, IntegrationType};
use gatehouse_core::model::Scope;
use gatehouse_core::store::LoadMode;

use super::*;

/// GET `path` on the server at `addr`, with `headers`.
async fn at(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let (status, _, body) = raw(addr, "GET", path, headers, b"").await;
    (status, body)
}

const NOT_FOUND: &str = r#"{"message":"Not Found"}"#;

#[tokio::test]
async fn every_refusal_says_why_in_the_server_log_and_nothing_more_to_the_client() {
    let mut g = Logged::start(&["--store", "memory"]).await;
    let endpoint = format!("http://{}", g.addr);
    let c = client_as(&endpoint, "test", "eu-west-1");
    let api = http_api(&c).await;
    let fn_uri = "arn:aws:lambda:eu-west-1:123456789012:function:hello";
    let i = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri(fn_uri)
        .payload_format_version("2.0")
        .send()
        .await
        .unwrap();
    route(&c, &api, "GET /hello", i.integration_id().unwrap()).await;
    new_stage(&c, &api, "dev").await;
    new_stage(&c, &api, "prod").await;
    deploy(&c, &api, "prod").await;
    let base = format!("/_aws/execute-api/{api}");
    let cases: &[(&str, u16, &[&str])] = &[
        (
            "/_aws/execute-api/nosuchapi0/prod/hello",
            404,
            &[
                "api_id=nosuchapi0",
                "no API has the id nosuchapi0 in any region",
            ],
        ),
        (
            "/_aws/execute-api/bad!id/prod/hello",
            404,
            &["the path form names no API id"],
        ),
        (
            &format!("{base}/nope/hello"),
            404,
            &[
                "region=eu-west-1",
                "has no stage nope and no $default stage",
            ],
        ),
        (
            &base,
            404,
            &["the path names no stage", "has no $default stage"],
        ),
        (
            &format!("{base}/dev/hello"),
            404,
            &["stage=dev", "stage dev has no deployment"],
        ),
        (
            &format!("{base}/prod/cats"),
            404,
            &[
                "stage=prod",
                "route=\"no route\"",
                "no route matches GET /cats",
            ],
        ),
        (
            &format!("{base}/prod/hello"),
            500,
            &[
                "WARN",
                "route=\"GET /hello\"",
                "No Lambda endpoint is configured for function hello",
            ],
        ),
    ];
    for (path, status, parts) in cases {
        let (got, body) = at(g.addr, path, &[]).await;
        let expected = match status {
            404 => NOT_FOUND,
            _ => r#"{"message":"Internal Server Error"}"#,
        };
        assert_eq!((got, body.as_str()), (*status, expected), "{path}");
        let mut wanted = vec!["invoke refused", *path];
        wanted.extend_from_slice(parts);
        let line = g.log_line(&wanted).await;
        assert!(line.contains(&format!("status={status}")), "{line}");
    }
}

#[tokio::test]
async fn an_invoke_api_that_refuses_the_call_is_logged_with_its_status() {
    let seen = Seen::default();
    let stub = lambda_stub(seen, (404, false, r#"{"Message":"no such function"}"#)).await;
    let mut g = Logged::start(&[
        "--store",
        "memory",
        "--access-log",
        "-",
        "--lambda-endpoint",
        &format!("http://{stub}"),
    ])
    .await;
    let c = client_as(&format!("http://{}", g.addr), "test", "us-east-1");
    let api = lambda_api(&c, "2.0").await;
    c.update_stage()
        .api_id(&api)
        .stage_name("dev")
        .access_log_settings(
            AccessLogSettings::builder()
                .destination_arn("arn:aws:logs:us-east-1:123456789012:log-group:x")
                .format("LOG $context.requestId $context.status $context.integrationStatus")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let path = format!("/_aws/execute-api/{api}/dev/pets/7");
    let (status, _, _) = raw(g.addr, "POST", &path, &[], b"{}").await;
    assert_eq!(status, 500);
    g.log_line(&["invoke refused", "The Lambda Invoke API answered 404"])
        .await;
    // `$context.integrationStatus` is the Invoke API's own status, as AWS logs Lambda's.
    g.log_line(&["LOG ", " 500 404"]).await;
}

#[tokio::test]
async fn the_path_form_finds_an_api_in_any_region_and_says_when_it_cannot_choose() {
    let s = server().await;
    let endpoint = format!("http://{}", s.addr);
    let west = client_as(&endpoint, "test", "eu-west-1");
    let backend = echo().await;
    let uri = format!("http://{backend}/backend/{{proxy}}");
    let api = proxied_api(&west, &uri, "GET /pets/{proxy+}", "prod").await;
    let path = format!("/_aws/execute-api/{api}/prod/pets/1");
    assert_eq!(at(s.addr, &path, &[]).await.0, 200);
    // The host form without a region finds it too; with a region, only in that region.
    let host = |region: &str| format!("{api}.execute-api{region}.localhost");
    let no_region = host("");
    let (west_host, east_host) = (host(".eu-west-1"), host(".us-east-1"));
    for (name, status) in [(&no_region, 200), (&west_host, 200), (&east_host, 404)] {
        let got = at(s.addr, "/prod/pets/1", &[("host", name.as_str())]).await;
        assert_eq!(got.0, status, "{name}: {}", got.1);
    }
    // The same id in a second region other than the default: the path form cannot choose.
    let tree = s
        .store
        .dump(None)
        .await
        .unwrap()
        .into_iter()
        .find(|(scope, tree)| scope.region == "eu-west-1" && tree.id == api)
        .map(|(_, tree)| tree)
        .unwrap();
    let south = Scope::new("123456789012", "ap-south-1");
    s.store
        .load(vec![(south, tree.clone())], LoadMode::Add)
        .await
        .unwrap();
    assert_eq!(at(s.addr, &path, &[]).await, (404, NOT_FOUND.to_string()));
    let south_host = host(".ap-south-1");
    assert_eq!(
        at(s.addr, "/prod/pets/1", &[("host", &south_host)]).await.0,
        200
    );
    // One in the default region is the one a request naming no region reaches.
    let east = Scope::new("123456789012", "us-east-1");
    s.store
        .load(vec![(east, tree)], LoadMode::Add)
        .await
        .unwrap();
    assert_eq!(at(s.addr, &path, &[]).await.0, 200);
}

#[tokio::test]
async fn a_custom_domain_outside_the_default_region_serves_every_path_v2_included() {
    let s = server().await;
    let endpoint = format!("http://{}", s.addr);
    let west = client_as(&endpoint, "test", "eu-west-1");
    let backend = echo().await;
    let uri = format!("http://{backend}/backend/{{proxy}}");
    let api = proxied_api(&west, &uri, "ANY /{proxy+}", "prod").await;
    west.create_domain_name()
        .domain_name("api.example.com")
        .domain_name_configurations(
            DomainNameConfiguration::builder()
                .certificate_arn("arn:aws:acm:eu-west-1:123456789012:certificate/abc")
                .build(),
        )
        .send()
        .await
        .unwrap();
    west.create_api_mapping()
        .domain_name("api.example.com")
        .api_id(&api)
        .stage("prod")
        .api_mapping_key("v2")
        .send()
        .await
        .unwrap();
    let host = [("host", "api.example.com")];
    let (status, body) = at(s.addr, "/v2/apis", &host).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["path"], "/backend/apis");
    // A path its mappings do not take is the gateway's 404, not the management API's.
    assert_eq!(at(s.addr, "/v1/apis", &host).await, (404, NOT_FOUND.into()));
    // The management API still answers on any other host.
    let (status, body) = at(s.addr, "/v2/apis", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"items\""), "{body}");
}

#[tokio::test]
async fn the_start_up_lines_say_where_the_state_is_and_where_stages_answer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let store = format!("sqlite:{}", db.display());
    let mut g = Logged::start(&["--store", &store]).await;
    let state = g.stdout.recv().await.unwrap();
    assert_eq!(state, format!("gatehouse state: {store}, empty"));
    let urls = g.stdout.recv().await.unwrap();
    let port = g.addr.port();
    assert!(
        urls.contains(&format!(
            "http://127.0.0.1:{port}/_aws/execute-api/{{apiId}}/{{stage}}/"
        )) && urls.contains(&format!("http://{{apiId}}.execute-api.localhost:{port}/")),
        "{urls}"
    );
    let c = client_as(&format!("http://{}", g.addr), "test", "us-east-1");
    http_api(&c).await;
    drop(g);
    // A relative path is shown absolute; what the store holds is counted.
    let relative = format!("sqlite:{}", pathdiff(&db));
    let mut g = Logged::start(&["--store", &relative]).await;
    assert_eq!(
        g.stdout.recv().await.unwrap(),
        format!("gatehouse state: {store}, 1 API, 0 stages")
    );
}

/// `path` relative to the current directory (`../../tmp/…`).
fn pathdiff(path: &std::path::Path) -> String {
    let here = std::env::current_dir().unwrap();
    let ups = here.components().count() - 1;
    let rel: std::path::PathBuf = std::iter::repeat_n("..", ups).collect();
    rel.join(path.strip_prefix("/").unwrap())
        .display()
        .to_string()
}
