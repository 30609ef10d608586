/**
 * The live event viewer served at `GET /`: one HTML page, no build step, no
 * external resources. It logs in when needed, follows `/events` with an
 * `EventSource` (newest on top, tag, time, pretty JSON), filters on the
 * server (`?tag=&match_type=`), pauses, counts events per tag prefix, and
 * reconnects by itself with `Last-Event-ID` (or `?since=` after a failed
 * reconnect).
 *
 * @module
 */

/**
 * The page. Everything from the bus is inserted as text, never as HTML.
 *
 * @example
 * ```ts
 * import { VIEWER_HTML } from "./viewer.ts";
 * const response = new Response(VIEWER_HTML, { headers: { "content-type": "text/html" } });
 * ```
 */
export const VIEWER_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>saltbus events</title>
<style>
:root { color-scheme: light dark; --bg: #fff; --fg: #1d2125; --muted: #6b7378; --line: #dde1e4;
  --accent: #0b6bcb; --chip: #eef1f4; --row: #fafbfc; --warn: #b3261e; }
@media (prefers-color-scheme: dark) { :root { --bg: #15181b; --fg: #e3e6e8; --muted: #97a0a6;
  --line: #2c3236; --accent: #6cb2ff; --chip: #23292d; --row: #1a1e21; --warn: #ff8a80; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
header { position: sticky; top: 0; z-index: 1; background: var(--bg); border-bottom: 1px solid var(--line);
  padding: 8px 12px; display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
h1 { font-size: 16px; margin: 0 8px 0 0; }
input, select, button { font: inherit; padding: 3px 8px; border: 1px solid var(--line); border-radius: 4px;
  background: var(--bg); color: var(--fg); }
button { cursor: pointer; }
button.on { background: var(--accent); color: #fff; border-color: var(--accent); }
#status { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: var(--chip); }
#status.live { color: #fff; background: #1e8e3e; }
#status.down { color: #fff; background: var(--warn); }
#total { color: var(--muted); font-variant-numeric: tabular-nums; }
#prefixes { display: flex; flex-wrap: wrap; gap: 4px; padding: 6px 12px; border-bottom: 1px solid var(--line); }
#prefixes:empty { display: none; }
.chip { font-size: 12px; background: var(--chip); border-radius: 10px; padding: 1px 8px; border: 0; }
.chip b { font-weight: 600; margin-left: 4px; font-variant-numeric: tabular-nums; }
#events { position: relative; margin: 0 12px 24px; }
.ev { position: absolute; left: 0; right: 0; height: 160px; border-bottom: 1px solid var(--line);
  padding: 6px 0; overflow: hidden; }
.ev .hd { display: flex; gap: 12px; align-items: baseline; height: 20px; }
.ev time { color: var(--muted); font: 12px ui-monospace, monospace; white-space: nowrap; }
.ev .tag { font: 600 13px ui-monospace, monospace; word-break: break-all; }
.ev .id { color: var(--muted); font-size: 11px; margin-left: auto; }
.ev pre { margin: 4px 0 0; padding: 6px 8px; background: var(--row); border-radius: 4px;
  font: 12px/1.35 ui-monospace, monospace; white-space: pre-wrap; word-break: break-word;
  height: 114px; overflow: auto; }
.ev.notice .tag { color: var(--warn); }
#login { max-width: 320px; margin: 64px auto; display: grid; gap: 8px; }
#login p { color: var(--warn); margin: 0; min-height: 1.4em; }
[hidden] { display: none !important; }
</style>
</head>
<body>
<form id="login" hidden>
  <h1>saltbus: log in</h1>
  <input name="username" placeholder="user" autocomplete="username" required>
  <input name="password" type="password" placeholder="password" autocomplete="current-password" required>
  <input name="eauth" value="saltbus" placeholder="eauth">
  <button type="submit">Log in</button>
  <p id="loginError"></p>
</form>
<div id="app" hidden>
<header>
  <h1>saltbus events</h1>
  <span id="status">connecting</span>
  <form id="filter">
    <input id="tag" placeholder="tag filter, e.g. salt/job/" size="28">
    <select id="matchType">
      <option>startswith</option><option>endswith</option><option>find</option>
      <option>regex</option><option>fnmatch</option>
    </select>
    <button type="submit">Filter</button>
  </form>
  <button id="pause" type="button">Pause</button>
  <button id="clear" type="button">Clear</button>
  <label>keep <select id="keep"><option>1000</option><option selected>10000</option>
    <option>50000</option></select></label>
  <span id="total">0 events</span>
</header>
<div id="prefixes"></div>
<main id="events"></main>
</div>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const pageToken = new URLSearchParams(location.search).get("token");
// Rows have a fixed height and only those in view exist in the page, so 10k
// (or 50k) kept events cost no more to show than 20.
const ROW = 160;
const state = { source: null, lastId: null, paused: false, pending: [], held: [], total: 0,
  events: [], counts: new Map(), chips: new Map(), retry: null, scheduled: false };

function withToken(path, params) {
  const q = new URLSearchParams(params);
  if (pageToken) q.set("token", pageToken);
  const s = q.toString();
  return s ? path + "?" + s : path;
}

async function loggedIn() {
  try {
    const r = await fetch(withToken("/login", {}), { credentials: "same-origin" });
    return r.status === 200 ? true : r.status === 401 ? false : null;
  } catch { return null; }
}

function setStatus(text, cls) { const s = $("status"); s.textContent = text; s.className = cls || ""; }

function connect() {
  clearTimeout(state.retry);
  if (state.source) state.source.close();
  const params = { since: state.lastId ?? 0 };
  const tag = $("tag").value;
  if (tag) { params.tag = tag; params.match_type = $("matchType").value; }
  const source = new EventSource(withToken("/events", params));
  state.source = source;
  source.onopen = () => setStatus("live", "live");
  source.onmessage = (e) => {
    if (e.lastEventId) state.lastId = e.lastEventId;
    state.pending.push(e);
    if (!state.scheduled) { state.scheduled = true; requestAnimationFrame(flush); }
  };
  source.onerror = async () => {
    if (source !== state.source) return;
    if (source.readyState !== EventSource.CLOSED) { setStatus("reconnecting", "down"); return; }
    // The browser gave up (the server answered an error): check the login, then retry.
    setStatus("disconnected", "down");
    const ok = await loggedIn();
    if (source !== state.source) return;
    if (ok === false) return showLogin();
    state.retry = setTimeout(connect, 1000);
  };
}

function parse(e) {
  try { const ev = JSON.parse(e.data); if (ev && typeof ev.tag === "string") return ev; } catch {}
  const tag = /^\\{"data": .*, "tag": (".*")\\}$/.exec(e.data);
  return { tag: tag ? JSON.parse(tag[1]) : "?", data: null, raw: e.data };
}

function prefixOf(tag) { return tag.split("/").slice(0, 2).join("/"); }

// Salt's _stamp is UTC without a zone: show its time of day (UTC) as it is;
// toLocaleTimeString would cost more than the rest of a row.
function timeOf(data) {
  const stamp = data && typeof data._stamp === "string" ? data._stamp : new Date().toISOString();
  return stamp.slice(11, 23);
}

function row(ev, index) {
  const div = document.createElement("div");
  div.className = ev.tag.startsWith("saltbus/api/") ? "ev notice" : "ev";
  div.style.top = index * ROW + "px";
  const hd = div.appendChild(document.createElement("div"));
  hd.className = "hd";
  hd.appendChild(document.createElement("time")).textContent = timeOf(ev.data);
  const tag = hd.appendChild(document.createElement("span"));
  tag.className = "tag";
  tag.textContent = ev.tag;
  if (ev.id) {
    const id = hd.appendChild(document.createElement("span"));
    id.className = "id";
    id.textContent = "#" + ev.id;
  }
  ev.pretty ??= ev.raw ?? JSON.stringify(ev.data, null, 2);
  div.appendChild(document.createElement("pre")).textContent = ev.pretty;
  return div;
}

function flush() {
  state.scheduled = false;
  const batch = state.pending;
  state.pending = [];
  for (const e of batch) {
    const ev = parse(e);
    ev.id = e.lastEventId;
    if (ev.id) state.total++;
    const p = prefixOf(ev.tag);
    state.counts.set(p, (state.counts.get(p) || 0) + 1);
    state.held.push(ev);
  }
  if (!state.paused) render();
  else if (state.held.length > 2 * Number($("keep").value)) {
    state.held = state.held.slice(-Number($("keep").value));
  }
  updateCounts();
}

// Moves held events into the kept list (newest last) and draws the rows in view.
function render() {
  if (state.held.length) {
    const keep = Number($("keep").value);
    state.events = state.events.concat(state.held);
    state.held = [];
    if (state.events.length > keep) state.events = state.events.slice(-keep);
  }
  draw();
}

let drawn = "";
function draw() {
  const list = $("events");
  const n = state.events.length;
  list.style.height = n * ROW + "px";
  list.dataset.count = n;
  const top = Math.max(0, window.scrollY - list.offsetTop);
  const first = Math.min(n, Math.floor(top / ROW));
  const last = Math.min(n, Math.ceil((top + window.innerHeight) / ROW) + 1);
  const newest = state.events[n - 1];
  const key = first + ":" + last + ":" + n + ":" + (newest ? newest.id + newest.tag : "");
  if (key === drawn) return;
  drawn = key;
  const frag = document.createDocumentFragment();
  for (let i = first; i < last; i++) frag.appendChild(row(state.events[n - 1 - i], i));
  list.replaceChildren(frag);
}
addEventListener("scroll", () => requestAnimationFrame(draw), { passive: true });
addEventListener("resize", () => requestAnimationFrame(draw));

function updateCounts() {
  $("total").textContent = state.total + " events" +
    (state.paused && state.held.length ? " (" + state.held.length + " held)" : "");
  $("pause").textContent = state.paused ? "Resume" + (state.held.length ? " (" + state.held.length + ")" : "") : "Pause";
  const box = $("prefixes");
  for (const [p, n] of [...state.counts].sort((a, b) => b[1] - a[1])) {
    let chip = state.chips.get(p);
    if (!chip) {
      chip = document.createElement("button");
      chip.className = "chip";
      chip.type = "button";
      chip.title = "filter on " + p + "/";
      chip.append(p, document.createElement("b"));
      chip.onclick = () => { $("tag").value = p; $("matchType").value = "startswith"; restart(); };
      state.chips.set(p, chip);
    }
    chip.lastChild.textContent = n;
    box.appendChild(chip);
  }
}

function reset() {
  state.lastId = null; state.pending = []; state.held = []; state.events = []; state.total = 0;
  state.counts.clear(); state.chips.clear();
  $("prefixes").textContent = "";
  draw();
  updateCounts();
}

function restart() { reset(); connect(); }

function showLogin() {
  if (state.source) state.source.close();
  state.source = null;
  $("app").hidden = true;
  $("login").hidden = false;
}

$("login").onsubmit = async (e) => {
  e.preventDefault();
  const body = Object.fromEntries(new FormData($("login")));
  const r = await fetch("/login", { method: "POST", credentials: "same-origin",
    headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (r.status !== 200) { $("loginError").textContent = "Login failed (" + r.status + ")"; return; }
  $("loginError").textContent = "";
  start();
};
$("filter").onsubmit = (e) => { e.preventDefault(); restart(); };
$("pause").onclick = () => {
  state.paused = !state.paused;
  $("pause").classList.toggle("on", state.paused);
  if (!state.paused) render();
  updateCounts();
};
$("clear").onclick = () => { state.events = []; state.held = []; draw(); updateCounts(); };
$("keep").onchange = () => render();

function start() { $("login").hidden = true; $("app").hidden = false; connect(); }

(async () => {
  for (;;) {
    const ok = await loggedIn();
    if (ok === true) return start();
    if (ok === false) return showLogin();
    await new Promise((r) => setTimeout(r, 1000));
  }
})();
</script>
</body>
</html>
`;
