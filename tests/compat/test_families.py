"""The resource families of issue 14 through boto3 and the AWS CLI, one scenario each:
a JWT authorizer with a route, a custom domain with an API mapping, a WebSocket API with
models and responses, OpenAPI export -> import; and every new kind through the state file
(`gatehouse export`, then `--seed`)."""

import json
import subprocess

import pytest

from conftest import BIN, Server, make_client

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e"


def jwt_authorizer(client, api_id, name="jwt"):
    return client.create_authorizer(
        ApiId=api_id, Name=name, AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": "https://issuer.example.com", "Audience": ["app"]},
    )["AuthorizerId"]


def test_jwt_authorizer_and_route(client):
    api = client.create_api(Name="secured", ProtocolType="HTTP")["ApiId"]
    auth = jwt_authorizer(client, api)
    got = client.get_authorizer(ApiId=api, AuthorizerId=auth)
    assert got["JwtConfiguration"] == {"Issuer": "https://issuer.example.com", "Audience": ["app"]}
    assert "AuthorizerResultTtlInSeconds" not in got
    route = client.create_route(ApiId=api, RouteKey="GET /me", AuthorizationType="JWT",
                                AuthorizerId=auth, AuthorizationScopes=["profile"])
    assert (route["AuthorizationType"], route["AuthorizerId"]) == ("JWT", auth)
    with pytest.raises(client.exceptions.ConflictException) as e:
        client.delete_authorizer(ApiId=api, AuthorizerId=auth)
    assert "is referenced in route: GET /me" in str(e.value)
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.create_route(ApiId=api, RouteKey="GET /other", AuthorizationType="JWT",
                            AuthorizerId="nope00")
    assert "requires a valid JWT authorizer" in str(e.value)
    items = client.get_paginator("get_authorizers").paginate(ApiId=api).build_full_result()
    assert [a["AuthorizerId"] for a in items["Items"]] == [auth]


def test_custom_domain_with_mapping_through_the_cli(cli):
    api = cli.ok("create-api", "--name", "mapped", "--protocol-type", "HTTP")["ApiId"]
    cli.ok("create-stage", "--api-id", api, "--stage-name", "prod")
    domain = cli.ok("create-domain-name", "--domain-name", "api.example.com",
                    "--domain-name-configurations",
                    f"CertificateArn={CERT},EndpointType=REGIONAL")
    conf = domain["DomainNameConfigurations"][0]
    assert conf["DomainNameStatus"] == "AVAILABLE" and conf["HostedZoneId"] == "Z1UJRXOUMOOFQ8"
    mapping = cli.ok("create-api-mapping", "--domain-name", "api.example.com", "--api-id", api,
                     "--stage", "prod", "--api-mapping-key", "v1")
    listed = cli.ok("get-api-mappings", "--domain-name", "api.example.com")
    assert [m["ApiMappingId"] for m in listed["Items"]] == [mapping["ApiMappingId"]]
    code, _, err = cli.run("create-api-mapping", "--domain-name", "api.example.com",
                           "--api-id", api, "--stage", "ghost")
    assert code != 0 and "Invalid stage identifier specified" in err
    code, _, err = cli.run("get-domain-name", "--domain-name", "nope.example.com")
    assert code != 0 and "NotFoundException" in err
    assert cli.run("delete-domain-name", "--domain-name", "api.example.com")[0] == 0
    assert cli.ok("get-domain-names")["Items"] == []


def test_websocket_models_and_responses(client):
    api = client.create_api(Name="chat", ProtocolType="WEBSOCKET",
                            RouteSelectionExpression="$request.body.action")["ApiId"]
    model = client.create_model(ApiId=api, Name="Message", ContentType="application/json",
                                Schema=json.dumps({"type": "object", "properties": {
                                    "text": {"type": "string"}}}))
    template = client.get_model_template(ApiId=api, ModelId=model["ModelId"])["Value"]
    assert '"text" : "$inputRoot.text"' in template
    route = client.create_route(ApiId=api, RouteKey="send", RequestModels={"$default": "Message"},
                                ModelSelectionExpression="$request.body.action")
    rr = client.create_route_response(ApiId=api, RouteId=route["RouteId"],
                                      RouteResponseKey="$default")
    assert client.get_route_responses(ApiId=api, RouteId=route["RouteId"])["Items"] == [
        {"RouteResponseId": rr["RouteResponseId"], "RouteResponseKey": "$default"}]
    integ = client.create_integration(ApiId=api, IntegrationType="MOCK")
    ir = client.create_integration_response(ApiId=api, IntegrationId=integ["IntegrationId"],
                                            IntegrationResponseKey="$default")
    assert ir["IntegrationResponseKey"] == "$default"
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_model(ApiId=api, ModelId=model["ModelId"])


def test_openapi_export_then_import(client):
    api = client.create_api(Name="pets", ProtocolType="HTTP",
                            CorsConfiguration={"AllowOrigins": ["https://a.example"]})["ApiId"]
    auth = jwt_authorizer(client, api)
    integ = client.create_integration(ApiId=api, IntegrationType="HTTP_PROXY",
                                      IntegrationMethod="GET",
                                      IntegrationUri="https://backend.example.com/pets",
                                      PayloadFormatVersion="1.0")
    client.create_route(ApiId=api, RouteKey="GET /pets", AuthorizationType="JWT",
                        AuthorizerId=auth, Target=f"integrations/{integ['IntegrationId']}")
    body = client.export_api(ApiId=api, Specification="OAS30", OutputType="YAML")["body"].read()
    assert b"x-amazon-apigateway-integration" in body
    imported = client.import_api(Body=body.decode())
    copy = imported["ApiId"]
    assert imported["CorsConfiguration"] == {"AllowOrigins": ["https://a.example"]}
    routes = client.get_routes(ApiId=copy)["Items"]
    assert [(r["RouteKey"], r["AuthorizationType"]) for r in routes] == [("GET /pets", "JWT")]
    integrations = client.get_integrations(ApiId=copy)["Items"]
    assert [(i["IntegrationType"], i["IntegrationUri"]) for i in integrations] == [
        ("HTTP_PROXY", "https://backend.example.com/pets")]
    bare = client.export_api(ApiId=api, Specification="OAS30", OutputType="JSON",
                             IncludeExtensions=False)["body"].read()
    assert b"x-amazon-apigateway" not in bare


def test_every_new_kind_survives_the_state_file(tmp_path):
    store = "sqlite:" + str(tmp_path / "a.db")
    s = Server(store=store)
    try:
        c = make_client(s.endpoint)
        http = c.create_api(Name="h", ProtocolType="HTTP")["ApiId"]
        jwt_authorizer(c, http)
        c.create_stage(ApiId=http, StageName="prod")
        ws = c.create_api(Name="w", ProtocolType="WEBSOCKET",
                          RouteSelectionExpression="$request.body.action")["ApiId"]
        c.create_model(ApiId=ws, Name="M", Schema='{"type":"object"}')
        r = c.create_route(ApiId=ws, RouteKey="send")["RouteId"]
        c.create_route_response(ApiId=ws, RouteId=r, RouteResponseKey="$default")
        i = c.create_integration(ApiId=ws, IntegrationType="MOCK")["IntegrationId"]
        c.create_integration_response(ApiId=ws, IntegrationId=i, IntegrationResponseKey="$default")
        c.create_domain_name(DomainName="api.example.com",
                             DomainNameConfigurations=[{"CertificateArn": CERT}])
        c.create_api_mapping(DomainName="api.example.com", ApiId=http, Stage="prod")
        c.create_routing_rule(DomainName="api.example.com", Priority=5,
                              Conditions=[{"MatchBasePaths": {"AnyOf": ["v1"]}}],
                              Actions=[{"InvokeApi": {"ApiId": http, "Stage": "prod"}}])

        def snapshot(client):
            out = {
                "authorizers": client.get_authorizers(ApiId=http)["Items"],
                "models": client.get_models(ApiId=ws)["Items"],
                "routeResponses": client.get_route_responses(ApiId=ws, RouteId=r)["Items"],
                "integrationResponses": client.get_integration_responses(
                    ApiId=ws, IntegrationId=i)["Items"],
                "domain": client.get_domain_name(DomainName="api.example.com"),
                "mappings": client.get_api_mappings(DomainName="api.example.com")["Items"],
                "rules": client.list_routing_rules(DomainName="api.example.com")["RoutingRules"],
            }
            out["domain"].pop("ResponseMetadata")
            return out

        before = snapshot(c)
    finally:
        s.stop()
    state = tmp_path / "state.json"
    done = subprocess.run([BIN, "export", "--store", store, "-o", str(state)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    doc = json.loads(state.read_text())
    entry = doc["domainNames"][0]
    assert (len(entry["apiMappings"]), len(entry["routingRules"])) == (1, 1)
    s = Server("--seed", str(state), store="memory")
    try:
        assert snapshot(make_client(s.endpoint)) == before
    finally:
        s.stop()
