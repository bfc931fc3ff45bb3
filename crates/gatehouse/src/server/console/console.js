// The gatehouse console: reads go through the management API (`/v2/…`, the same operations
// any SDK calls) and gatehouse's JSON twins (`/_gatehouse/explain`, `/_gatehouse/invocations`).
// Every request is signed (sign.js): in strict mode with the access key pair the user signed
// in with (kept for this tab only), so a session sees what that account may see; in open
// mode with a made-up key, its credential scope naming the region. The page's state lives
// in the URL's hash (`#region=…&api=…&stage=…`), so a view can be linked and reloaded.
"use strict";

const REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
  "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-southeast-1",
  "ap-southeast-2", "sa-east-1", "ca-central-1"];

const $ = (id) => document.getElementById(id);
const state = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
// What the page knows beyond its URL: whether the chosen API is a WebSocket API, and the
// trace shown.
const seen = { websocket: false, trace: null, invocations: [], listed: null, watching: null, source: null };

// The access key pair requests are signed with: the one signed in with, else open mode's.
const KEPT = "gatehouse-console-keys";
const OPEN_KEYS = { id: "console", secret: "console" };
function keys() {
  try { return JSON.parse(sessionStorage.getItem(KEPT)) || OPEN_KEYS; } catch (_) { return OPEN_KEYS; }
}

// The answers that mean "sign in first" (strict mode).
const SIGN_IN = ["Missing Authentication Token", "The security token included in the request is invalid."];

// A request to this server, signed for `service` in the chosen region.
async function call(path, init = {}, service = "apigateway") {
  const method = init.method || "GET";
  const body = init.body || "";
  const signed = sigv4.sign({ method, url: path, body, service, region: state.region, keys: keys() });
  const resp = await fetch(signed.url, { ...init, headers: { ...signed.headers, ...(init.headers || {}) } });
  const text = await resp.text();
  let answer = null;
  try { answer = text ? JSON.parse(text) : null; } catch (_) { answer = text; }
  if (!resp.ok) {
    const message = (answer && (answer.message || answer.Message)) || `${resp.status}`;
    if (resp.status === 403 && SIGN_IN.some((m) => message.startsWith(m))) askToSignIn(message);
    throw new Error(message);
  }
  return answer;
}

function askToSignIn(why) {
  $("sign-in").hidden = false;
  $("sign-in-why").textContent = keys() === OPEN_KEYS
    ? "This gatehouse verifies signatures (strict mode): sign in with an access key pair from its --credentials file."
    : why;
}

function signIn(e) {
  e.preventDefault();
  const kept = { id: $("key-id").value.trim(), secret: $("key-secret").value.trim() };
  const token = $("key-token").value.trim();
  if (token) kept.token = token;
  sessionStorage.setItem(KEPT, JSON.stringify(kept));
  $("key-secret").value = "";
  $("sign-in").hidden = true;
  showWho();
  unwatch();
  render();
}

// Who the page signs as (nobody in particular in open mode).
function showWho() {
  const signed = keys() !== OPEN_KEYS;
  $("who").textContent = signed ? `signed in as ${keys().id}` : "";
  $("sign-out").hidden = !signed;
}

function signOut() {
  sessionStorage.removeItem(KEPT);
  showWho();
  unwatch();
  go({ api: null, stage: null });
  render();
}

// Every page of a list operation (500 at a time, the most a page holds).
async function all(path) {
  let items = [], token = null;
  do {
    const page = await call(`${path}?maxResults=500${token ? `&nextToken=${encodeURIComponent(token)}` : ""}`);
    items = items.concat(page.items || []);
    token = page.nextToken;
  } while (token);
  return items;
}

function cell(text, cls) {
  const td = document.createElement("td");
  if (text instanceof Node) td.append(text); else td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  return td;
}

function row(cells, onPick) {
  const tr = document.createElement("tr");
  tr.append(...cells.map((c) => (c instanceof HTMLTableCellElement ? c : cell(c))));
  if (onPick) {
    tr.className = "pick";
    tr.tabIndex = 0;
    tr.addEventListener("click", onPick);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") onPick(); });
  }
  return tr;
}

function fill(table, rows) {
  const body = $(table).tBodies[0];
  body.replaceChildren(...rows);
}

function go(changes) {
  Object.assign(state, changes);
  for (const k of Object.keys(state)) if (state[k] == null) delete state[k];
  location.hash = new URLSearchParams(state).toString();
}

function say(text) { $("status").textContent = text; }

// The region's APIs: a long list, so its rows are written as HTML (escaped) and one
// listener on the table picks (a row of its own each would cost 1,000 listeners). The first
// hundred show at once; the rest come, 500 a page, once the page is shown.
const FIRST_ROWS = 100;
async function showApis() {
  const first = await call(`/v2/apis?maxResults=${FIRST_ROWS}`);
  const rows = (apis) => apis.map((a) => {
    const chosen = a.apiId === state.api ? " chosen" : "";
    return `<tr class="pick${chosen}" tabindex="0" data-api="${escape(a.apiId)}"><td>${escape(a.name)}</td>`
      + `<td>${escape(a.apiId)}</td><td>${escape(a.protocolType)}</td></tr>`;
  }).join("");
  const body = $("apis").tBodies[0];
  body.innerHTML = rows(first.items || []);
  return async () => {
    for (let token = first.nextToken; token;) {
      const page = await call(`/v2/apis?maxResults=500&nextToken=${encodeURIComponent(token)}`);
      body.insertAdjacentHTML("beforeend", rows(page.items || []));
      token = page.nextToken;
    }
  };
}

function escape(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function pickApi(e) {
  const tr = e.target.closest("tr[data-api]");
  if (tr && (e.type === "click" || e.key === "Enter")) go({ api: tr.dataset.api, stage: null });
}

// The region's custom domain names, a row per API mapping (a click opens its API and stage).
async function showDomains() {
  const domains = await all("/v2/domainnames");
  const rows = await Promise.all(domains.map(async (d) => {
    const name = d.domainName;
    const mappings = await all(`/v2/domainnames/${encodeURIComponent(name)}/apimappings`);
    if (!mappings.length) return [row([name, "(no mappings)", ""])];
    return mappings.map((m) => row([name, `/${m.apiMappingKey || ""}`, `${m.apiId} ${m.stage}`],
      () => go({ api: m.apiId, stage: m.stage })));
  }));
  fill("domains", rows.flat());
}

function invokeUrls(apiId, stage, websocket) {
  const port = location.port ? `:${location.port}` : "";
  const named = stage === "$default" ? "" : `/${encodeURIComponent(stage)}`;
  const scheme = websocket ? "ws:" : location.protocol;
  return [`${scheme}//${location.hostname}${port}/_aws/execute-api/${apiId}${named}/`,
    `${scheme}//${apiId}.execute-api.localhost${port}${named}/`];
}

// The chosen API's resources, read side by side with the API itself.
function readApi(apiId) {
  const base = `/v2/apis/${encodeURIComponent(apiId)}`;
  const lists = ["routes", "integrations", "authorizers", "stages", "deployments"]
    .map((k) => all(`${base}/${k}`).catch(() => []));
  // (Which stages differ from the live configuration is asked as soon as they are known.)
  const undeployed = lists[3].then((stages) => undeployedStages(apiId, stages)).catch(() => new Set());
  return { api: call(base).catch(() => null), lists: Promise.all([...lists, undeployed]) };
}

async function showApi(api, lists) {
  $("api").hidden = !api;
  seen.websocket = Boolean(api && api.protocolType === "WEBSOCKET");
  if (!api) return;
  $("api-title").textContent = `${api.name} (${api.apiId}, ${api.protocolType})`;
  const [routes, integrations, authorizers, stages, deployments, undeployed] = await lists;
  const byId = (list, key) => Object.fromEntries(list.map((x) => [x[key], x]));
  const ints = byId(integrations, "integrationId"), auths = byId(authorizers, "authorizerId");
  fill("routes", routes.map((r) => {
    const i = r.target && ints[r.target.replace("integrations/", "")];
    const target = i ? `${i.integrationType} ${i.integrationUri || ""}` : (r.target || "");
    const a = r.authorizerId && auths[r.authorizerId];
    const auth = r.authorizationType + (a ? ` (${a.name})` : "");
    return row([cell(r.routeKey), target, auth, (r.authorizationScopes || []).join(" ")]);
  }));
  fill("stages", stages.map((s) => {
    const urls = document.createElement("div");
    for (const u of invokeUrls(api.apiId, s.stageName, api.protocolType === "WEBSOCKET")) {
      const c = document.createElement("code");
      c.textContent = u;
      urls.append(c, document.createElement("br"));
    }
    const d = s.defaultRouteSettings || {};
    const throttle = d.throttlingRateLimit != null ? `${d.throttlingRateLimit}/s, burst ${d.throttlingBurstLimit}` : "";
    const vars = Object.entries(s.stageVariables || {}).map(([k, v]) => `${k}=${v}`).join(" ");
    const log = (s.accessLogSettings || {}).format || "";
    const name = cell(s.stageName);
    if (undeployed.has(s.stageName)) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "undeployed changes";
      name.append(badge);
    }
    const tr = row([name, s.deploymentId || "(none)", s.autoDeploy ? "yes" : "no",
      cell(urls), vars, throttle, log], () => go({ stage: s.stageName }));
    if (s.stageName === state.stage) tr.classList.add("chosen");
    return tr;
  }));
  showDeployments(deployments);
  fill("integrations", integrations.map((i) => row([i.integrationId, i.integrationType,
    i.integrationMethod || "", i.integrationUri || "", i.payloadFormatVersion || "",
    i.timeoutInMillis == null ? "" : i.timeoutInMillis])));
  fill("authorizers", authorizers.map((a) => row([a.name, a.authorizerType,
    (a.identitySource || []).join(", "),
    (a.jwtConfiguration && a.jwtConfiguration.issuer) || a.authorizerUri || ""])));
}

// The stages whose deployment differs from the live configuration.
async function undeployedStages(apiId, stages) {
  const out = new Set();
  await Promise.all(stages.filter((s) => s.deploymentId).map(async (s) => {
    const d = await call(`/_gatehouse/diff?${new URLSearchParams({ apiId, from: s.deploymentId, to: "live", region: state.region })}`);
    if (!d.same) out.add(s.stageName);
  }));
  return out;
}

function radio(name, value, checked) {
  const input = document.createElement("input");
  Object.assign(input, { type: "radio", name, value, checked });
  input.setAttribute("aria-label", `${name} ${value}`);
  return input;
}

function showDeployments(deployments) {
  const newest = [...deployments].sort((a, b) => (a.createdDate < b.createdDate ? 1 : -1));
  const rows = newest.map((d, i) => row([cell(radio("from", d.deploymentId, i === 0)),
    cell(radio("to", d.deploymentId, false)), d.deploymentId, d.createdDate, d.description || ""]));
  rows.push(row([cell(""), cell(radio("to", "live", true)), "live configuration", "", ""]));
  fill("deployments", rows);
  $("diff").replaceChildren();
}

async function compare() {
  const picked = (name) => (document.querySelector(`input[name=${name}]:checked`) || {}).value;
  const from = picked("from"), to = picked("to") || "live";
  if (!from) return;
  const d = await call(`/_gatehouse/diff?${new URLSearchParams({ apiId: state.api, from, to, region: state.region })}`);
  const box = $("diff");
  const head = document.createElement("p");
  head.textContent = d.same ? `${from} and ${to}: no changes` : `${from} → ${to}`;
  const list = document.createElement("ul");
  for (const kind of ["routes", "integrations", "authorizers"]) {
    const c = d.changes[kind];
    for (const n of c.added) list.append(item(`${kind}: added ${n}`));
    for (const n of c.removed) list.append(item(`${kind}: removed ${n}`));
    for (const n of c.changed) list.append(item(`${kind}: changed ${n.name} (${n.members.join(", ")})`));
  }
  if (d.changes.corsChanged) list.append(item("CORS configuration changed"));
  box.replaceChildren(head, list);
}

function item(text) {
  const li = document.createElement("li");
  li.textContent = text;
  return li;
}

function query(extra = {}) {
  return new URLSearchParams({ apiId: state.api, stage: state.stage, region: state.region, ...extra });
}

// A WebSocket stage's open connections, each with a send and a disconnect button (through
// the `@connections` API, as a backend would call it).
async function showConnections() {
  $("connections-box").hidden = !seen.websocket;
  if (!seen.websocket || !state.api || !state.stage) return;
  const got = await call(`/_gatehouse/connections?${query()}`);
  fill("connections", got.connections.map((c) => {
    const actions = document.createElement("span");
    const send = document.createElement("button");
    send.textContent = "Send";
    send.addEventListener("click", async () => {
      const text = prompt(`Message to ${c.connectionId}`);
      if (text != null) await call(`/@connections/${encodeURIComponent(c.connectionId)}`, { method: "POST", body: text }, "execute-api");
    });
    const close = document.createElement("button");
    close.textContent = "Disconnect";
    close.addEventListener("click", async () => {
      await call(`/@connections/${encodeURIComponent(c.connectionId)}`, { method: "DELETE" }, "execute-api");
      await showConnections();
    });
    actions.append(send, " ", close);
    return row([c.connectionId, c.connectedAt, c.lastActiveAt, c.sourceIp, cell(actions)]);
  }));
}

// The stage's routes over the last five minutes, charted.
async function showCharts() {
  if (!state.api || !state.stage) return;
  const recent = await call(`/_gatehouse/metrics/recent?${query()}`);
  fill("charts", charts.rows(recent).map((r) => row([r.key, cell(r.chart), r.count,
    r.p50 == null ? "" : r.p50, r.p99 == null ? "" : r.p99])));
}

// The stage's invocations: those kept so far, then each as it happens (server-sent events;
// `live`: the stream is opened first).
async function showInvocations(live = true) {
  if (!state.api || !state.stage) return;
  if (live) watch();
  const key = query().toString();
  const got = await call(`/_gatehouse/invocations?${key}`);
  // (Those of another stage go; events that came while these were read are kept, once each.)
  const held = seen.listed === key ? seen.invocations : [];
  seen.listed = key;
  const kept = new Set(got.invocations.map((t) => t.requestId));
  const fresh = held.filter((t) => !kept.has(t.requestId));
  seen.invocations = [...fresh, ...got.invocations].slice(0, 100);
  drawInvocations();
}

function watch() {
  const key = query().toString();
  if (seen.watching === key) return;
  if (seen.source) seen.source.close();
  seen.watching = key;
  // (An event stream cannot send headers: its URL carries the signature.)
  const url = sigv4.sign({ method: "GET", url: `/_gatehouse/invocations/stream?${key}`, service: "apigateway",
    region: state.region, keys: keys(), presign: true }).url;
  seen.source = new EventSource(url);
  // Once it is open, what came before it is read again (nothing falls between).
  seen.source.onopen = () => showInvocations(false).catch(() => {});
  seen.source.onmessage = (e) => {
    if (seen.listed !== key) return;
    seen.invocations = [JSON.parse(e.data), ...seen.invocations].slice(0, 100);
    drawInvocations();
  };
}

// A page out of sight lets go of its event stream: a browser opens at most six
// connections to one server, and each watching page holds one.
function unwatch() {
  if (seen.source) seen.source.close();
  seen.source = seen.watching = null;
}

// Whether trace `t` passes the filters above the list (a route key or `no route`, a
// status or status class such as `4xx`).
function shown(t) {
  const route = $("filter-route").value.trim();
  const status = $("filter-status").value.trim().toLowerCase();
  const key = t.routeKey || "no route";
  const code = String(t.status);
  return (!route || key.includes(route))
    && (!status || code === status || (status.endsWith("xx") && code[0] === status[0]));
}

function drawInvocations() {
  fill("invocations", seen.invocations.filter(shown).map((t) => {
    const status = cell(t.status, `s${String(t.status)[0]}`);
    const when = new Date(t.timeEpochMs).toLocaleTimeString();
    const what = t.eventType ? `${t.eventType} ${t.connectionId}` : t.path + (t.query ? `?${t.query}` : "");
    const tr = row([when, t.eventType ? "WS" : t.method, what, status,
      t.routeKey || "no route", t.reason || "", t.latencyMs], () => showTrace(t));
    if (t.requestId === seen.trace) tr.classList.add("chosen");
    return tr;
  }));
}

function candidatesTable(candidates) {
  const table = document.createElement("table");
  table.className = "candidates";
  table.innerHTML = "<thead><tr><th>route (AWS's priority order)</th><th>verdict</th></tr></thead>";
  const body = document.createElement("tbody");
  for (const c of candidates || []) {
    const tr = row([cell(c.routeKey, c.chosen ? "winner" : ""), cell(c.why, c.takes ? "takes" : "not")]);
    body.append(tr);
  }
  table.append(body);
  return table;
}

// One side of an exchange (the client's request, the integration request, an answer):
// its first line, headers and body, as a block of text.
function exchangeText(part, firstLine) {
  if (!part) return "(none)";
  const lines = [firstLine];
  for (const [name, value] of Object.entries(part.headers || {})) lines.push(`${name}: ${value}`);
  lines.push("");
  const body = part.body;
  if (body == null) lines.push("(body not recorded)");
  else if (body.base64 != null) lines.push(`(binary, ${body.length} bytes) ${body.base64}`);
  else lines.push(body.text + (body.truncated ? `\n… (${body.length} bytes in all)` : ""));
  return lines.join("\n");
}

function section(title, text) {
  const h = document.createElement("h4");
  h.textContent = title;
  const pre = document.createElement("pre");
  pre.textContent = text;
  return [h, pre];
}

function showTrace(t) {
  seen.trace = t.requestId;
  const box = $("trace");
  const title = document.createElement("h3");
  title.textContent = `Request ${t.requestId}`;
  const steps = (t.steps || []).map((s) => `${s.step} ${(s.micros / 1000).toFixed(2)} ms`).join(" → ");
  const summary = document.createElement("p");
  summary.textContent = `${t.status} · route ${t.routeKey || "none"} · throttle ${t.throttle || "not reached"}`
    + (t.authorization ? ` · ${t.authorization.type} authorizer ${t.authorization.authorizer || ""}: ${t.authorization.decision}${t.authorization.cached ? " (cached)" : ""}` : "")
    + (t.reason ? ` · ${t.reason}` : "");
  const sent = t.integrationRequest;
  const shown = { ...t };
  for (const k of ["candidates", "request", "integrationRequest", "integrationResponse", "response"]) delete shown[k];
  box.replaceChildren(title, summary, candidatesTable(t.candidates),
    ...section("Steps", steps || "(none)"),
    ...section("Request", exchangeText(t.request, `${t.method} ${t.path}${t.query ? `?${t.query}` : ""}`)),
    ...section("Integration request", exchangeText(sent, sent ? `${sent.method} ${sent.url} (${sent.type})` : "")),
    ...section("Integration response", exchangeText(t.integrationResponse, t.integrationResponse ? String(t.integrationResponse.status) : "")),
    ...section("Response", exchangeText(t.response, t.response ? String(t.response.status) : "")),
    ...section("Access log", t.accessLogLine || "(the stage writes no access log)"),
    ...section("All of it (JSON)", JSON.stringify(shown, null, 2)));
}

async function explain() {
  const got = await call(`/_gatehouse/explain?${query({ method: $("try-method").value, path: $("try-path").value })}`);
  const head = document.createElement("p");
  head.textContent = got.matched ? `Matches ${got.matched.routeKey}` : got.reason;
  $("explained").replaceChildren(head, candidatesTable(got.candidates));
}

async function send(e) {
  e.preventDefault();
  const named = state.stage === "$default" ? "" : `/${encodeURIComponent(state.stage)}`;
  const path = $("try-path").value.replace(/^\/?/, "/");
  const resp = await fetch(`/_aws/execute-api/${state.api}${named}${path}`, { method: $("try-method").value });
  say(`${$("try-method").value} ${path}: ${resp.status}`);
}

async function render() {
  state.region = state.region || REGIONS[0];
  $("region").value = state.region;
  try {
    // Everything is read side by side: the lists, the chosen API (then its resources and,
    // for a WebSocket stage, its connections), the stage's invocations and charts.
    const staged = Boolean(state.api && state.stage);
    $("stage").hidden = !staged;
    if (!staged) unwatch();
    else $("stage-title").textContent = `Stage ${state.stage}`;
    // (The API's reads go first: theirs is the longest chain. A browser opens six
    // connections to a server; the stage's event stream, which holds one, opens last.)
    const read = state.api ? readApi(state.api) : { api: Promise.resolve(null), lists: null };
    const detail = read.api.then(async (api) => {
      seen.websocket = Boolean(api && api.protocolType === "WEBSOCKET");
      await Promise.all([showApi(api, read.lists), showConnections()]);
    });
    const stage = staged ? [showInvocations(false), showCharts()] : [];
    // Every read is waited for, and every refusal shown: which of two refusals
    // arrives first is a race, and the page must not depend on it.
    const done = await Promise.allSettled([showApis(), detail, ...stage, showDomains()]);
    const failed = [...new Set(done.filter((d) => d.status === "rejected")
      .map((d) => String(d.reason.message || d.reason)))];
    if (failed.length) throw new Error(failed.join("\n"));
    const rest = done[0].value;
    if (staged) watch();
    say("");
    // When the page first showed everything (for bench/console.py).
    document.body.dataset.rendered ||= String(performance.now());
    await rest();
    // When the rest of the list is in too.
    document.body.dataset.settled = "1";
  } catch (err) {
    say(String(err.message || err));
  }
}

function start() {
  const select = $("region");
  select.replaceChildren(...REGIONS.map((r) => new Option(r, r)));
  select.addEventListener("change", () => go({ region: select.value, api: null, stage: null }));
  $("try").addEventListener("submit", (e) => send(e).catch((err) => say(String(err))));
  $("try-explain").addEventListener("click", () => explain().catch((err) => say(String(err))));
  $("compare").addEventListener("click", () => compare().catch((err) => say(String(err))));
  $("sign-in").addEventListener("submit", signIn);
  $("filter-route").addEventListener("input", drawInvocations);
  $("filter-status").addEventListener("input", drawInvocations);
  $("apis").addEventListener("click", pickApi);
  $("apis").addEventListener("keydown", pickApi);
  $("sign-out").addEventListener("click", signOut);
  showWho();
  window.addEventListener("hashchange", () => {
    Object.keys(state).forEach((k) => delete state[k]);
    Object.assign(state, Object.fromEntries(new URLSearchParams(location.hash.slice(1))));
    render();
  });
  render();
  // Live: the stage's invocations, every second.
  window.addEventListener("pagehide", unwatch);
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) unwatch(); else showInvocations().catch(() => {});
  });
  // Live: invocations come as server-sent events; connections are read every second.
  setInterval(() => { if (!document.hidden) showConnections().catch(() => {}); }, 1000);
  // Charts: every five seconds.
  setInterval(() => { if (!document.hidden) showCharts().catch(() => {}); }, 5000);
}

start();
