"""Issue 15's data-plane figures: gatehouse's HTTP_PROXY and AWS_PROXY routes against nginx
and a bare hyper proxy, in alternating rounds, and instructions per request under callgrind."""
import json
import os
import pathlib
import shutil
import subprocess
import time
import urllib.request

from servers import (GATEHOUSE, KEY, PROXYFLOOR, ROOT, SECRET, Floor,
                     Gatehouse, Nginx, ProxyFloor, free_port, loadgen, measure, median_of,
                     on_cpus)

# The data plane's proxies are compared in more rounds: their figures are close, and this
# machine's speed swings by tens of percent from minute to minute (the rounds alternate, so a
# swing hits every server alike; more of them make the medians steadier).
DATAPLANE_REPEATS = 5
# The account-level invoke quota (AWS's default 10,000/s) raised, as a quota increase
# would, so that the figures measure serving rather than 429s.
UNLIMITED = ["--invoke-rate-limit", "1e9", "--invoke-burst-limit", "1e9"]
# The function AWS_PROXY routes call (the stub answers for any).
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:bench"


def http_backend(work):
    """The HTTP backend: a bare hyper server answering every request with 1 KB."""
    (work / "1k.bin").write_bytes(b"x" * 1024)
    return Floor(work / "1k.bin")


def lambda_stub(work):
    """The Lambda Invoke API stub: every function answers 200 with a 1 KB body."""
    (work / "lambda.json").write_text(json.dumps({"statusCode": 200, "body": "x" * 1024}))
    return Floor(work / "lambda.json")


def invoke_path(endpoint, target):
    """The path-form invoke path (`/_aws/execute-api/{apiId}/x`) of an API quick-created
    with `target` on the gatehouse at `endpoint`."""
    import boto3
    c = boto3.client("apigatewayv2", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    return "/_aws/execute-api/%s/x" % c.create_api(Name="api", ProtocolType="HTTP",
                                                    Target=target)["ApiId"]


def get_run(server, path, duration, label):
    """GETs of `path` at 64 connections for `duration` seconds; any failed answer stops the
    benchmark (`label` names the run)."""
    r = measure(server, "raw-get", 64, duration, "--api-id", "-", "--stage", path)
    if r["errors"]:
        raise RuntimeError(f"{label}: {r['errors']} failed answers, "
                           f"the first {r.get('first_error')!r}")
    return r


def dataplane(work, d):
    """Issue 15's data-plane figures: a GET answered by a local backend with 1 KB, at 64
    connections, through gatehouse's HTTP_PROXY integration, nginx and a bare hyper proxy
    (the floor); and an AWS_PROXY route through a Lambda Invoke API stub against the same
    floor in front of the stub. Measured in alternation, DATAPLANE_REPEATS rounds, medians."""
    backend, stub = http_backend(work), lambda_stub(work)
    g = Gatehouse(work, "dataplane.db", extra=["--lambda-endpoint", stub.endpoint, *UNLIMITED])
    servers = [(g, invoke_path(g.endpoint, backend.endpoint), "http-proxy"),
               (ProxyFloor(backend.endpoint), "/x", "http-proxy"),
               (Nginx(work, backend.endpoint), "/x", "http-proxy"),
               (g, invoke_path(g.endpoint, FUNCTION), "aws-proxy"),
               (ProxyFloor(stub.endpoint), "/x", "aws-proxy")]
    runs = {}
    for _ in range(DATAPLANE_REPEATS):
        for server, path, kind in servers:
            r = get_run(server, path, d, f"{server.name} {kind}")
            runs.setdefault((server.name, kind), []).append(r)
    out = []
    for (name, kind), rs in runs.items():
        r = median_of(rs)
        r["server"], r["op"], r["kind"] = name, f"invoke-{kind}", kind
        out.append(r)
    # Each round's gatehouse/nginx ratio (the two measured back to back): how far the
    # machine's swings move the comparison from round to round.
    g_rounds, n_rounds = runs.get(("gatehouse", "http-proxy")), runs.get(("nginx", "http-proxy"))
    if g_rounds and n_rounds:
        for r in out:
            if (r["server"], r["kind"]) == ("gatehouse", "http-proxy"):
                r["rounds_vs_nginx"] = [a["rps"] / b["rps"] for a, b in zip(g_rounds, n_rounds)]
    for server, _, _ in servers:
        try:
            server.stop()
        except Exception:
            pass
    instr = instructions(work, backend.endpoint, stub.endpoint)
    backend.stop()
    stub.stop()
    return out, instr


def callgrind_per_request(work, name, argv, ready, path_of):
    """User-space instructions per GET of `path_of(endpoint)` on the server `argv` starts
    under callgrind (`ready(proc)` waits for it and gives its endpoint): 2 s of load at 8
    connections to warm up, then 4 s counted; `callgrind_control` zeroes and dumps the
    counters around the counted part."""
    tag = name.replace(" ", "-")
    cg = work / f"callgrind-{tag}.out"
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "RUST_LOG": "warn"}, preexec_fn=on_cpus("server"))
    try:
        endpoint = ready(proc)
        path = path_of(endpoint)
        run = lambda secs: json.loads(loadgen(endpoint, "run", "--op", "raw-get", "--connections",
                                              "8", "--duration", str(secs), "--api-id", "-",
                                              "--stage", path))
        run(2)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        r = run(4)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        if r["errors"] or not r["requests"]:
            raise RuntimeError(f"{name} under callgrind: {r['errors']} failed answers")
        dump = sorted(work.glob(f"callgrind-{tag}.out.*"))[-1]
        total = next(int(line.split()[1]) for line in dump.read_text().splitlines()
                     if line.startswith("summary:") or line.startswith("totals:"))
        return total / r["requests"]
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def ready_line(prefix):
    """A `ready` for `callgrind_per_request`: waits for the line starting with `prefix` and
    takes the endpoint at its end."""
    def ready(proc):
        while True:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"no '{prefix}' line under callgrind")
            if line.startswith(prefix):
                return line.split()[-1]
    return ready


def instructions(work, backend, stub):
    """User-space instructions per GET of gatehouse's HTTP_PROXY route, the floor and nginx
    in front of the backend, and of gatehouse's AWS_PROXY route and the floor in front of the
    Invoke API stub, counted by callgrind (valgrind): unlike throughput, the same whatever this
    machine's speed on the day. Each server runs under callgrind, takes 2 s of load at 8
    connections to warm up, then counts 4 s; `callgrind_control` zeroes and dumps the counters
    around the counted part. Keys: 'KIND SERVER'."""
    if not shutil.which("valgrind"):
        return {}
    out = {}

    def counted(name, argv, ready, path_of):
        out[name] = callgrind_per_request(work, name, argv, ready, path_of)

    gatehouse = [str(GATEHOUSE), "serve", "--listen", "127.0.0.1:0", "--store", "memory",
                 "--lambda-endpoint", stub, *UNLIMITED]
    counted("http-proxy gatehouse", gatehouse, ready_line("gatehouse listening on "),
            lambda endpoint: invoke_path(endpoint, backend))
    counted("http-proxy proxy-floor", [str(PROXYFLOOR), "--backend", backend],
            ready_line("proxyfloor listening on "), lambda _: "/x")
    counted("aws-proxy gatehouse", gatehouse, ready_line("gatehouse listening on "),
            lambda endpoint: invoke_path(endpoint, FUNCTION))
    counted("aws-proxy proxy-floor", [str(PROXYFLOOR), "--backend", stub],
            ready_line("proxyfloor listening on "), lambda _: "/x")
    port = free_port()
    conf = work / "nginx-callgrind.conf"
    conf.write_text((work / "nginx.conf").read_text()
                    .replace("daemon off;", "daemon off; master_process off;")
                    .replace("listen 127.0.0.1:", f"listen 127.0.0.1:{port}; #"))

    def nginx_ready(proc):
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                return f"http://127.0.0.1:{port}"
            except Exception:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("nginx did not start under callgrind")
                time.sleep(0.2)

    counted("http-proxy nginx", ["nginx", "-c", str(conf), "-p", str(work)], nginx_ready,
            lambda _: "/x")
    return out


def baseline_dataplane(work, d, baseline):
    """HTTP_PROXY on this build and on `baseline` (another build of gatehouse, e.g. the
    commit before a refactoring), in front of the same 1 KB backend: see `compared`. Rows
    as `dataplane`'s, `server` naming the build."""
    return compared(work, d, (("baseline", pathlib.Path(baseline), ()),
                              ("this-build", GATEHOUSE, ())))


def inspector_dataplane(work, d):
    """HTTP_PROXY on this build with the invocation inspector recording (the default) and
    with it off (`--inspector-records 0`): see `compared`."""
    return compared(work, d, (("recording-off", GATEHOUSE, ("--inspector-records", "0")),
                              ("recording-on", GATEHOUSE, ())))


def compared(work, d, builds):
    """HTTP_PROXY served by each of `builds` (name, binary, extra flags) in front of the same
    1 KB backend: 64 connections in alternating rounds (DATAPLANE_REPEATS, medians), and
    instructions per request of each under callgrind. Rows as `dataplane`'s, `server` naming
    the build; the instructions by name."""
    backend = http_backend(work)
    servers = []
    for name, binary, extra in builds:
        g = Gatehouse(work, f"{name}-dataplane.db", binary=binary, extra=(*UNLIMITED, *extra))
        g.name = name
        servers.append((g, invoke_path(g.endpoint, backend.endpoint)))
    runs = {}
    for _ in range(DATAPLANE_REPEATS):
        for g, path in servers:
            runs.setdefault(g.name, []).append(get_run(g, path, d, f"{g.name} http-proxy"))
    out = []
    for name, rs in runs.items():
        r = median_of(rs)
        r["server"], r["op"], r["kind"] = name, "invoke-http-proxy", "http-proxy"
        out.append(r)
    for g, _ in servers:
        g.stop()
    instr = {}
    if shutil.which("valgrind"):
        for name, binary, extra in builds:
            argv = [str(binary), "serve", "--listen", "127.0.0.1:0", "--store", "memory",
                    *UNLIMITED, *extra]
            instr[name] = callgrind_per_request(
                work, f"compared-{name}", argv, ready_line("gatehouse listening on "),
                lambda endpoint: invoke_path(endpoint, backend.endpoint))
    backend.stop()
    return out, instr


def dataplane_micro():
    """The data plane's micro-benchmarks (route matching, Lambda event, JWT verification):
    gatehouse-micro's lines for them, as printed."""
    out = []
    for name in ("route", "lambda", "jwt"):
        out.append(subprocess.run([str(ROOT / "target" / "release" / "gatehouse-micro"), name],
                                  check=True, capture_output=True, text=True).stdout.rstrip())
    return "\n".join(out)
