"""Templates served and deployed: the committed examples (a CDK cloud assembly, a SAM
template through aws-sam-translator, a Serverless package) served by `serve --template`
with a Lambda Invoke-API stub and called through their invoke URLs; `--watch` redeploying
a changed template and keeping the last good version when a change fails; stable ids
across restarts; `gatehouse deploy` all or nothing, signed for a strict-mode server."""

import asyncio
import http.server
import json
import os
import pathlib
import subprocess
import sys
import time

import urllib.error
import urllib.request

import pytest
import websockets

from conftest import BIN, Server, make_client, serving
from test_dataplane import fetch

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


class InvokeApi(http.server.BaseHTTPRequestHandler):
    """The Lambda Invoke API: answers 200 with the function's name, route key and path,
    and remembers which function each event went to."""

    calls = []

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        name = self.path.split("/functions/")[1].split("/")[0]
        route = event.get("routeKey") or event.get("requestContext", {}).get("routeKey")
        InvokeApi.calls.append((name, route))
        body = json.dumps({"function": name, "routeKey": route, "path": event.get("rawPath")})
        out = json.dumps({"statusCode": 200, "body": body}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


@pytest.fixture
def lambdas():
    InvokeApi.calls = []
    with serving(InvokeApi) as url:
        yield url


def stacks(server):
    _, _, body = fetch(f"{server.endpoint}/_gatehouse/stacks")
    return json.loads(body)["stacks"]


def api_ids(server):
    return {a["logicalId"]: a["apiId"] for s in stacks(server) for a in s["apis"]}


def invoke(server, api, path, method="GET"):
    req = urllib.request.Request(f"{server.endpoint}/_aws/execute-api/{api}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def websocket_round(server, api, stage, message):
    async def run():
        url = f"ws://{server.endpoint.split('//')[1]}/_aws/execute-api/{api}/{stage}"
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps(message))
    asyncio.run(run())


def wait_for(check, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)


def test_a_cdk_assembly_serves_its_http_and_websocket_apis(lambdas):
    server = Server("--template", str(EXAMPLES / "cdk" / "cdk.out"), "--lambda-endpoint", lambdas,
                    "--function", "GatehouseFunctions/Chat=chat")
    try:
        ids = api_ids(server)
        http_api, chat = ids["GatehouseApis/HttpApiF5A9A8A7"], ids["GatehouseApis/ChatApiD29796E1"]
        status, body = invoke(server, http_api, "/hello")
        assert status == 200 and json.loads(body)["function"] == "hello"
        # The JWT authorizer's route wants a token.
        assert invoke(server, http_api, "/private") == (401, '{"message":"Unauthorized"}')
        websocket_round(server, chat, "dev", {"action": "sendmessage"})
        wait_for(lambda: ("chat", "sendmessage") in InvokeApi.calls, "the message reached chat")
        assert ("chat", "$connect") in InvokeApi.calls
        client = make_client(server.endpoint)
        assert {a["Name"] for a in client.get_apis()["Items"]} == {"cdk-http", "cdk-chat"}
    finally:
        server.stop()


def test_a_sam_template_goes_through_the_sam_transform(lambdas):
    server = Server("--template", str(EXAMPLES / "sam" / "template.yaml"), "--lambda-endpoint", lambdas,
                    "--sam-python", sys.executable)
    try:
        ids = api_ids(server)
        implicit, chat = ids["ServerlessHttpApi"], ids["ChatApi"]
        status, body = invoke(server, implicit, "/hello/world")
        assert status == 200 and json.loads(body) == {"function": "hello-fn", "routeKey": "GET /hello/{name}", "path": "/hello/world"}
        status, body = invoke(server, implicit, "/anything/else", "POST")
        assert status == 200 and json.loads(body)["routeKey"] == "$default"
        assert json.loads(body)["function"] == "CatchAllFunction"
        websocket_round(server, chat, "default", {"action": "x"})
        wait_for(lambda: ("ChatFunction", "$default") in InvokeApi.calls, "the message reached ChatFunction")
    finally:
        server.stop()


def test_a_serverless_package_serves_http_api_and_websocket_events(lambdas):
    server = Server("--template", str(EXAMPLES / "serverless"), "--lambda-endpoint", lambdas)
    try:
        ids = api_ids(server)
        status, body = invoke(server, ids["HttpApi"], "/hello/you")
        assert status == 200 and json.loads(body)["function"] == "gatehouse-sls-dev-hello"
        status, body = invoke(server, ids["HttpApi"], "/elsewhere")
        assert status == 200 and json.loads(body)["routeKey"] == "$default"
        websocket_round(server, ids["WebsocketsApi"], "dev", {"action": "sendmessage"})
        # The message's integration and $disconnect run side by side (the client closes right
        # after sending, and AWS does not order them either), so wait for each on its own.
        wait_for(lambda: ("gatehouse-sls-dev-chat", "sendmessage") in InvokeApi.calls, "the message reached chat")
        wait_for(lambda: ("gatehouse-sls-dev-chat", "$disconnect") in InvokeApi.calls, "$disconnect ran")
    finally:
        server.stop()


TEMPLATE = """
Parameters:
  Greeting: {Type: String, Default: hi}
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: watched, ProtocolType: HTTP}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:${Greeting}"
      PayloadFormatVersion: "2.0"
  First:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: GET /first, Target: !Sub "integrations/${Integration}"}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: $default, AutoDeploy: true}
"""

SECOND = """
  Second:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Api, RouteKey: GET /second, Target: !Sub "integrations/${Integration}"}
"""


def watched(path, text, lambdas):
    """A server that serves `text`, written to `path`, and watches it."""
    path.write_text(text)
    return path, Server("--template", str(path), "--watch", "--lambda-endpoint", lambdas)


def test_watch_redeploys_a_changed_template_and_keeps_the_last_good_version(tmp_path, lambdas):
    path, server = watched(tmp_path / "api.yaml", TEMPLATE, lambdas)
    try:
        api = api_ids(server)["Api"]
        client = make_client(server.endpoint)
        by_hand = client.create_api(Name="by-hand", ProtocolType="HTTP")["ApiId"]
        assert invoke(server, api, "/first")[0] == 200
        assert invoke(server, api, "/second")[0] == 404
        path.write_text(TEMPLATE + SECOND)
        wait_for(lambda: invoke(server, api, "/second")[0] == 200, "the new route answers")
        assert api_ids(server)["Api"] == api, "the API keeps its id"
        assert client.get_api(ApiId=by_hand)["Name"] == "by-hand", "the store was not dropped"
        # A broken change: nothing of it is applied, the last good version keeps serving.
        path.write_text(TEMPLATE.replace("GET /first", "FETCH /first") + SECOND.replace("/second", "/third"))
        line = ""
        while "could not be applied" not in line:
            line = server.proc.stdout.readline()
            assert line, "the server said nothing about the broken change"
        assert "First" in line and "Invalid route key" in line, line
        assert invoke(server, api, "/first")[0] == 200
        assert invoke(server, api, "/third")[0] == 404
    finally:
        server.stop()


def test_ids_are_stable_across_restarts_on_a_memory_store(tmp_path, lambdas):
    path = tmp_path / "api.yaml"
    path.write_text(TEMPLATE)
    seen = []
    for _ in range(2):
        server = Server("--template", str(path), "--lambda-endpoint", lambdas, store="memory")
        try:
            seen.append(api_ids(server)["Api"])
        finally:
            server.stop()
    assert seen[0] == seen[1]


def deploy(server, *args, env=None):
    return subprocess.run([BIN, "deploy", "--endpoint", server.endpoint, *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


DOMAIN = """
  Domain:
    Type: AWS::ApiGatewayV2::DomainName
    Properties:
      DomainName: api.pr-1.example.com
      DomainNameConfigurations:
        - {CertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/abc", EndpointType: REGIONAL}
  Bare:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: bare}
  Mapping:
    Type: AWS::ApiGatewayV2::ApiMapping
    Properties: {DomainName: !Ref Domain, ApiId: !Ref Api, Stage: !Ref Stage, ApiMappingKey: v1}
Outputs:
  Target:
    Value: !GetAtt Domain.RegionalDomainName
"""


def test_deploy_is_all_or_nothing_and_names_what_is_wrong(tmp_path, server):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(TEMPLATE + SECOND + DOMAIN)
    done = deploy(server, "--template", str(good), "--stack-name", "pr-1")
    assert done.returncode == 0, done.stderr
    assert "create AWS::ApiGatewayV2::Route Second" in done.stdout
    assert "warning: Bare: stage bare has nothing deployed" in done.stdout, done.stdout
    client = make_client(server.endpoint)
    api = api_ids(server)["Api"]
    before = sorted(r["RouteKey"] for r in client.get_routes(ApiId=api)["Items"])
    mapping = client.get_api_mappings(DomainName="api.pr-1.example.com")["Items"]
    assert [(m["ApiId"], m["Stage"], m["ApiMappingKey"]) for m in mapping] == [(api, "$default", "v1")]
    target = stacks(server)[0]["outputs"]["Target"]
    regional = client.get_domain_name(DomainName="api.pr-1.example.com")["DomainNameConfigurations"][0]
    assert target == regional["ApiGatewayDomainName"]
    bad.write_text(TEMPLATE.replace("GET /first", "GET /changed") + SECOND.replace("GET /second", "NOPE /second"))
    refused = deploy(server, "--template", str(bad), "--stack-name", "pr-1")
    assert refused.returncode == 1
    assert "resource Second (AWS::ApiGatewayV2::Route)" in refused.stderr and "Invalid route key" in refused.stderr
    assert sorted(r["RouteKey"] for r in client.get_routes(ApiId=api)["Items"]) == before
    bad.write_text(TEMPLATE.replace('!Sub "integrations/${Integration}"', "!GetAZs ''"))
    refused = deploy(server, "--template", str(bad), "--stack-name", "pr-1")
    assert "Properties.Target.Fn::GetAZs" in refused.stderr, refused.stderr
    gone = deploy(server, "--template", str(good), "--stack-name", "pr-1", "--delete")
    assert gone.returncode == 0, gone.stderr
    assert client.get_apis()["Items"] == [] and stacks(server) == []
    assert client.get_domain_names()["Items"] == []


def test_deploy_signs_for_a_strict_server(tmp_path):
    creds = tmp_path / "credentials.toml"
    creds.write_text('[[credentials]]\naccess_key_id = "AKIADEPLOY"\nsecret_access_key = "deploy-secret"\n'
                     'account_id = "222222222222"\n')
    path = tmp_path / "api.yaml"
    path.write_text(TEMPLATE)
    server = Server("--auth", "strict", "--credentials", str(creds))
    try:
        unsigned = deploy(server, "--template", str(path),
                          env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
        assert unsigned.returncode == 1 and "403" in unsigned.stderr, unsigned.stderr
        signed = deploy(server, "--template", str(path),
                        env={"AWS_ACCESS_KEY_ID": "AKIADEPLOY", "AWS_SECRET_ACCESS_KEY": "deploy-secret"})
        assert signed.returncode == 0, signed.stderr
        import boto3
        client = boto3.client("apigatewayv2", endpoint_url=server.endpoint, region_name="us-east-1",
                              aws_access_key_id="AKIADEPLOY", aws_secret_access_key="deploy-secret")
        assert [a["Name"] for a in client.get_apis()["Items"]] == ["watched"]
    finally:
        server.stop()


WEBSOCKET = """
Resources:
  Chat:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: chat, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action}
  Handler:
    Type: AWS::ApiGatewayV2::Integration
    Properties: {ApiId: !Ref Chat, IntegrationType: AWS_PROXY, IntegrationUri: "arn:aws:lambda:us-east-1:123456789012:function:one"}
  Default:
    Type: AWS::ApiGatewayV2::Route
    Properties: {ApiId: !Ref Chat, RouteKey: $default, Target: !Sub "integrations/${Handler}"}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Chat, StageName: dev, AutoDeploy: true}
"""


def test_an_open_websocket_connection_outlives_a_redeploy(tmp_path, lambdas):
    path, server = watched(tmp_path / "chat.yaml", WEBSOCKET, lambdas)
    try:
        api = api_ids(server)["Chat"]

        async def run():
            url = f"ws://{server.endpoint.split('//')[1]}/_aws/execute-api/{api}/dev"
            async with websockets.connect(url) as ws:
                await ws.send(json.dumps({"action": "first"}))
                deadline = time.monotonic() + 10
                while ("one", "$default") not in InvokeApi.calls:
                    assert time.monotonic() < deadline, "the first message never reached its integration"
                    await asyncio.sleep(0.05)
                path.write_text(WEBSOCKET.replace("function:one", "function:two"))
                deadline = time.monotonic() + 10
                while ("two", "$default") not in InvokeApi.calls:
                    assert time.monotonic() < deadline, "the redeployed integration never got a message"
                    await ws.send(json.dumps({"action": "again"}))
                    await asyncio.sleep(0.2)
        asyncio.run(run())
        assert api_ids(server)["Chat"] == api
    finally:
        server.stop()
