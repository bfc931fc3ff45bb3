//! Integration tests: gatehouse driven by the real `aws-sdk-apigatewayv2` client (and raw HTTP
//! for inputs no SDK would send).

mod admin;
mod apis;
mod common;
mod cors;
mod deployments;
mod durability;
mod errors;
mod limits;
mod pagination;
mod pg_faults;
mod quick;
mod replicas;
mod routes;
mod stages;
mod strict;
mod tags;
mod vpc_links;
