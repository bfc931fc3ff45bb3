//! Quick create: CreateApi with `target` builds a managed integration, a managed route and a
//! managed, auto-deployed `$default` stage; UpdateApi `target`/`routeKey` update them.
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop.html#http-api-examples>

use std::collections::BTreeMap;

use super::integration::{Integration, IntegrationInput, IntegrationType};
use super::route::{validate_route_key, Route, RouteInput};
use super::stage::Stage;
use super::tree::ApiTree;
use super::{ProtocolType, RouteSettings};
use crate::compat::{Profile, Rule};
use crate::error::{ApiError, ApiResult};

/// The quick-create members of CreateApi and UpdateApi.
#[derive(Debug, Clone, Default)]
pub struct QuickCreate {
    /// A Lambda function ARN or an HTTP(S) URL.
    pub target: Option<String>,
    /// The route key (default `$default`).
    pub route_key: Option<String>,
    /// `credentialsArn` for the integration.
    pub credentials_arn: Option<String>,
}

impl QuickCreate {
    /// Whether any quick-create member was sent.
    pub fn is_empty(&self) -> bool {
        self.target.is_none() && self.route_key.is_none() && self.credentials_arn.is_none()
    }
}

fn is_lambda(target: &str) -> bool {
    target.starts_with("arn:") && target.contains(":lambda:")
}

/// The integration type a quick-create target needs.
fn target_type(target: &str) -> ApiResult<IntegrationType> {
    if is_lambda(target) {
        Ok(IntegrationType::AwsProxy)
    } else if target.starts_with("http://") || target.starts_with("https://") {
        Ok(IntegrationType::HttpProxy)
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid target: {target}. Specify a Lambda function ARN or a fully qualified HTTP(S) URL"
        )))
    }
}

fn point_integration(i: &mut Integration, target: &str) -> ApiResult<()> {
    if target.len() > 2048 {
        return Err(ApiError::bad_request(
            "Invalid target: must be at most 2048 characters",
        ));
    }
    let t = target_type(target)?;
    i.integration_type = t;
    i.integration_uri = Some(target.to_string());
    match t {
        IntegrationType::AwsProxy => {
            i.integration_method = Some("POST".into());
            i.payload_format_version = Some("2.0".into());
        }
        _ => {
            i.integration_method = Some("ANY".into());
            i.payload_format_version = Some("1.0".into());
        }
    }
    Ok(())
}

/// Fills a new API's tree: managed integration, route and `$default` stage, deployed.
pub fn create(tree: &mut ApiTree, qc: QuickCreate, now: i64) -> ApiResult<()> {
    if tree.api.protocol_type != ProtocolType::Http {
        return Err(ApiError::bad_request(
            "Quick create (target, routeKey, credentialsArn) is supported only for HTTP APIs",
        ));
    }
    let Some(target) = qc.target else {
        return Err(ApiError::bad_request(
            "routeKey and credentialsArn are quick create members and need a target",
        ));
    };
    let route_key = qc.route_key.unwrap_or_else(|| "$default".to_string());
    validate_route_key(ProtocolType::Http, &route_key)?;
    let mut integration = Integration::create(
        tree.fresh_integration_id(),
        IntegrationInput {
            integration_type: Some(target_type(&target)?),
            integration_uri: Some(target.clone()),
            credentials_arn: qc.credentials_arn,
            ..Default::default()
        },
        ProtocolType::Http,
        Profile::Aws,
    )?;
    integration.api_gateway_managed = true;
    point_integration(&mut integration, &target)?;
    let mut route = Route::create(
        tree.fresh_route_id(),
        RouteInput {
            route_key: Some(route_key),
            target: Some(format!("integrations/{}", integration.integration_id)),
            ..Default::default()
        },
    )?;
    route.api_gateway_managed = true;
    tree.integrations.push(integration);
    tree.routes.push(route);
    tree.stages.push(Stage {
        stage_name: "$default".into(),
        access_log_settings: None,
        api_gateway_managed: true,
        auto_deploy: true,
        client_certificate_id: None,
        created: now,
        last_updated: now,
        default_route_settings: RouteSettings::defaults_for(ProtocolType::Http),
        deployment_id: None,
        description: None,
        last_deployment_status_message: None,
        route_settings: BTreeMap::new(),
        stage_variables: BTreeMap::new(),
        tags: BTreeMap::new(),
    });
    tree.auto_deploy_stage("$default", now, true);
    Ok(())
}

/// UpdateApi's quick-create members: retarget the managed integration, rekey the managed
/// route. Returns whether anything changed.
pub fn update(tree: &mut ApiTree, qc: QuickCreate, profile: Profile) -> ApiResult<bool> {
    if qc.is_empty() {
        return Ok(false);
    }
    let managed_integration = tree.integrations.iter().position(|i| i.api_gateway_managed);
    let managed_route = tree.routes.iter().position(|r| r.api_gateway_managed);
    let (Some(ii), Some(ri)) = (managed_integration, managed_route) else {
        if !profile.enforces(Rule::QuickCreateMembersNeedQuickCreate) {
            return Ok(false);
        }
        return Err(ApiError::bad_request(
            "target, routeKey and credentialsArn can be updated only on an API created with quick create",
        ));
    };
    if let Some(target) = &qc.target {
        point_integration(&mut tree.integrations[ii], target)?;
    }
    if let Some(arn) = qc.credentials_arn {
        tree.integrations[ii].credentials_arn = Some(arn);
    }
    if let Some(key) = qc.route_key {
        validate_route_key(ProtocolType::Http, &key)?;
        let route_id = tree.routes[ri].route_id.clone();
        tree.check_route_key_free(&key, Some(&route_id))?;
        tree.routes[ri].route_key = key;
    }
    Ok(true)
}
