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
mod vpc_links;
mod websocket;
mod wire;
