"""The processes a benchmark runs and how it measures them: where they run (placement),
gatehouse, the floors, nginx and moto's server started on free ports and waited for, the
load generator, and each run's throughput, latency and server CPU per request."""
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
GATEHOUSE = ROOT / "target" / "release" / "gatehouse"
LOADGEN = ROOT / "target" / "release" / "loadgen"
FLOOR = ROOT / "target" / "release" / "floor"
PROXYFLOOR = ROOT / "target" / "release" / "proxyfloor"
WSFLOOR = ROOT / "target" / "release" / "wsfloor"
VENV_BIN = pathlib.Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")

KEY, SECRET, ACCOUNT = "AKIABENCH0000000001", "bench-secret", "111111111111"
# Where processes run: the servers on the first half of the CPUs, the load generator on the
# other half, so the generator's work neither takes the server's CPU nor delays its answers
# behind the scheduler (as a client on another machine would). `--shared-cpus` turns this
# off; harness.py also measures GetStage once that way, for comparison.
CPUS = sorted(os.sched_getaffinity(0))
PLACEMENT = ({"server": CPUS[: len(CPUS) // 2], "client": CPUS[len(CPUS) // 2:]}
             if len(CPUS) >= 2 else {})


def on_cpus(role):
    """A `preexec_fn` that pins the child to its role's CPUs (None when nothing is pinned)."""
    cpus = PLACEMENT.get(role)
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_split(pid):
    """User and system CPU seconds of a process and its children (nginx works in a worker
    process)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    user, system = int(fields[11]) / TICK, int(fields[12]) / TICK
    children = []
    for task in pathlib.Path(f"/proc/{pid}/task").glob("*/children"):
        children += task.read_text().split()
    for c in children:
        if pathlib.Path(f"/proc/{c}").exists():
            u, k = cpu_split(int(c))
            user, system = user + u, system + k
    return user, system


def rss_kib(pid, field):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class Server:
    """A server process the harness started; `name` and `endpoint` are set by subclasses."""

    def read_ready_line(self, prefix):
        """Waits for the process's ready line (`PREFIX http://ADDR`) and takes its address."""
        line = self.proc.stdout.readline().strip()
        assert line.startswith(prefix), line
        self.endpoint = line.split()[-1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Gatehouse(Server):
    def __init__(self, workdir, db="state.db", store=None, binary=GATEHOUSE, extra=()):
        creds = workdir / "credentials.toml"
        creds.write_text(f'[[credentials]]\naccess_key_id = "{KEY}"\n'
                         f'secret_access_key = "{SECRET}"\naccount_id = "{ACCOUNT}"\n')
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--listen", "127.0.0.1:0", "--store",
             store or f"sqlite:{workdir / db}", "--auth", "strict", "--credentials", str(creds), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "RUST_LOG": "warn"}, preexec_fn=on_cpus("server"))
        self.read_ready_line("gatehouse listening on ")
        self.ready_ms = (time.perf_counter() - t0) * 1000
        self.name = "gatehouse"


class Moto(Server):
    def __init__(self):
        port = free_port()
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=on_cpus("server"))
        self.endpoint = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while True:  # wait for its first answer
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/data.json", timeout=1).read()
                break
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.01)
        self.ready_ms = (time.perf_counter() - t0) * 1000
        self.name = "moto"


class ProxyFloor(Server):
    """A bare hyper reverse proxy to one backend: the data plane's floor."""

    def __init__(self, backend):
        self.proc = subprocess.Popen([str(PROXYFLOOR), "--backend", backend],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     preexec_fn=on_cpus("server"))
        self.read_ready_line("proxyfloor listening on ")
        self.name = "proxy-floor"


class Nginx(Server):
    """nginx from Debian's packages as a plain reverse proxy to the same backend (one worker,
    keep-alive upstream connections), installed by the harness when missing."""

    def __init__(self, workdir, backend):
        if not shutil.which("nginx"):
            subprocess.run(["apt-get", "install", "-y", "-q", "nginx-light"], check=True,
                           capture_output=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        port = free_port()
        conf = workdir / "nginx.conf"
        conf.write_text(f"""daemon off; worker_processes 1; pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  upstream backend {{ server {backend.split('//')[1]}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://backend; proxy_http_version 1.1;
                 proxy_set_header Connection ""; proxy_buffering on; }}
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=on_cpus("server"))
        self.endpoint = f"http://127.0.0.1:{port}"
        deadline = time.time() + 20
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=1).read()
                break
            except Exception:
                if time.time() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("nginx did not start")
                time.sleep(0.05)
        self.name = "nginx"


class Floor(Server):
    """A bare hyper server sending gatehouse's GetStage bytes and doing nothing else: what
    this machine gives any hyper server, measured by the same generator in the same run."""

    def __init__(self, body_file):
        self.proc = subprocess.Popen([str(FLOOR), "--body-file", str(body_file)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     preexec_fn=on_cpus("server"))
        self.read_ready_line("floor listening on ")
        self.name = "floor"


class WsFloor(Server):
    """A bare hyper + tokio-tungstenite WebSocket server: the WebSocket data plane's floor
    (`--stub URL`: each message POSTed to the stub and its answer sent back; `--ids-file`:
    `CONNECT {id}` lines for the fan-out)."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([str(WSFLOOR), *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True,
                                     preexec_fn=on_cpus("server"))
        self.read_ready_line("wsfloor listening on ")
        self.name = "ws-floor"


def loadgen(endpoint, *args, timeout=900):
    out = subprocess.run([str(LOADGEN), "--target", endpoint, "--access-key", KEY,
                          "--secret", SECRET, *args], check=True, capture_output=True,
                         text=True, timeout=timeout, preexec_fn=on_cpus("client"))
    return out.stdout


def seed(server, apis, stages, connections=16):
    ids = loadgen(server.endpoint, "seed", "--apis", str(apis), "--stages", str(stages),
                  "--connections", str(connections)).split()
    assert len(ids) == apis, (len(ids), apis)
    return ids


def measure(server, op, connections, duration, *extra, command="run"):
    """One load run of `op` (`command` `ws` for the WebSocket ops) with the server's CPU per
    request and peak memory; printed and returned."""
    pid = server.proc.pid
    u0, k0 = cpu_split(pid)
    r = json.loads(loadgen(server.endpoint, command, "--op", op, "--connections",
                           str(connections), "--duration", str(duration), *extra))
    u1, k1 = cpu_split(pid)
    n = max(r["requests"], 1)
    r["cpu_us_per_req"] = (u1 - u0 + k1 - k0) / n * 1e6
    r["user_us_per_req"] = (u1 - u0) / n * 1e6
    r["sys_us_per_req"] = (k1 - k0) / n * 1e6
    r["peak_rss_mib"] = rss_kib(pid, "VmHWM") / 1024
    r["server"] = server.name
    print(json.dumps(r), flush=True)
    return r


def median_of(runs):
    """One result from repeated runs: the median of each figure (this VM's speed drifts
    from minute to minute, so a single run can land in a slow patch)."""
    r = dict(runs[0])
    for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "user_us_per_req", "sys_us_per_req"):
        if all(k in x for x in runs):
            r[k] = statistics.median(x[k] for x in runs)
    r["requests"] = sum(x["requests"] for x in runs)
    r["errors"] = sum(x["errors"] for x in runs)
    r["peak_rss_mib"] = max(x["peak_rss_mib"] for x in runs)
    r["runs"] = len(runs)
    return r


def ids_file(workdir, name, ids):
    p = workdir / name
    p.write_text("\n".join(ids) + "\n")
    return str(p)
