//! `GET /_gatehouse/explain`: which route a request would match and why, from the router's
//! own choice, with every route in AWS's priority order; nothing is invoked.

use super::*;

/// GET `/_gatehouse/explain` with `query`: the status and the JSON answer.
async fn explain(s: &gatehouse::server::RunningServer, query: &str) -> (u16, serde_json::Value) {
    let (status, _, body) = raw(
        s.addr,
        "GET",
        &format!("/_gatehouse/explain?{query}"),
        &[],
        b"",
    )
    .await;
    (status, json(&body))
}

#[tokio::test]
async fn explain_names_the_route_a_request_would_match_and_why_not_the_others() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = http_api(&c).await;
    let i = http_integration(&c, &api, &format!("http://{backend}/{{proxy}}")).await;
    for key in ["GET /pets/{id}", "GET /pets/dog", "ANY /{proxy+}"] {
        route(&c, &api, key, &i).await;
    }
    new_stage(&c, &api, "prod").await;
    deploy(&c, &api, "prod").await;
    let (status, e) = explain(
        &s,
        &format!("apiId={api}&stage=prod&method=get&path=/pets/7"),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    assert_eq!(e["matched"]["routeKey"], "GET /pets/{id}");
    assert_eq!(e["matched"]["pathParameters"]["id"], "7");
    assert_eq!(e["matched"]["target"], format!("integrations/{i}"));
    assert_eq!(e["region"], "us-east-1");
    let order: Vec<&str> = e["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["routeKey"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["GET /pets/dog", "GET /pets/{id}", "ANY /{proxy+}"]);
    assert_eq!(
        e["candidates"][0]["why"],
        "segment 2 is \"7\"; the route wants \"dog\""
    );
    assert_eq!(
        e["candidates"][2]["why"],
        "matches, but GET /pets/{id} comes first in priority"
    );
    // It explains what the stage serves: the deployment, not the live routes.
    route(&c, &api, "POST /orders", &i).await;
    let (_, e) = explain(
        &s,
        &format!("apiId={api}&stage=prod&method=POST&path=/orders"),
    )
    .await;
    assert_eq!(e["matched"]["routeKey"], "ANY /{proxy+}");
    // The same answer as the invocation: it is the router's choice.
    let (status, _, body) = raw(
        s.addr,
        "POST",
        &format!("/_aws/execute-api/{api}/prod/orders"),
        &[],
        b"",
    )
    .await;
    assert_eq!(
        (status, json(&body)["path"].as_str()),
        (200, Some("/orders"))
    );
}

#[tokio::test]
async fn explain_says_why_nothing_serves_a_request() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = proxied_api(&c, &format!("http://{backend}/x"), "GET /pets/{id}", "prod").await;
    let (status, e) = explain(&s, &format!("apiId={api}&stage=prod&path=/pets")).await;
    assert_eq!(status, 200);
    assert!(e["matched"].is_null());
    assert_eq!(e["reason"], "no route matches GET /pets");
    assert_eq!(
        e["candidates"][0]["why"],
        "the path has 1 segment(s); the route needs 2"
    );
    // No such stage, API or deployment: 404 with the reason the invoke log line gives.
    new_stage(&c, &api, "dev").await;
    let cases = [
        (
            format!("apiId={api}&stage=dev"),
            "stage dev has no deployment".to_string(),
        ),
        (
            format!("apiId={api}&stage=nope"),
            format!("API {api} has no stage nope"),
        ),
        (
            "apiId=nosuchapi0&stage=prod".into(),
            "no API has the id nosuchapi0 in any region".into(),
        ),
    ];
    for (query, message) in cases {
        let (status, e) = explain(&s, &query).await;
        assert_eq!(
            (status, e["message"].as_str()),
            (404, Some(message.as_str())),
            "{query}"
        );
    }
    let (status, e) = explain(&s, "stage=prod").await;
    assert_eq!(
        (status, e["message"].as_str()),
        (400, Some("The query parameter apiId is required"))
    );
}
