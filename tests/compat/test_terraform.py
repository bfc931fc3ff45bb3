"""Terraform with the AWS provider against gatehouse: init, apply, a plan that shows no
changes, an update, the HTTP API called through the invoke URL the API reports, and destroy,
on a configuration with every aws_apigatewayv2_* resource type (terraform/main.tf).

Terraform and the provider come from the machine: `terraform` on PATH and the provider as a
filesystem mirror (GATEHOUSE_TF_MIRROR, default /opt/tf-plugins). Where either is missing the
test says it was skipped."""

import http.server
import json
import os
import pathlib
import shutil
import subprocess
import threading

import pytest

from conftest import Server, make_client
from test_dataplane import Echo, fetch

HERE = pathlib.Path(__file__).resolve().parent
MIRROR = pathlib.Path(os.environ.get("GATEHOUSE_TF_MIRROR", "/opt/tf-plugins"))


def need_terraform():
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH: the Terraform cycle was skipped")
    if not (MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.skip(f"no AWS provider mirror at {MIRROR}: the Terraform cycle was skipped")


class Terraform:
    """terraform in its own working directory, with a CLI configuration that installs the
    provider from the mirror only."""

    def __init__(self, workdir, variables):
        self.dir = workdir
        shutil.copy(HERE / "terraform" / "main.tf", workdir / "main.tf")
        rc = workdir / "terraform.rc"
        rc.write_text('provider_installation {\n  filesystem_mirror {\n'
                      f'    path = "{MIRROR}"\n  }}\n  direct {{\n    exclude = ["*/*/*"]\n  }}\n}}\n')
        self.env = {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "TF_IN_AUTOMATION": "1",
                    "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1",
                    "TF_DATA_DIR": str(workdir / ".terraform")}
        self.variables = variables

    def run(self, *args, ok=(0,), **variables):
        flags = [f"-var={k}={v}" for k, v in {**self.variables, **variables}.items()]
        takes_vars = args[0] in ("apply", "plan", "destroy")
        cmd = ["terraform", *args, "-no-color", *(flags if takes_vars else [])]
        done = subprocess.run(cmd, cwd=self.dir, env=self.env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode in ok, f"{' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    def outputs(self):
        return {k: v["value"] for k, v in json.loads(self.run("output", "-json").stdout).items()}


def test_terraform_applies_plans_clean_updates_and_destroys(tmp_path):
    need_terraform()
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    # api_endpoint comes from the server (GetApi); Terraform builds invoke_url itself.
    server = Server("--api-endpoint-template", "http://{apiId}.execute-api.localhost:4599")
    try:
        tf = Terraform(tmp_path, {"endpoint": server.endpoint,
                                  "backend": f"http://127.0.0.1:{backend.server_port}"})
        tf.run("init", "-input=false")
        created = tf.run("apply", "-auto-approve")
        assert "18 added, 0 changed, 0 destroyed" in created.stdout, created.stdout
        tf.run("plan", "-detailed-exitcode")  # 0: nothing to change
        out = tf.outputs()
        api = out["http_api_id"]
        assert out["http_api_endpoint"] == f"http://{api}.execute-api.localhost:4599"
        assert out["ws_api_endpoint"].startswith("ws://")
        status, _, body = fetch(f"{server.endpoint}/_aws/execute-api/{api}/open/hello")
        assert (status, json.loads(body)) == (200, {"path": "/hello"})
        # The JWT route refuses a request without a token, as AWS does.
        status, _, body = fetch(f"{server.endpoint}/_aws/execute-api/{api}/guarded")
        assert (status, body) == (401, '{"message":"Unauthorized"}')

        updated = tf.run("apply", "-auto-approve", generation=2)
        # In place: the API, a route and two stages; the pinned deployment is replaced.
        assert "1 added, 4 changed, 1 destroyed" in updated.stdout, updated.stdout
        tf.run("plan", "-detailed-exitcode", generation=2)
        client = make_client(server.endpoint)
        stored = client.get_api(ApiId=api)
        assert stored["Description"] == "generation 2" and stored["Tags"] == {"generation": "2"}
        assert sorted(stored["CorsConfiguration"]["AllowMethods"]) == ["GET", "POST"]
        keys = {r["RouteKey"] for r in client.get_routes(ApiId=api)["Items"]}
        assert keys == {"ANY /open/{proxy+}", "GET /guarded"}

        destroyed = tf.run("destroy", "-auto-approve", generation=2)
        assert "18 destroyed" in destroyed.stdout, destroyed.stdout
        assert client.get_apis()["Items"] == []
        assert client.get_domain_names()["Items"] == []
        assert client.get_vpc_links()["Items"] == []
    finally:
        server.stop()
        backend.shutdown()
