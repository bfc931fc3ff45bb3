//! gatehouse's own endpoints: health, info, and reset (also at moto's `/moto-api/reset`).

use crate::common::*;

#[tokio::test]
async fn health_info_and_reset() {
    let s = server().await;
    let (status, headers, body) = raw(s.addr, "GET", "/_gatehouse/health", &[], b"").await;
    assert_eq!(status, 200, "{body}");
    assert!(header(&headers, "x-amzn-requestid").is_some());
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert!(health["uptimeSeconds"].is_u64());
    let (status, _, body) = raw(s.addr, "GET", "/_gatehouse/info", &[], b"").await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(info["auth"], "open");
    assert_eq!(info["defaultRegion"], "us-east-1");

    let a = client_as(&s.endpoint(), "111111111111", "us-east-1");
    let b = client_as(&s.endpoint(), "222222222222", "us-east-1");
    let ia = http_api(&a).await;
    a.create_stage()
        .api_id(&ia)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    a.get_stage()
        .api_id(&ia)
        .stage_name("dev")
        .send()
        .await
        .unwrap();
    let ib = http_api(&b).await;
    // One account only.
    let (status, _, body) = raw(
        s.addr,
        "POST",
        "/_gatehouse/reset?account=111111111111",
        &[],
        b"",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (code, _, _) = failure(a.get_stage().api_id(&ia).stage_name("dev").send().await);
    assert_eq!(code, "NotFoundException");
    b.get_api().api_id(&ib).send().await.unwrap();
    // Everything, through moto's endpoint.
    let (status, _, body) = raw(s.addr, "POST", "/moto-api/reset", &[], b"").await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (code, _, _) = failure(b.get_api().api_id(&ib).send().await);
    assert_eq!(code, "NotFoundException");
    assert_eq!(s.store.count_records().await.unwrap(), 0);
}

#[tokio::test]
async fn reset_is_refused_in_strict_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[[credentials]]\naccess_key_id = \"AK\"\nsecret_access_key = \"s\"\naccount_id = \"111111111111\"\n",
    )
    .unwrap();
    let s = server_with(|a| {
        a.auth = gatehouse::config::AuthMode::Strict;
        a.credentials = Some(path.clone());
    })
    .await;
    let (status, headers, _) = raw(s.addr, "POST", "/moto-api/reset", &[], b"").await;
    assert_eq!(
        (status, header(&headers, "x-amzn-errortype")),
        (403, Some("AccessDeniedException"))
    );
    let (status, _, _) = raw(s.addr, "GET", "/_gatehouse/health", &[], b"").await;
    assert_eq!(status, 200, "health needs no signature");
}
