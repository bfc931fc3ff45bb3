"""WebSocket APIs as Python users drive them: the API built with boto3, a Lambda Invoke-API
stub started here, Python's `websockets` client connecting on the invoke URL, and boto3's
`apigatewaymanagementapi` client — unchanged, pointed at the stage URL or at the server
itself — posting to, reading and closing the connection."""

import http.server
import json

import boto3
import botocore.exceptions
import pytest
from websockets.sync.client import connect

from conftest import Server, make_client, serving


class Stub(http.server.BaseHTTPRequestHandler):
    """The Invoke API: `$connect` 200, messages answered with their body prefixed `echo:`."""
    events = []

    def do_POST(self):
        event = json.loads(self.rfile.read(int(self.headers["content-length"])))
        type(self).events.append(event)
        body = json.dumps(self.answer(event)).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def answer(self, event):
        """The function's answer to `event`."""
        answer = {"statusCode": 200}
        if event["requestContext"]["routeKey"] not in ("$connect", "$disconnect"):
            answer["body"] = "echo:" + event.get("body", "")
        return answer

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    Stub.events = []
    with serving(Stub) as url:
        yield url


def chat_api(client):
    """A WebSocket API: $connect, $disconnect, a two-way `echo` route, deployed to `prod`."""
    api = client.create_api(Name="chat", ProtocolType="WEBSOCKET",
                            RouteSelectionExpression="$request.body.action")["ApiId"]
    integration = client.create_integration(
        ApiId=api, IntegrationType="AWS_PROXY",
        IntegrationUri="arn:aws:lambda:us-east-1:123456789012:function:chat")["IntegrationId"]
    for key in ("$connect", "$disconnect", "echo"):
        route = client.create_route(ApiId=api, RouteKey=key, Target=f"integrations/{integration}",
                                    **({"RouteResponseSelectionExpression": "$default"}
                                       if key == "echo" else {}))
        if key == "echo":
            client.create_route_response(ApiId=api, RouteId=route["RouteId"],
                                         RouteResponseKey="$default")
    client.create_stage(ApiId=api, StageName="prod", AutoDeploy=True)
    return api


def management(endpoint):
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")


def test_a_chat_connection_through_python_clients(stub):
    server = Server("--lambda-endpoint", stub)
    try:
        api = chat_api(make_client(server.endpoint))
        stage_url = f"{server.endpoint}/_aws/execute-api/{api}/prod"
        with connect("ws" + stage_url[4:]) as ws:
            ws.send(json.dumps({"action": "echo", "text": "hi"}))
            assert ws.recv(timeout=5) == 'echo:{"action": "echo", "text": "hi"}'
            connection = next(e for e in Stub.events
                              if e["requestContext"]["routeKey"] == "$connect")
            cid = connection["requestContext"]["connectionId"]
            # Unchanged SDK code: the stage URL, or the server itself (every API at once).
            for endpoint in (stage_url, server.endpoint):
                m = management(endpoint)
                m.post_to_connection(ConnectionId=cid, Data=b"from the backend")
                assert ws.recv(timeout=5) == "from the backend"
                got = m.get_connection(ConnectionId=cid)
                assert got["Identity"]["SourceIp"] == "127.0.0.1"
                assert got["ConnectedAt"] <= got["LastActiveAt"]
            management(stage_url).delete_connection(ConnectionId=cid)
            with pytest.raises(Exception):
                ws.recv(timeout=5)
            assert ws.close_code == 1000
        with pytest.raises(botocore.exceptions.ClientError) as gone:
            management(stage_url).post_to_connection(ConnectionId=cid, Data=b"late")
        assert gone.value.response["Error"]["Code"] == "GoneException"
        assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
        with pytest.raises(botocore.exceptions.ClientError) as big:
            management(stage_url).post_to_connection(ConnectionId=cid, Data=b"x" * 131073)
        assert big.value.response["Error"]["Code"] == "PayloadTooLargeException"
    finally:
        server.stop()
