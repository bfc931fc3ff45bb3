use super::canonical::*;
use super::verify::*;

#[test]
fn encodes_and_normalizes_like_the_sdks() {
    assert_eq!(
        uri_encode("/v2/apis/x/stages/%24default", true),
        "/v2/apis/x/stages/%2524default"
    );
    assert_eq!(uri_encode("a b+c~", false), "a%20b%2Bc~");
    assert_eq!(normalize_path("/./example"), "/example");
    assert_eq!(normalize_path("/example1/example2/../.."), "/");
    assert_eq!(normalize_path("//example//"), "/example/");
    assert_eq!(normalize_path("/"), "/");
}

#[test]
fn streamed_canonical_path_is_the_encoded_normalized_path() {
    for path in [
        "",
        "/",
        "//",
        "/.",
        "/a/.",
        "/a/",
        "a/b",
        "/a//b/",
        "/./x",
        "/a/../b",
        "/a/b/../..",
        "/v2/apis/x/stages/%24default",
        "/with space/é",
        "/a/.../b",
    ] {
        let mut out = Vec::new();
        put_canonical_path(path, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            uri_encode(&normalize_path(path), true),
            "{path:?}"
        );
    }
}

#[test]
fn signatures_decode_only_as_64_hex_digits() {
    assert_eq!(decode_hex32(&"ab".repeat(32)), Some([0xab; 32]));
    assert_eq!(decode_hex32(&"AB".repeat(32)), Some([0xab; 32]));
    assert_eq!(decode_hex32(&"ab".repeat(31)), None);
    assert_eq!(decode_hex32(&"zz".repeat(32)), None);
    assert!(body_hash_is(b"", EMPTY_SHA256));
    assert_eq!(sha256_hex(b""), EMPTY_SHA256);
    assert!(body_hash_is(b"{}", &sha256_hex(b"{}")));
    assert!(!body_hash_is(b"{}", EMPTY_SHA256));
}
