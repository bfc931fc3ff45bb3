//! Domain records and their validation, free of HTTP and SQL.

pub mod api;
pub mod api_model;
pub mod arn;
pub mod authorizer;
pub mod deployment;
pub mod domain_name;
pub mod ids;
pub mod integration;
pub mod quick;
pub mod responses;
pub mod route;
pub mod routing_rule;
pub mod snapshot_diff;
pub mod stack;
pub mod stage;
pub mod tags;
pub mod time;
pub mod tree;
pub mod vpc_link;

pub use api::{Api, ProtocolType};
pub use stage::{AccessLogSettings, LoggingLevel, RouteSettings, Stage};

/// Where a resource lives: every record belongs to one account and one region, and is
/// invisible from any other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// 12-digit AWS account id.
    pub account: String,
    /// AWS region name, e.g. `us-east-1`.
    pub region: String,
}

impl Scope {
    /// A scope for `account` in `region`.
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Scope {
            account: account.into(),
            region: region.into(),
        }
    }
}
