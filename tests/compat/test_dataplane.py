"""Invoke URLs through plain HTTP (urllib), with the management side driven by boto3: a
backend the test starts, both URL forms, the gateway's own answers, the access log, and the
invocation metrics parsed as Prometheus text."""

import http.server
import json
import threading
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def fetch(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def test_invoke_urls_through_plain_http(server, client):
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    try:
        api = client.create_api(Name="pets", ProtocolType="HTTP",
                                Target=f"http://127.0.0.1:{backend.server_port}")["ApiId"]
        client.update_stage(ApiId=api, StageName="$default", AccessLogSettings={
            "DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:pets",
            "Format": '{"requestId":"$context.requestId","status":"$context.status"}'})
        status, headers, body = fetch(f"{server.endpoint}/_aws/execute-api/{api}/dogs?x=1")
        assert status == 200 and json.loads(body) == {"path": "/dogs?x=1"}
        assert len(headers["apigw-requestid"]) == 16
        port = server.endpoint.rsplit(":", 1)[1]
        status, _, body = fetch(f"http://127.0.0.1:{port}/cats",
                                headers={"Host": f"{api}.execute-api.localhost:{port}"})
        assert status == 200 and json.loads(body) == {"path": "/cats"}
        status, headers, body = fetch(f"{server.endpoint}/_aws/execute-api/nosuchapi0/x")
        assert (status, body) == (404, '{"message":"Not Found"}')
        assert headers["content-type"] == "application/json"
        _, _, log = fetch(f"{server.endpoint}/_gatehouse/access-log/{api}/%24default")
        lines = [json.loads(line) for line in log.splitlines()]
        assert [line["status"] for line in lines] == ["200", "200"]
        _, _, text = fetch(f"{server.endpoint}/_gatehouse/metrics")
        families = {f.name: f for f in text_string_to_metric_families(text)}
        ok = [s for s in families["gatehouse_invocations"].samples
              if s.labels.get("api") == api and s.labels.get("status") == "2xx"]
        assert sum(s.value for s in ok) == 2
    finally:
        backend.shutdown()
