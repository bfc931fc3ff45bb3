//! Which deployment answers: stages in both URL forms, custom domain names.

use super::*;

#[tokio::test]
async fn stages_serve_their_deployment_in_both_url_forms() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let api = proxied_api(
        &c,
        &format!("http://{backend}/backend/{{proxy}}"),
        "ANY /pets/{proxy+}",
        "prod",
    )
    .await;

    let (status, headers, body) = get(&s, &api, "/prod/pets/a%20b/c?x=1&y=2").await;
    assert_eq!(status, 200, "{body}");
    let echoed = json(&body);
    assert_eq!(echoed["path"], "/backend/a%20b/c");
    assert_eq!(echoed["query"], "x=1&y=2");
    assert_eq!(echoed["host"], backend.to_string());
    assert!(echoed["forwarded"]
        .as_str()
        .unwrap()
        .contains("for=127.0.0.1"));
    let id = header(&headers, "apigw-requestid").unwrap();
    assert_eq!(id.len(), 16, "{id}");
    // The host form, with the region in the host or not.
    for host in [
        format!("{api}.execute-api.localhost"),
        format!("{api}.execute-api.us-east-1.localhost:4599"),
    ] {
        let (status, _, body) = raw(
            s.addr,
            "POST",
            "/prod/pets/x",
            &[("host", &host), ("x-custom", "1")],
            b"hello",
        )
        .await;
        assert_eq!(status, 200, "{host}: {body}");
        let echoed = json(&body);
        assert_eq!(
            (
                echoed["method"].as_str(),
                echoed["body"].as_str(),
                echoed["x-custom"].as_str()
            ),
            (Some("POST"), Some("hello"), Some("1"))
        );
    }
    // A change without a redeploy does not reach traffic.
    let other = http_integration(&c, &api, &format!("http://{backend}/other")).await;
    route(&c, &api, "GET /new", &other).await;
    assert_eq!(get(&s, &api, "/prod/new").await.0, 404);
    deploy(&c, &api, "prod").await;
    let (status, _, body) = get(&s, &api, "/prod/new").await;
    assert_eq!(
        (status, json(&body)["path"].as_str()),
        (200, Some("/other"))
    );
    // No $default stage: a path naming no stage is not found; with one, it serves it.
    let (status, headers, body) = get(&s, &api, "/pets/x").await;
    assert_eq!((status, body.as_str()), (404, r#"{"message":"Not Found"}"#));
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    auto_deployed_default(&c, &api).await;
    let (status, _, body) = get(&s, &api, "/pets/x").await;
    assert_eq!(
        (status, json(&body)["path"].as_str()),
        (200, Some("/backend/x"))
    );
    // Unknown API (or no API id at all), unknown route.
    assert_eq!(get(&s, "nosuchapi0", "/prod/pets/x").await.0, 404);
    for bad in ["bad!id", ""] {
        let (status, _, body) = get(&s, bad, "/prod/pets/x").await;
        assert_eq!((status, body.as_str()), (404, r#"{"message":"Not Found"}"#));
    }
    assert_eq!(
        get(&s, &api, "/prod/cats").await.2,
        r#"{"message":"Not Found"}"#
    );
}

#[tokio::test]
async fn custom_domain_names_serve_through_their_api_mappings() {
    use aws_sdk_apigatewayv2::types::{DomainNameConfiguration, EndpointType};
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let mut apis = Vec::new();
    for name in ["root", "orders"] {
        let uri = format!("http://{backend}/{name}/{{proxy}}");
        apis.push(proxied_api(&c, &uri, "ANY /{proxy+}", "prod").await);
    }
    c.create_domain_name()
        .domain_name("api.example.com")
        .domain_name_configurations(
            DomainNameConfiguration::builder()
                .certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/abc")
                .endpoint_type(EndpointType::Regional)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (api, key) in [(&apis[0], ""), (&apis[1], "v1/orders")] {
        c.create_api_mapping()
            .domain_name("api.example.com")
            .api_id(api)
            .stage("prod")
            .api_mapping_key(key)
            .send()
            .await
            .unwrap();
    }
    let host = format!("api.example.com:{}", s.addr.port());
    let at = |path: &'static str| {
        let host = host.clone();
        let addr = s.addr;
        async move { raw(addr, "GET", path, &[("host", host.as_str())], b"").await }
    };
    // The longest mapping key takes the path; what follows it is the API's own path.
    let (status, _, body) = at("/v1/orders/7?x=1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (json(&body)["path"].as_str(), json(&body)["query"].as_str()),
        (Some("/orders/7"), Some("x=1"))
    );
    let (status, headers, body) = at("/pets/1").await;
    assert_eq!(
        (status, json(&body)["path"].as_str()),
        (200, Some("/root/pets/1"))
    );
    assert!(header(&headers, "apigw-requestid").is_some());
    // The host decides first: a domain takes every path, the management API's included.
    let (status, _, body) = at("/v2/apis").await;
    assert_eq!(
        (status, json(&body)["path"].as_str()),
        (200, Some("/root/v2/apis"))
    );
    // Disabling the API's own endpoint leaves the domain serving.
    c.update_api()
        .api_id(&apis[0])
        .disable_execute_api_endpoint(true)
        .send()
        .await
        .unwrap();
    assert_eq!(at("/pets/1").await.0, 200);
    assert_eq!(get(&s, &apis[0], "/prod/pets/1").await.0, 403);
    // A path no mapping takes, once the root mapping is gone: 404, AWS's body.
    let root = c
        .get_api_mappings()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .find(|m| m.api_mapping_key() == Some(""))
        .and_then(|m| m.api_mapping_id().map(String::from))
        .unwrap();
    c.delete_api_mapping()
        .domain_name("api.example.com")
        .api_mapping_id(root)
        .send()
        .await
        .unwrap();
    let (status, _, body) = at("/pets/1").await;
    assert_eq!((status, body.as_str()), (404, r#"{"message":"Not Found"}"#));
    // A host that is no domain name is the management API's, as before.
    let (status, _, _) = raw(
        s.addr,
        "GET",
        "/pets/1",
        &[("host", "other.example.com")],
        b"",
    )
    .await;
    assert_ne!(status, 200);
}

/// What the data plane reuses between requests (the resolved stage, the compiled
/// deployment) is renewed by any change the store commits, whoever makes it: here the
/// store itself, with no management call in between.
#[tokio::test]
async fn a_change_written_to_the_store_directly_reaches_traffic_at_once() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let uri = format!("http://{backend}/backend/{{proxy}}");
    let api = proxied_api(&c, &uri, "ANY /pets/{proxy+}", "prod").await;
    assert_eq!(get(&s, &api, "/prod/pets/1").await.0, 200);
    let scope = gatehouse_core::model::Scope::new("123456789012", "us-east-1");
    s.store.delete_api(&scope, &api).await.unwrap();
    let (status, _, body) = get(&s, &api, "/prod/pets/1").await;
    assert_eq!((status, body.as_str()), (404, r#"{"message":"Not Found"}"#));
}
