// The console's charts, drawn as inline SVG (nothing fetched, no library): for each route of
// a stage, its last five minutes from `/_gatehouse/metrics/recent` — requests per second
// stacked by status class, one bar per ten-second slot, with its p50 and p99 latency as
// lines over them.
"use strict";

const charts = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const CLASSES = [["2xx", "#00a32a"], ["3xx", "#2271b1"], ["4xx", "#dba617"], ["5xx", "#d63638"], ["1xx", "#8c8f94"]];
  const W = 300, H = 64;

  function el(name, attrs) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }

  // One route's chart: bars of requests per second by class, p50 and p99 lines.
  function route(slots) {
    const svg = el("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img" });
    const total = (s) => CLASSES.reduce((n, [c]) => n + s.perSecond[c], 0);
    const top = Math.max(...slots.map(total), 0.1);
    const slowest = Math.max(...slots.map((s) => s.p99Ms || 0), 0.001);
    const step = W / slots.length;
    slots.forEach((s, i) => {
      let y = H;
      for (const [c, colour] of CLASSES) {
        const h = (s.perSecond[c] / top) * (H - 4);
        if (h <= 0) continue;
        y -= h;
        svg.append(el("rect", { x: i * step + 1, y, width: step - 2, height: h, fill: colour, class: `bar-${c}` }));
      }
    });
    for (const [key, colour, dash] of [["p50Ms", "#1d2327", ""], ["p99Ms", "#8a2424", "3 2"]]) {
      const points = slots.map((s, i) => (s[key] == null ? null : `${i * step + step / 2},${H - 2 - (s[key] / slowest) * (H - 6)}`))
        .filter(Boolean).join(" ");
      if (points) svg.append(el("polyline", { points, fill: "none", stroke: colour, "stroke-dasharray": dash, "stroke-width": 1.5 }));
    }
    const title = el("title", {});
    const last = [...slots].reverse().find((s) => total(s) > 0);
    title.textContent = last ? `last active slot: ${total(last)} req/s, p50 ${last.p50Ms} ms, p99 ${last.p99Ms} ms` : "no requests";
    svg.append(title);
    return svg;
  }

  // A row per route: its key, its chart, and the figures of its busiest recent slot.
  function rows(recent) {
    return Object.entries(recent.routes).map(([key, slots]) => {
      const active = slots.filter((s) => s.p50Ms != null);
      const count = active.reduce((n, s) => n + CLASSES.reduce((m, [c]) => m + s.perSecond[c], 0) * recent.slotSeconds, 0);
      const worst = (k) => (active.length ? Math.max(...active.map((s) => s[k])) : null);
      return { key: key === "-" ? "no route" : key, chart: route(slots), count: Math.round(count), p50: worst("p50Ms"), p99: worst("p99Ms") };
    });
  }

  return { rows };
})();
