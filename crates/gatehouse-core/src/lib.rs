//! gatehouse's core: what both planes share and nothing of HTTP servers or operations.
//!
//! [`model`] holds the API Gateway V2 records and their rules; [`store`] keeps them (memory,
//! SQLite, PostgreSQL behind one trait, with one registry of resource kinds); [`error`] is
//! the one table of the exceptions a client can see; [`token_bucket`] is the throttle both
//! planes take from. The management API (`gatehouse`) and the data plane build on this.

pub mod compat;
pub mod error;
pub mod model;
pub mod openapi;
pub mod store;
pub mod token_bucket;
