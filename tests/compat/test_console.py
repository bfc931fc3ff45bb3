"""The web console (`/_gatehouse/console/`) in Debian's Chromium, headless, driven over the
DevTools protocol: the page is opened on a stage's view and must show the API's route table,
the stage's invoke URLs, which stage has undeployed changes, the deployments and the stage's
invocations (a served one, and one no route took, with the reason); a request made while it
is open appears by itself; its form sends a request and explains another; a trace opens
with its candidates; two deployments compare; a WebSocket stage lists its connections and
one is disconnected from the page. `.ci/run` installs Chromium;
elsewhere the test is skipped, saying so, when it is missing. GATEHOUSE_CONSOLE_SCREENSHOT=PATH
also saves a screenshot of that view there (docs/console.png is one)."""

import http.server
import json
import os
import threading
import time
import urllib.error
import urllib.request

import boto3
import pytest

from conftest import Server, make_client
from browser import CHROMIUM, Browser
from test_dataplane import Echo
from websockets.sync.client import connect


def need_chromium():
    if not CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium): console test skipped")


def test_the_console_shows_an_api_and_traces_its_invocations_live():
    need_chromium()
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    server = Server()
    browser = Browser()
    try:
        c = make_client(server.endpoint)
        api = c.create_api(Name="pets", ProtocolType="HTTP")["ApiId"]
        integration = c.create_integration(
            ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
            IntegrationUri=f"http://127.0.0.1:{backend.server_port}/{{id}}",
            PayloadFormatVersion="1.0")["IntegrationId"]
        c.create_route(ApiId=api, RouteKey="GET /pets/{id}", Target=f"integrations/{integration}")
        c.create_stage(ApiId=api, StageName="prod", AutoDeploy=True)
        c.create_domain_name(DomainName="pets.example.com", DomainNameConfigurations=[
            {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/console"}])
        c.create_api_mapping(DomainName="pets.example.com", ApiId=api, Stage="prod",
                             ApiMappingKey="v1")
        base = f"{server.endpoint}/_aws/execute-api/{api}/prod"
        assert urllib.request.urlopen(f"{base}/pets/7").status == 200
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/cats")
        # A stage left on the first deployment has undeployed changes once a route is added.
        first = c.get_stage(ApiId=api, StageName="prod")["DeploymentId"]
        c.create_stage(ApiId=api, StageName="dev", DeploymentId=first)
        c.create_route(ApiId=api, RouteKey="POST /pets", Target=f"integrations/{integration}")
        browser.open(f"{server.endpoint}/_gatehouse/console/#region=us-east-1&api={api}&stage=prod")
        # Each table fills as its own reads come in: wait for every one asserted on.
        text = browser.text_when("GET /pets/{id}", "no route matches GET /cats",
                                 "undeployed changes", f"{first}\t",
                                 f"{integration}\tHTTP_PROXY\tGET\t",
                                 f"pets.example.com\t/v1\t{api} prod",
                                 f"/_aws/execute-api/{api}/prod/",
                                 f"/_aws/execute-api/{api}/prod/pets/7")
        assert f"HTTP_PROXY http://127.0.0.1:{backend.server_port}/{{id}}" in text
        assert f"{integration}\tHTTP_PROXY\tGET\thttp://127.0.0.1:{backend.server_port}/{{id}}" in text
        assert text.count("undeployed changes") == 1, text
        # The routes' last minutes, charted: a served request, and one no route took.
        browser.wait_for("document.querySelectorAll('#charts svg rect.bar-2xx').length > 0"
                         " && document.querySelectorAll('#charts svg rect.bar-4xx').length > 0")
        # A request made now appears by itself (server-sent events), once the page watches.
        browser.wait_for("seen.source && seen.source.readyState === 1")
        assert urllib.request.urlopen(f"{base}/pets/9").status == 200
        browser.text_when(f"/_aws/execute-api/{api}/prod/pets/9")
        # "Try it": the form sends a real request, and its trace appears.
        browser.run("document.getElementById('try-path').value = '/dogs';"
                    "document.getElementById('try-send').click()")
        browser.text_when("no route matches GET /dogs")
        # Explain, without invoking.
        browser.run("document.getElementById('try-path').value = '/pets/3';"
                    "document.getElementById('try-explain').click()")
        browser.text_when("Matches GET /pets/{id}")
        # The list filters by status class (and by route).
        browser.run("document.getElementById('filter-status').value = '2xx';"
                    "document.getElementById('filter-status').dispatchEvent(new Event('input'))")
        browser.wait_for("document.getElementById('invocations').innerText.includes('/pets/9')")
        filtered = browser.run("document.getElementById('invocations').innerText")
        assert "no route matches" not in filtered, filtered
        browser.run("document.getElementById('filter-status').value = '';"
                    "document.getElementById('filter-status').dispatchEvent(new Event('input'))")
        # A trace opens with the candidates in AWS's priority order.
        browser.run("document.querySelector('#invocations tbody tr').click()")
        browser.text_when("route (AWS's priority order)", "segment 1 is \"dogs\"")
        # The served request's trace: what went to the backend and what came back.
        browser.run("document.querySelectorAll('#invocations tbody tr')[1].click()")
        browser.text_when("Integration request",
                          f"GET http://127.0.0.1:{backend.server_port}/9 (HTTP_PROXY)",
                          "Integration response", "integrate")
        # The stage dev's deployment compared with the live configuration.
        browser.run(f"document.querySelector('input[name=from][value=\"{first}\"]').checked = true;"
                    "document.getElementById('compare').click()")
        browser.text_when("routes: added POST /pets")
        if os.environ.get("GATEHOUSE_CONSOLE_SCREENSHOT"):
            browser.screenshot(os.environ["GATEHOUSE_CONSOLE_SCREENSHOT"])
    finally:
        browser.close()
        server.stop()
        backend.shutdown()


def test_console_off_removes_it():
    server = Server("--console", "off")
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.endpoint}/_gatehouse/console/")
        assert refused.value.code == 404
    finally:
        server.stop()


def test_the_console_lists_a_websocket_stages_open_connections():
    need_chromium()
    server = Server()
    browser = Browser()
    try:
        c = make_client(server.endpoint)
        api = c.create_api(Name="chat", ProtocolType="WEBSOCKET",
                           RouteSelectionExpression="$request.body.action")["ApiId"]
        integration = c.create_integration(ApiId=api, IntegrationType="MOCK")["IntegrationId"]
        c.create_route(ApiId=api, RouteKey="$default", Target=f"integrations/{integration}")
        c.create_stage(ApiId=api, StageName="prod", AutoDeploy=True)
        ws_url = "ws" + server.endpoint[4:] + f"/_aws/execute-api/{api}/prod"
        with connect(ws_url):
            listed = json.loads(urllib.request.urlopen(
                f"{server.endpoint}/_gatehouse/connections?apiId={api}&stage=prod").read())
            connection = listed["connections"][0]["connectionId"]
            browser.open(f"{server.endpoint}/_gatehouse/console/#region=us-east-1&api={api}&stage=prod")
            port = server.endpoint.rsplit(":", 1)[1]
            browser.text_when(connection, "Disconnect",
                              f"ws://127.0.0.1:{port}/_aws/execute-api/{api}/prod/")
            # Disconnect closes it (through @connections); the list empties.
            browser.run("[...document.querySelectorAll('#connections button')]"
                        ".find((b) => b.textContent === 'Disconnect').click()")
            deadline = time.monotonic() + 10
            # (The invocations list goes on naming it: its DISCONNECT event.)
            while connection in (browser.run("document.getElementById('connections').innerText") or ""):
                assert time.monotonic() < deadline, "the connection stayed listed"
                time.sleep(0.1)
            # Its events are traced: the handshake, then the close.
            browser.text_when(f"DISCONNECT {connection}", "$connect")
    finally:
        browser.close()
        server.stop()


CREDENTIALS = """
[[credentials]]
access_key_id = "AKIACONSOLEA"
secret_access_key = "console-secret-a"
account_id = "111111111111"

[[credentials]]
access_key_id = "AKIACONSOLEB"
secret_access_key = "console-secret-b"
account_id = "222222222222"
"""


def sign_in(browser, key, secret):
    browser.run(f"document.getElementById('key-id').value = {json.dumps(key)};"
                f"document.getElementById('key-secret').value = {json.dumps(secret)};"
                "document.querySelector('#sign-in button[type=submit]').click()")


def test_in_strict_mode_a_session_sees_only_its_accounts_resources(tmp_path):
    need_chromium()
    path = tmp_path / "credentials.toml"
    path.write_text(CREDENTIALS)
    server = Server("--auth", "strict", "--credentials", str(path))
    browser = Browser()
    try:
        def client(key, secret):
            return boto3.client("apigatewayv2", endpoint_url=server.endpoint, region_name="us-east-1",
                                aws_access_key_id=key, aws_secret_access_key=secret)
        a = client("AKIACONSOLEA", "console-secret-a")
        b = client("AKIACONSOLEB", "console-secret-b")
        mine = a.create_api(Name="api-of-a", ProtocolType="HTTP", Target="http://127.0.0.1:9/")["ApiId"]
        b.create_api(Name="api-of-b", ProtocolType="HTTP")
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{server.endpoint}/_aws/execute-api/{mine}/")
        # Nothing shows before signing in.
        view = f"{server.endpoint}/_gatehouse/console/#region=us-east-1&api={mine}&stage=%24default"
        browser.open(view)
        text = browser.text_when("sign in with an access key pair", "Secret access key")
        assert "api-of-a" not in text
        # Account B's session: its own API, none of A's, and A's invocations refused.
        sign_in(browser, "AKIACONSOLEB", "console-secret-b")
        text = browser.text_when("signed in as AKIACONSOLEB", "api-of-b",
                                 "Only the account that owns the API may read its invocations")
        assert "api-of-a" not in text and "/_aws/execute-api/" not in text
        # A wrong secret is refused as AWS refuses it.
        browser.run("document.getElementById('sign-out').click()")
        sign_in(browser, "AKIACONSOLEA", "wrong")
        browser.text_when("The request signature we calculated does not match")
        # Account A's session: its API, its stage's invocation, live (a signed event stream).
        sign_in(browser, "AKIACONSOLEA", "console-secret-a")
        browser.text_when("signed in as AKIACONSOLEA")
        browser.open(view)
        text = browser.text_when("signed in as AKIACONSOLEA", "api-of-a", "Connection refused")
        assert "api-of-b" not in text
        browser.wait_for("seen.source && seen.source.readyState === 1")
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{server.endpoint}/_aws/execute-api/{mine}/live")
        browser.text_when("/live")
    finally:
        browser.close()
        server.stop()
