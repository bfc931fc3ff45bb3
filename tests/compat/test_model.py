"""Checks every member gatehouse writes against the AWS model shipped in botocore: each must
be a member of the operation's output shape, with the right JSON type. Errors must be among
the operation's modeled errors (or the front-door errors every operation can get)."""

import json

import botocore.loaders
import botocore.model
import pytest

MODEL = botocore.model.ServiceModel(
    botocore.loaders.Loader().load_service_model("apigatewayv2", "service-2"))

FRONT_DOOR = {"IncompleteSignatureException", "PayloadTooLargeException"}


def check(value, shape, path):
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        by_wire = {m.serialization.get("name", name): m for name, m in shape.members.items()}
        for key, v in value.items():
            assert key in by_wire, f"{path}.{key} is not a member of {shape.name}"
            check(v, by_wire[key], f"{path}.{key}")
    elif kind == "map":
        assert isinstance(value, dict), path
        for k, v in value.items():
            assert isinstance(k, str)
            check(v, shape.value, f"{path}[{k}]")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, v in enumerate(value):
            check(v, shape.member, f"{path}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), path
        if shape.enum:
            assert value in shape.enum, f"{path}={value} not in {shape.enum}"
    elif kind == "boolean":
        assert isinstance(value, bool), path
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), path
    elif kind in ("double", "float"):
        assert isinstance(value, (int, float)) and not isinstance(value, bool), path
    elif kind == "timestamp":
        assert isinstance(value, str), path
    else:
        raise AssertionError(f"unexpected shape type {kind} at {path}")


def call(raw, op_name, path, body=None, method=None):
    op = MODEL.operation_model(op_name)
    status, headers, data = raw.request(method or op.http["method"], path, body)
    if status >= 300:
        name = headers["x-amzn-errortype"]
        modeled = {e.name for e in op.error_shapes}
        assert name in modeled | FRONT_DOOR, f"{op_name} answered {name}, not in {modeled}"
        return status, None
    assert status == op.http.get("responseCode", 200), f"{op_name}: {status}"
    if op.output_shape is None or not op.output_shape.members:
        assert data in (b"", b"{}"), f"{op_name}: body {data!r}"
        return status, None
    value = json.loads(data)
    check(value, op.output_shape, op_name)
    return status, value


def test_every_written_member_is_in_the_model(raw):
    _, api = call(raw, "CreateApi", "/v2/apis", {
        "name": "m", "protocolType": "WEBSOCKET", "routeSelectionExpression": "$request.body.a",
        "description": "d", "version": "1", "tags": {"a": "b"}, "disableSchemaValidation": True})
    api_id = api["apiId"]
    call(raw, "CreateApi", "/v2/apis", {
        "name": "h", "protocolType": "HTTP",
        "corsConfiguration": {"allowOrigins": ["*"], "maxAge": 10, "allowCredentials": False}})
    call(raw, "GetApi", f"/v2/apis/{api_id}")
    call(raw, "GetApis", "/v2/apis?maxResults=1")
    call(raw, "UpdateApi", f"/v2/apis/{api_id}", {"name": "m2"})
    full = {
        "stageName": "full",
        "accessLogSettings": {"destinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:g",
                              "format": "$context.requestId"},
        "clientCertificateId": "cert", "deploymentId": "abc123", "description": "d",
        "defaultRouteSettings": {"loggingLevel": "INFO", "dataTraceEnabled": True,
                                 "throttlingBurstLimit": 1, "throttlingRateLimit": 2.5},
        "routeSettings": {"$connect": {"detailedMetricsEnabled": True}},
        "stageVariables": {"k": "v"}, "tags": {"t": "v"},
    }
    call(raw, "CreateStage", f"/v2/apis/{api_id}/stages", full)
    call(raw, "CreateStage", f"/v2/apis/{api_id}/stages", {"stageName": "auto", "autoDeploy": True})
    call(raw, "GetStage", f"/v2/apis/{api_id}/stages/full")
    call(raw, "GetStages", f"/v2/apis/{api_id}/stages?maxResults=1")
    call(raw, "UpdateStage", f"/v2/apis/{api_id}/stages/full", {"description": "e"})
    call(raw, "DeleteRouteSettings", f"/v2/apis/{api_id}/stages/full/routesettings/%24connect")
    call(raw, "DeleteAccessLogSettings", f"/v2/apis/{api_id}/stages/full/accesslogsettings")
    call(raw, "ResetAuthorizersCache", f"/v2/apis/{api_id}/stages/full/cache/authorizers")
    call(raw, "DeleteStage", f"/v2/apis/{api_id}/stages/full")
    _, integ = call(raw, "CreateIntegration", f"/v2/apis/{api_id}/integrations", {
        "integrationType": "MOCK", "requestTemplates": {"application/json": "{}"},
        "description": "d"})
    iid = integ["integrationId"]
    _, route = call(raw, "CreateRoute", f"/v2/apis/{api_id}/routes", {
        "routeKey": "$connect", "target": f"integrations/{iid}", "operationName": "connect",
        "requestParameters": {"route.request.header.x": {"required": True}}})
    rid = route["routeId"]
    call(raw, "GetRoute", f"/v2/apis/{api_id}/routes/{rid}")
    call(raw, "GetRoutes", f"/v2/apis/{api_id}/routes")
    call(raw, "UpdateRoute", f"/v2/apis/{api_id}/routes/{rid}", {"apiKeyRequired": True})
    call(raw, "GetIntegration", f"/v2/apis/{api_id}/integrations/{iid}")
    call(raw, "GetIntegrations", f"/v2/apis/{api_id}/integrations")
    call(raw, "UpdateIntegration", f"/v2/apis/{api_id}/integrations/{iid}", {"timeoutInMillis": 100})
    _, dep = call(raw, "CreateDeployment", f"/v2/apis/{api_id}/deployments",
                  {"description": "d", "stageName": "auto"})
    call(raw, "CreateDeployment", f"/v2/apis/{api_id}/deployments", {"description": "d"})
    _, dep = call(raw, "CreateDeployment", f"/v2/apis/{api_id}/deployments", {})
    did = dep["deploymentId"]
    call(raw, "GetDeployment", f"/v2/apis/{api_id}/deployments/{did}")
    call(raw, "GetDeployments", f"/v2/apis/{api_id}/deployments")
    call(raw, "UpdateDeployment", f"/v2/apis/{api_id}/deployments/{did}", {"description": "e"})
    call(raw, "DeleteDeployment", f"/v2/apis/{api_id}/deployments/{did}")
    arn = f"arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2F{api_id}%2Fstages%2Fauto"
    call(raw, "TagResource", f"/v2/tags/{arn}", {"tags": {"k": "v"}})
    call(raw, "GetTags", f"/v2/tags/{arn}")
    call(raw, "UntagResource", f"/v2/tags/{arn}?tagKeys=k")
    call(raw, "DeleteRoute", f"/v2/apis/{api_id}/routes/{rid}")
    call(raw, "DeleteIntegration", f"/v2/apis/{api_id}/integrations/{iid}")
    _, quick = call(raw, "CreateApi", "/v2/apis", {
        "name": "q", "protocolType": "HTTP", "target": "https://example.com"})
    call(raw, "GetStages", f"/v2/apis/{quick['apiId']}/stages")
    call(raw, "GetRoutes", f"/v2/apis/{quick['apiId']}/routes")
    call(raw, "GetIntegrations", f"/v2/apis/{quick['apiId']}/integrations")
    call(raw, "DeleteApi", f"/v2/apis/{api_id}")


@pytest.mark.parametrize("op_name,method,path,body", [
    ("GetStage", "GET", "/v2/apis/nosuchapi0/stages/x", None),
    ("GetStages", "GET", "/v2/apis/nosuchapi0/stages", None),
    ("GetStages", "GET", "/v2/apis/nosuchapi0/stages?maxResults=nope", None),
    ("CreateStage", "POST", "/v2/apis/nosuchapi0/stages", {"stageName": "x"}),
    ("UpdateStage", "PATCH", "/v2/apis/nosuchapi0/stages/x", {}),
    ("DeleteStage", "DELETE", "/v2/apis/nosuchapi0/stages/x", None),
    ("DeleteRouteSettings", "DELETE", "/v2/apis/nosuchapi0/stages/x/routesettings/k", None),
    ("DeleteAccessLogSettings", "DELETE", "/v2/apis/nosuchapi0/stages/x/accesslogsettings", None),
    ("GetApi", "GET", "/v2/apis/nosuchapi0", None),
    ("CreateApi", "POST", "/v2/apis", {"name": "x"}),
    ("CreateRoute", "POST", "/v2/apis/nosuchapi0/routes", {"routeKey": "$default"}),
    ("GetRoute", "GET", "/v2/apis/nosuchapi0/routes/abc", None),
    ("CreateIntegration", "POST", "/v2/apis/nosuchapi0/integrations", {"integrationType": "MOCK"}),
    ("DeleteIntegration", "DELETE", "/v2/apis/nosuchapi0/integrations/abc", None),
    ("CreateDeployment", "POST", "/v2/apis/nosuchapi0/deployments", {}),
    ("GetDeployment", "GET", "/v2/apis/nosuchapi0/deployments/abc", None),
    ("DeleteDeployment", "DELETE", "/v2/apis/nosuchapi0/deployments/abc", None),
    ("GetTags", "GET", "/v2/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fnope", None),
    ("TagResource", "POST", "/v2/tags/not-an-arn", {"tags": {}}),
])
def test_errors_are_modeled(raw, op_name, method, path, body):
    status, _ = call(raw, op_name, path, body, method)
    assert status >= 400


def test_vpc_link_members_are_in_the_model(raw):
    _, link = call(raw, "CreateVpcLink", "/v2/vpclinks", {
        "name": "l", "subnetIds": ["subnet-0a1b2c3d"], "securityGroupIds": ["sg-0a1b2c3d"],
        "tags": {"k": "v"}})
    lid = link["vpcLinkId"]
    call(raw, "GetVpcLink", f"/v2/vpclinks/{lid}")
    call(raw, "GetVpcLinks", "/v2/vpclinks?maxResults=1")
    call(raw, "UpdateVpcLink", f"/v2/vpclinks/{lid}", {"name": "m"})
    arn = f"arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fvpclinks%2F{lid}"
    call(raw, "GetTags", f"/v2/tags/{arn}")
    call(raw, "GetVpcLink", "/v2/vpclinks/nolink1")
    call(raw, "DeleteVpcLink", f"/v2/vpclinks/{lid}")


def test_cors_members_are_in_the_model(raw):
    _, api = call(raw, "CreateApi", "/v2/apis", {
        "name": "c", "protocolType": "HTTP",
        "corsConfiguration": {"allowOrigins": ["https://a.example"], "allowMethods": ["GET"],
                              "allowHeaders": ["x"], "exposeHeaders": ["y"], "maxAge": 5,
                              "allowCredentials": True}})
    call(raw, "GetApi", f"/v2/apis/{api['apiId']}")
    call(raw, "DeleteCorsConfiguration", f"/v2/apis/{api['apiId']}/cors")
    call(raw, "CreateApi", "/v2/apis", {
        "name": "bad", "protocolType": "HTTP",
        "corsConfiguration": {"allowOrigins": ["*"], "allowCredentials": True}})


def test_issue_14_families_members_are_in_the_model(raw):
    _, http = call(raw, "CreateApi", "/v2/apis", {"name": "h", "protocolType": "HTTP"})
    h = http["apiId"]
    _, auth = call(raw, "CreateAuthorizer", f"/v2/apis/{h}/authorizers", {
        "name": "l", "authorizerType": "REQUEST", "authorizerPayloadFormatVersion": "2.0",
        "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                         "arn:aws:lambda:us-east-1:123456789012:function:a/invocations",
        "identitySource": ["$request.header.A"], "enableSimpleResponses": True,
        "authorizerResultTtlInSeconds": 60, "authorizerCredentialsArn": "arn:aws:iam::1:role/r"})
    a = auth["authorizerId"]
    call(raw, "GetAuthorizer", f"/v2/apis/{h}/authorizers/{a}")
    call(raw, "GetAuthorizers", f"/v2/apis/{h}/authorizers")
    call(raw, "UpdateAuthorizer", f"/v2/apis/{h}/authorizers/{a}", {"name": "m"})
    call(raw, "DeleteAuthorizer", f"/v2/apis/{h}/authorizers/{a}")
    call(raw, "GetAuthorizer", f"/v2/apis/{h}/authorizers/{a}")
    call(raw, "CreateStage", f"/v2/apis/{h}/stages", {"stageName": "prod"})
    call(raw, "CreateRoute", f"/v2/apis/{h}/routes", {"routeKey": "GET /pets"})
    call(raw, "ReimportApi", f"/v2/apis/{h}", {
        "body": '{"openapi":"3.0.1","info":{"title":"r","version":"1"},"paths":{"/a":{"get":'
                '{"responses":{"200":{"$ref":"#/components/responses/none"}}}}}}'})
    call(raw, "ImportApi", "/v2/apis", {"body": "openapi: 3.0.1\ninfo:\n  title: i\npaths: {}\n"})
    status, headers, body = raw.request("GET", f"/v2/apis/{h}/exports/OAS30?outputType=JSON")
    assert status == 200 and json.loads(body)["openapi"] == "3.0.1"

    _, ws = call(raw, "CreateApi", "/v2/apis", {
        "name": "w", "protocolType": "WEBSOCKET", "routeSelectionExpression": "$request.body.a"})
    w = ws["apiId"]
    _, model = call(raw, "CreateModel", f"/v2/apis/{w}/models", {
        "name": "M", "schema": '{"type":"object"}', "contentType": "application/json",
        "description": "d"})
    m = model["modelId"]
    call(raw, "GetModel", f"/v2/apis/{w}/models/{m}")
    call(raw, "GetModels", f"/v2/apis/{w}/models")
    call(raw, "GetModelTemplate", f"/v2/apis/{w}/models/{m}/template")
    call(raw, "UpdateModel", f"/v2/apis/{w}/models/{m}", {"description": "e"})
    _, route = call(raw, "CreateRoute", f"/v2/apis/{w}/routes", {
        "routeKey": "send", "requestParameters": {"route.request.header.x": {"required": True}}})
    r = route["routeId"]
    call(raw, "DeleteRouteRequestParameter",
         f"/v2/apis/{w}/routes/{r}/requestparameters/route.request.header.x")
    _, rr = call(raw, "CreateRouteResponse", f"/v2/apis/{w}/routes/{r}/routeresponses", {
        "routeResponseKey": "$default", "modelSelectionExpression": "x",
        "responseModels": {"$default": "M"},
        "responseParameters": {"route.response.header.a": {"required": False}}})
    rrid = rr["routeResponseId"]
    call(raw, "GetRouteResponse", f"/v2/apis/{w}/routes/{r}/routeresponses/{rrid}")
    call(raw, "GetRouteResponses", f"/v2/apis/{w}/routes/{r}/routeresponses")
    call(raw, "UpdateRouteResponse", f"/v2/apis/{w}/routes/{r}/routeresponses/{rrid}", {})
    call(raw, "DeleteRouteResponse", f"/v2/apis/{w}/routes/{r}/routeresponses/{rrid}")
    _, integ = call(raw, "CreateIntegration", f"/v2/apis/{w}/integrations", {"integrationType": "MOCK"})
    i = integ["integrationId"]
    _, ir = call(raw, "CreateIntegrationResponse", f"/v2/apis/{w}/integrations/{i}/integrationresponses", {
        "integrationResponseKey": "/4\\d\\d/", "contentHandlingStrategy": "CONVERT_TO_TEXT",
        "responseTemplates": {"application/json": "{}"}, "templateSelectionExpression": "x",
        "responseParameters": {"method.response.header.a": "'b'"}})
    irid = ir["integrationResponseId"]
    base = f"/v2/apis/{w}/integrations/{i}/integrationresponses"
    call(raw, "GetIntegrationResponse", f"{base}/{irid}")
    call(raw, "GetIntegrationResponses", base)
    call(raw, "UpdateIntegrationResponse", f"{base}/{irid}", {"integrationResponseKey": "$default"})
    call(raw, "DeleteIntegrationResponse", f"{base}/{irid}")
    call(raw, "DeleteModel", f"/v2/apis/{w}/models/{m}")

    cert = "arn:aws:acm:us-east-1:123456789012:certificate/x"
    call(raw, "CreateDomainName", "/v2/domainnames", {
        "domainName": "api.example.com", "tags": {"k": "v"},
        "domainNameConfigurations": [{"certificateArn": cert, "certificateName": "c"}],
        "mutualTlsAuthentication": {"truststoreUri": "s3://bucket/key"}})
    call(raw, "GetDomainName", "/v2/domainnames/api.example.com")
    call(raw, "GetDomainNames", "/v2/domainnames")
    call(raw, "UpdateDomainName", "/v2/domainnames/api.example.com", {"routingMode": "ROUTING_RULE_THEN_API_MAPPING"})
    _, mapping = call(raw, "CreateApiMapping", "/v2/domainnames/api.example.com/apimappings", {
        "apiId": h, "stage": "prod", "apiMappingKey": "v1"})
    mid = mapping["apiMappingId"]
    call(raw, "GetApiMapping", f"/v2/domainnames/api.example.com/apimappings/{mid}")
    call(raw, "GetApiMappings", "/v2/domainnames/api.example.com/apimappings")
    call(raw, "UpdateApiMapping", f"/v2/domainnames/api.example.com/apimappings/{mid}", {"apiId": h})
    call(raw, "DeleteApiMapping", f"/v2/domainnames/api.example.com/apimappings/{mid}")
    rule = {"priority": 1, "conditions": [{"matchHeaders": {"anyOf": [{"header": "x", "valueGlob": "a*"}]}}],
            "actions": [{"invokeApi": {"apiId": h, "stage": "prod", "stripBasePath": False}}]}
    _, created = call(raw, "CreateRoutingRule", "/v2/domainnames/api.example.com/routingrules", rule)
    rid2 = created["routingRuleId"]
    call(raw, "GetRoutingRule", f"/v2/domainnames/api.example.com/routingrules/{rid2}")
    call(raw, "ListRoutingRules", "/v2/domainnames/api.example.com/routingrules")
    call(raw, "PutRoutingRule", f"/v2/domainnames/api.example.com/routingrules/{rid2}", {**rule, "priority": 2})
    call(raw, "DeleteRoutingRule", f"/v2/domainnames/api.example.com/routingrules/{rid2}")
    call(raw, "GetApiMapping", f"/v2/domainnames/api.example.com/apimappings/{mid}")
    call(raw, "DeleteDomainName", "/v2/domainnames/api.example.com")
    call(raw, "GetDomainName", "/v2/domainnames/api.example.com")
