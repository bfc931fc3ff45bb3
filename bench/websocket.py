"""Issue 29's WebSocket figures: gatehouse's WebSocket data plane against the floor (a bare
hyper + tokio-tungstenite server, `wsfloor`), measured by the same load generator in the
same run:

- memory: 10,000 idle connections held (no `$connect` route), server RSS per connection;
- connects per second (connect, 101, close; 16 loops);
- round trips over a two-way route to the Invoke-API stub, 64 connections, against the floor
  making the same stub call per message;
- `PostToConnection` fan-out to 1,000 connections from 64 HTTP connections.

The rates are measured in alternation, DATAPLANE_REPEATS rounds, medians."""
import json
import subprocess
import time

import boto3

from dataplane import DATAPLANE_REPEATS, FUNCTION, UNLIMITED, lambda_stub
from servers import (KEY, LOADGEN, SECRET, Gatehouse, WsFloor, measure, median_of,
                     on_cpus, rss_kib)

# New connections unthrottled too (AWS's 500 per second, raised as a quota increase would).
WS_UNLIMITED = [*UNLIMITED, "--websocket-connect-rate-limit", "1e9"]
HELD = 10_000
FAN_OUT = 1_000
# The access-log format gatehouse writes for the fan-out: the load generator reads the
# connection ids from it, as it reads the floor's `--ids-file`.
IDS_FORMAT = "$context.eventType $context.connectionId $context.requestId"


def websocket_api(endpoint, access_log=False):
    """A WebSocket API on the gatehouse at `endpoint`: a two-way `echo` route and `$default`,
    both to the stub's function, no `$connect`; deployed to `bench`. Its path-form URL path."""
    c = boto3.client("apigatewayv2", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    api = c.create_api(Name="ws", ProtocolType="WEBSOCKET",
                       RouteSelectionExpression="$request.body.action")["ApiId"]
    target = "integrations/" + c.create_integration(
        ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=FUNCTION)["IntegrationId"]
    route = c.create_route(ApiId=api, RouteKey="echo", Target=target,
                           RouteResponseSelectionExpression="$default")["RouteId"]
    c.create_route_response(ApiId=api, RouteId=route, RouteResponseKey="$default")
    c.create_route(ApiId=api, RouteKey="$default", Target=target)
    log = {"AccessLogSettings": {
        "DestinationArn": "arn:aws:logs:us-east-1:111111111111:log-group:ws",
        "Format": IDS_FORMAT}} if access_log else {}
    c.create_stage(ApiId=api, StageName="bench", AutoDeploy=True, **log)
    return f"/_aws/execute-api/{api}/bench"


def held_memory(server, path, n=HELD):
    """Server RSS per connection while `n` idle connections are held: RSS before (after 100
    connections have come and gone, so first-use allocations are counted out) and with all
    of them open."""
    warm = subprocess.run([str(LOADGEN), "--target", server.endpoint, "ws", "--op", "hold",
                           "--path", path, "--connections", "100"], input="",
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=on_cpus("client"))
    warm.check_returncode()
    time.sleep(0.5)
    before = rss_kib(server.proc.pid, "VmRSS")
    hold = subprocess.Popen([str(LOADGEN), "--target", server.endpoint, "ws", "--op", "hold",
                             "--path", path, "--connections", str(n)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, preexec_fn=on_cpus("client"))
    try:
        line = json.loads(hold.stdout.readline())
        time.sleep(0.5)
        after = rss_kib(server.proc.pid, "VmRSS")
    finally:
        hold.stdin.close()
        hold.wait(timeout=60)
    held = line["held"]
    return {"server": server.name, "op": "ws-hold", "held": held, "errors": line["errors"],
            "first_error": line.get("first_error"), "rss_before_kib": before,
            "rss_after_kib": after, "kib_per_connection": (after - before) / max(held, 1),
            "open_s": line["seconds"]}


def ws_run(server, op, connections, d, path, *extra):
    """One WebSocket load run; any failure stops the benchmark."""
    r = measure(server, op, connections, d, "--path", path, *extra, command="ws")
    if r["errors"] or not r["requests"]:
        raise RuntimeError(f"{server.name} {op}: {r['errors']} failures, the first "
                           f"{r.get('first_error')!r}")
    return r


def websocket(work, d):
    """Issue 29's figures, as rows: `op` ws-hold (memory), ws-connect, ws-round-trip and
    ws-fan-out, `server` gatehouse or ws-floor."""
    stub = lambda_stub(work)
    ids = work / "ws-ids.txt"
    floor_ids = work / "ws-floor-ids.txt"
    g = Gatehouse(work, "websocket.db",
                  extra=["--lambda-endpoint", stub.endpoint, "--access-log", str(ids),
                         *WS_UNLIMITED])
    path = websocket_api(g.endpoint)
    fan_path = websocket_api(g.endpoint, access_log=True)
    floor = WsFloor("--stub", stub.endpoint)
    fan_floor = WsFloor("--ids-file", str(floor_ids))
    rows = [held_memory(g, path), held_memory(floor, "/")]
    # The round trip's answer is the stub's 1 KB body (gatehouse sends the body, the floor
    # the stub's whole answer); anything shorter is an error frame.
    cases = [("ws-connect", "connect", 16, ["--min-answer", "1"], (g, path), (floor, "/")),
             ("ws-round-trip", "round-trip", 64, ["--min-answer", "1024"], (g, path),
              (floor, "/")),
             ("ws-fan-out", "fan-out", FAN_OUT, None, (g, fan_path), (fan_floor, "/"))]
    runs = {}
    for _ in range(DATAPLANE_REPEATS):
        for name, op, c, extra, *servers in cases:
            for server, p in servers:
                if extra is None:
                    extra_args = ["--ids-file", str(ids if server is g else floor_ids)]
                else:
                    extra_args = extra
                runs.setdefault((name, server.name), []).append(
                    ws_run(server, op, c, d, p, *extra_args))
    for (name, server), rs in runs.items():
        r = median_of(rs)
        r["op"], r["server"] = name, server
        rows.append(r)
    for s in (g, floor, fan_floor, stub):
        s.stop()
    return rows
