"""gatehouse vs moto: one run, one machine, the same load generator and the same state.

Run through bench/run (which builds and installs what this needs). Writes
docs/benchmarks.md (tables, commands, machine) and docs/benchmarks.png (throughput against
connections). Every server binds 127.0.0.1 on a free port; every load run is bounded.
The servers and the load generator are driven by servers.py, the data plane is measured by
dataplane.py and the WebSocket data plane by websocket.py, and report.py renders the report.
"""

import argparse
import datetime
import json
import os
import pathlib
import subprocess
import statistics
import tempfile
import time

from dataplane import baseline_dataplane, dataplane, dataplane_micro, inspector_dataplane
from report_websocket import websocket_table
from websocket import websocket
from report import (baseline_dataplane_text, inspector_text, baseline_table, dataplane_table, machine_text,
                    write_report)
from servers import (GATEHOUSE, PLACEMENT, ROOT, Floor, Gatehouse, Moto, ids_file, loadgen, measure,
                     median_of, rss_kib, seed)

# Runs per figure where the targets are judged (GetStage, cost growth, ready times); the
# median is reported.
REPEATS = 3


def peer_matrix(server, workdir, duration):
    """The operations measured on both servers, from identical state."""
    results = []
    hot = seed(server, 1, 10)[0]
    floor = None
    if server.name == "gatehouse":
        # The floor answers with this server's own GetStage bytes.
        body = workdir / "getstage.json"
        body.write_text(loadgen(server.endpoint, "get", "--path", f"/v2/apis/{hot}/stages/stage0"))
        floor = Floor(body)
    for op in ("get-stages", "get-stage"):
        for c in (1, 16, 64):
            if op == "get-stages":
                results.append(measure(server, op, c, duration, "--api-id", hot, "--page", "10"))
                continue
            # GetStage carries the headline targets: the median of three runs, each next to
            # a run of the floor, so both see the machine at the same speed.
            runs, floor_runs = [], []
            for _ in range(REPEATS):
                runs.append(measure(server, op, c, duration, "--api-id", hot))
                if floor:
                    floor_runs.append(measure(floor, op, c, duration, "--api-id", hot))
            results.append(median_of(runs))
            if floor:
                results.append(median_of(floor_runs))
    if floor:
        floor.stop()
    for c in (1, 16, 64):
        results.append(measure(server, "update-stage", c, duration, "--api-id", hot))
    # CreateStage spreads over empty APIs, 10 stages each (AWS's quota); enough for the
    # server's pace during one measurement.
    empty_apis = 6000 if server.name == "gatehouse" else 300
    empties = ids_file(workdir, f"{server.name}-empty.txt", seed(server, empty_apis, 0, 16))
    results.append(measure(server, "create-stage", 32, duration, "--api-id", hot,
                           "--api-ids-file", empties))
    results.append(measure(server, "update-stage", 32, duration, "--api-id", hot))
    results.append(measure(server, "mixed", 16, duration, "--api-id", hot))
    return results


def shared_cpus_getstage(work, duration):
    """GetStage with no placement (server and generator share every CPU), for comparison
    with the placed figures."""
    saved = dict(PLACEMENT)
    PLACEMENT.clear()
    try:
        g = Gatehouse(work, "shared.db")
        g.name = "gatehouse-shared-cpus"
        hot = seed(g, 1, 10)[0]
        out = [median_of([measure(g, "get-stage", c, duration, "--api-id", hot)
                          for _ in range(REPEATS)]) for c in (16, 64)]
        g.stop()
    finally:
        PLACEMENT.update(saved)
    return out


def baseline_getstage(work, duration, baseline):
    """GetStage on this build and on `baseline` (another build of gatehouse, e.g. the commit
    before a refactoring), each on its own store seeded the same way, measured in alternation
    (REPEATS rounds) so drift in the machine's speed hits both alike."""
    servers = {}
    for name, binary in (("baseline", pathlib.Path(baseline)), ("this-build", GATEHOUSE)):
        g = Gatehouse(work, f"{name}.db", binary=binary)
        g.name = name
        servers[name] = (g, seed(g, 1, 10)[0])
    runs = {}
    for _ in range(REPEATS):
        for c in (16, 64):
            for name, (g, hot) in servers.items():
                runs.setdefault((name, c), []).append(
                    measure(g, "get-stage", c, duration, "--api-id", hot))
    for g, _ in servers.values():
        g.stop()
    return [median_of(runs[(name, c)]) for c in (16, 64) for name in servers]


def keep_baseline(out, rows, notes):
    """Puts a `--baseline-only` run's rows in docs/benchmarks.json in place of the last
    baseline comparison's, and renders docs/benchmarks.md again (the other figures are kept
    as they were measured)."""
    path = out / "benchmarks.json"
    if not path.exists():
        return
    data = json.loads(path.read_text())
    keep(out, results=[r for r in data["results"]
                       if r["server"] not in ("baseline", "this-build")] + rows,
         notes={**data["notes"], **notes})


def render(data, out):
    """docs/benchmarks.md (and its plots) from docs/benchmarks.json's data."""
    write_report(data["results"], data["notes"], out, data.get("micro", ""),
                 data.get("run_utc", "(time not recorded)"), data.get("duration_s", 3.0),
                 data.get("dataplane"), data.get("dataplane_utc"),
                 data.get("dataplane_micro", ""), data.get("dataplane_instructions"),
                 data.get("websocket"), data.get("websocket_utc"))


def keep(out, **figures):
    """Stores `figures` in docs/benchmarks.json (the others as they were) and renders the
    report again; without an earlier full run there is nothing to keep them in."""
    path = out / "benchmarks.json"
    if not path.exists():
        print("no docs/benchmarks.json yet: run bench/run once in full to keep these figures")
        return
    data = json.loads(path.read_text())
    data.update(figures)
    path.write_text(json.dumps(data, indent=1))
    render(data, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    ap.add_argument("--big-apis", type=int, default=100_000, help="APIs in the large store")
    ap.add_argument("--report-only", action="store_true",
                    help="re-render docs/benchmarks.md from docs/benchmarks.json")
    ap.add_argument("--postgres", default=os.environ.get(
        "GATEHOUSE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL URL for the PostgreSQL-store figures ('' to skip)")
    ap.add_argument("--shared-cpus", action="store_true",
                    help="run servers and load generator on all CPUs (no placement)")
    ap.add_argument("--baseline", metavar="BIN",
                    help="also measure GetStage and the data plane's HTTP_PROXY on this other "
                         "gatehouse binary, in alternation with this build (e.g. the release "
                         "build of the commit before a change)")
    ap.add_argument("--baseline-label", metavar="TEXT",
                    help="how the report names the baseline build (default: its path)")
    ap.add_argument("--dataplane-only", action="store_true",
                    help="measure only the data plane, print its table and keep it in "
                         "docs/benchmarks.json and docs/benchmarks.md")
    ap.add_argument("--websocket-only", action="store_true",
                    help="measure only the WebSocket data plane, print its table and keep it in "
                         "docs/benchmarks.json and docs/benchmarks.md")
    ap.add_argument("--inspector-only", action="store_true",
                    help="measure only the invocation inspector's cost: HTTP_PROXY with "
                         "recording on and off, in alternation, and print it")
    ap.add_argument("--baseline-only", action="store_true",
                    help="with --baseline: measure only that comparison, print it and keep it in "
                         "docs/benchmarks.json and docs/benchmarks.md (the other figures as they were)")
    args = ap.parse_args()
    if args.shared_cpus:
        PLACEMENT.clear()
    out = ROOT / "docs"
    if args.report_only:
        render(json.loads((out / "benchmarks.json").read_text()), out)
        return
    d = args.duration
    results, notes = [], {"placement": dict(PLACEMENT), "machine": machine_text()}
    started = f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}"
    if args.dataplane_only:
        with tempfile.TemporaryDirectory() as tmp:
            rows, instr = dataplane(pathlib.Path(tmp), d)
        dp_micro = dataplane_micro()
        print("\n".join(dataplane_table(rows, dp_micro, instr)))
        keep(out, dataplane=rows, dataplane_utc=started, dataplane_micro=dp_micro,
             dataplane_instructions=instr)
        return
    if args.websocket_only:
        with tempfile.TemporaryDirectory() as tmp:
            rows = websocket(pathlib.Path(tmp), d)
        print("\n".join(websocket_table(rows, started)))
        keep(out, websocket=rows, websocket_utc=started)
        return
    if args.inspector_only:
        with tempfile.TemporaryDirectory() as tmp:
            rows, instr = inspector_dataplane(pathlib.Path(tmp), d)
        print("\n".join(inspector_text(rows, instr, started)))
        return
    if args.baseline_only:
        if not args.baseline:
            ap.error("--baseline-only needs --baseline BIN")
        with tempfile.TemporaryDirectory() as tmp:
            work = pathlib.Path(tmp)
            results = baseline_getstage(work, d, args.baseline)
            rows, instr = baseline_dataplane(work, d, args.baseline)
        print("\n".join(baseline_table(results)))
        print("\n".join(baseline_dataplane_text(rows, {"baseline_instructions": instr})))
        keep_baseline(out, results + rows, {
            "baseline": args.baseline_label or str(args.baseline),
            "baseline_instructions": instr, "baseline_utc": started})
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        if args.baseline:
            notes["baseline"] = args.baseline_label or str(args.baseline)
            results += baseline_getstage(work, d, args.baseline)
            rows, notes["baseline_instructions"] = baseline_dataplane(work, d, args.baseline)
            results += rows

        # 1. Peer comparison from identical state, through the same client.
        readies = []
        for i in range(REPEATS):
            g = Gatehouse(work, f"ready{i}.db")
            readies.append(g.ready_ms)
            g.stop()
        g = Gatehouse(work, "peer.db")
        notes["gatehouse_ready_empty_ms"] = statistics.median(readies + [g.ready_ms])
        time.sleep(0.2)
        notes["gatehouse_idle_rss_mib"] = rss_kib(g.proc.pid, "VmRSS") / 1024
        results += peer_matrix(g, work, d)
        g.stop()
        m = Moto()
        notes["moto_ready_ms"] = m.ready_ms
        results += peer_matrix(m, work, d)
        notes["moto_idle_rss_mib"] = None
        m.stop()
        if PLACEMENT:
            results += shared_cpus_getstage(work, d)

        # 2. Cost growth: 1,000 stages vs 1,000,000 stages (100,000 APIs x 10), gatehouse.
        # Both stores are seeded, restarted (ready time, cold caches), then measured in
        # alternation, REPEATS rounds, so drift in the machine's speed hits both alike.
        stores = {}
        for label, apis in (("small", 100), ("big", args.big_apis)):
            g = Gatehouse(work, f"{label}.db")
            t0 = time.time()
            ids = seed(g, apis, 10, 32)
            notes[f"{label}_seed_s"] = time.time() - t0
            g.stop()
            # The same working set in both stores (100 APIs x 10 stages, spread evenly over
            # the store), so only the store's size differs.
            f = ids_file(work, f"{label}.txt", ids[:: max(1, len(ids) // 100)][:100])
            stores[label] = (ids, f)
        servers = {}
        for label in stores:
            readies = []
            for _ in range(REPEATS):
                g = Gatehouse(work, f"{label}.db")
                readies.append(g.ready_ms)
                g.stop()
            g = Gatehouse(work, f"{label}.db")  # and one more to measure
            notes[f"{label}_ready_ms"] = statistics.median(readies)
            servers[label] = g
        for label, g in servers.items():
            ids, f = stores[label]
            r = measure(g, "get-stage", 16, d, "--api-id", ids[0], "--api-ids-file", f)
            r["store"] = label + "-restarted"
            results.append(r)
        runs = {}
        cases = [("get-stage", 16), ("get-stage", 64), ("get-apis", 16)]
        for _ in range(REPEATS):
            for op, c in cases:
                for label, g in servers.items():
                    ids, f = stores[label]
                    extra = ["--api-ids-file", f] if op == "get-stage" else ["--page", "100"]
                    runs.setdefault((label, op, c), []).append(
                        measure(g, op, c, d, "--api-id", ids[0], *extra))
        for label in servers:
            for op, c in cases:
                r = median_of(runs[(label, op, c)])
                r["store"] = label
                results.append(r)
            notes[f"{label}_peak_rss_mib"] = rss_kib(servers[label].proc.pid, "VmHWM") / 1024
        for g in servers.values():
            g.stop()

        # 3. The PostgreSQL store (issue 6): the same client against a fresh schema.
        if args.postgres:
            schema = f"gh_bench_{os.getpid()}"
            sep = "&" if "?" in args.postgres else "?"
            try:
                g = Gatehouse(work, store=f"{args.postgres}{sep}schema={schema}")
            except AssertionError as e:
                print(f"skipping the PostgreSQL figures: {e}", flush=True)
                g = None
            if g:
                g.name = "gatehouse-postgres"
                hot = seed(g, 1, 10)[0]
                for c in (16, 64):
                    results.append(measure(g, "get-stage", c, d, "--api-id", hot))
                results.append(measure(g, "update-stage", 32, d, "--api-id", hot))
                empties = ids_file(work, "pg-empty.txt", seed(g, 2000, 0, 16))
                results.append(measure(g, "create-stage", 32, d, "--api-id", hot,
                                       "--api-ids-file", empties))
                g.stop()
                subprocess.run(["psql", args.postgres, "-qc", f"DROP SCHEMA {schema} CASCADE"],
                               capture_output=True)

        dataplane_rows, dp_instr = dataplane(work, d)
        websocket_rows = websocket(work, d)

    micro = subprocess.run([str(ROOT / "target" / "release" / "gatehouse-micro")],
                           check=True, capture_output=True, text=True).stdout
    dp_micro = dataplane_micro()
    data = {"results": results, "notes": notes, "micro": micro, "run_utc": started,
            "duration_s": d, "dataplane": dataplane_rows, "dataplane_utc": started,
            "dataplane_micro": dp_micro, "dataplane_instructions": dp_instr,
            "websocket": websocket_rows, "websocket_utc": started}
    (out / "benchmarks.json").write_text(json.dumps(data, indent=1))
    render(data, out)


if __name__ == "__main__":
    main()
