//! gatehouse's data plane: serves the deployed stages of HTTP APIs as AWS does.
//!
//! [`DataPlane::serve`] answers one invoke request in named steps, each in its own folder:
//! [`routing`] (which API, stage and deployment; which route, by AWS's priority),
//! [`throttle`], [`auth`] (the route's authorizer), [`integrations`] (HTTP_PROXY backends and
//! Lambda functions through the Invoke API), then the answer ([`gateway`]'s own errors,
//! [`cors`]) and [`observe`] (access log, metrics, the server's log line). Every step reads
//! the one [`context::Invocation`]: the request as received and what serving it found.
//! HTTP itself is `gatehouse-http`'s.

#![forbid(unsafe_code)]

pub mod auth;
pub mod context;
pub mod cors;
pub mod exchange;
pub mod gateway;
pub mod integrations;
pub mod limits;
pub mod observe;
pub mod plane;
pub mod routing;
pub mod throttle;
pub mod websocket;

pub use auth::iam::IamCheck;
pub use plane::{Config, DataPlane};
pub use routing::target::{target, Entry, Target};
