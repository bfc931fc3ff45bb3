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
import pathlib
import statistics
import sys
import tempfile

import servers as h
from dataplane import FUNCTION, UNLIMITED, get_run, http_backend, invoke_path, lambda_stub

ROUNDS = 8
SECONDS = "5"


def quietly(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def train(binary):
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        backend, stub = http_backend(work), lambda_stub(work)
        g = h.Gatehouse(work, "train.db", binary=pathlib.Path(binary),
                        extra=["--lambda-endpoint", stub.endpoint, *UNLIMITED])
        try:
            ids = h.seed(g, 50, 10)
            f = h.ids_file(work, "ids.txt", ids)
            for op, extra in (("mixed", ["--api-ids-file", f]), ("get-apis", ["--page", "100"]),
                              ("update-stage", ["--api-ids-file", f])):
                quietly(h.measure, g, op, 16, "3", "--api-id", ids[0], *extra)
            for target in (backend.endpoint, FUNCTION):
                quietly(get_run, g, invoke_path(g.endpoint, target), SECONDS, "training")
        finally:
            g.stop()  # the profile is written as the process exits
            backend.stop()
            stub.stop()


def compare(plain, pgo, out):
    with tempfile.TemporaryDirectory() as tmp:
        runs = measure_builds(pathlib.Path(tmp), plain, pgo)
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


def measure_builds(work, plain, pgo):
    """ROUNDS alternating runs of each build and nginx in front of one backend, by name."""
    backend = http_backend(work)
    servers = []
    try:
        for name, binary in (("gatehouse", plain), ("gatehouse-pgo", pgo)):
            g = h.Gatehouse(work, f"{name}.db", binary=pathlib.Path(binary), extra=UNLIMITED)
            g.name = name
            servers.append((g, invoke_path(g.endpoint, backend.endpoint)))
        servers.append((h.Nginx(work, backend.endpoint), "/x"))
        runs = {}
        for _ in range(ROUNDS):
            for server, path in servers:
                r = quietly(get_run, server, path, SECONDS, server.name)
                runs.setdefault(server.name, []).append(r)
        return runs
    finally:
        for server, _ in servers:
            server.stop()
        backend.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["train"] and len(sys.argv) == 3:
        train(sys.argv[2])
    elif sys.argv[1:2] == ["compare"] and len(sys.argv) == 4:
        compare(sys.argv[2], sys.argv[3], h.ROOT / "docs" / "benchmarks-pgo.md")
    else:
        sys.exit(__doc__)
