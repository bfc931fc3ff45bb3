"""docs/benchmarks.md and its plots, rendered from a run's figures (bench/harness.py measures;
`bench/harness.py --report-only` renders again from docs/benchmarks.json). Every target is
judged here from the figures, never typed in by hand."""
import os
import pathlib
import platform
import statistics

from report_websocket import websocket_plot, websocket_table

ROOT = pathlib.Path(__file__).resolve().parents[1]


def machine_text():
    """This machine, in the report's words; each run records it in its notes, so that a
    report rendered again later names the machine that was measured."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}"


def placement_text(placement):
    """The report's words for a run's placement (as recorded in its notes)."""
    if not placement:
        return "every process free to run on any CPU"
    return (f"servers on CPU {','.join(map(str, placement['server']))}, load generator on "
            f"CPU {','.join(map(str, placement['client']))} (like a client on another "
            "machine, the generator then neither takes the server's CPU nor holds its answers "
            "behind the scheduler; GetStage with no placement is measured too, below)")


def baseline_table(results, op="get-stage"):
    """The side-by-side rows of `baseline_getstage` (or, with `op` invoke-http-proxy, of
    `baseline_dataplane`), with this build's CPU per request as a share of the baseline's."""
    rows = []
    for c in (16, 64):
        pick = lambda server: next((r for r in results if r["server"] == server
                                    and r["connections"] == c and r["op"] == op), None)
        b, t = pick("baseline"), pick("this-build")
        if b and t:
            rows.append(f"| {c} | {b['rps']:,.0f} | {b['cpu_us_per_req']:.2f} | {t['rps']:,.0f} | "
                        f"{t['cpu_us_per_req']:.2f} | {t['cpu_us_per_req'] / b['cpu_us_per_req']:.3f} |")
    if not rows:
        return []
    return ["| connections | baseline req/s | baseline CPU µs/req | this build req/s | "
            "this build CPU µs/req | CPU ratio |", "|---|---|---|---|---|---|", *rows]


def baseline_dataplane_text(results, notes):
    """The data plane against the baseline build: HTTP_PROXY CPU per request side by side,
    and the instructions per request each build executes."""
    side = baseline_table(results, "invoke-http-proxy")
    if not side:
        return []
    lines = ["", "The data plane on the same two builds: HTTP_PROXY in front of the same 1 KB "
             "backend at 64 connections, in alternating rounds (medians of five), and user-space "
             "instructions per request under callgrind (8 connections), which do not move with "
             "the machine's speed.", "", *side]
    instr = notes.get("baseline_instructions") or {}
    if instr.get("baseline") and instr.get("this-build"):
        b, t = instr["baseline"], instr["this-build"]
        lines += ["", "| build | instructions per request |", "|---|---|",
                  f"| baseline | {b:,.0f} |", f"| this build | {t:,.0f} ({t / b:.3f}×) |"]
    return lines


def inspector_text(rows, instr, started):
    """The invocation inspector's cost: HTTP_PROXY throughput and instructions per request
    with recording on, against recording off, in the same run."""
    by = {r["server"]: r for r in rows}
    off, on = by.get("recording-off"), by.get("recording-on")
    if not (off and on):
        return []
    lines = [f"Invocation inspector's cost ({started} UTC): HTTP_PROXY in front of a 1 KB "
             "backend at 64 connections, recording on and off in alternating rounds (medians "
             "of five); instructions per request under callgrind (8 connections).", "",
             "| recording | req/s | instructions per request |", "|---|---|---|"]
    for name, r in (("off", off), ("on", on)):
        i = instr.get(f"recording-{name}")
        lines.append(f"| {name} | {r['rps']:,.0f} | {f'{i:,.0f}' if i else '-'} |")
    lines.append("")
    lines.append(f"Recording on: {on['rps'] / off['rps']:.1%} of the throughput with it off.")
    return lines


def micro_ns(text, name):
    """Nanoseconds per operation of the micro-benchmark line that starts with `name`."""
    for line in (text or "").splitlines():
        if line.startswith(name):
            return float(line.split()[-2])
    return None


def dataplane_plot(rows, out):
    """docs/benchmarks-dataplane.png: throughput and server CPU per request of each proxy."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f"{r['kind']}\n{r['server']}" for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    colors = ["tab:blue" if r["server"] == "gatehouse" else "tab:gray" if r["server"] == "proxy-floor"
              else "tab:green" for r in rows]
    a.bar(labels, [r["rps"] for r in rows], color=colors)
    a.set_ylabel("requests per second")
    a.set_title("GET, 1 KB answer, 64 connections")
    b.bar(labels, [r["cpu_us_per_req"] for r in rows], color=colors)
    b.set_ylabel("server CPU µs per request")
    b.set_title("CPU per request (lower is better)")
    for ax in (a, b):
        ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    fig.savefig(out / "benchmarks-dataplane.png", dpi=100)


def dataplane_table(rows, micro="", instr=None):
    """The data-plane figures and issue 15's targets, judged from them."""
    if not rows:
        return []
    by = {(r["server"], r["kind"]): r for r in rows}
    lines = ["## Data plane (issue 15), judged from this run", "",
             "GET of a 1 KB answer at 64 connections (median of %d rounds); the floor is a bare "
             "hyper reverse proxy to the same backend." % max(r.get("runs", 1) for r in rows), "",
             "| route | server | req/s | p50 ms | p99 ms | server CPU µs/req (user + system) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        split = (f" ({r['user_us_per_req']:.1f} + {r['sys_us_per_req']:.1f})"
                 if "user_us_per_req" in r else "")
        lines.append(f"| {r['kind']} | {r['server']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {r['cpu_us_per_req']:.1f}{split} |")
    g, n, f = by.get(("gatehouse", "http-proxy")), by.get(("nginx", "http-proxy")), by.get(("proxy-floor", "http-proxy"))
    lam, lf = by.get(("gatehouse", "aws-proxy")), by.get(("proxy-floor", "aws-proxy"))
    if instr:
        lines += ["", "User-space instructions per request, counted by callgrind (valgrind) at 8 "
                      "connections: the same whatever this machine's speed on the day, so they "
                      "show what each server does per request where throughput swings.", "",
                  "| route | server | instructions per request | vs the floor |", "|---|---|---|---|"]
        for key, count in instr.items():
            kind, name = key.split(" ", 1)
            floor_count = instr.get(f"{kind} proxy-floor")
            ratio = f"{count / floor_count:.2f}×" if floor_count else "-"
            lines.append(f"| {kind} | {name} | {count:,.0f} | {ratio} |")
    lines += ["", "Where the time goes (perf, strace -c, perf sched and callgrind, this machine): "
              "every proxy makes the same four socket calls per request (read the request, "
              "write it to the backend, read the answer, write it back) and the kernel's "
              "loopback TCP work is the same for all; with the backend on the same CPU, each "
              "proxy and the backend take turns, so throughput follows each proxy's own CPU "
              "time per request (and a proxy that spends more is also preempted more often, "
              "which costs kernel time too). A bare hyper proxy (the floor: hyper's server and "
              "client connections, tokio's tasks) spends about twice nginx's instructions. "
              "gatehouse reads and writes plain HTTP/1.1 requests itself (gatehouse-http's "
              "`server/conn.rs`; anything else goes to hyper), drives each backend connection "
              "in the request's own task (gatehouse-http's `client/conn.rs`), reads each answer head in one read, passes the "
              "client's headers, method, target and address on without copying them, parses "
              "an integration URI once per deployment rather than per request, runs on one "
              "thread when it has one CPU, and is built with link-time optimisation; what "
              "it does beyond nginx is its own work (request id, stage and route, throttle "
              "tokens, http types for the request and the answer, access-log and metrics "
              "bookkeeping), within a few per cent of nginx's instructions. The user and "
              "system columns show where the two differ: gatehouse spends less time in the "
              "kernel (four socket calls per request to nginx's five) and more in user space, "
              "more than its instruction count explains; callgrind's cache simulation "
              "(`--cache-sim=yes`) counts about 1,400 first-level instruction-cache misses and "
              "460 data-cache misses per request for gatehouse against about 780 and 240 for "
              "nginx: the same work spread over more code (tokio's and http's types, async "
              "state machines) and more memory per connection. A profile-guided build lays the "
              "same code out by use and halves those misses (`bench/pgo`, "
              "[benchmarks-pgo.md](benchmarks-pgo.md)); the targets here are judged on the plain "
              "`cargo build --release`.",
              "", "| target | figure | met |", "|---|---|---|"]
    if g and n:
        rounds = g.get("rounds_vs_nginx") or []
        spread = (f"; round by round {min(rounds):.2f}–{max(rounds):.2f}×, median "
                  f"{statistics.median(rounds):.2f}×" if rounds else "")
        # "At least nginx" is judged as parity: within 10% in the same run (the owner's rule;
        # this machine's rounds scatter more than that).
        lines.append(f"| HTTP_PROXY throughput at nginx's (parity: within 10%) | {g['rps']:,.0f} vs "
                     f"{n['rps']:,.0f} req/s ({g['rps'] / n['rps']:.2f}×{spread}) | "
                     f"{'yes' if g['rps'] >= 0.9 * n['rps'] else '**no**'} |")
    if g and f:
        lines.append(f"| HTTP_PROXY throughput ≥ 70% of the floor's | {g['rps'] / f['rps']:.0%} | "
                     f"{'yes' if g['rps'] >= 0.7 * f['rps'] else '**no**'} |")
        lines.append(f"| HTTP_PROXY p99 ≤ 1.5× the floor's | {g['p99_ms']:.2f} vs {f['p99_ms']:.2f} ms "
                     f"({g['p99_ms'] / f['p99_ms']:.2f}×) | {'yes' if g['p99_ms'] <= 1.5 * f['p99_ms'] else '**no**'} |")
    if lam and lf:
        lines.append(f"| AWS_PROXY throughput ≥ 70% of the floor's | {lam['rps'] / lf['rps']:.0%} | "
                     f"{'yes' if lam['rps'] >= 0.7 * lf['rps'] else '**no**'} |")
    r10, r1000 = micro_ns(micro, "route match: 10 routes"), micro_ns(micro, "route match: 1000 routes")
    if r10 and r1000:
        lines.append(f"| route matching: 1,000 routes within 10% of 10 routes | {r1000:,.0f} vs {r10:,.0f} ns "
                     f"({r1000 / r10 - 1:+.0%}) | {'yes' if r1000 <= 1.1 * r10 else '**no**'} |")
    seen, new = micro_ns(micro, "jwt: verify a token sent before"), micro_ns(micro, "jwt: verify a new token")
    if seen and new:
        lines.append(f"| JWT verification with cached keys ≤ 20 µs | a token sent before (the usual case: "
                     f"signature checked once per key fetch) {seen / 1000:.1f} µs | "
                     f"{'yes' if seen <= 20_000 else '**no**'} |")
        lines.append(f"| (the same, a token never seen: RS256 signature checked) | {new / 1000:.1f} µs | "
                     f"{'yes' if new <= 20_000 else '**no**'} |")
    if micro:
        lines += ["", "Micro-benchmarks of the data plane (`cargo run --release -p gatehouse-micro "
                      "route|lambda|jwt`, same run):", "", "```", micro.rstrip(), "```"]
    lines += ["", "![data-plane throughput and CPU](benchmarks-dataplane.png)"]
    return lines + [""]


def target_table(results, notes, pick):
    """Issue 5's targets, judged from this run's figures (never typed in by hand)."""
    rows = []

    def add(target, figure, met):
        rows.append(f"| {target} | {figure} | {'yes' if met else '**no**'} |")

    def ratio(op, c):
        g, m = pick("gatehouse", op, c), pick("moto", op, c)
        return g["rps"] / m["rps"] if g and m and m["rps"] else 0.0

    r16, r64 = ratio("get-stage", 16), ratio("get-stage", 64)
    add("GetStage, SigV4 verified, ≥ 100× moto at 16 and 64 connections",
        f"{r16:,.0f}× and {r64:,.0f}×", r16 >= 100 and r64 >= 100)
    g, f = pick("gatehouse", "get-stage", 64), pick("floor", "get-stage", 64)
    if g:
        floor = (f"; the floor (bare hyper, same bytes, no work): {f['p99_ms']:.2f} ms at "
                 f"{f['rps']:,.0f} req/s" if f else "")
        s = pick("gatehouse-shared-cpus", "get-stage", 64)
        shared = (f"; with no placement: {s['p99_ms']:.2f} ms at {s['rps']:,.0f} req/s"
                  if s else "")
        add("GetStage p99 < 2 ms at 64 connections",
            f"{g['p99_ms']:.2f} ms (p50 {g['p50_ms']:.2f} ms at {g['rps']:,.0f} req/s){floor}"
            f"{shared}", g["p99_ms"] < 2.0)
    cs, us = pick("gatehouse", "create-stage", 32), pick("gatehouse", "update-stage", 32)
    if cs and us:
        add("Durable CreateStage/UpdateStage ≥ 3,000/s at 32 clients "
            "(acknowledged after COMMIT, `synchronous=FULL`; `kill -9`: crates/gatehouse/tests/sdk/durability.rs)",
            f"{cs['rps']:,.0f} and {us['rps']:,.0f}/s", min(cs["rps"], us["rps"]) >= 3000)
    growth = []
    for c in (16, 64):
        small, big = pick("gatehouse", "get-stage", c, "small"), pick("gatehouse", "get-stage", c, "big")
        if small and big:
            growth.append((c, big["p99_ms"] / small["p99_ms"]))
    if growth:
        add("1,000,000 stages: GetStage p99 within 1.5× of 1,000",
            ", ".join(f"{x:.2f}× ({c} conn.)" for c, x in growth), all(x <= 1.5 for _, x in growth))
    small, big = pick("gatehouse", "get-apis", 16, "small"), pick("gatehouse", "get-apis", 16, "big")
    if small and big:
        p99 = big["p99_ms"] / small["p99_ms"]
        cpu = big["cpu_us_per_req"] / small["cpu_us_per_req"]
        add("1,000,000 stages: a GetApis page within 1.5×", f"p99 {p99:.2f}×, CPU per page {cpu:.2f}×",
            p99 <= 1.5 and cpu <= 1.5)
    if notes.get("big_ready_ms") is not None:
        add("1,000,000 stages: ready line within 200 ms", f"{notes['big_ready_ms']:.0f} ms",
            notes["big_ready_ms"] < 200)
        add("1,000,000 stages: peak RSS < 200 MiB", f"{notes['big_peak_rss_mib']:.0f} MiB",
            notes["big_peak_rss_mib"] < 200)
    add("Empty store: ready within 50 ms, idle RSS < 30 MiB",
        f"{notes['gatehouse_ready_empty_ms']:.0f} ms, {notes['gatehouse_idle_rss_mib']:.0f} MiB",
        notes["gatehouse_ready_empty_ms"] < 50 and notes["gatehouse_idle_rss_mib"] < 30)
    return ["## Targets (issue 5), judged from this run", "",
            "| target | figure | met |", "|---|---|---|", *rows, ""]


def write_report(results, notes, out, micro, run_utc, duration, dataplane_rows=None,
                 dataplane_utc=None, dataplane_micro="", dataplane_instr=None,
                 websocket_rows=None, websocket_utc=None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def pick(server, op, c, store=None):
        for r in results:
            if r["server"] == server and r["op"] == op and r["connections"] == c and r.get("store") == store:
                return r
        return None

    fig, ax = plt.subplots(figsize=(9, 4))
    for server in ("floor", "gatehouse", "moto"):
        for op in ("get-stage", "get-stages"):
            pts = [(c, pick(server, op, c)) for c in (1, 16, 64)]
            if not any(r for _, r in pts):
                continue
            ax.plot([c for c, _ in pts], [r["rps"] if r else 0 for _, r in pts], marker="o",
                    label=f"{'floor (bare hyper, no work)' if server == 'floor' else server} {op}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("connections")
    ax.set_ylabel("requests per second (log)")
    ax.set_title("GetStage / GetStages, SigV4-signed, same machine")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "benchmarks.png", dpi=100)

    placement = (placement_text(notes["placement"]) if "placement" in notes
                 else "(placement not recorded)")
    lines = [
        "# Benchmarks",
        "",
        "Produced by `bench/run` (one command; it builds in release mode, installs moto's",
        "server 5.2.1 from PyPI as the peer, seeds both servers with the same state through the",
        "same load generator, drives them with SigV4-signed requests over keep-alive",
        "connections, and writes this file and `benchmarks.png`). gatehouse runs in strict",
        "mode (every signature verified) with the default SQLite store and `RUST_LOG=warn`;",
        "moto's server does not check signatures. Both run on the same machine as the load",
        f"generator, one at a time: {placement}. GetStage rows, the cost-growth rows and",
        "ready times are the median of three runs (the cost-growth stores measured in",
        f"alternation); every run lasts {duration:g} seconds.",
        "",
        f"Machine: {notes.get('machine') or machine_text()}; "
        f"run started {run_utc} UTC.",
        "",
        "## Peer comparison (same state, same client)",
        "",
        "| server | operation | connections | req/s | p50 ms | p99 ms | errors | server CPU µs/req | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.get("store") or r["server"] not in ("gatehouse", "moto"):
            continue
        lines.append(f"| {r['server']} | {r['op']} | {r['connections']} | {r['rps']:,.0f} | "
                     f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | "
                     f"{r['cpu_us_per_req']:.0f} | {r['peak_rss_mib']:.0f} |")
    lines += ["", "### The floor: a bare hyper server on this machine, same run", "",
              "`floor` (bench/loadgen/src/bin/floor.rs) answers every request with the bytes "
              "gatehouse sent for this GetStage (same body and headers) and does nothing else: "
              "no signature, no routing, no store. Each of its runs comes right after the "
              "matching gatehouse run, through the same load generator, so it shows what this "
              "machine gives any hyper server at that moment; the gap to gatehouse is "
              "gatehouse's own work.", "",
              "| server | connections | req/s | p50 ms | p99 ms | server CPU µs/req |",
              "|---|---|---|---|---|---|"]
    for c in (1, 16, 64):
        for server in ("floor", "gatehouse"):
            r = pick(server, "get-stage", c)
            if r:
                lines.append(f"| {server} | {c} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                             f"{r['p99_ms']:.2f} | {r['cpu_us_per_req']:.0f} |")
    shared = [pick("gatehouse-shared-cpus", "get-stage", c) for c in (16, 64)]
    if any(shared):
        lines += ["", "### GetStage with no placement", "",
                  "The same gatehouse GetStage, but with the server and the load generator free "
                  "to run on any CPU (`bench/run --shared-cpus` runs everything this way): the "
                  "generator's own work then competes with the server's for the two cores.", "",
                  "| connections | req/s | p50 ms | p99 ms | server CPU µs/req |",
                  "|---|---|---|---|---|"]
        for r in filter(None, shared):
            lines.append(f"| {r['connections']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                         f"{r['p99_ms']:.2f} | {r['cpu_us_per_req']:.0f} |")
    side = baseline_table(results)
    if side:
        when = f" (measured {notes['baseline_utc']} UTC)" if notes.get("baseline_utc") else ""
        lines += ["", "### Against a baseline build", "",
                  f"`bench/run --baseline BIN`, the baseline being {notes.get('baseline', 'BIN')}"
                  f"{when}: GetStage on that build and on this one, each on its own store seeded "
                  "the same way, measured in alternation (median of three runs each).", "", *side]
    lines += baseline_dataplane_text(results, notes)
    lines += ["", "### gatehouse / moto", "", "| operation | connections | ratio (req/s) |", "|---|---|---|"]
    for r in results:
        if r["server"] != "gatehouse" or r.get("store"):
            continue
        m = pick("moto", r["op"], r["connections"])
        if m and m["rps"] > 0:
            lines.append(f"| {r['op']} | {r['connections']} | {r['rps'] / m['rps']:,.0f}× |")
    lines += ["", "## Cost growth with the store's size (gatehouse)", "",
              "`small`: 100 APIs × 10 stages = 1,000 stages. `big`: 100,000 APIs × 10 stages = "
              f"1,000,000 stages (seeded through the API in {notes.get('big_seed_s', 0):.0f} s). "
              "GetStage picks a random API (of 100, spread evenly over the store) and a random "
              "stage on every request, so both stores serve the same working set; GetApis walks "
              "pages of 100. `-restarted`: the same store after a restart (cold caches).", "",
              "| store | operation | connections | req/s | p50 ms | p99 ms | server CPU µs/req |",
              "|---|---|---|---|---|---|---|"]
    for r in results:
        if r.get("store"):
            lines.append(f"| {r['store']} | {r['op']} | {r['connections']} | {r['rps']:,.0f} | "
                         f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['cpu_us_per_req']:.0f} |")
    pg = [r for r in results if r["server"] == "gatehouse-postgres"]
    if pg:
        lines += ["", "## The PostgreSQL store (gatehouse only)", "",
                  "One gatehouse on the machine's PostgreSQL (a fresh schema), same client and "
                  "state as above. Every read goes to the database (no cache: replicas must see "
                  "each other's writes); every write is one row-locked transaction.", "",
                  "| operation | connections | req/s | p50 ms | p99 ms | errors | server CPU µs/req |",
                  "|---|---|---|---|---|---|---|"]
        for r in pg:
            lines.append(f"| {r['op']} | {r['connections']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                         f"{r['p99_ms']:.2f} | {r['errors']} | {r['cpu_us_per_req']:.0f} |")
    lines += ["", "## Start-up and memory", "", "| what | figure |", "|---|---|"]
    for k, v in notes.items():
        if isinstance(v, (int, float)):
            lines.append(f"| {k} | {v:,.1f} |")
    lines += ["", "## Micro-benchmarks", "", "`cargo run --release -p gatehouse-micro`:", "",
              "```", micro.rstrip(), "```"]
    lines += ["", "![throughput against connections](benchmarks.png)", ""]
    lines += target_table(results, notes, pick)
    if dataplane_rows:
        lines += ["", f"(Data-plane figures measured {dataplane_utc or run_utc} UTC with "
                      "`bench/run --dataplane-only`.)", ""]
        lines += dataplane_table(dataplane_rows, dataplane_micro, dataplane_instr)
        dataplane_plot(dataplane_rows, out)
    if websocket_rows:
        lines += websocket_table(websocket_rows, websocket_utc or run_utc)
        websocket_plot(websocket_rows, out)
    analysis = ROOT / "bench" / "analysis.md"
    if analysis.exists():
        lines += ["", analysis.read_text()]
    (out / "benchmarks.md").write_text("\n".join(lines) + "\n")
