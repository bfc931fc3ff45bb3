"""A browser's `new WebSocket(url)` against a WebSocket API: Debian's Chromium, headless, loads
a page served here whose script connects to the stage's invoke URL, as a web app would —
with its Origin header, with and without subprotocols — and reports what it saw back to
this test. `.ci/run` installs Chromium (`apt-get install chromium`); elsewhere the test is
skipped, saying so, when it is missing."""

import http.server
import json
import os
import subprocess
import tempfile
import threading

import pytest

import test_websocket
from browser import CHROMIUM, launch, stop
from conftest import Server, make_client

PAGE = """<!doctype html><title>ws</title><script>
const url = %(url)s;
function attempt(target, protocols) {
  return new Promise((done) => {
    const seen = {opened: false, messages: [], protocol: null};
    const ws = protocols ? new WebSocket(target, protocols) : new WebSocket(target);
    ws.onopen = () => {
      seen.opened = true;
      seen.protocol = ws.protocol;
      ws.send(JSON.stringify({action: "echo", text: "from the browser"}));
    };
    ws.onmessage = (e) => { seen.messages.push(e.data); ws.close(1000, "bye"); };
    ws.onclose = (e) => { seen.closeCode = e.code; seen.wasClean = e.wasClean; done(seen); };
  });
}
(async () => {
  const results = {
    plain: await attempt(url),
    agreed: await attempt(url + "?agree=1", ["chat", "other"]),
    refused: await attempt(url, ["chat"]),
  };
  await fetch("/result", {method: "POST", body: JSON.stringify(results)});
})();
</script>"""


class Stub(test_websocket.Stub):
    """The Invoke API of test_websocket.py, whose `$connect` agrees to the first subprotocol
    asked for when the query says `agree=1`."""
    events = []

    def answer(self, event):
        answer = super().answer(event)
        asked = (event.get("headers") or {}).get("Sec-WebSocket-Protocol")
        agree = (event.get("queryStringParameters") or {}).get("agree") == "1"
        if event["requestContext"]["routeKey"] == "$connect" and asked and agree:
            answer["headers"] = {"Sec-WebSocket-Protocol": asked.split(",")[0].strip()}
        return answer


def serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def page_server(ws_url):
    """Serves the page at `/` and waits for its POST to `/result`."""
    done = threading.Event()
    got = {}

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = (PAGE % {"url": json.dumps(ws_url)}).encode()
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            got.update(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()
            done.set()

        def log_message(self, *args):
            pass

    return serve(Page), done, got


def websocket_api(client):
    api = client.create_api(Name="browser", ProtocolType="WEBSOCKET",
                            RouteSelectionExpression="$request.body.action")["ApiId"]
    integration = client.create_integration(
        ApiId=api, IntegrationType="AWS_PROXY",
        IntegrationUri="arn:aws:lambda:us-east-1:123456789012:function:chat")["IntegrationId"]
    for key in ("$connect", "echo"):
        route = client.create_route(ApiId=api, RouteKey=key, Target=f"integrations/{integration}",
                                    **({"RouteResponseSelectionExpression": "$default"}
                                       if key == "echo" else {}))
        if key == "echo":
            client.create_route_response(ApiId=api, RouteId=route["RouteId"],
                                         RouteResponseKey="$default")
    client.create_stage(ApiId=api, StageName="prod", AutoDeploy=True)
    return api


def test_a_browser_connects_with_its_origin_and_subprotocols():
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium): browser test skipped")
    Stub.events = []
    stub = serve(Stub)
    server = Server("--lambda-endpoint", f"http://127.0.0.1:{stub.server_port}")
    try:
        api = websocket_api(make_client(server.endpoint))
        ws_url = "ws" + server.endpoint[4:] + f"/_aws/execute-api/{api}/prod"
        page, done, got = page_server(ws_url)
        origin = f"http://127.0.0.1:{page.server_port}"
        with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
            browser = launch(f"--user-data-dir={profile}", origin + "/",
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                assert done.wait(timeout=60), "the page did not report"
            finally:
                stop(browser)
        page.shutdown()
        # No subprotocol asked: the 101 names none; the message's answer comes back; the
        # close the browser starts is answered (a clean close, its code echoed).
        plain = got["plain"]
        assert plain["opened"] and plain["protocol"] == ""
        assert plain["messages"] == ['echo:{"action":"echo","text":"from the browser"}']
        assert (plain["closeCode"], plain["wasClean"]) == (1000, True)
        # `$connect` agreed to one: the browser sees it.
        assert got["agreed"]["opened"] and got["agreed"]["protocol"] == "chat"
        # Asked for one that `$connect` did not agree to: the browser aborts, as against AWS.
        assert not got["refused"]["opened"] and got["refused"]["closeCode"] == 1006
        # `$connect` saw the page's Origin, and the browser's subprotocol list.
        connects = [e for e in Stub.events if e["requestContext"]["routeKey"] == "$connect"]
        assert len(connects) == 3
        assert all(e["headers"]["Origin"] == origin for e in connects)
        assert connects[1]["headers"]["Sec-WebSocket-Protocol"] == "chat, other"
    finally:
        server.stop()
        stub.shutdown()
