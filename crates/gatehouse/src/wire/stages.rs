//! The `Stage` shape: <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages-stagename.html>.

use std::collections::BTreeMap;

use gatehouse_core::model::time::rfc3339;
use gatehouse_core::model::{AccessLogSettings, RouteSettings, Stage};
use serde::Serialize;

use super::{is_false, ToWire};

/// The `Stage` shape (CreateStage, GetStage, UpdateStage, GetStages items). Members AWS
/// omits until set are omitted; `routeSettings`, `stageVariables` and `tags` are always
/// present; `autoDeploy` and `apiGatewayManaged` appear only when true.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_log_settings: Option<&'a AccessLogSettings>,
    #[serde(skip_serializing_if = "is_false")]
    api_gateway_managed: bool,
    #[serde(skip_serializing_if = "is_false")]
    auto_deploy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_certificate_id: Option<&'a str>,
    created_date: String,
    default_route_settings: &'a RouteSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_deployment_status_message: Option<&'a str>,
    last_updated_date: String,
    route_settings: &'a BTreeMap<String, RouteSettings>,
    stage_name: &'a str,
    stage_variables: &'a BTreeMap<String, String>,
    tags: &'a BTreeMap<String, String>,
}

impl<'a> StageOut<'a> {
    /// The wire form of `stage`.
    pub fn new(stage: &'a Stage) -> Self {
        StageOut {
            access_log_settings: stage.access_log_settings.as_ref(),
            api_gateway_managed: stage.api_gateway_managed,
            auto_deploy: stage.auto_deploy,
            client_certificate_id: stage.client_certificate_id.as_deref(),
            created_date: rfc3339(stage.created),
            default_route_settings: &stage.default_route_settings,
            deployment_id: stage.deployment_id.as_deref(),
            description: stage.description.as_deref(),
            last_deployment_status_message: stage.last_deployment_status_message.as_deref(),
            last_updated_date: rfc3339(stage.last_updated),
            route_settings: &stage.route_settings,
            stage_name: &stage.stage_name,
            stage_variables: &stage.stage_variables,
            tags: &stage.tags,
        }
    }
}

impl ToWire for Stage {
    type Out<'a> = StageOut<'a>;
    fn to_wire(&self) -> StageOut<'_> {
        StageOut::new(self)
    }
}
