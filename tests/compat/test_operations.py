"""Running gatehouse like infrastructure, through the real clients: the Prometheus metrics
endpoint, moto-style reset for suites written for moto's server mode, export → wipe →
import, `serve --seed`, and settings files."""

import json
import os
import subprocess
import urllib.request

import boto3
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import BIN, Server, make_client


def gatehouse(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=60)


def get(endpoint, path):
    with urllib.request.urlopen(endpoint + path, timeout=10) as resp:
        return resp.status, resp.headers.get("content-type"), resp.read().decode()


def samples(text):
    """{(name, frozenset(labels)): value} of a Prometheus text exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def test_metrics_parse_as_prometheus_text(server, client):
    api = client.create_api(Name="m", ProtocolType="HTTP")["ApiId"]
    client.create_stage(ApiId=api, StageName="dev")
    for _ in range(3):
        client.get_stage(ApiId=api, StageName="dev")
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_stage(ApiId=api, StageName="ghost")
    status, ctype, text = get(server.endpoint, "/_gatehouse/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    m = samples(text)

    def requests(op, outcome):
        return m.get(("gatehouse_requests_total",
                      frozenset({"operation": op, "outcome": outcome}.items())))

    assert requests("GetStage", "Success") == 3
    assert requests("GetStage", "NotFoundException") == 1
    assert requests("CreateStage", "Success") == 1
    assert m[("gatehouse_request_duration_seconds_count",
              frozenset({"operation": "GetStage"}.items()))] == 4
    assert m[("gatehouse_request_duration_seconds_bucket",
              frozenset({"operation": "GetStage", "le": "+Inf"}.items()))] == 4
    assert m[("gatehouse_stored_apis", frozenset())] == 1
    assert m[("gatehouse_stored_stages", frozenset())] == 1
    assert ("gatehouse_throttled_requests_total", frozenset()) in m
    assert ("gatehouse_store_errors_total", frozenset()) in m
    assert ("gatehouse_rejected_requests_total", frozenset({"reason": "auth"}.items())) in m


def test_a_moto_server_mode_suite_runs_unchanged(server, monkeypatch):
    """What a test suite written for moto's server mode does: TEST_SERVER_MODE=true, clients
    on TEST_SERVER_MODE_ENDPOINT, and POST /moto-api/reset between tests."""
    monkeypatch.setenv("TEST_SERVER_MODE", "true")
    monkeypatch.setenv("TEST_SERVER_MODE_ENDPOINT", server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    def moto_style_client():
        assert os.environ["TEST_SERVER_MODE"] == "true"
        return boto3.client("apigatewayv2", region_name="us-east-1",
                            endpoint_url=os.environ["TEST_SERVER_MODE_ENDPOINT"])

    def moto_reset():
        req = urllib.request.Request(os.environ["TEST_SERVER_MODE_ENDPOINT"] + "/moto-api/reset",
                                     method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200

    c = moto_style_client()
    api = c.create_api(Name="first-test", ProtocolType="HTTP")["ApiId"]
    c.create_stage(ApiId=api, StageName="dev")
    assert len(c.get_apis()["Items"]) == 1
    moto_reset()
    c = moto_style_client()
    assert c.get_apis()["Items"] == []
    with pytest.raises(c.exceptions.NotFoundException):
        c.get_stages(ApiId=api)


def build_fixture_state(client):
    """APIs, stages, routes, integrations, a deployment and tags; returns the API ids."""
    api = client.create_api(Name="orders", ProtocolType="HTTP", Tags={"team": "core"})["ApiId"]
    integ = client.create_integration(ApiId=api, IntegrationType="HTTP_PROXY",
                                      IntegrationMethod="GET",
                                      IntegrationUri="https://example.com",
                                      PayloadFormatVersion="1.0")["IntegrationId"]
    client.create_route(ApiId=api, RouteKey="GET /orders", Target=f"integrations/{integ}")
    dep = client.create_deployment(ApiId=api)["DeploymentId"]
    client.create_stage(ApiId=api, StageName="prod", DeploymentId=dep,
                        StageVariables={"v": "1"}, Tags={"env": "prod"})
    client.create_stage(ApiId=api, StageName="dev", AutoDeploy=True)
    ws = client.create_api(Name="chat", ProtocolType="WEBSOCKET",
                           RouteSelectionExpression="$request.body.action")["ApiId"]
    client.create_stage(ApiId=ws, StageName="live", Description="websocket")
    return [api, ws]


def observe(client, api_ids):
    """Everything a client can read about the APIs, without per-request metadata."""
    out = {}
    for api in api_ids:
        out[api] = {
            "api": client.get_api(ApiId=api),
            "stages": client.get_stages(ApiId=api)["Items"],
            "routes": client.get_routes(ApiId=api)["Items"],
            "integrations": client.get_integrations(ApiId=api)["Items"],
            "deployments": client.get_deployments(ApiId=api)["Items"],
        }
        out[api]["api"].pop("ResponseMetadata")
    return out


def test_export_wipe_import_gives_identical_answers(tmp_path):
    store = "sqlite:" + str(tmp_path / "state.db")
    s = Server(store=store)
    try:
        c = make_client(s.endpoint)
        ids = build_fixture_state(c)
        other = make_client(s.endpoint, access_key="210987654321")
        other_api = other.create_api(Name="elsewhere", ProtocolType="HTTP")["ApiId"]
        before = observe(c, ids)
    finally:
        s.stop()

    state = tmp_path / "state.json"
    done = gatehouse("export", "--store", store, "--output", str(state))
    assert done.returncode == 0, done.stderr
    doc = json.loads(state.read_text())
    assert (doc["format"], doc["version"]) == ("gatehouse-state", 1)
    assert len(doc["apis"]) == 3
    one = gatehouse("export", "--store", store, "--account", "123456789012")
    assert [a["api"]["apiId"] for a in json.loads(one.stdout)["apis"]] == ids

    s = Server(store=store)
    try:
        req = urllib.request.Request(s.endpoint + "/_gatehouse/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).close()
        assert make_client(s.endpoint).get_apis()["Items"] == []
    finally:
        s.stop()

    done = gatehouse("import", str(state), "--store", store)
    assert done.returncode == 0, done.stderr
    again = gatehouse("import", str(state), "--store", store)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert gatehouse("import", str(state), "--store", store, "--replace").returncode == 0

    s = Server(store=store)
    try:
        c = make_client(s.endpoint)
        assert observe(c, ids) == before
        assert make_client(s.endpoint, access_key="210987654321").get_api(ApiId=other_api)
    finally:
        s.stop()


def test_serve_seed_starts_with_the_state(tmp_path):
    s = Server(store="sqlite:" + str(tmp_path / "a.db"))
    try:
        c = make_client(s.endpoint)
        ids = build_fixture_state(c)
        before = observe(c, ids)
    finally:
        s.stop()
    state = tmp_path / "fixture.json"
    assert gatehouse("export", "--store", "sqlite:" + str(tmp_path / "a.db"),
                     "-o", str(state)).returncode == 0
    s = Server("--seed", str(state), store="memory")
    try:
        c = make_client(s.endpoint)
        assert observe(c, ids) == before
        # The seeded stage keeps working: auto-deploy still deploys on a change.
        c.create_route(ApiId=ids[0], RouteKey="GET /more")
        assert len(c.get_deployments(ApiId=ids[0])["Items"]) == 3
    finally:
        s.stop()


def test_bad_state_files_are_refused_and_change_nothing(tmp_path):
    store = "sqlite:" + str(tmp_path / "s.db")
    s = Server(store=store)
    try:
        c = make_client(s.endpoint)
        keep = c.create_api(Name="keep", ProtocolType="HTTP")["ApiId"]
    finally:
        s.stop()
    good = gatehouse("export", "--store", store).stdout
    cases = {
        "broken.json": ("{", "not valid JSON"),
        "newer.json": (json.dumps({"format": "gatehouse-state", "version": 9, "apis": []}),
                       "newer than this gatehouse"),
        "wrongtype.json": (good.replace('"protocolType": "HTTP"', '"protocolType": "GRPC"'),
                           "apis[0].api.protocolType"),
        "twice.json": (json.dumps({**json.loads(good),
                                   "apis": json.loads(good)["apis"] * 2}), "appears twice"),
    }
    for name, (text, says) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        done = gatehouse("import", str(path), "--store", store, "--replace")
        assert done.returncode == 1, name
        assert says in done.stderr, (name, done.stderr)
        assert "nothing was imported" in done.stderr, (name, done.stderr)
    s = Server(store=store)
    try:
        assert [a["ApiId"] for a in make_client(s.endpoint).get_apis()["Items"]] == [keep]
    finally:
        s.stop()
    bad_seed = tmp_path / "broken.json"
    proc = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0", "--store", "memory",
                           "--seed", str(bad_seed)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "not valid JSON" in proc.stderr


def test_settings_file_layers_under_env_and_flags(tmp_path):
    creds = tmp_path / "config.toml"
    creds.write_text(
        'auth = "strict"\nmax_stages_per_api = 2\ndefault_region = "eu-west-1"\n'
        '[[credentials]]\naccess_key_id = "AKIAFILE"\nsecret_access_key = "file-secret"\n'
        'account_id = "555555555555"\n')
    assert gatehouse("config", "check", str(creds)).returncode == 0
    s = Server("--config", str(creds), env={"GATEHOUSE_MAX_STAGES_PER_API": "3"})
    try:
        _, _, info = get(s.endpoint, "/_gatehouse/info")
        info = json.loads(info)
        assert (info["auth"], info["defaultRegion"]) == ("strict", "eu-west-1")
        c = boto3.client("apigatewayv2", endpoint_url=s.endpoint, region_name="us-east-1",
                         aws_access_key_id="AKIAFILE", aws_secret_access_key="file-secret")
        api = c.create_api(Name="x", ProtocolType="HTTP")["ApiId"]
        for i in range(3):   # the environment's 3 wins over the file's 2
            c.create_stage(ApiId=api, StageName=f"s{i}")
        with pytest.raises(c.exceptions.ConflictException):
            c.create_stage(ApiId=api, StageName="s3")
    finally:
        s.stop()
    s = Server("--config", str(creds), "--auth", "open")   # a flag wins over the file
    try:
        c = make_client(s.endpoint)
        assert c.create_api(Name="open", ProtocolType="HTTP")["ApiId"]
    finally:
        s.stop()


def test_config_check_names_the_bad_key(tmp_path):
    for text, says in [
        ('lisen = "127.0.0.1:1"\n', "unknown field `lisen`"),
        ('listen = "nowhere"\n', "listen:"),
        ('auth = "sometimes"\n', "auth:"),
        ('auth = "strict"\n', "needs --credentials"),
        ('faults = ["GetStage=Nope"]\n', "faults:"),
        ('max_stages_per_api = "ten"\n', "max_stages_per_api"),
        ('store = "mysql://x"\n', "store:"),
    ]:
        path = tmp_path / "bad.toml"
        path.write_text(text)
        done = gatehouse("config", "check", str(path))
        assert done.returncode == 1, text
        assert says in done.stderr, (text, done.stderr)
        if text.startswith(("listen", "store")):
            continue   # the flags below would override these
        # serve refuses the same file before it listens.
        served = gatehouse("serve", "--config", str(path), "--listen", "127.0.0.1:0",
                           "--store", "memory")
        assert served.returncode == 1 and says in served.stderr, (text, served.stderr)


def test_the_compat_profile_comes_from_flag_environment_or_file(tmp_path):
    conf = tmp_path / "moto.toml"
    conf.write_text('compat = "moto"\n')
    for extra, env in [(("--compat", "moto"), None), ((), {"GATEHOUSE_COMPAT": "moto"}),
                       (("--config", str(conf)), None)]:
        s = Server(*extra, env=env)
        try:
            _, _, info = get(s.endpoint, "/_gatehouse/info")
            assert json.loads(info)["compat"] == "moto"
            c = make_client(s.endpoint)
            # moto accepts a WebSocket API without a route selection expression; AWS does not.
            assert c.create_api(Name="ws", ProtocolType="WEBSOCKET")["ApiId"]
        finally:
            s.stop()
    s = Server()
    try:
        _, _, info = get(s.endpoint, "/_gatehouse/info")
        assert json.loads(info)["compat"] == "aws"
        with pytest.raises(make_client(s.endpoint).exceptions.BadRequestException):
            make_client(s.endpoint).create_api(Name="ws", ProtocolType="WEBSOCKET")
    finally:
        s.stop()
    bad = tmp_path / "bad.toml"
    bad.write_text('compat = "localstack"\n')
    done = gatehouse("config", "check", str(bad))
    assert done.returncode != 0 and "unknown profile" in done.stderr
