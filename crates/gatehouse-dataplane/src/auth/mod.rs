//! The authorize step: the route's authorizer decides — a JWT verified here with the
//! issuer's keys ([`jwt`], [`jws`]), a Lambda REQUEST authorizer called through the Invoke
//! API ([`lambda`], [`lambda_rules`]), or the server's SigV4 check for `AWS_IAM` routes
//! ([`iam`]).

pub mod iam;
pub mod jws;
pub mod jwt;
pub mod lambda;
pub mod lambda_rules;

use std::sync::Arc;

use gatehouse_core::model::route::AuthorizationType;
use gatehouse_http::client::HttpClient;

use self::iam::IamCheck;
use self::lambda::LambdaAuthorizers;
use crate::context::{Authorized, Routed};
use crate::gateway::{refuse, GatewayError, Refusal};
use crate::integrations::lambda::Invoker;
use crate::routing::router::Compiled;

/// The authorizers, and what they keep between requests (issuers' keys, Lambda
/// authorizers' decisions).
pub struct Authorizers {
    client: HttpClient,
    keys: jwt::Keys,
    lambda: LambdaAuthorizers,
    iam: Option<Arc<dyn IamCheck>>,
}

impl Authorizers {
    /// Authorizers fetching issuers' keys through `client`, calling Lambda authorizers
    /// through `invoker` and checking `AWS_IAM` routes with `iam` (none: such routes answer
    /// 403).
    pub fn new(
        client: HttpClient,
        invoker: Arc<Invoker>,
        iam: Option<Arc<dyn IamCheck>>,
    ) -> Authorizers {
        Authorizers {
            client,
            keys: jwt::Keys::default(),
            lambda: LambdaAuthorizers::new(invoker),
            iam,
        }
    }

    /// Runs `route`'s authorizer on the request (in `region`): what it let through, if it
    /// passes anything on, or the gateway's refusal; `cached` says whether a Lambda
    /// authorizer's cached decision was used.
    pub async fn authorize(
        &self,
        route: &Compiled,
        region: &str,
        request: &Routed<'_>,
        cached: &mut Option<bool>,
    ) -> Result<Option<Authorized>, Refusal> {
        let in_deployment = || {
            route.authorizer.as_ref().ok_or_else(|| {
                refuse(
                    GatewayError::Internal,
                    "the route's authorizer is not in the deployment",
                )
            })
        };
        match route.route.authorization_type {
            AuthorizationType::None => Ok(None),
            AuthorizationType::AwsIam => {
                iam::check(self.iam.as_deref(), request.inv).map(|()| None)
            }
            AuthorizationType::Jwt => {
                let scopes = route
                    .route
                    .authorization_scopes
                    .as_deref()
                    .unwrap_or_default();
                let v = Box::pin(self.keys.authorize(
                    &self.client,
                    in_deployment()?,
                    scopes,
                    request.incoming(),
                ))
                .await?;
                // The token's scopes reach the function only from a route that lists
                // scopes; elsewhere AWS sends `null`.
                let scopes = if scopes.is_empty() {
                    Vec::new()
                } else {
                    v.scopes
                };
                Ok(Some(Authorized::Jwt {
                    claims: v.claims,
                    scopes,
                }))
            }
            AuthorizationType::Custom => {
                let authorizer = in_deployment()?;
                Box::pin(self.lambda.authorize(authorizer, region, request, cached))
                    .await
                    .map(Some)
            }
        }
    }
}
