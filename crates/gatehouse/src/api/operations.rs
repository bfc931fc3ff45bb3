//! The operation table: every operation of the AWS model (`reference/`, the
//! `apigatewayv2-2018-11-29` service model), one line each: model name, method, URI template
//! (labels named as in the model), success status, the typed path its labels fill, and the
//! handler. Operations gatehouse does not implement yet are routed to `not_implemented`,
//! which answers `NotImplementedException` naming them.
//!
//! The table is a macro that hands its lines to another: [`define_operations`] turns them
//! into [`Operation`] and its facts here, and the operations layer turns them into its
//! dispatch (where the handler paths resolve). A test pins every line to the committed model.

use http::Method;

use super::paths::*;

/// Hands every line of the operation table to macro `$then`.
macro_rules! operations {
    ($then:ident) => {
        $then! {
            CreateApi                        POST   "/v2/apis"                                                                                   201 ()                          => apis::create_api;
            GetApis                          GET    "/v2/apis"                                                                                   200 ()                          => apis::get_apis;
            ImportApi                        PUT    "/v2/apis"                                                                                   201 ()                          => imports::import_api;
            GetApi                           GET    "/v2/apis/{apiId}"                                                                           200 ApiPath                     => apis::get_api;
            ReimportApi                      PUT    "/v2/apis/{apiId}"                                                                           201 ApiPath                     => imports::reimport_api;
            UpdateApi                        PATCH  "/v2/apis/{apiId}"                                                                           200 ApiPath                     => apis::update_api;
            DeleteApi                        DELETE "/v2/apis/{apiId}"                                                                           204 ApiPath                     => apis::delete_api;
            CreateAuthorizer                 POST   "/v2/apis/{apiId}/authorizers"                                                               201 ApiPath                     => authorizers::create_authorizer;
            GetAuthorizers                   GET    "/v2/apis/{apiId}/authorizers"                                                               200 ApiPath                     => crud::list::<Authorizer>;
            GetAuthorizer                    GET    "/v2/apis/{apiId}/authorizers/{authorizerId}"                                                200 AuthorizerPath              => crud::get::<Authorizer>;
            UpdateAuthorizer                 PATCH  "/v2/apis/{apiId}/authorizers/{authorizerId}"                                                200 AuthorizerPath              => authorizers::update_authorizer;
            DeleteAuthorizer                 DELETE "/v2/apis/{apiId}/authorizers/{authorizerId}"                                                204 AuthorizerPath              => authorizers::delete_authorizer;
            DeleteCorsConfiguration          DELETE "/v2/apis/{apiId}/cors"                                                                      204 ApiPath                     => apis::delete_cors_configuration;
            CreateDeployment                 POST   "/v2/apis/{apiId}/deployments"                                                               201 ApiPath                     => deployments::create_deployment;
            GetDeployments                   GET    "/v2/apis/{apiId}/deployments"                                                               200 ApiPath                     => crud::list::<Deployment>;
            GetDeployment                    GET    "/v2/apis/{apiId}/deployments/{deploymentId}"                                                200 DeploymentPath              => crud::get::<Deployment>;
            UpdateDeployment                 PATCH  "/v2/apis/{apiId}/deployments/{deploymentId}"                                                200 DeploymentPath              => deployments::update_deployment;
            DeleteDeployment                 DELETE "/v2/apis/{apiId}/deployments/{deploymentId}"                                                204 DeploymentPath              => deployments::delete_deployment;
            ExportApi                        GET    "/v2/apis/{apiId}/exports/{specification}"                                                   200 ExportPath                  => imports::export_api;
            CreateIntegration                POST   "/v2/apis/{apiId}/integrations"                                                              201 ApiPath                     => integrations::create_integration;
            GetIntegrations                  GET    "/v2/apis/{apiId}/integrations"                                                              200 ApiPath                     => crud::list::<Integration>;
            GetIntegration                   GET    "/v2/apis/{apiId}/integrations/{integrationId}"                                              200 IntegrationPath             => crud::get::<Integration>;
            UpdateIntegration                PATCH  "/v2/apis/{apiId}/integrations/{integrationId}"                                              200 IntegrationPath             => integrations::update_integration;
            DeleteIntegration                DELETE "/v2/apis/{apiId}/integrations/{integrationId}"                                              204 IntegrationPath             => integrations::delete_integration;
            CreateIntegrationResponse        POST   "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses"                         201 IntegrationPath             => responses::create_integration_response;
            GetIntegrationResponses          GET    "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses"                         200 IntegrationPath             => responses::get_integration_responses;
            GetIntegrationResponse           GET    "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}" 200 IntegrationResponsePath     => responses::get_integration_response;
            UpdateIntegrationResponse        PATCH  "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}" 200 IntegrationResponsePath     => responses::update_integration_response;
            DeleteIntegrationResponse        DELETE "/v2/apis/{apiId}/integrations/{integrationId}/integrationresponses/{integrationResponseId}" 204 IntegrationResponsePath     => responses::delete_integration_response;
            CreateModel                      POST   "/v2/apis/{apiId}/models"                                                                    201 ApiPath                     => models::create_model;
            GetModels                        GET    "/v2/apis/{apiId}/models"                                                                    200 ApiPath                     => crud::list::<Model>;
            GetModel                         GET    "/v2/apis/{apiId}/models/{modelId}"                                                          200 ModelPath                   => crud::get::<Model>;
            UpdateModel                      PATCH  "/v2/apis/{apiId}/models/{modelId}"                                                          200 ModelPath                   => models::update_model;
            DeleteModel                      DELETE "/v2/apis/{apiId}/models/{modelId}"                                                          204 ModelPath                   => models::delete_model;
            GetModelTemplate                 GET    "/v2/apis/{apiId}/models/{modelId}/template"                                                 200 ModelPath                   => models::get_model_template;
            CreateRoute                      POST   "/v2/apis/{apiId}/routes"                                                                    201 ApiPath                     => routes::create_route;
            GetRoutes                        GET    "/v2/apis/{apiId}/routes"                                                                    200 ApiPath                     => crud::list::<Route>;
            GetRoute                         GET    "/v2/apis/{apiId}/routes/{routeId}"                                                          200 RoutePath                   => crud::get::<Route>;
            UpdateRoute                      PATCH  "/v2/apis/{apiId}/routes/{routeId}"                                                          200 RoutePath                   => routes::update_route;
            DeleteRoute                      DELETE "/v2/apis/{apiId}/routes/{routeId}"                                                          204 RoutePath                   => routes::delete_route;
            CreateRouteResponse              POST   "/v2/apis/{apiId}/routes/{routeId}/routeresponses"                                           201 RoutePath                   => responses::create_route_response;
            GetRouteResponses                GET    "/v2/apis/{apiId}/routes/{routeId}/routeresponses"                                           200 RoutePath                   => responses::get_route_responses;
            DeleteRouteRequestParameter      DELETE "/v2/apis/{apiId}/routes/{routeId}/requestparameters/{requestParameterKey}"                  204 RequestParameterPath        => routes::delete_route_request_parameter;
            GetRouteResponse                 GET    "/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}"                         200 RouteResponsePath           => responses::get_route_response;
            UpdateRouteResponse              PATCH  "/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}"                         200 RouteResponsePath           => responses::update_route_response;
            DeleteRouteResponse              DELETE "/v2/apis/{apiId}/routes/{routeId}/routeresponses/{routeResponseId}"                         204 RouteResponsePath           => responses::delete_route_response;
            CreateStage                      POST   "/v2/apis/{apiId}/stages"                                                                    201 ApiPath                     => stages::create_stage;
            GetStages                        GET    "/v2/apis/{apiId}/stages"                                                                    200 ApiPath                     => crud::list::<Stage>;
            GetStage                         GET    "/v2/apis/{apiId}/stages/{stageName}"                                                        200 StagePath                   => crud::get::<Stage>;
            UpdateStage                      PATCH  "/v2/apis/{apiId}/stages/{stageName}"                                                        200 StagePath                   => stages::update_stage;
            DeleteStage                      DELETE "/v2/apis/{apiId}/stages/{stageName}"                                                        204 StagePath                   => stages::delete_stage;
            DeleteAccessLogSettings          DELETE "/v2/apis/{apiId}/stages/{stageName}/accesslogsettings"                                      204 StagePath                   => stages::delete_access_log_settings;
            ResetAuthorizersCache            DELETE "/v2/apis/{apiId}/stages/{stageName}/cache/authorizers"                                      204 StagePath                   => stages::reset_authorizers_cache;
            DeleteRouteSettings              DELETE "/v2/apis/{apiId}/stages/{stageName}/routesettings/{routeKey}"                               204 RouteSettingsPath           => stages::delete_route_settings;

            CreateDomainName                 POST   "/v2/domainnames"                                                                            201 ()                          => domain_names::create_domain_name;
            GetDomainNames                   GET    "/v2/domainnames"                                                                            200 ()                          => crud::list_roots::<DomainName>;
            GetDomainName                    GET    "/v2/domainnames/{domainName}"                                                               200 DomainNamePath              => crud::get_root::<DomainName>;
            UpdateDomainName                 PATCH  "/v2/domainnames/{domainName}"                                                               200 DomainNamePath              => domain_names::update_domain_name;
            DeleteDomainName                 DELETE "/v2/domainnames/{domainName}"                                                               204 DomainNamePath              => domain_names::delete_domain_name;
            CreateApiMapping                 POST   "/v2/domainnames/{domainName}/apimappings"                                                   201 DomainNamePath              => domain_names::create_api_mapping;
            GetApiMappings                   GET    "/v2/domainnames/{domainName}/apimappings"                                                   200 DomainNamePath              => crud::list::<ApiMapping>;
            GetApiMapping                    GET    "/v2/domainnames/{domainName}/apimappings/{apiMappingId}"                                    200 ApiMappingPath              => crud::get::<ApiMapping>;
            UpdateApiMapping                 PATCH  "/v2/domainnames/{domainName}/apimappings/{apiMappingId}"                                    200 ApiMappingPath              => domain_names::update_api_mapping;
            DeleteApiMapping                 DELETE "/v2/domainnames/{domainName}/apimappings/{apiMappingId}"                                    204 ApiMappingPath              => domain_names::delete_api_mapping;
            CreateRoutingRule                POST   "/v2/domainnames/{domainName}/routingrules"                                                  201 DomainNamePath              => domain_names::create_routing_rule;
            ListRoutingRules                 GET    "/v2/domainnames/{domainName}/routingrules"                                                  200 DomainNamePath              => crud::list::<RoutingRule>;
            GetRoutingRule                   GET    "/v2/domainnames/{domainName}/routingrules/{routingRuleId}"                                  200 RoutingRulePath             => crud::get::<RoutingRule>;
            PutRoutingRule                   PUT    "/v2/domainnames/{domainName}/routingrules/{routingRuleId}"                                  200 RoutingRulePath             => domain_names::put_routing_rule;
            DeleteRoutingRule                DELETE "/v2/domainnames/{domainName}/routingrules/{routingRuleId}"                                  204 RoutingRulePath             => domain_names::delete_routing_rule;

            CreatePortalProduct              POST   "/v2/portalproducts"                                                                         201 ()                          => not_implemented;
            ListPortalProducts               GET    "/v2/portalproducts"                                                                         200 ()                          => not_implemented;
            GetPortalProduct                 GET    "/v2/portalproducts/{portalProductId}"                                                       200 PortalProductPath           => not_implemented;
            UpdatePortalProduct              PATCH  "/v2/portalproducts/{portalProductId}"                                                       200 PortalProductPath           => not_implemented;
            DeletePortalProduct              DELETE "/v2/portalproducts/{portalProductId}"                                                       204 PortalProductPath           => not_implemented;
            CreateProductPage                POST   "/v2/portalproducts/{portalProductId}/productpages"                                          201 PortalProductPath           => not_implemented;
            ListProductPages                 GET    "/v2/portalproducts/{portalProductId}/productpages"                                          200 PortalProductPath           => not_implemented;
            GetProductPage                   GET    "/v2/portalproducts/{portalProductId}/productpages/{productPageId}"                          200 ProductPagePath             => not_implemented;
            UpdateProductPage                PATCH  "/v2/portalproducts/{portalProductId}/productpages/{productPageId}"                          200 ProductPagePath             => not_implemented;
            DeleteProductPage                DELETE "/v2/portalproducts/{portalProductId}/productpages/{productPageId}"                          204 ProductPagePath             => not_implemented;
            CreateProductRestEndpointPage    POST   "/v2/portalproducts/{portalProductId}/productrestendpointpages"                              201 PortalProductPath           => not_implemented;
            ListProductRestEndpointPages     GET    "/v2/portalproducts/{portalProductId}/productrestendpointpages"                              200 PortalProductPath           => not_implemented;
            GetProductRestEndpointPage       GET    "/v2/portalproducts/{portalProductId}/productrestendpointpages/{productRestEndpointPageId}"  200 ProductRestEndpointPagePath => not_implemented;
            UpdateProductRestEndpointPage    PATCH  "/v2/portalproducts/{portalProductId}/productrestendpointpages/{productRestEndpointPageId}"  200 ProductRestEndpointPagePath => not_implemented;
            DeleteProductRestEndpointPage    DELETE "/v2/portalproducts/{portalProductId}/productrestendpointpages/{productRestEndpointPageId}"  204 ProductRestEndpointPagePath => not_implemented;
            GetPortalProductSharingPolicy    GET    "/v2/portalproducts/{portalProductId}/sharingpolicy"                                         200 PortalProductPath           => not_implemented;
            PutPortalProductSharingPolicy    PUT    "/v2/portalproducts/{portalProductId}/sharingpolicy"                                         200 PortalProductPath           => not_implemented;
            DeletePortalProductSharingPolicy DELETE "/v2/portalproducts/{portalProductId}/sharingpolicy"                                         204 PortalProductPath           => not_implemented;

            CreatePortal                     POST   "/v2/portals"                                                                                201 ()                          => not_implemented;
            ListPortals                      GET    "/v2/portals"                                                                                200 ()                          => not_implemented;
            GetPortal                        GET    "/v2/portals/{portalId}"                                                                     200 PortalPath                  => not_implemented;
            UpdatePortal                     PATCH  "/v2/portals/{portalId}"                                                                     200 PortalPath                  => not_implemented;
            DeletePortal                     DELETE "/v2/portals/{portalId}"                                                                     204 PortalPath                  => not_implemented;
            PreviewPortal                    POST   "/v2/portals/{portalId}/preview"                                                             202 PortalPath                  => not_implemented;
            PublishPortal                    POST   "/v2/portals/{portalId}/publish"                                                             202 PortalPath                  => not_implemented;
            DisablePortal                    DELETE "/v2/portals/{portalId}/publish"                                                             204 PortalPath                  => not_implemented;

            TagResource                      POST   "/v2/tags/{resource-arn}"                                                                    201 ResourceArnPath             => tags::tag_resource;
            GetTags                          GET    "/v2/tags/{resource-arn}"                                                                    200 ResourceArnPath             => tags::get_tags;
            UntagResource                    DELETE "/v2/tags/{resource-arn}"                                                                    204 ResourceArnPath             => tags::untag_resource;

            CreateVpcLink                    POST   "/v2/vpclinks"                                                                               201 ()                          => vpc_links::create_vpc_link;
            GetVpcLinks                      GET    "/v2/vpclinks"                                                                               200 ()                          => crud::list_roots::<VpcLink>;
            GetVpcLink                       GET    "/v2/vpclinks/{vpcLinkId}"                                                                   200 VpcLinkPath                 => crud::get_root::<VpcLink>;
            UpdateVpcLink                    PATCH  "/v2/vpclinks/{vpcLinkId}"                                                                   200 VpcLinkPath                 => vpc_links::update_vpc_link;
            DeleteVpcLink                    DELETE "/v2/vpclinks/{vpcLinkId}"                                                                   202 VpcLinkPath                 => vpc_links::delete_vpc_link;
        }
    };
}
pub(crate) use operations;

/// What the table says of one operation.
#[derive(Debug, Clone)]
pub struct OperationSpec {
    /// The operation.
    pub op: Operation,
    /// The HTTP method.
    pub method: Method,
    /// The URI template, labels in braces.
    pub uri: &'static str,
    /// The success status.
    pub status: u16,
    /// The path labels, in order, as the typed path names them.
    pub labels: &'static [&'static str],
    /// Whether gatehouse implements it (its handler is not `not_implemented`).
    pub implemented: bool,
}

/// Defines [`Operation`], [`Operation::ALL`] and [`Operation::spec`] from the table.
macro_rules! define_operations {
    ($($name:ident $method:ident $uri:literal $status:literal $path:ty => $handler:path;)*) => {
        /// The operations, named as in the AWS model.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $(#[doc = concat!("`", stringify!($method), " ", $uri, "` → ", stringify!($status))] $name,)*
        }

        impl Operation {
            /// Every operation, in table order.
            pub const ALL: &'static [Operation] = &[$(Operation::$name,)*];

            /// The operation's name in the AWS model (`GetStage`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Operation::$name => stringify!($name),)*
                }
            }

            /// The success status the model gives it.
            pub const fn status(self) -> u16 {
                match self {
                    $(Operation::$name => $status,)*
                }
            }
        }

        /// Every line of the table, in [`Operation::ALL`] order.
        pub fn specs() -> Vec<OperationSpec> {
            vec![$(OperationSpec {
                op: Operation::$name,
                method: Method::$method,
                uri: $uri,
                status: $status,
                labels: <$path as PathParams>::NAMES,
                implemented: stringify!($handler) != "not_implemented",
            },)*]
        }
    };
}

operations!(define_operations);

impl Operation {
    /// The operation with AWS model name `name`.
    pub fn from_name(name: &str) -> Option<Operation> {
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// Its position in [`Operation::ALL`] (for per-operation tables).
    pub fn index(self) -> usize {
        self as usize
    }
}
