//! gatehouse: an AWS-compatible API Gateway V2 management API, over the core crate
//! (`gatehouse_core`: records, store, errors, token buckets).
//!
//! Layers, each importing only those below it: [`server`] (accept, drain, the request
//! pipeline, gatehouse's own endpoints, metrics) → [`ops`] (one function per operation,
//! dispatched from the operation table) → [`guards`] (throttling, faults), [`auth`] (SigV4
//! and credentials), [`wire`] (request and response shapes) → [`api`] (the operation table
//! and router, pinned to the AWS model). [`template`] (CloudFormation, SAM, CDK and
//! Serverless templates applied through [`ops`]) sits between [`server`] and [`ops`];
//! [`deploy`] (a template sent to a running gatehouse) uses it from the binary.
//! [`settings`] and [`statefile`] serve the binary.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod deploy;
pub mod guards;
pub mod ops;
pub mod server;
pub mod settings;
pub mod statefile;
pub mod template;
#[cfg(feature = "testing")]
pub mod testing;
pub mod wire;
