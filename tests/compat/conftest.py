"""Fixtures for the compatibility suite: a real gatehouse binary on port 0, boto3 clients and
an AWS CLI runner pointed at it.

The binary comes from GATEHOUSE_BIN (set by .ci/run), else target/debug/gatehouse.
"""

import contextlib
import http.server
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import uuid

import boto3
import botocore.config
import pytest

# The JavaScript suite lives beside this one and runs with node (see js/package.json).
collect_ignore = ["js"]

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("GATEHOUSE_BIN", str(ROOT / "target" / "debug" / "gatehouse"))
VENV_BIN = pathlib.Path(sys.executable).parent


def store_url():
    """The store the suite runs on: GATEHOUSE_COMPAT_STORE=memory (default), sqlite (a fresh
    file) or postgres (a fresh schema in GATEHOUSE_TEST_POSTGRES_URL)."""
    kind = os.environ.get("GATEHOUSE_COMPAT_STORE", "memory")
    if kind == "sqlite":
        return "sqlite:" + os.path.join(tempfile.mkdtemp(prefix="gh-compat-"), "state.db")
    if kind == "postgres":
        base = os.environ["GATEHOUSE_TEST_POSTGRES_URL"]
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}schema=gh_test_{uuid.uuid4().hex[:12]}"
    return "memory"


class Server:
    """A running gatehouse process."""

    def __init__(self, *extra, store=None, env=None):
        self.store = store or store_url()
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:0", "--store", self.store, *extra],
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        prefix = "gatehouse listening on "
        if not line.startswith(prefix):
            self.proc.kill()
            raise RuntimeError(f"gatehouse did not start: {line!r}")
        self.endpoint = line[len(prefix):]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@contextlib.contextmanager
def serving(handler):
    """An HTTP server with `handler` on a free loopback port, in a thread: its URL."""
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{backend.server_port}"
    finally:
        backend.shutdown()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


def make_client(endpoint, access_key="AKIDEXAMPLE", region="us-east-1"):
    return boto3.client(
        "apigatewayv2",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="secret",
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


@pytest.fixture
def client(server):
    return make_client(server.endpoint)


class Cli:
    """Runs `aws apigatewayv2 ...` against the server."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_PAGER": "",
        }

    def run(self, *args):
        """Returns (exit code, parsed JSON stdout or None, stderr)."""
        proc = subprocess.run(
            [str(VENV_BIN / "aws"), "apigatewayv2", *args, "--endpoint-url", self.endpoint,
             "--output", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        out = json.loads(proc.stdout) if proc.stdout.strip() else None
        return proc.returncode, out, proc.stderr

    def ok(self, *args):
        code, out, err = self.run(*args)
        assert code == 0, err
        return out


@pytest.fixture
def cli(server):
    return Cli(server.endpoint)


class Raw:
    """Unsigned raw HTTP requests (default account and region), for byte-level checks."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def request(self, method, path, body=None, headers=None):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers={"content-type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers.items()), e.read()


@pytest.fixture
def raw(server):
    return Raw(server.endpoint)
