"""docs/benchmarks.md's WebSocket section (issue 29) and docs/benchmarks-websocket.png,
rendered from bench/websocket.py's rows; every target judged from the figures."""

HELD_TARGET_KIB = 16
RATE_SHARE = 0.70
P99_BOUND = 1.5


def _by(rows):
    return {(r["op"], r["server"]): r for r in rows}


def websocket_plot(rows, out):
    """docs/benchmarks-websocket.png: each rate as gatehouse and the floor measured it, and
    the memory each holds per idle connection."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    by = _by(rows)
    ops = [("ws-connect", "connects/s\n(16 loops)"),
           ("ws-round-trip", "round trips/s\n(64 conn., stub)"),
           ("ws-fan-out", "posts/s\n(1,000 conn.)")]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [3, 1]})
    width = 0.38
    for i, server in enumerate(("gatehouse", "ws-floor")):
        xs = [j + (i - 0.5) * width for j in range(len(ops))]
        a.bar(xs, [by.get((op, server), {}).get("rps", 0) for op, _ in ops], width,
              label=server, color="tab:blue" if server == "gatehouse" else "tab:gray")
    a.set_xticks(range(len(ops)), [label for _, label in ops], fontsize=8)
    a.set_ylabel("per second")
    a.set_title("WebSocket rates, same run")
    a.legend(fontsize="small")
    held = [(s, by.get(("ws-hold", s))) for s in ("gatehouse", "ws-floor")]
    b.bar([s for s, _ in held], [r["kib_per_connection"] if r else 0 for _, r in held],
          color=["tab:blue", "tab:gray"])
    b.axhline(HELD_TARGET_KIB, color="tab:red", linestyle="--", linewidth=1)
    b.set_ylabel("KiB per idle connection")
    b.set_title("10,000 held")
    fig.tight_layout()
    fig.savefig(out / "benchmarks-websocket.png", dpi=100)


def websocket_table(rows, utc):
    """The WebSocket figures and issue 29's targets, judged from them."""
    if not rows:
        return []
    by = _by(rows)
    runs = max(r.get("runs", 1) for r in rows)
    lines = ["## WebSocket data plane (issue 29), judged from this run", "",
             f"Measured {utc} UTC (`bench/run --websocket-only` measures only these). The floor "
             "(`bench/loadgen/src/bin/wsfloor.rs`) is a bare hyper + tokio-tungstenite server "
             "with the buffers gatehouse gives tungstenite: it accepts every upgrade, registers "
             "the connection, makes the same stub call per message and turns "
             "`POST /@connections/{id}` into a frame, and does nothing else (no API, stage, "
             "route, event, SigV4, throttle, access log or metrics). gatehouse runs in strict "
             "mode, so each `@connections` POST's signature is verified. Rates are medians of "
             f"{runs} rounds measured in alternation.", "",
             "| measurement | server | per second | p50 ms | p99 ms | server CPU µs each |",
             "|---|---|---|---|---|---|"]
    names = {"ws-connect": "connect + close, 16 loops",
             "ws-round-trip": "message → stub → frame, 64 connections",
             "ws-fan-out": "POST @connections → frame, 1,000 connections, 64 posters"}
    for op, text in names.items():
        for server in ("gatehouse", "ws-floor"):
            r = by.get((op, server))
            if r:
                lines.append(f"| {text} | {server} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                             f"{r['p99_ms']:.2f} | {r['cpu_us_per_req']:.1f} |")
    lines += ["", "| server | idle connections held | RSS before → with them | KiB per connection |",
              "|---|---|---|---|"]
    for server in ("gatehouse", "ws-floor"):
        r = by.get(("ws-hold", server))
        if r:
            lines.append(f"| {server} | {r['held']:,} | {r['rss_before_kib'] / 1024:.0f} MiB → "
                         f"{r['rss_after_kib'] / 1024:.0f} MiB | {r['kib_per_connection']:.1f} |")
    lines += ["", *_targets(by), "", "![WebSocket rates and memory](benchmarks-websocket.png)", ""]
    return lines


def _targets(by):
    out = ["| target | figure | met |", "|---|---|---|"]

    def add(target, figure, met):
        out.append(f"| {target} | {figure} | {'yes' if met else '**no**'} |")

    held = by.get(("ws-hold", "gatehouse"))
    if held:
        add(f"10,000 idle connections at ≤ {HELD_TARGET_KIB} KiB each",
            f"{held['held']:,} held, {held['kib_per_connection']:.1f} KiB each",
            held["held"] >= 10_000 and held["kib_per_connection"] <= HELD_TARGET_KIB)
    for op, what in (("ws-connect", "connects"), ("ws-round-trip", "round trips"),
                     ("ws-fan-out", "PostToConnection fan-out")):
        g, f = by.get((op, "gatehouse")), by.get((op, "ws-floor"))
        if g and f:
            share = g["rps"] / f["rps"]
            add(f"{what} ≥ {RATE_SHARE:.0%} of the floor's rate",
                f"{share:.0%} ({g['rps']:,.0f} vs {f['rps']:,.0f}/s)", share >= RATE_SHARE)
    g, f = by.get(("ws-round-trip", "gatehouse")), by.get(("ws-round-trip", "ws-floor"))
    if g and f:
        ratio = g["p99_ms"] / f["p99_ms"]
        add(f"round trip p99 ≤ {P99_BOUND}× the floor's",
            f"{ratio:.2f}× ({g['p99_ms']:.2f} vs {f['p99_ms']:.2f} ms)", ratio <= P99_BOUND)
    return out
