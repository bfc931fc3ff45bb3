//! GetStages and GetApis pagination: maxResults, opaque tokens, stability under change.

use crate::common::*;

async fn all_stage_names(c: &aws_sdk_apigatewayv2::Client, id: &str, page: i32) -> Vec<String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = c
            .get_stages()
            .api_id(id)
            .max_results(page.to_string())
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        assert!(out.items().len() <= page as usize);
        names.extend(
            out.items()
                .iter()
                .filter_map(|s| s.stage_name().map(String::from)),
        );
        match out.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return names,
        }
    }
}

#[tokio::test]
async fn walks_every_page_and_the_last_has_no_token() {
    let s = server_with(|a| a.max_stages_per_api = 50).await;
    let c = client(&s);
    let id = http_api(&c).await;
    let want: Vec<String> = (0..7).map(|i| format!("stage{i}")).collect();
    for n in &want {
        c.create_stage()
            .api_id(&id)
            .stage_name(n)
            .send()
            .await
            .unwrap();
    }
    for page in [1, 3, 7, 100] {
        assert_eq!(
            all_stage_names(&c, &id, page).await,
            want,
            "page size {page}"
        );
    }
    let exact = c
        .get_stages()
        .api_id(&id)
        .max_results("7")
        .send()
        .await
        .unwrap();
    assert_eq!(exact.items().len(), 7);
    assert!(exact.next_token().is_none());
}

#[tokio::test]
async fn changes_between_pages_never_skip_or_repeat() {
    let s = server_with(|a| a.max_stages_per_api = 50).await;
    let c = client(&s);
    let id = http_api(&c).await;
    for i in 0..6 {
        c.create_stage()
            .api_id(&id)
            .stage_name(format!("s{i}"))
            .send()
            .await
            .unwrap();
    }
    let first = c
        .get_stages()
        .api_id(&id)
        .max_results("2")
        .send()
        .await
        .unwrap();
    let token = first.next_token().unwrap().to_string();
    // Delete a stage already seen and one not yet seen; add a new one.
    c.delete_stage()
        .api_id(&id)
        .stage_name("s0")
        .send()
        .await
        .unwrap();
    c.delete_stage()
        .api_id(&id)
        .stage_name("s3")
        .send()
        .await
        .unwrap();
    new_stage(&c, &id, "s6").await;
    let mut seen: Vec<String> = first
        .items()
        .iter()
        .filter_map(|s| s.stage_name().map(String::from))
        .collect();
    let mut next = Some(token);
    while let Some(t) = next {
        let out = c
            .get_stages()
            .api_id(&id)
            .max_results("2")
            .next_token(t)
            .send()
            .await
            .unwrap();
        seen.extend(
            out.items()
                .iter()
                .filter_map(|s| s.stage_name().map(String::from)),
        );
        next = out.next_token().map(String::from);
    }
    assert_eq!(seen, ["s0", "s1", "s2", "s4", "s5", "s6"]);
}

#[tokio::test]
async fn bad_max_results_and_tokens_are_rejected() {
    let s = server().await;
    let c = client(&s);
    let id = http_api(&c).await;
    let other = http_api(&c).await;
    for name in ["a", "b", "c"] {
        c.create_stage()
            .api_id(&id)
            .stage_name(name)
            .send()
            .await
            .unwrap();
        c.create_stage()
            .api_id(&other)
            .stage_name(name)
            .send()
            .await
            .unwrap();
    }
    for bad in ["0", "-1", "ten", "2.5"] {
        let (code, status, msg) = failure(c.get_stages().api_id(&id).max_results(bad).send().await);
        assert_eq!(
            (code.as_str(), status),
            ("BadRequestException", 400),
            "{bad}"
        );
        assert!(msg.contains("maxResults"), "{msg}");
    }
    let token = c
        .get_stages()
        .api_id(&id)
        .max_results("1")
        .send()
        .await
        .unwrap()
        .next_token()
        .unwrap()
        .to_string();
    // A token from another API, a truncated one, a forged one, one from another account.
    let stranger = client_as(&s.endpoint(), "999999999999", "us-east-1");
    let stranger_api = http_api(&stranger).await;
    let mut forged = token.clone().into_bytes();
    forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
    let cases = [
        (
            c.get_stages().api_id(&other).next_token(&token),
            "other api",
        ),
        (
            c.get_stages()
                .api_id(&id)
                .next_token(&token[..token.len() - 2]),
            "truncated",
        ),
        (
            c.get_stages()
                .api_id(&id)
                .next_token(String::from_utf8(forged).unwrap()),
            "forged",
        ),
        (
            stranger
                .get_stages()
                .api_id(&stranger_api)
                .next_token(&token),
            "other account",
        ),
    ];
    for (req, what) in cases {
        let (code, status, _) = failure(req.send().await);
        assert_eq!(
            (code.as_str(), status),
            ("BadRequestException", 400),
            "{what}"
        );
    }
    let (code, _, _) = failure(c.get_apis().next_token(&token).send().await);
    assert_eq!(
        code, "BadRequestException",
        "a stages token is no APIs token"
    );
}

#[tokio::test]
async fn get_apis_pages() {
    let s = server().await;
    let c = client(&s);
    let mut want = Vec::new();
    for _ in 0..5 {
        want.push(http_api(&c).await);
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .get_apis()
            .max_results("2")
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        seen.extend(
            out.items()
                .iter()
                .filter_map(|a| a.api_id().map(String::from)),
        );
        token = out.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, want);
}
