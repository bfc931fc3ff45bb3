//! The operations: one async function per operation, one file per resource. This file only
//! dispatches, from the operation table ([`crate::api::operations`]): each handler receives
//! the service, the caller's context, its typed path and its input, and returns its reply
//! (the success status is the table's).

pub mod crud;
pub mod render;
pub mod support;

mod apis;
mod authorizers;
mod deployments;
mod domain_names;
mod imports;
mod integrations;
mod models;
mod responses;
mod routes;
mod stages;
mod tags;
mod vpc_links;

use gatehouse_core::error::ApiResult;
use gatehouse_core::model::api_model::Model;
use gatehouse_core::model::authorizer::Authorizer;
use gatehouse_core::model::deployment::Deployment;
use gatehouse_core::model::domain_name::{ApiMapping, DomainName};
use gatehouse_core::model::integration::Integration;
use gatehouse_core::model::route::Route;
use gatehouse_core::model::routing_rule::RoutingRule;
use gatehouse_core::model::vpc_link::VpcLink;
use gatehouse_core::model::Stage;

use crate::api::paths::*;
use crate::api::router::Labels;
use crate::api::Operation;
use support::not_implemented;
pub use support::{Ctx, Input, Reply, Service, ServiceConfig};

/// Defines [`call`] from the operation table: one arm per operation.
macro_rules! dispatch {
    ($($name:ident $method:ident $uri:literal $status:literal $path:ty => $handler:path;)*) => {
        /// Runs `ctx.op` with its raw path `labels` (decoded into its typed path here).
        pub async fn call(
            svc: &Service,
            ctx: &Ctx,
            labels: &Labels<'_>,
            input: Input,
        ) -> ApiResult<Reply> {
            match ctx.op {
                $(Operation::$name => {
                    $handler(svc, ctx, <$path as PathParams>::from_raw(labels.as_slice())?, input).await
                })*
            }
        }
    };
}

crate::api::operations::operations!(dispatch);
