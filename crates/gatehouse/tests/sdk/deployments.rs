//! Deployments as frozen snapshots, and auto-deploy.

use aws_sdk_apigatewayv2::types::{DeploymentStatus, IntegrationType};
use gatehouse_core::model::Scope;

use crate::common::*;

const NO_ROUTES: &str = "Unable to deploy API because no routes exist in this API";

#[tokio::test]
async fn deploying_nothing_fails_as_aws_does() {
    let s = server().await;
    let c = client(&s);
    let http = http_api(&c).await;
    let (code, status, msg) = failure(c.create_deployment().api_id(&http).send().await);
    assert_eq!(
        (code.as_str(), status, msg.as_str()),
        ("BadRequestException", 400, NO_ROUTES)
    );
    let ws = ws_api(&c).await;
    let (_, _, msg) = failure(c.create_deployment().api_id(&ws).send().await);
    assert_eq!(
        msg,
        "At least one route is required before deploying the Api"
    );
    assert!(c
        .get_deployments()
        .api_id(&http)
        .send()
        .await
        .unwrap()
        .items()
        .is_empty());
}

#[tokio::test]
async fn deployments_are_frozen_snapshots() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    new_stage(&c, &id, "prod").await;
    let first = deploy_something(&c, &id).await;
    assert_eq!(first.len(), 6);
    let d = c
        .get_deployment()
        .api_id(&id)
        .deployment_id(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(d.auto_deployed(), Some(false));
    assert_eq!(d.deployment_status(), Some(&DeploymentStatus::Deployed));
    assert_eq!(d.description(), None);
    assert!(d.created_date().is_some());

    // Point a stage at a new deployment, then change the routes: the deployment keeps the old.
    let second = c
        .create_deployment()
        .api_id(&id)
        .stage_name("prod")
        .description("release 2")
        .send()
        .await
        .unwrap();
    let second_id = second.deployment_id().unwrap().to_string();
    assert_eq!(second.description(), Some("release 2"));
    let prod = c
        .get_stage()
        .api_id(&id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert_eq!(prod.deployment_id(), Some(second_id.as_str()));
    let route = c.get_routes().api_id(&id).send().await.unwrap().items()[0].clone();
    c.update_route()
        .api_id(&id)
        .route_id(route.route_id().unwrap())
        .route_key("POST /changed")
        .send()
        .await
        .unwrap();
    let scope = Scope::new("123456789012", "us-east-1");
    let snap = gatehouse_core::store::get_snapshot(s.store.as_ref(), &scope, &id, &second_id)
        .await
        .unwrap();
    assert_eq!(snap.routes[0].route_key, "GET /things");
    assert_eq!(snap.integrations.len(), 1);

    let (code, status, msg) = failure(
        c.create_deployment()
            .api_id(&id)
            .stage_name("ghost")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NotFoundException", 404), "{msg}");
    let (code, _, msg) = failure(
        c.create_stage()
            .api_id(&id)
            .stage_name("bad")
            .deployment_id("zzzzzz")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert!(msg.contains("does not exist"), "{msg}");

    let updated = c
        .update_deployment()
        .api_id(&id)
        .deployment_id(&first)
        .description("first one")
        .send()
        .await
        .unwrap();
    assert_eq!(updated.description(), Some("first one"));
    let page = c
        .get_deployments()
        .api_id(&id)
        .max_results("1")
        .send()
        .await
        .unwrap();
    assert_eq!(page.items().len(), 1);
    assert!(page.next_token().is_some());

    let (code, status, msg) = failure(
        c.delete_deployment()
            .api_id(&id)
            .deployment_id(&second_id)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    assert!(
        msg.starts_with("Active stages pointing to this deployment"),
        "{msg}"
    );
    c.delete_deployment()
        .api_id(&id)
        .deployment_id(&first)
        .send()
        .await
        .unwrap();
    let (code, status, _) = failure(
        c.get_deployment()
            .api_id(&id)
            .deployment_id(&first)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
}

#[tokio::test]
async fn auto_deploy_follows_every_change() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    let stage = c
        .create_stage()
        .api_id(&id)
        .stage_name("dev")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    // Nothing to deploy yet: no deployment, no message (as the AWS CLI's get-stages shows).
    assert_eq!(stage.deployment_id(), None);
    assert_eq!(stage.last_deployment_status_message(), None);

    let integ = c
        .create_integration()
        .api_id(&id)
        .integration_type(IntegrationType::HttpProxy)
        .integration_uri("https://example.com")
        .integration_method("ANY")
        .send()
        .await
        .unwrap();
    let route = c
        .create_route()
        .api_id(&id)
        .route_key("GET /a")
        .target(format!("integrations/{}", integ.integration_id().unwrap()))
        .send()
        .await
        .unwrap();
    let dev = c
        .get_stage()
        .api_id(&id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let d1 = dev.deployment_id().expect("auto-deployed").to_string();
    assert_eq!(
        dev.last_deployment_status_message(),
        Some(format!("Successfully deployed stage with deployment ID '{d1}'").as_str())
    );
    let dep = c
        .get_deployment()
        .api_id(&id)
        .deployment_id(&d1)
        .send()
        .await
        .unwrap();
    assert_eq!(dep.auto_deployed(), Some(true));
    assert_eq!(
        dep.description(),
        Some("Automatic deployment triggered by changes to the Api configuration")
    );

    // An API settings change redeploys.
    c.update_api()
        .api_id(&id)
        .description("v2")
        .send()
        .await
        .unwrap();
    let d2 = c
        .get_stage()
        .api_id(&id)
        .stage_name("dev")
        .send()
        .await
        .unwrap()
        .deployment_id()
        .unwrap()
        .to_string();
    assert_ne!(d1, d2);

    // Removing the last route: the attempt fails, the stage keeps its deployment.
    c.delete_route()
        .api_id(&id)
        .route_id(route.route_id().unwrap())
        .send()
        .await
        .unwrap();
    let dev = c
        .get_stage()
        .api_id(&id)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    assert_eq!(dev.deployment_id(), Some(d2.as_str()));
    assert_eq!(
        dev.last_deployment_status_message(),
        Some(format!("Deployment attempt failed: {NO_ROUTES}").as_str())
    );

    // Turning auto-deploy on deploys at once when there is something to deploy.
    c.create_route()
        .api_id(&id)
        .route_key("GET /b")
        .target(format!("integrations/{}", integ.integration_id().unwrap()))
        .send()
        .await
        .unwrap();
    new_stage(&c, &id, "later").await;
    let later = c
        .update_stage()
        .api_id(&id)
        .stage_name("later")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();
    assert!(later.deployment_id().is_some());
    assert!(later
        .last_deployment_status_message()
        .unwrap()
        .starts_with("Successfully deployed stage with deployment ID"));
    let (code, status, _) = failure(
        c.update_stage()
            .api_id(&id)
            .stage_name("later")
            .deployment_id(&d1)
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    let (code, _, msg) = failure(
        c.create_deployment()
            .api_id(&id)
            .stage_name("later")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert!(msg.contains("AutoDeploy is enabled"), "{msg}");
}

/// `GET /_gatehouse/diff`: what changed between two deployments, or since one.
#[tokio::test]
async fn deployments_compare_with_each_other_and_the_live_configuration() {
    let s = server().await;
    let c = client(&s);
    let api = http_api(&c).await;
    let get = |query: String| {
        let addr = s.addr;
        async move {
            let (status, _, body) =
                raw(addr, "GET", &format!("/_gatehouse/diff?{query}"), &[], b"").await;
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            (status, json)
        }
    };
    let a = new_route(&c, &api, "GET /a").await;
    new_route(&c, &api, "GET /b").await;
    let deploy = || async {
        let d = c.create_deployment().api_id(&api).send().await.unwrap();
        d.deployment_id().unwrap().to_string()
    };
    let first = deploy().await;
    let (status, same) = get(format!("apiId={api}&from={first}")).await;
    assert_eq!(
        (status, &same["same"]),
        (200, &serde_json::json!(true)),
        "{same}"
    );
    // Since then: a route changed, one added, one gone.
    c.update_route()
        .api_id(&api)
        .route_id(&a)
        .authorization_type(aws_sdk_apigatewayv2::types::AuthorizationType::AwsIam)
        .send()
        .await
        .unwrap();
    new_route(&c, &api, "POST /c").await;
    let b = c.get_routes().api_id(&api).send().await.unwrap();
    let b = b
        .items()
        .iter()
        .find(|r| r.route_key() == Some("GET /b"))
        .unwrap();
    c.delete_route()
        .api_id(&api)
        .route_id(b.route_id().unwrap())
        .send()
        .await
        .unwrap();
    let (_, live) = get(format!("apiId={api}&from={first}&to=live")).await;
    let routes = &live["changes"]["routes"];
    assert_eq!(live["same"], false);
    assert_eq!(routes["added"], serde_json::json!(["POST /c"]));
    assert_eq!(routes["removed"], serde_json::json!(["GET /b"]));
    assert_eq!(routes["changed"][0]["name"], "GET /a");
    assert_eq!(
        routes["changed"][0]["members"],
        serde_json::json!(["authorizationType"])
    );
    // Two deployments compare the same way.
    let second = deploy().await;
    let (_, both) = get(format!("apiId={api}&from={first}&to={second}")).await;
    assert_eq!(both["changes"]["routes"], live["changes"]["routes"]);
    let (status, missing) = get(format!("apiId={api}&from=nosuch")).await;
    assert_eq!(
        (status, missing["message"].as_str()),
        (404, Some("Unable to find Deployment nosuch"))
    );
}
