//! JWT authorizers against a local OpenID issuer; Lambda REQUEST authorizers.

use super::*;

const TEST_KEY: &str = include_str!("../../fixtures/jwt-test-key.pem");
const TEST_JWKS: &str = include_str!("../../fixtures/jwt-test-jwks.json");

/// An OpenID issuer on a free port: discovery document and JWKS.
pub(crate) async fn issuer() -> String {
    let addr = backend(
        Duration::ZERO,
        Arc::new(|req| {
            let host = req
                .headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body = match req.uri().path() {
                "/.well-known/openid-configuration" => serde_json::json!({
                    "issuer": format!("http://{host}"),
                    "jwks_uri": format!("http://{host}/jwks"),
                })
                .to_string(),
                "/jwks" => TEST_JWKS.to_string(),
                _ => {
                    return hyper::Response::builder()
                        .status(404)
                        .body(String::new())
                        .unwrap()
                }
            };
            hyper::Response::builder()
                .header("content-type", "application/json")
                .body(body)
                .unwrap()
        }),
    )
    .await;
    format!("http://{addr}")
}

/// A JWT authorizer of `api` (identity source the `Authorization` header) trusting `issuer`
/// for `audience`; its id.
pub(crate) async fn jwt_authorizer(c: &Client, api: &str, issuer: &str, audience: &str) -> String {
    c.create_authorizer()
        .api_id(api)
        .name("jwt")
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Jwt)
        .identity_source("$request.header.Authorization")
        .jwt_configuration(
            aws_sdk_apigatewayv2::types::JwtConfiguration::builder()
                .issuer(issuer)
                .audience(audience)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .authorizer_id()
        .unwrap()
        .to_string()
}

pub(crate) fn token(claims: serde_json::Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("test-key-1".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(TEST_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

#[tokio::test]
async fn jwt_authorizers_verify_tokens_for_real() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let iss = issuer().await;
    let api = http_api(&c).await;
    let auth = jwt_authorizer(&c, &api, &iss, "app").await;
    let i = http_integration(&c, &api, &format!("http://{backend}/")).await;
    c.create_route()
        .api_id(&api)
        .route_key("GET /me")
        .target(format!("integrations/{i}"))
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Jwt)
        .authorizer_id(&auth)
        .authorization_scopes("read")
        .send()
        .await
        .unwrap();
    c.create_stage()
        .api_id(&api)
        .stage_name("$default")
        .auto_deploy(true)
        .access_log_settings(
            AccessLogSettings::builder()
                .destination_arn("arn:aws:logs:us-east-1:123456789012:log-group:api")
                .format("$context.requestId $context.status $context.authorizer.claims.sub")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let now = gatehouse_core::model::time::now();
    let good = serde_json::json!({"iss": iss, "aud": "app", "sub": "u1", "exp": now + 600, "iat": now, "scope": "read write"});
    let call = |auth: Option<String>| {
        let s_addr = s.addr;
        let api = api.clone();
        async move {
            let headers: Vec<(&str, String)> =
                auth.into_iter().map(|a| ("authorization", a)).collect();
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            raw(
                s_addr,
                "GET",
                &format!("/_aws/execute-api/{api}/me"),
                &h,
                b"",
            )
            .await
        }
    };
    let (status, _, body) = call(Some(format!("Bearer {}", token(good.clone())))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        call(Some(token(good.clone()))).await.0,
        200,
        "the Bearer prefix is optional"
    );
    let (status, headers, body) = call(None).await;
    assert_eq!(
        (status, body.as_str(), header(&headers, "www-authenticate")),
        (401, r#"{"message":"Unauthorized"}"#, Some("Bearer"))
    );
    for (claims, says) in [
        (
            serde_json::json!({"aud": "other"}),
            "the token does not have a valid audience",
        ),
        (
            serde_json::json!({"exp": now - 10}),
            "the token has expired",
        ),
        (
            serde_json::json!({"iss": "http://someone-else"}),
            "the token does not have a valid issuer",
        ),
        (
            serde_json::json!({"nbf": now + 600}),
            "the token is not valid yet",
        ),
    ] {
        let mut t = good.clone();
        for (k, v) in claims.as_object().unwrap() {
            t[k] = v.clone();
        }
        let (status, headers, _) = call(Some(format!("Bearer {}", token(t)))).await;
        assert_eq!(status, 401, "{says}");
        assert_eq!(
            header(&headers, "www-authenticate").map(String::from),
            Some(format!(
                "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{says}\""
            ))
        );
    }
    assert_eq!(call(Some("Bearer not.a.token".into())).await.0, 401);
    // A tampered signature.
    let t = token(good.clone());
    let tampered = format!("{}x", &t[..t.len() - 1]);
    assert_eq!(call(Some(tampered)).await.0, 401);
    // Claims swapped under another token's signature.
    let mut other = good.clone();
    other["sub"] = "someone-else".into();
    let (o, g) = (token(other), token(good.clone()));
    let o: Vec<&str> = o.split('.').collect();
    let g: Vec<&str> = g.split('.').collect();
    let swapped = format!("{}.{}.{}", g[0], o[1], g[2]);
    let (status, headers, _) = call(Some(swapped)).await;
    assert_eq!(
        (status, header(&headers, "www-authenticate")),
        (
            401,
            Some("Bearer scope=\"\" error=\"invalid_token\" error_description=\"the token signature is invalid\"")
        )
    );
    // An HMAC-signed token is refused (HTTP API JWT authorizers verify RSA signatures).
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &good,
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    assert_eq!(call(Some(hs)).await.0, 401);
    // client_id stands in for a missing aud.
    let mut no_aud = good.clone();
    no_aud.as_object_mut().unwrap().remove("aud");
    no_aud["client_id"] = "app".into();
    assert_eq!(call(Some(token(no_aud))).await.0, 200);
    // The route's scope is missing: 403.
    let mut no_scope = good.clone();
    no_scope["scope"] = "write".into();
    let (status, _, body) = call(Some(token(no_scope))).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    let (_, _, log) = raw(
        s.addr,
        "GET",
        &format!("/_gatehouse/access-log/{api}/%24default"),
        &[],
        b"",
    )
    .await;
    assert!(log.lines().next().unwrap().ends_with("200 u1"), "{log}");
}

#[tokio::test]
async fn lambda_authorizers_allow_deny_and_cache() {
    let calls = Arc::new(Mutex::new(Vec::<serde_json::Value>::new()));
    let seen = calls.clone();
    let stub = backend(
        Duration::ZERO,
        Arc::new(move |req| {
            let event: serde_json::Value = serde_json::from_slice(req.body()).unwrap_or_default();
            let path = req.uri().path().to_string();
            let answer = if path.contains("/functions/auth/") {
                seen.lock().unwrap().push(event.clone());
                match event["headers"]["x-key"].as_str() {
                    Some("good") => serde_json::json!({"isAuthorized": true, "context": {"user": "u1"}}),
                    Some("crash") => {
                        return hyper::Response::builder()
                            .header("x-amz-function-error", "Unhandled")
                            .body(r#"{"errorMessage":"Unauthorized"}"#.to_string())
                            .unwrap()
                    }
                    _ => serde_json::json!({"isAuthorized": false}),
                }
            } else {
                serde_json::json!({"statusCode": 200, "body": event["requestContext"]["authorizer"]["lambda"]["user"]})
            };
            hyper::Response::new(answer.to_string())
        }),
    )
    .await;
    let s = server_with(|a| a.lambda_endpoint = Some(format!("http://{stub}"))).await;
    let c = client(&s);
    let api = http_api(&c).await;
    let auth = c
        .create_authorizer()
        .api_id(&api)
        .name("keys")
        .authorizer_type(aws_sdk_apigatewayv2::types::AuthorizerType::Request)
        .authorizer_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations")
        .authorizer_payload_format_version("2.0")
        .enable_simple_responses(true)
        .identity_source("$request.header.X-Key")
        .authorizer_result_ttl_in_seconds(300)
        .send()
        .await
        .unwrap();
    let i = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri("arn:aws:lambda:us-east-1:123456789012:function:pets")
        .payload_format_version("2.0")
        .send()
        .await
        .unwrap();
    c.create_route()
        .api_id(&api)
        .route_key("GET /pets")
        .target(format!("integrations/{}", i.integration_id().unwrap()))
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Custom)
        .authorizer_id(auth.authorizer_id().unwrap())
        .send()
        .await
        .unwrap();
    auto_deployed_default(&c, &api).await;
    let call = |key: Option<&'static str>| {
        let addr = s.addr;
        let api = api.clone();
        async move {
            let h: Vec<(&str, &str)> = key.into_iter().map(|k| ("x-key", k)).collect();
            raw(
                addr,
                "GET",
                &format!("/_aws/execute-api/{api}/pets"),
                &h,
                b"",
            )
            .await
        }
    };
    let (status, _, body) = call(Some("good")).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "u1"),
        "the context reaches the integration"
    );
    assert_eq!(call(Some("good")).await.0, 200);
    assert_eq!(
        calls.lock().unwrap().len(),
        1,
        "the decision is cached for the TTL"
    );
    let event = calls.lock().unwrap()[0].clone();
    assert_eq!(
        (event["type"].as_str(), event["identitySource"][0].as_str()),
        (Some("REQUEST"), Some("good"))
    );
    assert!(event["routeArn"]
        .as_str()
        .unwrap()
        .ends_with(&format!("{api}/$default/GET/pets")));
    let (status, _, body) = call(Some("bad")).await;
    assert_eq!((status, body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    let (status, _, body) = call(None).await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    assert_eq!(
        calls.lock().unwrap().len(),
        2,
        "a missing identity source calls no function"
    );
    assert_eq!(call(Some("crash")).await.0, 401);
}

/// A JWT route's event carries the token's scopes only when the route lists scopes; on a
/// route without `authorizationScopes` they are `null`, whatever the token's `scope` claim
/// (a real event in DefinitelyTyped#75458; aws/aws-lambda-go#317; powertools-lambda-python#2953).
#[tokio::test]
async fn jwt_scopes_reach_the_function_only_from_a_route_that_lists_scopes() {
    let seen: Seen = Default::default();
    let stub = lambda_stub(seen.clone(), (200, false, r#"{"statusCode":200}"#)).await;
    let s = server_with(|a| a.lambda_endpoint = Some(format!("http://{stub}"))).await;
    let c = client(&s);
    let iss = issuer().await;
    let api = http_api(&c).await;
    let auth = jwt_authorizer(&c, &api, &iss, "app").await;
    let i = c
        .create_integration()
        .api_id(&api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_uri("arn:aws:lambda:us-east-1:123456789012:function:me")
        .payload_format_version("2.0")
        .send()
        .await
        .unwrap();
    for (key, scopes) in [("GET /scoped", Some("read")), ("GET /open", None)] {
        c.create_route()
            .api_id(&api)
            .route_key(key)
            .target(format!("integrations/{}", i.integration_id().unwrap()))
            .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Jwt)
            .authorizer_id(&auth)
            .set_authorization_scopes(scopes.map(|s| vec![s.to_string()]))
            .send()
            .await
            .unwrap();
    }
    auto_deployed_default(&c, &api).await;
    let now = gatehouse_core::model::time::now();
    let bearer = format!(
        "Bearer {}",
        token(
            serde_json::json!({"iss": iss, "aud": "app", "sub": "u1", "exp": now + 600, "scope": "read write"})
        )
    );
    for path in ["/scoped", "/open"] {
        let (status, _, body) = raw(
            s.addr,
            "GET",
            &format!("/_aws/execute-api/{api}{path}"),
            &[("authorization", bearer.as_str())],
            b"",
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let seen = seen.lock().unwrap();
    let jwt = |i: usize| seen[i].1["requestContext"]["authorizer"]["jwt"].clone();
    assert_eq!(jwt(0)["scopes"], serde_json::json!(["read", "write"]));
    assert_eq!(jwt(1)["scopes"], serde_json::Value::Null);
    assert_eq!(jwt(1)["claims"]["sub"], "u1");
}

/// A CORS preflight that an authorized catch-all route matches goes to that route and is
/// authorized like any request (AWS's "Configure CORS for HTTP APIs": the `$default` route
/// catches `OPTIONS` requests too, hence its advice of an unauthenticated
/// `OPTIONS /{proxy+}` route; users report the same with `ANY /{proxy+}`, umccr/htsget-rs#156).
/// With that route added, the preflight reaches its integration; a path no route takes is
/// answered by the gateway.
#[tokio::test]
async fn a_preflight_goes_to_an_authorized_catch_all_route() {
    let s = server().await;
    let c = client(&s);
    let backend = echo().await;
    let iss = issuer().await;
    let api = http_api(&c).await;
    c.update_api()
        .api_id(&api)
        .cors_configuration(
            aws_sdk_apigatewayv2::types::Cors::builder()
                .allow_origins("https://app.example")
                .allow_methods("GET")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let auth = jwt_authorizer(&c, &api, &iss, "app").await;
    let i = http_integration(&c, &api, &format!("http://{backend}/")).await;
    c.create_route()
        .api_id(&api)
        .route_key("ANY /api/{proxy+}")
        .target(format!("integrations/{i}"))
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::Jwt)
        .authorizer_id(&auth)
        .send()
        .await
        .unwrap();
    route(&c, &api, "GET /public", &i).await;
    auto_deployed_default(&c, &api).await;
    let preflight = |path: &str| {
        let path = format!("/_aws/execute-api/{api}{path}");
        let addr = s.addr;
        async move {
            let headers = [
                ("origin", "https://app.example"),
                ("access-control-request-method", "GET"),
            ];
            raw(addr, "OPTIONS", &path, &headers, b"").await
        }
    };
    // The catch-all's authorizer refuses the unauthenticated preflight.
    let (status, headers, body) = preflight("/api/items").await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://app.example")
    );
    // No route takes OPTIONS /public: the gateway answers the preflight.
    let (status, headers, _) = preflight("/public").await;
    assert_eq!(status, 204);
    assert_eq!(
        header(&headers, "access-control-allow-methods"),
        Some("GET")
    );
    // An unauthenticated OPTIONS route, as AWS advises: the preflight reaches its backend.
    route(&c, &api, "OPTIONS /api/{proxy+}", &i).await;
    let (status, headers, body) = preflight("/api/items").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("OPTIONS"), "{body}");
    assert_eq!(
        header(&headers, "access-control-allow-origin"),
        Some("https://app.example")
    );
}
