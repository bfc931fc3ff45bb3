"""A profile-guided build of gatehouse, measured against the plain release build and nginx.

`bench/pgo` drives this file in two steps:

  pgo.py train BINARY          run an instrumented build through a representative workload
                               (management reads and writes, HTTP_PROXY and AWS_PROXY
                               traffic); the binary writes its profile when it exits
  pgo.py compare PLAIN PGO     the HTTP_PROXY comparison of `bench/run` (a GET answered with
                               1 KB by a local backend, 64 connections), the plain build, the
                               profile-guided build and nginx in alternating rounds; writes
                               docs/benchmarks-pgo.md

The servers, placement, load generator and CPU accounting are bench/servers.py's.
"""
import contextlib
import datetime
import io
import json
import pathlib
import statistics
import sys
import tempfile

import boto3

import servers as h

ROUNDS = 8
SECONDS = "5"


def client(server):
    return boto3.client("apigatewayv2", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=h.KEY, aws_secret_access_key=h.SECRET)


def apis(server, backend, stub):
    """An HTTP_PROXY API in front of `backend` and an AWS_PROXY one in front of `stub`'s
    functions (both quick-created), as invoke paths."""
    c = client(server)
    http = c.create_api(Name="http", ProtocolType="HTTP", Target=backend.endpoint)["ApiId"]
    fn = c.create_api(Name="fn", ProtocolType="HTTP",
                      Target="arn:aws:lambda:us-east-1:111111111111:function:bench")["ApiId"]
    return f"/_aws/execute-api/{http}/x", f"/_aws/execute-api/{fn}/x"


def quietly(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def train(binary):
    work = pathlib.Path(tempfile.mkdtemp())
    (work / "1k.bin").write_bytes(b"x" * 1024)
    (work / "lambda.json").write_text(json.dumps({"statusCode": 200, "body": "x" * 1024}))
    backend, stub = h.Floor(work / "1k.bin"), h.Floor(work / "lambda.json")
    g = h.Gatehouse(work, "train.db", binary=pathlib.Path(binary),
                    extra=["--lambda-endpoint", stub.endpoint, "--invoke-rate-limit", "1e9",
                           "--invoke-burst-limit", "1e9"])
    try:
        ids = h.seed(g, 50, 10)
        f = h.ids_file(work, "ids.txt", ids)
        for op, extra in (("mixed", ["--api-ids-file", f]), ("get-apis", ["--page", "100"]),
                          ("update-stage", ["--api-ids-file", f])):
            quietly(h.measure, g, op, 16, "3", "--api-id", ids[0], *extra)
        for path in apis(g, backend, stub):
            quietly(h.measure, g, "raw-get", 64, SECONDS, "--api-id", "-", "--stage", path)
    finally:
        g.stop()  # the profile is written as the process exits
        backend.stop()
        stub.stop()


def compare(plain, pgo, out):
    work = pathlib.Path(tempfile.mkdtemp())
    (work / "1k.bin").write_bytes(b"x" * 1024)
    backend = h.Floor(work / "1k.bin")
    servers = []
    for name, binary in (("gatehouse", plain), ("gatehouse-pgo", pgo)):
        g = h.Gatehouse(work, f"{name}.db", binary=pathlib.Path(binary),
                        extra=["--invoke-rate-limit", "1e9", "--invoke-burst-limit", "1e9"])
        g.name = name
        servers.append((g, apis(g, backend, backend)[0]))
    servers.append((h.Nginx(work, backend.endpoint), "/x"))
    runs = {}
    try:
        for _ in range(ROUNDS):
            for server, path in servers:
                r = quietly(h.measure, server, "raw-get", 64, SECONDS, "--api-id", "-",
                            "--stage", path)
                if r["errors"]:
                    raise RuntimeError(f"{server.name}: {r['errors']} failed answers")
                runs.setdefault(server.name, []).append(r)
    finally:
        for server, _ in servers:
            server.stop()
        backend.stop()
    rows = ["| build | req/s (median) | vs nginx, round by round | median | server CPU µs/req "
            "(user + system) |", "|---|---|---|---|---|"]
    for name, rs in runs.items():
        ratios = [a["rps"] / b["rps"] for a, b in zip(rs, runs["nginx"])]
        med = lambda k: statistics.median(x[k] for x in rs)  # noqa: E731
        span = "—" if name == "nginx" else f"{min(ratios):.2f}–{max(ratios):.2f}×"
        rel = "—" if name == "nginx" else f"{statistics.median(ratios):.3f}×"
        rows.append(f"| {name} | {med('rps'):,.0f} | {span} | {rel} | {med('cpu_us_per_req'):.1f} "
                    f"({med('user_us_per_req'):.2f} + {med('sys_us_per_req'):.2f}) |")
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out.write_text("\n".join([
        "# A profile-guided build, measured",
        "",
        f"Written by `bench/pgo` on {when}: {ROUNDS} alternating rounds of {SECONDS} s, a GET "
        "answered with 1 KB by a local backend at 64 connections (the HTTP_PROXY figure of "
        "docs/benchmarks.md), with the same placement ("
        + (f"servers on CPU {','.join(map(str, h.PLACEMENT['server']))}, load generator on CPU "
           f"{','.join(map(str, h.PLACEMENT['client']))}" if h.PLACEMENT else "none")
        + "). `gatehouse` is `cargo build --release`; "
        "`gatehouse-pgo` is the same code built with `-Cprofile-use` from a profile of "
        "management reads and writes and HTTP_PROXY and AWS_PROXY traffic "
        "(`bench/pgo.py train`). The ratios pair each round's figure with nginx's in the same "
        "round.",
        "",
        *rows,
        "",
    ]))
    print("\n".join(rows))


if __name__ == "__main__":
    if sys.argv[1:2] == ["train"] and len(sys.argv) == 3:
        train(sys.argv[2])
    elif sys.argv[1:2] == ["compare"] and len(sys.argv) == 4:
        compare(sys.argv[2], sys.argv[3], h.ROOT / "docs" / "benchmarks-pgo.md")
    else:
        sys.exit(__doc__)
