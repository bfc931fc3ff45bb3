//! Templates through the embedded server: the committed CDK assembly (examples/cdk)
//! served from the settings' `template`, its JWT authorizer verifying a real token from a
//! local issuer (the template's `Issuer` parameter), its functions called through a Lambda
//! stub; a broken template refused through `/_gatehouse/stacks` with nothing changed.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::common::*;
use crate::dataplane::authorizers::{issuer, token};
use crate::dataplane::{lambda_stub, Seen};

fn assembly() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/cdk/cdk.out")
}

/// The stack's API ids by logical id, from `/_gatehouse/stacks`.
async fn apis(s: &gatehouse::server::RunningServer) -> serde_json::Map<String, serde_json::Value> {
    let (status, _, body) = raw(s.addr, "GET", "/_gatehouse/stacks", &[], b"").await;
    assert_eq!(status, 200, "{body}");
    let stacks: serde_json::Value = serde_json::from_str(&body).unwrap();
    stacks["stacks"][0]["apis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["logicalId"].as_str().unwrap().to_string(),
                a["apiId"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_cdk_assembly_served_from_the_settings_verifies_real_tokens() {
    let iss = issuer().await;
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let lambda = lambda_stub(
        seen.clone(),
        (200, false, r#"{"statusCode":200,"body":"from hello"}"#),
    )
    .await;
    let s = server_with(|s| {
        s.template.template = Some(assembly());
        s.template.parameters = vec![format!("Issuer={iss}")];
        s.lambda_endpoint = Some(format!("http://{lambda}"));
    })
    .await;
    let ids = apis(&s).await;
    let api = ids["GatehouseApis/HttpApiF5A9A8A7"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/_aws/execute-api/{api}/private");
    let (status, _, body) = raw(s.addr, "GET", &path, &[], b"").await;
    assert_eq!(
        (status, body.as_str()),
        (401, r#"{"message":"Unauthorized"}"#)
    );
    let now = gatehouse_core::model::time::now();
    let good = token(
        serde_json::json!({"iss": iss, "aud": "gatehouse", "sub": "u1", "exp": now + 600, "iat": now}),
    );
    let bearer = format!("Bearer {good}");
    let (status, _, body) = raw(
        s.addr,
        "GET",
        &path,
        &[("authorization", bearer.as_str())],
        b"",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "from hello"));
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0].0.contains("/functions/hello/invocations"),
        "{}",
        calls[0].0
    );
    assert_eq!(
        calls[0].1["requestContext"]["authorizer"]["jwt"]["claims"]["sub"],
        "u1"
    );
}

async fn api_count(c: &aws_sdk_apigatewayv2::Client) -> usize {
    let apis = c.get_apis().send().await.unwrap();
    apis.items.unwrap_or_default().len()
}

#[tokio::test]
async fn a_broken_template_is_refused_and_changes_nothing() {
    let s = server_with(|s| s.template.template = Some(assembly())).await;
    let c = client(&s);
    let before = api_count(&c).await;
    let template = serde_json::json!({"Resources": {
        "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "x", "ProtocolType": "HTTP"}},
        "Bad": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"ApiId": {"Ref": "Api"}, "RouteKey": {"Fn::GetAZs": ""}}},
    }});
    let body = serde_json::json!({"templates": [{"name": "t", "body": template}]}).to_string();
    let (status, headers, answer) = raw(
        s.addr,
        "PUT",
        "/_gatehouse/stacks/broken",
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(headers
        .iter()
        .any(|(k, v)| k == "x-amzn-errortype" && v.starts_with("BadRequestException")));
    assert!(
        answer.contains("resource Bad (AWS::ApiGatewayV2::Route): Properties.RouteKey.Fn::GetAZs"),
        "{answer}"
    );
    let after = api_count(&c).await;
    assert_eq!(before, after);
    let (status, _, answer) = raw(
        s.addr,
        "PUT",
        "/_gatehouse/stacks/9lives",
        &[],
        br#"{"templates":[]}"#,
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let (status, _, answer) = raw(
        s.addr,
        "PUT",
        "/_gatehouse/stacks/empty",
        &[],
        br#"{"templates":[]}"#,
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("Template format error: At least one Resources member must be defined."),
        "{answer}"
    );
    // The refused apply left no stack behind; the one served from the settings reads back.
    let (status, _, answer) = raw(s.addr, "GET", "/_gatehouse/stacks/broken", &[], b"").await;
    assert_eq!(
        (status, answer.as_str()),
        (404, r#"{"message":"Stack broken does not exist"}"#)
    );
    let (_, _, list) = raw(s.addr, "GET", "/_gatehouse/stacks", &[], b"").await;
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let first = &list["stacks"][0];
    let name = first["stackName"].as_str().unwrap();
    let (status, _, one) = raw(
        s.addr,
        "GET",
        &format!("/_gatehouse/stacks/{name}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        &serde_json::from_str::<serde_json::Value>(&one).unwrap(),
        first
    );
}
