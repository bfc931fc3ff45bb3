//! Integration tests: gatehouse driven by the real `aws-sdk-apigatewayv2` client (and raw HTTP
//! for inputs no SDK would send).

mod admin;
mod apis;
mod authorizers;
mod common;
mod cors;
mod dataplane;
mod deployments;
mod domains;
mod durability;
mod errors;
mod limits;
mod openapi;
mod pagination;
mod pg_faults;
mod quick;
mod replicas;
mod routes;
mod stages;
mod strict;
mod tags;
mod templates;
mod vpc_links;
mod websocket;
mod wire;

/// One line in `cargo test`'s output when the PostgreSQL tests skip themselves (counted
/// from their files, so the count cannot drift).
#[test]
fn skipped_postgres_tests_say_so() {
    let call = concat!("postgres::", "test_url(");
    let tests = include_str!("replicas.rs").matches(call).count()
        + include_str!("pg_faults.rs").matches(call).count();
    gatehouse_core::store::postgres::report_skipped(tests, "the SDK suite");
}
