//! VPC links: CreateVpcLink, GetVpcLink, GetVpcLinks, UpdateVpcLink, DeleteVpcLink, their
//! tags, and HTTP API integrations that connect through them.

use aws_sdk_apigatewayv2::types::{ConnectionType, IntegrationType, VpcLinkStatus, VpcLinkVersion};
use aws_sdk_apigatewayv2::Client;

use crate::common::*;

async fn new_link(c: &Client, name: &str) -> String {
    c.create_vpc_link()
        .name(name)
        .subnet_ids("subnet-0a1b2c3d")
        .send()
        .await
        .expect("create VPC link")
        .vpc_link_id()
        .expect("an id")
        .to_string()
}

fn link_arn(id: &str) -> String {
    format!("arn:aws:apigateway:us-east-1::/vpclinks/{id}")
}

#[tokio::test]
async fn vpc_links_are_created_read_listed_renamed_and_deleted() {
    let s = server().await;
    let c = client(&s);
    let created = c
        .create_vpc_link()
        .name("to-the-nlb")
        .subnet_ids("subnet-0a1b2c3d")
        .subnet_ids("subnet-0123456789abcdef0")
        .security_group_ids("sg-1234abcd")
        .tags("team", "core")
        .send()
        .await
        .unwrap();
    let id = created.vpc_link_id().unwrap().to_string();
    assert_eq!(id.len(), 6);
    assert_eq!(created.name(), Some("to-the-nlb"));
    assert_eq!(
        created.subnet_ids(),
        ["subnet-0a1b2c3d", "subnet-0123456789abcdef0"]
    );
    assert_eq!(created.security_group_ids(), ["sg-1234abcd"]);
    assert_eq!(created.vpc_link_status(), Some(&VpcLinkStatus::Pending));
    assert_eq!(
        created.vpc_link_status_message(),
        Some("VPC link is provisioning ENIs")
    );
    assert_eq!(created.vpc_link_version(), Some(&VpcLinkVersion::V2));
    assert!(created.created_date().is_some());
    assert_eq!(
        created.tags().unwrap().get("team").map(String::as_str),
        Some("core")
    );

    let got = c.get_vpc_link().vpc_link_id(&id).send().await.unwrap();
    assert_eq!(got.vpc_link_status(), Some(&VpcLinkStatus::Available));
    assert_eq!(
        got.vpc_link_status_message(),
        Some("VPC link is ready to route traffic")
    );
    assert_eq!(got.created_date(), created.created_date());

    let renamed = c
        .update_vpc_link()
        .vpc_link_id(&id)
        .name("renamed")
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.name(), Some("renamed"));
    assert_eq!(renamed.subnet_ids(), got.subnet_ids());

    for name in ["b", "c"] {
        new_link(&c, name).await;
    }
    let first = c.get_vpc_links().max_results("2").send().await.unwrap();
    assert_eq!(first.items().len(), 2);
    assert_eq!(first.items()[0].name(), Some("renamed"));
    let rest = c
        .get_vpc_links()
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.items().len(), 1);
    assert!(rest.next_token().is_none());

    // Another account sees none of them.
    let other = client_as(&s.endpoint(), "210987654321", "us-east-1");
    assert!(other
        .get_vpc_links()
        .send()
        .await
        .unwrap()
        .items()
        .is_empty());
    let (code, status, _) = failure(other.get_vpc_link().vpc_link_id(&id).send().await);
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));

    let (status, _, body) = raw(s.addr, "DELETE", &format!("/v2/vpclinks/{id}"), &[], b"").await;
    assert_eq!((status, body.as_str()), (202, "{}"));
    let (code, status, message) = failure(c.get_vpc_link().vpc_link_id(&id).send().await);
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
    assert_eq!(
        message,
        format!("Invalid VpcLink identifier specified 123456789012:{id}")
    );
    let (code, _, _) = failure(c.delete_vpc_link().vpc_link_id(&id).send().await);
    assert_eq!(code, "NotFoundException");
    let (code, _, _) = failure(c.update_vpc_link().vpc_link_id(&id).name("x").send().await);
    assert_eq!(code, "NotFoundException");
}

#[tokio::test]
async fn bad_vpc_link_inputs_are_refused_and_change_nothing() {
    let s = server().await;
    let c = client(&s);
    let json = [("content-type", "application/json")];
    for (body, needle) in [
        (r#"{"subnetIds":["subnet-0a1b2c3d"]}"#, "name is required"),
        (r#"{"name":"x"}"#, "subnetIds is required"),
        (r#"{"name":"x","subnetIds":[]}"#, "at least one subnet"),
        (r#"{"name":"x","subnetIds":["sid1"]}"#, "subnetIds"),
        (
            r#"{"name":"x","subnetIds":["subnet-0a1b2c3d"],"securityGroupIds":["subnet-0a1b2c3d"]}"#,
            "securityGroupIds",
        ),
        (r#"{"name":"","subnetIds":["subnet-0a1b2c3d"]}"#, "name"),
        (
            r#"{"name":"x","subnetIds":["subnet-0a1b2c3d"],"tags":{"aws:x":"y"}}"#,
            "reserved",
        ),
        (r#"{"name":5,"subnetIds":["subnet-0a1b2c3d"]}"#, "name"),
    ] {
        let (status, headers, text) =
            raw(s.addr, "POST", "/v2/vpclinks", &json, body.as_bytes()).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert_eq!(
            header(&headers, "x-amzn-errortype"),
            Some("BadRequestException")
        );
        assert!(text.contains(needle), "{body}: {text}");
    }
    let long = "n".repeat(129);
    let (code, status, _) = failure(
        c.create_vpc_link()
            .name(long)
            .subnet_ids("subnet-0a1b2c3d")
            .send()
            .await,
    );
    assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    assert!(c.get_vpc_links().send().await.unwrap().items().is_empty());
    let id = new_link(&c, "keep").await;
    let (code, _, _) = failure(c.update_vpc_link().vpc_link_id(&id).name("").send().await);
    assert_eq!(code, "BadRequestException");
    let got = c.get_vpc_link().vpc_link_id(&id).send().await.unwrap();
    assert_eq!(got.name(), Some("keep"));
}

#[tokio::test]
async fn vpc_link_tags_are_read_and_changed_by_arn() {
    let s = server().await;
    let c = client(&s);
    let id = new_link(&c, "tagged").await;
    let arn = link_arn(&id);
    c.tag_resource()
        .resource_arn(&arn)
        .tags("env", "dev")
        .tags("team", "core")
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = c.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().len(), 1);
    let link = c.get_vpc_link().vpc_link_id(&id).send().await.unwrap();
    assert_eq!(link.tags(), tags.tags());
    let (code, status, _) = failure(c.get_tags().resource_arn(link_arn("nolink")).send().await);
    assert_eq!((code.as_str(), status), ("NotFoundException", 404));
}

#[tokio::test]
async fn http_integrations_connect_through_vpc_links_that_exist() {
    let s = server().await;
    let c = client(&s);
    let api = http_api(&c).await;
    let link = new_link(&c, "private").await;
    let integration = |connection: &str| {
        c.create_integration()
            .api_id(&api)
            .integration_type(IntegrationType::HttpProxy)
            .integration_method("ANY")
            .integration_uri(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/lb/1/2",
            )
            .connection_type(ConnectionType::VpcLink)
            .connection_id(connection)
            .payload_format_version("1.0")
            .send()
    };
    let (code, status, message) = failure(integration("nolink").await);
    assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    assert!(
        message.contains("VPC link nolink does not exist"),
        "{message}"
    );
    assert!(c
        .get_integrations()
        .api_id(&api)
        .send()
        .await
        .unwrap()
        .items()
        .is_empty());
    let iid = integration(&link)
        .await
        .unwrap()
        .integration_id()
        .unwrap()
        .to_string();
    let (code, _, _) = failure(
        c.update_integration()
            .api_id(&api)
            .integration_id(&iid)
            .connection_id("nolink")
            .send()
            .await,
    );
    assert_eq!(code, "BadRequestException");
    let route = c
        .create_route()
        .api_id(&api)
        .route_key("ANY /{proxy+}")
        .target(format!("integrations/{iid}"))
        .send()
        .await
        .unwrap()
        .route_id()
        .unwrap()
        .to_string();

    // In use: refused as AWS refuses it, and kept.
    let (code, status, message) = failure(c.delete_vpc_link().vpc_link_id(&link).send().await);
    assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    assert_eq!(
        message,
        format!("Cannot delete vpc link. Vpc link '{link}', is referenced in [ANY:{route}] in format of [Method:Resource].")
    );
    c.get_vpc_link().vpc_link_id(&link).send().await.unwrap();

    c.delete_route()
        .api_id(&api)
        .route_id(&route)
        .send()
        .await
        .unwrap();
    let (code, _, _) = failure(c.delete_vpc_link().vpc_link_id(&link).send().await);
    assert_eq!(code, "BadRequestException", "the integration still uses it");
    c.delete_integration()
        .api_id(&api)
        .integration_id(&iid)
        .send()
        .await
        .unwrap();
    c.delete_vpc_link().vpc_link_id(&link).send().await.unwrap();

    // WebSocket APIs connect through VPC links of REST APIs, which gatehouse does not keep:
    // any id is accepted there.
    let ws = ws_api(&c).await;
    c.create_integration()
        .api_id(&ws)
        .integration_type(IntegrationType::HttpProxy)
        .integration_method("GET")
        .integration_uri("http://internal.example/ws")
        .connection_type(ConnectionType::VpcLink)
        .connection_id("v1link")
        .send()
        .await
        .unwrap();
}
