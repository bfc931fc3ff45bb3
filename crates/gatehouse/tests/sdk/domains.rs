//! Custom domain names, API mappings and routing rules.

use aws_sdk_apigatewayv2::types::{
    DomainNameConfiguration, DomainNameStatus, EndpointType, RoutingRuleAction,
    RoutingRuleActionInvokeApi, RoutingRuleCondition, RoutingRuleMatchBasePaths, SecurityPolicy,
};
use aws_sdk_apigatewayv2::Client;

use crate::common::*;

const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e";

async fn new_domain(c: &Client, name: &str) {
    c.create_domain_name()
        .domain_name(name)
        .domain_name_configurations(
            DomainNameConfiguration::builder()
                .certificate_arn(CERT)
                .endpoint_type(EndpointType::Regional)
                .build(),
        )
        .send()
        .await
        .expect("create domain name");
}

#[tokio::test]
async fn domain_names_are_regional_and_tagged() {
    let s = server().await;
    let c = client(&s);
    let created = c
        .create_domain_name()
        .domain_name("api.example.com")
        .domain_name_configurations(
            DomainNameConfiguration::builder()
                .certificate_arn(CERT)
                .build(),
        )
        .tags("team", "edge")
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.api_mapping_selection_expression(),
        Some("$request.basepath")
    );
    assert_eq!(
        created.domain_name_arn(),
        Some("arn:aws:apigateway:us-east-1::/domainnames/api.example.com")
    );
    let conf = &created.domain_name_configurations()[0];
    assert_eq!(conf.endpoint_type(), Some(&EndpointType::Regional));
    assert_eq!(conf.security_policy(), Some(&SecurityPolicy::Tls12));
    assert_eq!(
        conf.domain_name_status(),
        Some(&DomainNameStatus::Available)
    );
    assert_eq!(conf.hosted_zone_id(), Some("Z1UJRXOUMOOFQ8"));
    let target = conf.api_gateway_domain_name().unwrap();
    assert!(
        target.starts_with("d-") && target.ends_with(".execute-api.us-east-1.amazonaws.com"),
        "{target}"
    );
    let updated = c
        .update_domain_name()
        .domain_name("api.example.com")
        .domain_name_configurations(
            DomainNameConfiguration::builder()
                .certificate_arn(CERT)
                .security_policy(SecurityPolicy::Tls10)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let conf = &updated.domain_name_configurations()[0];
    assert_eq!(conf.security_policy(), Some(&SecurityPolicy::Tls10));
    assert_eq!(
        conf.api_gateway_domain_name(),
        Some(target),
        "the endpoint stays"
    );
    let tags = c
        .get_tags()
        .resource_arn("arn:aws:apigateway:us-east-1::/domainnames/api.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().unwrap().get("team").map(String::as_str),
        Some("edge")
    );

    let (code, status, msg) = failure(
        c.create_domain_name()
            .domain_name("api.example.com")
            .domain_name_configurations(
                DomainNameConfiguration::builder()
                    .certificate_arn(CERT)
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ConflictException", 409));
    assert_eq!(msg, "The domain name resource already exists.");
    let (code, _, msg) = failure(
        c.create_domain_name()
            .domain_name("edge.example.com")
            .domain_name_configurations(
                DomainNameConfiguration::builder()
                    .certificate_arn(CERT)
                    .endpoint_type(EndpointType::Edge)
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    assert!(
        msg.starts_with("Only REGIONAL domain names can be managed"),
        "{msg}"
    );
    let (code, _, _) = failure(
        c.create_domain_name()
            .domain_name("bare.example.com")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");

    assert_eq!(c.get_domain_names().send().await.unwrap().items().len(), 1);
    c.delete_domain_name()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    let (code, status, msg) = failure(
        c.get_domain_name()
            .domain_name("api.example.com")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status, msg.as_str()),
        (
            "NotFoundException",
            404,
            "Invalid domain name identifier specified"
        )
    );
}

#[tokio::test]
async fn api_mappings_point_at_existing_stages() {
    let s = server().await;
    let c = client(&s);
    new_domain(&c, "api.example.com").await;
    let api = http_api(&c).await;
    new_stage(&c, &api, "prod").await;
    let m = c
        .create_api_mapping()
        .domain_name("api.example.com")
        .api_id(&api)
        .stage("prod")
        .api_mapping_key("v1/orders")
        .send()
        .await
        .unwrap();
    let id = m.api_mapping_id().unwrap().to_string();
    assert_eq!(m.api_mapping_key(), Some("v1/orders"));
    let got = c
        .get_api_mapping()
        .domain_name("api.example.com")
        .api_mapping_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (got.api_id(), got.stage()),
        (Some(api.as_str()), Some("prod"))
    );
    let (code, status, msg) = failure(
        c.create_api_mapping()
            .domain_name("api.example.com")
            .api_id(&api)
            .stage("nostage")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), status, msg.as_str()),
        (
            "BadRequestException",
            400,
            "Invalid stage identifier specified"
        )
    );
    let (code, status, _) = failure(
        c.create_api_mapping()
            .domain_name("api.example.com")
            .api_id("nosuchapi0")
            .stage("prod")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
    for (key, why) in [
        ("/v1", "should not start"),
        ("v1//x", "consecutive"),
        ("v1/", "should not end"),
    ] {
        let (code, _, msg) = failure(
            c.create_api_mapping()
                .domain_name("api.example.com")
                .api_id(&api)
                .stage("prod")
                .api_mapping_key(key)
                .send()
                .await,
        );
        assert_eq!(code, "BadRequestException");
        assert!(msg.contains(why), "{key}: {msg}");
    }
    let (code, status, _) = failure(
        c.create_api_mapping()
            .domain_name("api.example.com")
            .api_id(&api)
            .stage("prod")
            .api_mapping_key("v1/orders")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ConflictException", 409));
    let (code, _, _) = failure(
        c.create_api_mapping()
            .domain_name("missing.example.com")
            .api_id(&api)
            .stage("prod")
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
    let updated = c
        .update_api_mapping()
        .domain_name("api.example.com")
        .api_mapping_id(&id)
        .api_id(&api)
        .api_mapping_key("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (updated.api_mapping_key(), updated.stage()),
        (Some("v2"), Some("prod"))
    );
    assert_eq!(
        c.get_api_mappings()
            .domain_name("api.example.com")
            .send()
            .await
            .unwrap()
            .items()
            .len(),
        1
    );
    c.delete_api_mapping()
        .domain_name("api.example.com")
        .api_mapping_id(&id)
        .send()
        .await
        .unwrap();
    let (code, _, _) = failure(
        c.get_api_mapping()
            .domain_name("api.example.com")
            .api_mapping_id(&id)
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
}

#[tokio::test]
async fn routing_rules_are_kept_by_priority() {
    let s = server().await;
    let c = client(&s);
    new_domain(&c, "api.example.com").await;
    let api = http_api(&c).await;
    new_stage(&c, &api, "prod").await;
    let action = RoutingRuleAction::builder()
        .invoke_api(
            RoutingRuleActionInvokeApi::builder()
                .api_id(&api)
                .stage("prod")
                .strip_base_path(true)
                .build(),
        )
        .build();
    let condition = RoutingRuleCondition::builder()
        .match_base_paths(
            RoutingRuleMatchBasePaths::builder()
                .any_of("orders")
                .build(),
        )
        .build();
    let created = c
        .create_routing_rule()
        .domain_name("api.example.com")
        .priority(10)
        .actions(action.clone())
        .conditions(condition.clone())
        .send()
        .await
        .unwrap();
    let id = created.routing_rule_id().unwrap().to_string();
    assert_eq!(
        created.routing_rule_arn(),
        Some(format!("arn:aws:apigateway:us-east-1:123456789012:/domainnames/api.example.com/routingrules/{id}").as_str())
    );
    let (code, status, _) = failure(
        c.create_routing_rule()
            .domain_name("api.example.com")
            .priority(10)
            .actions(action.clone())
            .conditions(condition.clone())
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("ConflictException", 409));
    let put = c
        .put_routing_rule()
        .domain_name("api.example.com")
        .routing_rule_id(&id)
        .priority(20)
        .actions(action.clone())
        .conditions(condition.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.priority(), Some(20));
    let listed = c
        .list_routing_rules()
        .domain_name("api.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.routing_rules().len(), 1);
    let got = c
        .get_routing_rule()
        .domain_name("api.example.com")
        .routing_rule_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.priority(), Some(20));
    c.delete_routing_rule()
        .domain_name("api.example.com")
        .routing_rule_id(&id)
        .send()
        .await
        .unwrap();
    let (code, _, _) = failure(
        c.get_routing_rule()
            .domain_name("api.example.com")
            .routing_rule_id(&id)
            .send()
            .await,
    );
    assert_eq!(code, "NotFoundException");
}
