//! gatehouse: an AWS-compatible API Gateway V2 management API.
//!
//! Layout: [`server`] (HTTP, no business logic) → [`ops`] (one function per operation, one
//! route table) → [`model`] (records and validation) and [`store`] (storage trait and
//! backends); [`wire`] holds the JSON shapes; [`error`] the one error table.
#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod net;
pub mod ops;
pub mod server;
pub mod statefile;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod wire;
