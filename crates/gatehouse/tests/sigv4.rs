//! The public AWS SigV4 test-suite vectors (in `tests/fixtures/sigv4-vectors.json`, our own
//! format) against gatehouse's verifier.

use gatehouse::auth::sigv4::{self, Request};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    credentials: Creds,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Creds {
    secret_access_key: String,
    region: String,
    service: String,
    time: String,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
    presigned: bool,
    canonical_request: Option<String>,
    sts_hash: Option<String>,
    signed_headers: String,
    signature: String,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("fixtures/sigv4-vectors.json")).expect("valid fixture")
}

fn headers(case: &Case) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in &case.headers {
        map.append(
            HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).expect("header name"),
            HeaderValue::from_str(v).expect("header value"),
        );
    }
    map
}

#[test]
fn every_vector_verifies() {
    let fx = fixture();
    assert!(fx.cases.len() >= 20);
    for case in &fx.cases {
        let map = headers(case);
        let (path, query) = match case.target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (case.target.as_str(), None),
        };
        let req = Request {
            method: &case.method,
            path,
            query,
            headers: &map,
            body: case.body.as_bytes(),
        };
        let p = sigv4::presented(&map, query)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name))
            .unwrap_or_else(|| panic!("{}: nothing presented", case.name));
        assert_eq!(p.presigned, case.presigned, "{}", case.name);
        assert_eq!(p.signed_headers, case.signed_headers, "{}", case.name);
        assert_eq!(p.amz_date, fx.credentials.time, "{}", case.name);
        assert_eq!(
            (&*p.region, &*p.service),
            (
                fx.credentials.region.as_str(),
                fx.credentials.service.as_str()
            )
        );
        let creq = sigv4::canonical_request(&req, &p);
        if let Some(want) = &case.canonical_request {
            assert_eq!(&creq, want, "{}: canonical request", case.name);
        }
        let sts = sigv4::string_to_sign(&p, &creq);
        if let Some(want) = &case.sts_hash {
            assert_eq!(
                sts.lines().last(),
                Some(want.as_str()),
                "{}: string to sign",
                case.name
            );
        }
        let key = sigv4::signing_key(
            &fx.credentials.secret_access_key,
            &p.date,
            &p.region,
            &p.service,
        );
        assert_eq!(
            sigv4::signature(&key, &sts),
            case.signature,
            "{}: signature",
            case.name
        );
        assert!(
            sigv4::signature_matches(&req, &p, &fx.credentials.secret_access_key),
            "{}",
            case.name
        );
        // The same request under another secret, or with a changed body, does not verify.
        assert!(
            !sigv4::signature_matches(&req, &p, "not-the-secret"),
            "{}",
            case.name
        );
        let tampered = Request {
            body: b"tampered",
            ..req
        };
        assert!(
            !sigv4::signature_matches(&tampered, &p, &fx.credentials.secret_access_key),
            "{}",
            case.name
        );
    }
}
