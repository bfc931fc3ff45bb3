"""Runs moto 5.2.1's own apigatewayv2 tests (from its source distribution on PyPI) in server
mode against gatehouse, as issue 14 asks:

1. with `--compat moto`: every test must pass;
2. with the default (AWS) profile: every test that fails must be named in docs/fidelity.md
   (section "moto's suite against the AWS profile"), where the AWS rule behind it is given.

Usage: tests/moto/.venv/bin/python tests/moto/run.py  (tests/moto/run installs the venv).
Environment: GATEHOUSE_BIN (default target/debug/gatehouse), GATEHOUSE_COMPAT_STORE
(memory, sqlite or postgres, as for tests/compat), GATEHOUSE_TEST_POSTGRES_URL.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "moto"
CACHE = HERE / ".cache"
VERSION = "5.2.1"
BIN = os.environ.get("GATEHOUSE_BIN", str(ROOT / "target" / "debug" / "gatehouse"))
FIDELITY = ROOT / "docs" / "fidelity.md"
SECTION = "## moto's suite against the AWS profile"


def suite() -> pathlib.Path:
    """moto's tests/test_apigatewayv2 (and the package files they import), extracted once."""
    dest = CACHE / f"moto-{VERSION}"
    if (dest / "tests" / "test_apigatewayv2").is_dir():
        return dest
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-binary", ":all:", f"moto=={VERSION}", "-d", str(CACHE)],
        check=True,
    )
    sdist = CACHE / f"moto-{VERSION}.tar.gz"
    wanted = ("tests/__init__.py", "tests/conftest.py", "tests/markers.py",
              "tests/test_apigatewayv2/")
    tmp = pathlib.Path(tempfile.mkdtemp(dir=CACHE))
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers()
                   if m.name.split("/", 1)[-1].startswith(wanted)]
        tar.extractall(tmp, members=members, filter="data")
    shutil.move(str(tmp / f"moto-{VERSION}"), dest)
    shutil.rmtree(tmp, ignore_errors=True)
    # test_server.py drives moto's own Flask server, not an endpoint.
    (dest / "tests" / "test_apigatewayv2" / "test_server.py").unlink(missing_ok=True)
    return dest


def store_url() -> str:
    kind = os.environ.get("GATEHOUSE_COMPAT_STORE", "memory")
    if kind == "sqlite":
        return "sqlite:" + os.path.join(tempfile.mkdtemp(prefix="gh-moto-"), "state.db")
    if kind == "postgres":
        base = os.environ["GATEHOUSE_TEST_POSTGRES_URL"]
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}schema=gh_test_{uuid.uuid4().hex[:12]}"
    return "memory"


def run_suite(profile: str, tests: pathlib.Path) -> tuple[int, list[str]]:
    """Runs the suite against a fresh gatehouse with `profile`; returns (pytest's exit code,
    the failing test ids)."""
    proc = subprocess.Popen(
        [BIN, "serve", "--listen", "127.0.0.1:0", "--store", store_url(), "--compat", profile],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        prefix = "gatehouse listening on "
        if not line.startswith(prefix):
            raise RuntimeError(f"gatehouse did not start: {line!r}")
        env = {
            **os.environ,
            "TEST_SERVER_MODE": "true",
            "TEST_SERVER_MODE_ENDPOINT": line[len(prefix):],
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
             "--color=no", "--tb=line", "tests/test_apigatewayv2"],
            cwd=tests, env=env, capture_output=True, text=True,
        )
        failed = re.findall(r"^FAILED (\S+)", result.stdout, re.M)
        summary = result.stdout.strip().splitlines()[-1:] or ["(no output)"]
        print(f"  --compat {profile}: {summary[0]}")
        if result.returncode not in (0, 1):
            print(result.stdout[-4000:], result.stderr[-4000:])
        return result.returncode, failed
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def listed_in_fidelity() -> set[str]:
    text = FIDELITY.read_text()
    if SECTION not in text:
        return set()
    body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(test_[A-Za-z0-9_]+)`", body))


def main() -> int:
    tests = suite()
    code, failed = run_suite("moto", tests)
    ok = True
    if code != 0 or failed:
        print("moto's suite must pass against --compat moto; failing:", *failed, sep="\n  ")
        ok = False
    _, failed = run_suite("aws", tests)
    names = {f.rsplit("::", 1)[-1] for f in failed}
    unlisted = sorted(names - listed_in_fidelity())
    if unlisted:
        print(f"tests failing against the AWS profile but not listed under {SECTION!r} in "
              "docs/fidelity.md:", *unlisted, sep="\n  ")
        ok = False
    stale = sorted(listed_in_fidelity() - names)
    if stale:
        print("listed in docs/fidelity.md as failing against the AWS profile, but passing "
              "(update the list):", *stale, sep="\n  ")
        ok = False
    print(f"  AWS profile: {len(names)} of moto's tests fail, each listed with its AWS rule")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
