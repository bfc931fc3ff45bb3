//! TagResource, UntagResource, GetTags on API and stage ARNs.

use crate::common::*;

fn api_arn(region: &str, id: &str) -> String {
    format!("arn:aws:apigateway:{region}::/apis/{id}")
}

fn stage_arn(region: &str, id: &str, stage: &str) -> String {
    format!("arn:aws:apigateway:{region}::/apis/{id}/stages/{stage}")
}

#[tokio::test]
async fn tags_by_arn_are_the_resources_tags() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    c.create_stage()
        .api_id(&id)
        .stage_name("$default")
        .tags("from", "create")
        .send()
        .await
        .unwrap();
    let arn = stage_arn("us-east-1", &id, "$default");
    let got = c.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(
        got.tags().unwrap().get("from").map(String::as_str),
        Some("create")
    );
    c.tag_resource()
        .resource_arn(&arn)
        .tags("team", "core")
        .tags("env", "dev")
        .send()
        .await
        .unwrap();
    let stage = c
        .get_stage()
        .api_id(&id)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    let via_arn = c.get_tags().resource_arn(&arn).send().await.unwrap();
    assert_eq!(stage.tags(), via_arn.tags());
    assert_eq!(stage.tags().unwrap().len(), 3);
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("from")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let stage = c
        .get_stage()
        .api_id(&id)
        .stage_name("$default")
        .send()
        .await
        .unwrap();
    assert_eq!(stage.tags().unwrap().keys().collect::<Vec<_>>(), ["team"]);

    // API tags are the API's own (no inheritance).
    let api_arn = api_arn("us-east-1", &id);
    c.tag_resource()
        .resource_arn(&api_arn)
        .tags("a", "1")
        .send()
        .await
        .unwrap();
    let api = c.get_api().api_id(&id).send().await.unwrap();
    assert_eq!(api.tags().unwrap().len(), 1);
    assert_eq!(
        c.get_tags()
            .resource_arn(&api_arn)
            .send()
            .await
            .unwrap()
            .tags(),
        api.tags()
    );
}

#[tokio::test]
async fn tag_errors() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    new_stage(&c, &id, "dev").await;
    let arn = stage_arn("us-east-1", &id, "dev");
    for (k, v) in [
        ("aws:reserved", "x".to_string()),
        (&"k".repeat(129) as &str, "x".to_string()),
        ("long", "v".repeat(257)),
    ] {
        let (code, status, _) =
            failure(c.tag_resource().resource_arn(&arn).tags(k, v).send().await);
        assert_eq!((code.as_str(), status), ("BadRequestException", 400));
    }
    let mut many = c.tag_resource().resource_arn(&arn);
    for i in 0..51 {
        many = many.tags(format!("k{i}"), "v");
    }
    let (code, _, _) = failure(many.send().await);
    assert_eq!(code, "BadRequestException");
    assert!(c
        .get_tags()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags()
        .unwrap()
        .is_empty());

    let other_account = client_as(&s.endpoint(), "999999999999", "us-east-1");
    for (client, arn) in [
        (&c, stage_arn("us-east-1", &id, "ghost")),
        (&c, api_arn("us-east-1", "nosuchapi0")),
        (&c, api_arn("eu-west-1", &id)),
        (&other_account, api_arn("us-east-1", &id)),
    ] {
        let (code, status, _) = failure(client.get_tags().resource_arn(&arn).send().await);
        assert_eq!((code.as_str(), status), ("NotFoundException", 404), "{arn}");
        let (code, _, _) = failure(
            client
                .tag_resource()
                .resource_arn(&arn)
                .tags("a", "b")
                .send()
                .await,
        );
        assert_eq!(code, "NotFoundException", "{arn}");
    }
    let (code, status, _) = failure(c.get_tags().resource_arn("not-an-arn").send().await);
    assert_eq!((code.as_str(), status), ("BadRequestException", 400));
}
