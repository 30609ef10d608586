/**
 * The HTTP API against hostile local clients (issue 10): descriptor
 * exhaustion under a low `ulimit -n` in a real `cli.ts master`, slowloris,
 * body limits, Origin checks and CORS, login throttling and login content
 * types. Everything goes over real sockets, much of it byte by byte.
 */
import assert from "node:assert/strict";
import { packEventFrame } from "../bus/event_codec.ts";
import { packData } from "../bus/msgpack.ts";
import {
  EXTERNAL_AUTH,
  launchBrowser,
  login,
  PASSWORD,
  startTestApi,
  syncHub,
  until,
} from "./api_harness.ts";
import { collect, ROOT, sleep, startTestBus } from "./harness.ts";
import { raceDeadline, TIMED_OUT } from "../bus/async.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends `request` on a new connection and reads until the server closes it (or `ms` pass). */
async function raw(
  port: number,
  request: string | Uint8Array,
  ms = 15_000,
): Promise<{ text: string; closed: boolean }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(typeof request === "string" ? encoder.encode(request) : request);
    return await readToClose(conn, ms);
  } finally {
    conn.close();
  }
}

/** Reads `conn` until the peer closes it; `closed: false` when `ms` passed first. */
async function readToClose(
  conn: Deno.Conn,
  ms: number,
): Promise<{ text: string; closed: boolean }> {
  let text = "";
  const deadline = Date.now() + ms;
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
    });
    const read = conn.read(buf).catch(() => null);
    const n = await Promise.race([read, timeout]);
    clearTimeout(timer);
    if (n === "timeout") {
      conn.close();
      await read;
      return { text, closed: false };
    }
    if (n === null) return { text, closed: true };
    text += decoder.decode(buf.subarray(0, n), { stream: true });
  }
}

/** `promise`'s value, or `null` after `ms` (the timer is always cleared). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  const value = await raceDeadline(promise, Date.now() + ms);
  return value === TIMED_OUT ? null : value;
}

function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0);
}

const FLOOD = `
const [port, count] = Deno.args.map(Number);
const connect = () => new Promise((resolve) => {
  const timer = setTimeout(() => resolve(null), 3000);
  Deno.connect({ hostname: "127.0.0.1", port }).then(
    (c) => { clearTimeout(timer); resolve(c); },
    () => { clearTimeout(timer); resolve(null); },
  );
});
const conns = [];
for (let i = 0; i < count; i += 50) {
  const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, connect));
  for (const c of batch) if (c) conns.push(c);
}
// Half-sent request heads, as slowloris sends them.
for (const c of conns) c.write(new TextEncoder().encode("GET / HTTP/1.1\\r\\nHost: x\\r\\n")).catch(() => {});
console.log("held " + conns.length);
await Deno.stdin.read(new Uint8Array(1));
for (const c of conns) { try { c.close(); } catch {} }
console.log("released");
`;

/** A child process holding `count` half-sent connections to `port` until `release()`. */
async function startFlood(port: number, count: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", FLOOD, String(port), String(count)],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const out = collect(child.stdout);
  await out.waitFor(/held \d+/, 60_000);
  const held = Number(/held (\d+)/.exec(out.text)![1]);
  const writer = child.stdin.getWriter();
  return {
    held,
    async release() {
      await writer.write(new Uint8Array([10]));
      await out.waitFor("released", 30_000);
      await writer.close().catch(() => {});
      await child.status;
      await out.done;
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await writer.close().catch(() => {});
      await child.status;
      await out.done;
    },
  };
}

/** `cli.ts master` with an `api:` block, under `ulimit -n <limit>`. */
async function startLimitedMaster(limit: number, api: Record<string, unknown>) {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-hostile-" });
  const sockDir = `${dir}/master`;
  const file = `${dir}/master.conf`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      sock_dir: sockDir,
      api: { port: 0, ...api },
      external_auth: await EXTERNAL_AUTH,
      api_token_file: "",
    }),
  );
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n ${limit} && exec "$@"`,
      "sh",
      Deno.execPath(),
      "run",
      "--quiet",
      "-A",
      `${ROOT}cli.ts`,
      "master",
      "--config",
      file,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  await stderr.waitFor(/API ready on (\S+) /, 30_000);
  const url = /API ready on (\S+) /.exec(stderr.text)![1];
  return {
    child,
    stderr,
    url,
    port: Number(new URL(url).port),
    pull: `${sockDir}/master_event_pull.ipc`,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      const status = await child.status;
      await stdout.done;
      await stderr.done;
      await Deno.remove(dir, { recursive: true });
      return status;
    },
  };
}

async function loginAt(url: string): Promise<string> {
  const res = await fetch(`${url}login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "alice", password: PASSWORD, eauth: "saltbus" }),
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.return[0].token;
}

/** Fires `tag` into the bus's pull socket until an /events stream on `url` shows it. */
async function busCarries(url: string, token: string, pull: string, tag: string): Promise<void> {
  const res = await fetch(`${url}events?token=${token}`);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = "";
  let pending = reader.read();
  try {
    for (let i = 0; !text.includes(`tag: ${tag}\n`); i++) {
      if (i > 300) throw new Error(`${tag} never came through the bus; got:\n${text}`);
      const conn = await Deno.connect({ transport: "unix", path: pull });
      await conn.write(packEventFrame(tag, packData({ i })));
      conn.close();
      const next = await within(pending, 50);
      if (next === null) continue;
      if (next.done) throw new Error("the stream ended");
      text += decoder.decode(next.value, { stream: true });
      pending = reader.read();
    }
  } finally {
    await reader.cancel().catch(() => {});
    await pending.catch(() => {});
  }
}

Deno.test({
  name:
    "cli.ts master under ulimit -n 256 keeps serving while 400 half-sent connections are held: the oldest idle ones make room",
  async fn() {
    const master = await startLimitedMaster(256, {});
    let flood: Awaited<ReturnType<typeof startFlood>> | null = null;
    try {
      flood = await startFlood(master.port, 400);
      assert.ok(flood.held > 128, `the flood holds more than api.max_connections (${flood.held})`);
      // While the flood is held, a real client still logs in and the bus still works.
      const token = await loginAt(master.url);
      await busCarries(master.url, token, master.pull, "during/flood");
      await flood.release();
      flood = null;
      await master.stderr.waitFor(/api\.max_connections 128\): closing the oldest idle ones/);
      assert.doesNotMatch(master.stderr.text, /Too many open files/);
      await busCarries(master.url, await loginAt(master.url), master.pull, "after/flood");
    } finally {
      await flood?.kill();
      const status = await master.stop();
      assert.equal(status.code, 0, master.stderr.text);
    }
  },
});

Deno.test({
  name:
    "cli.ts master under ulimit -n 256 survives EMFILE on accept: logged once, accepting resumes when descriptors free up, /login and the bus work after",
  async fn() {
    // A bound above the descriptor limit, so that accept() itself runs out.
    const master = await startLimitedMaster(256, { max_connections: 100_000 });
    let flood: Awaited<ReturnType<typeof startFlood>> | null = null;
    try {
      flood = await startFlood(master.port, 400);
      await master.stderr.waitFor(/cannot accept connections on .*Too many open files/, 30_000);
      await flood.release();
      flood = null;
      // The next connection is accepted once the flood's descriptors are released.
      const token = await loginAt(master.url);
      await master.stderr.waitFor(/accepting connections again; accepts failed for \d+ ms/, 30_000);
      const warnings = master.stderr.text.match(/cannot accept connections/g) ?? [];
      assert.equal(warnings.length, 1, `logged once per episode:\n${master.stderr.text}`);
      await busCarries(master.url, token, master.pull, "after/emfile");
      assert.equal(master.child.pid > 0, true);
    } finally {
      await flood?.kill();
      const status = await master.stop();
      assert.equal(
        status.code,
        0,
        `the master was still running and exits cleanly:\n${master.stderr.text}`,
      );
    }
  },
});

Deno.test("a half-sent request head is closed after api.request_timeout, a slow body gets 408, complete requests are served", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t, { api: { port: 0, request_timeout: 1 } });
  const started = Date.now();
  const half = await raw(api.port, "GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1");
  assert.ok(half.closed, "the server closed the connection");
  assert.equal(half.text, "", "nothing was answered to half a request");
  assert.ok(Date.now() - started >= 900, "not before request_timeout");
  const idle = await raw(api.port, "");
  assert.ok(idle.closed, "a connection that sends nothing is closed too");
  const slow = await raw(
    api.port,
    'POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user',
  );
  assert.equal(statusOf(slow.text), 408, slow.text);
  assert.ok(slow.closed);
  const ok = await raw(api.port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  assert.equal(statusOf(ok.text), 200, ok.text);
  assert.match(ok.text, /"return": "Welcome"/);
  // A keep-alive connection left idle after a response is closed as well.
  const kept = await raw(api.port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  assert.equal(statusOf(kept.text), 200);
  assert.ok(kept.closed);
});

Deno.test("/login answers 413 to a Content-Length over api.login_max_body_size before reading, and cuts a chunked body off at the limit", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t);
  // 500 MB announced, nothing sent: the answer comes at once.
  const declared = await raw(
    api.port,
    "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500000000\r\n\r\n",
  );
  assert.equal(statusOf(declared.text), 413, declared.text);
  assert.match(declared.text, /api\.login_max_body_size \(65536 bytes\)/);
  assert.ok(declared.closed, "the connection is closed instead of reading the rest");
  // Chunked: counted as it streams; the server answers 413 while the client is still sending.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: api.port });
  await conn.write(encoder.encode(
    "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
  ));
  const chunk = encoder.encode(`4000\r\n${"x".repeat(0x4000)}\r\n`);
  let sent = 0;
  const reading = readToClose(conn, 15_000);
  try {
    for (let i = 0; i < 64; i++) {
      await conn.write(chunk);
      sent += 0x4000;
    }
  } catch {
    // The server closed the connection while we were still sending.
  }
  const answer = await reading;
  conn.close();
  assert.equal(statusOf(answer.text), 413, answer.text);
  assert.ok(answer.closed);
  assert.ok(sent <= 64 * 0x4000);
  // The API is fine afterwards.
  assert.ok(await login(api));
});

Deno.test("max_request_body_size bounds every route: /logout and /hook answer 413 to declared and streamed bodies", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t, { api: { port: 0, max_request_body_size: 1000 } });
  const token = await login(api);
  const logout = await raw(
    api.port,
    `POST /logout HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: ${token}\r\nContent-Length: 1001\r\n\r\n`,
  );
  assert.equal(statusOf(logout.text), 413, logout.text);
  assert.match(logout.text, /api\.max_request_body_size \(1000 bytes\)/);
  // webhook_max_body follows max_request_body_size.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 4; i++) controller.enqueue(encoder.encode("y".repeat(400)));
      controller.close();
    },
  });
  const hook = await fetch(`${api.url}hook/big`, {
    method: "POST",
    headers: { "x-auth-token": token },
    body: stream,
  });
  assert.equal(hook.status, 413);
  assert.match((await hook.json()).return, /webhook_max_body \(1000 bytes\)/);
  const small = await fetch(`${api.url}hook/small`, {
    method: "POST",
    headers: { "x-auth-token": token },
    body: "z".repeat(1000),
  });
  assert.equal(small.status, 200);
  await small.body?.cancel();
});

Deno.test("malformed requests get a clear 4xx and a closed connection: TE with Content-Length, folded headers, oversized heads", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t);
  const both = await raw(
    api.port,
    "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  );
  assert.equal(statusOf(both.text), 400, both.text);
  assert.ok(both.closed);
  const folded = await raw(api.port, "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n");
  assert.equal(statusOf(folded.text), 400, folded.text);
  const big = await raw(
    api.port,
    `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(40_000)}\r\n\r\n`,
  );
  assert.equal(statusOf(big.text), 431, big.text.slice(0, 200));
  const gzip = await raw(
    api.port,
    "POST /hook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
  );
  assert.equal(statusOf(gzip.text), 501, gzip.text);
  const noHost = await raw(api.port, "GET / HTTP/1.1\r\n\r\n");
  assert.equal(statusOf(noHost.text), 400, noHost.text);
});

/** Opens a WebSocket with raw bytes (so that Origin can be set) and resolves the status line. */
async function upgradeStatus(port: number, path: string, headers: Record<string, string>) {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(encoder.encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${lines}\r\n`,
    ));
    const buf = new Uint8Array(4096);
    let text = "";
    while (!text.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += decoder.decode(buf.subarray(0, n));
    }
    return { status: statusOf(text), text };
  } finally {
    conn.close();
  }
}

Deno.test("WebSocket upgrades from another origin are refused with 403; the API's own origin and clients without Origin get 101", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t);
  const token = await login(api);
  const own = `http://127.0.0.1:${api.port}`;
  const foreign = await upgradeStatus(api.port, `/ws/${token}`, {
    Origin: "http://127.0.0.1:9999",
  });
  assert.equal(foreign.status, 403, foreign.text);
  assert.match(foreign.text, /origin http:\/\/127\.0\.0\.1:9999 is not allowed/);
  const viaCookie = await upgradeStatus(api.port, "/ws", {
    Origin: "http://localhost:9999",
    Cookie: `session_id=${token}`,
  });
  assert.equal(viaCookie.status, 403);
  assert.equal((await upgradeStatus(api.port, `/ws/${token}`, { Origin: own })).status, 101);
  assert.equal((await upgradeStatus(api.port, `/all_events/${token}`, {})).status, 101);
  assert.match(
    api.logs.join("\n"),
    /refused GET \/ws\/[0-9a-f]+ from 127\.0\.0\.1:\d+: origin http:\/\/127\.0\.0\.1:9999/,
  );
  await until("the sockets closed", () => api.streams === 0);
});

Deno.test("a POST authenticated only by the session cookie must come from an allowed origin; a token in a header works from anywhere", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t);
  const token = await login(api);
  await using listener = t.bus.getEvent();
  await syncHub(t, api);
  const post = (headers: Record<string, string>) =>
    fetch(`${api.url}hook/csrf`, { method: "POST", headers, body: "a=1" });
  const foreign = await post({ cookie: `session_id=${token}`, origin: "http://127.0.0.1:9999" });
  assert.equal(foreign.status, 403);
  await foreign.body?.cancel();
  const crossSite = await post({ cookie: `session_id=${token}`, "sec-fetch-site": "cross-site" });
  assert.equal(crossSite.status, 403, "no Origin, but the browser says cross-site");
  await crossSite.body?.cancel();
  const logout = await fetch(`${api.url}logout`, {
    method: "POST",
    headers: { cookie: `session_id=${token}`, origin: "null" },
  });
  assert.equal(logout.status, 403, "an opaque origin cannot log alice out");
  await logout.body?.cancel();
  assert.equal(
    await listener.getEvent({ tag: "salt/netapi/hook/csrf", wait: 0.3 }),
    null,
    "no hook was fired from another origin",
  );
  const own = await post({
    cookie: `session_id=${token}`,
    origin: `http://127.0.0.1:${api.port}`,
    "content-type": "application/x-www-form-urlencoded",
  });
  assert.equal(own.status, 200);
  await own.body?.cancel();
  const header = await post({
    "x-auth-token": token,
    origin: "http://127.0.0.1:9999",
    "content-type": "application/x-www-form-urlencoded",
  });
  assert.equal(
    header.status,
    200,
    "a header token cannot be sent by another origin's page without CORS",
  );
  await header.body?.cancel();
  const tool = await post({ cookie: `session_id=${token}` });
  assert.equal(tool.status, 200, "curl -b: no Origin, no Sec-Fetch-Site");
  await tool.body?.cancel();
  const events = [];
  for (let i = 0; i < 3; i++) {
    events.push(await listener.getEvent({ tag: "salt/netapi/hook/csrf", wait: 10 }));
  }
  assert.ok(events.every((e) => e !== null));
});

Deno.test("cors_origin: listed origins get rest_tornado's preflight and Access-Control-Allow-Origin; * lets tokens through, not the cookie", async () => {
  await using t = await startTestBus();
  const ui = "http://ui.example:3000";
  {
    await using api = await startTestApi(t, { api: { port: 0, cors_origin: [ui] } });
    const token = await login(api);
    const pre = await fetch(`${api.url}login`, {
      method: "OPTIONS",
      headers: {
        origin: ui,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-auth-token",
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), ui);
    assert.equal(pre.headers.get("access-control-allow-methods"), "OPTIONS, GET, POST");
    assert.equal(pre.headers.get("access-control-allow-headers"), "content-type,x-auth-token");
    assert.equal(pre.headers.get("access-control-expose-headers"), "X-Auth-Token");
    const other = await fetch(`${api.url}login`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
    });
    assert.equal(other.status, 204);
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const get = await fetch(`${api.url}login?token=${token}`, { headers: { origin: ui } });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get("access-control-allow-origin"), ui);
    assert.equal(get.headers.get("access-control-allow-credentials"), "true");
    await get.body?.cancel();
    const cookie = await fetch(`${api.url}hook/x`, {
      method: "POST",
      headers: { origin: ui, cookie: `session_id=${token}` },
      body: "{}",
    });
    assert.equal(cookie.status, 200, "a listed origin may use the cookie");
    await cookie.body?.cancel();
  }
  {
    await using api = await startTestApi(t, { api: { port: 0, cors_origin: "*" } });
    const token = await login(api);
    const withToken = await fetch(`${api.url}hook/x`, {
      method: "POST",
      headers: { origin: "http://any.example", "x-auth-token": token },
      body: "{}",
    });
    assert.equal(withToken.status, 200);
    assert.equal(withToken.headers.get("access-control-allow-origin"), "*");
    assert.equal(withToken.headers.get("access-control-allow-credentials"), null);
    await withToken.body?.cancel();
    const withCookie = await fetch(`${api.url}hook/x`, {
      method: "POST",
      headers: { origin: "http://any.example", cookie: `session_id=${token}` },
      body: "{}",
    });
    assert.equal(withCookie.status, 403, "* never covers the session cookie");
    await withCookie.body?.cancel();
    assert.equal(
      (await upgradeStatus(api.port, `/all_events/${token}`, { Origin: "http://any.example" }))
        .status,
      101,
    );
  }
});

Deno.test("a rest_cherrypy: block turns on CherryPy's CORS tool: the Origin reflected, its preflight, and still no foreign cookie", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t, { api: undefined, rest_cherrypy: { port: 0 } });
  assert.equal(api.settings.corsOrigin, "reflect");
  const ui = "http://ui.example:3000";
  const pre = await fetch(`${api.url}`, {
    method: "OPTIONS",
    headers: {
      origin: ui,
      "access-control-request-method": "POST",
      "access-control-request-headers": "x-auth-token,content-type",
    },
  });
  assert.equal(pre.status, 200);
  assert.equal(await pre.text(), "");
  assert.equal(pre.headers.get("access-control-allow-origin"), ui);
  assert.equal(pre.headers.get("access-control-allow-methods"), "GET, POST");
  assert.equal(
    pre.headers.get("access-control-allow-headers"),
    "Content-Type, X-Auth-Token, X-Requested-With",
  );
  assert.equal(pre.headers.get("access-control-max-age"), "1400");
  assert.equal(pre.headers.get("access-control-allow-credentials"), "true");
  const put = await fetch(`${api.url}`, {
    method: "OPTIONS",
    headers: { origin: ui, "access-control-request-method": "PUT" },
  });
  assert.equal(put.status, 200);
  assert.equal(put.headers.get("access-control-allow-methods"), null, "only GET and POST");
  await put.body?.cancel();
  const plain = await fetch(`${api.url}login`);
  assert.equal(plain.headers.get("access-control-allow-origin"), "*", "no Origin: *");
  assert.equal(plain.headers.get("access-control-expose-headers"), "GET, POST");
  await plain.body?.cancel();
  const token = await login(api);
  const fromUi = await fetch(`${api.url}hook/x`, {
    method: "POST",
    headers: { origin: ui, "x-auth-token": token, "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(fromUi.status, 200, "a token in X-Auth-Token works from any origin");
  assert.equal(fromUi.headers.get("access-control-allow-origin"), ui);
  await fromUi.body?.cancel();
  for (const method of ["GET", "POST"]) {
    const cookie = await fetch(`${api.url}jobs`, {
      method,
      headers: { origin: ui, cookie: `session_id=${token}` },
      ...(method === "POST" ? { body: "{}" } : {}),
    });
    assert.equal(cookie.status, 403, `a foreign page never rides the cookie (${method})`);
    assert.match((await cookie.json()).return, /only the API's own origin may/);
  }
  const own = await fetch(`${api.url}login`, {
    headers: { origin: api.url.replace(/\/$/, ""), cookie: `session_id=${token}` },
  });
  assert.equal(own.status, 200, "the API's own origin keeps the cookie");
  await own.body?.cancel();
});

Deno.test("failed logins are throttled per user and per address with growing delays, logged by a hash, never by name", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t);
  const attempt = (username: string, password: string) =>
    fetch(`${api.url}login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password, eauth: "saltbus" }),
    }).then(async (res) => ({
      status: res.status,
      retryAfter: res.headers.get("retry-after"),
      body: await res.json(),
    }));
  // 50 concurrent guesses for alice: only the free failures are checked.
  const guesses = await Promise.all(
    Array.from({ length: 50 }, (_, i) => attempt("alice", `guess${i}`)),
  );
  const checked = guesses.filter((g) => g.status === 401).length;
  const throttled = guesses.filter((g) => g.status === 429);
  assert.equal(checked, 5, `5 failures allowed, got ${checked} checked`);
  assert.equal(throttled.length, 45);
  assert.ok(throttled.every((g) => Number(g.retryAfter) >= 1));
  assert.match(throttled[0].body.return, /Too many failed logins; try again in \d+ s/);
  // Even the right password waits out the delay.
  const early = await attempt("alice", PASSWORD);
  assert.equal(early.status, 429);
  assert.match(
    api.logs.join("\n"),
    /warning: API: 5 failed logins in a row for user #[0-9a-f]{8}; refusing logins from it for 1 s/,
  );
  await sleep(1100);
  const late = await attempt("alice", PASSWORD);
  assert.equal(late.status, 200, JSON.stringify(late.body));
  // A password typed into the user field never reaches the log.
  const typo = await attempt("hunter2-secret", "x");
  assert.equal(typo.status, 401);
  const logs = api.logs.join("\n");
  assert.ok(!logs.includes("hunter2"), logs);
  assert.match(logs, /failed login for user #[0-9a-f]{8} \(unknown\) from 127\.0\.0\.1/);
});

Deno.test("failed logins for many user names from one address lock the address", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t, { api: { port: 0, login_failures_allowed: 3 } });
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await fetch(`${api.url}login`, {
      method: "POST",
      body: new URLSearchParams({ username: `spray${i}`, password: "x", eauth: "saltbus" }),
    });
    statuses.push(res.status);
    await res.body?.cancel();
  }
  assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
  assert.match(api.logs.join("\n"), /3 failed logins in a row for address 127\.0\.0\.1/);
});

Deno.test("/login takes salt-api's content types only: JSON, form, YAML; text/plain, multipart and none get 406", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t);
  const post = (type: string | null, body: string | FormData) =>
    fetch(`${api.url}login`, {
      method: "POST",
      headers: type === null ? {} : { "content-type": type },
      body,
    });
  const creds = { username: "alice", password: PASSWORD, eauth: "saltbus" };
  const yaml = `username: alice\npassword: "${PASSWORD}"\neauth: saltbus\n`;
  for (
    const [type, body] of [
      ["application/json", JSON.stringify(creds)],
      ["application/json; charset=utf-8", JSON.stringify(creds)],
      ["application/x-www-form-urlencoded", new URLSearchParams(creds).toString()],
      ["application/x-yaml", yaml],
      ["text/yaml", yaml],
    ] as const
  ) {
    const res = await post(type, body);
    assert.equal(res.status, 200, type);
    await res.body?.cancel();
  }
  const form = new FormData();
  for (const [k, v] of Object.entries(creds)) form.set(k, v);
  const refused = [
    await post("text/plain", JSON.stringify(creds)),
    await post(null, new Blob([JSON.stringify(creds)]) as unknown as string),
    await fetch(`${api.url}login`, { method: "POST", body: form }),
  ];
  for (const res of refused) {
    assert.equal(res.status, 406);
    assert.match((await res.json()).return, /^Content type not supported/);
  }
  const badJson = await post("application/json", "{");
  assert.equal(badJson.status, 400);
  assert.equal((await badJson.json()).return, "Invalid JSON document");
  const badYaml = await post("application/x-yaml", "a: [");
  assert.equal(badYaml.status, 400);
  assert.equal((await badYaml.json()).return, "Invalid YAML document");
});

Deno.test({
  name:
    "in a real browser, a page on another local port gets neither alice's events over WebSocket nor a hook fired with her cookie",
  async fn() {
    await using t = await startTestBus();
    await using api = await startTestApi(t);
    await using listener = t.bus.getEvent();
    await syncHub(t, api);
    const apiOrigin = `http://127.0.0.1:${api.port}`;
    const attacker = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        new Response(
          `<!doctype html><script>
        window.result = new Promise((resolve) => {
          fetch(${JSON.stringify(`${apiOrigin}/hook/stolen`)},
            { method: "POST", mode: "no-cors", credentials: "include", body: "a=1" }).catch(() => {});
          const ws = new WebSocket(${JSON.stringify(`ws://127.0.0.1:${api.port}/ws`)});
          ws.onopen = () => { ws.send("websocket client ready"); };
          ws.onmessage = (e) => resolve("got " + e.data);
          ws.onerror = () => resolve("refused");
          setTimeout(() => resolve("timeout"), 5000);
        });
        </script>`,
          { headers: { "content-type": "text/html" } },
        ),
    );
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      // alice logs in on the API's own page: the session cookie is set.
      await page.goto(api.url);
      const status = await page.evaluate(
        `fetch("/login", { method: "POST", credentials: "same-origin",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "alice", password: ${
          JSON.stringify(PASSWORD)
        }, eauth: "saltbus" }) })
          .then((r) => r.status)`,
      );
      assert.equal(status, 200);
      await page.goto(`http://127.0.0.1:${attacker.addr.port}/`);
      const result = await page.evaluate("window.result");
      assert.equal(result, "refused");
      assert.equal(await listener.getEvent({ tag: "salt/netapi/hook/stolen", wait: 1 }), null);
      assert.match(
        api.logs.join("\n"),
        /refused POST \/hook\/stolen .*origin http:\/\/127\.0\.0\.1:\d+ is not allowed to use the session cookie/,
      );
    } finally {
      await browser.close();
      await attacker.shutdown();
    }
  },
});

Deno.test({
  name:
    "in a real browser with a rest_cherrypy: block, a page on another port logs in and fires a hook with X-Auth-Token through the preflight",
  async fn() {
    await using t = await startTestBus();
    await using api = await startTestApi(t, { api: undefined, rest_cherrypy: { port: 0 } });
    await using listener = t.bus.getEvent();
    await syncHub(t, api);
    const apiOrigin = `http://127.0.0.1:${api.port}`;
    const ui = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        new Response(
          `<!doctype html><script>
        window.result = (async () => {
          const login = await fetch(${JSON.stringify(`${apiOrigin}/login`)}, {
            method: "POST",
            headers: { "content-type": "application/json", accept: "application/json" },
            body: JSON.stringify({ username: "alice", password: ${
            JSON.stringify(PASSWORD)
          }, eauth: "saltbus" }),
          });
          const token = (await login.json()).return[0].token;
          const hook = await fetch(${JSON.stringify(`${apiOrigin}/hook/from/ui`)}, {
            method: "POST",
            headers: { "x-auth-token": token, "content-type": "application/json" },
            body: JSON.stringify({ fired: "cross-origin" }),
          });
          return [login.status, hook.status, (await hook.json()).success].join(" ");
        })().catch((e) => "failed: " + e);
        </script>`,
          { headers: { "content-type": "text/html" } },
        ),
    );
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${ui.addr.port}/`);
      assert.equal(await page.evaluate("window.result"), "200 200 true");
      const event = await listener.getEvent({ tag: "salt/netapi/hook/from/ui", wait: 5 });
      assert.ok(event !== null, "the hook reached the bus");
      assert.match(JSON.stringify(event), /"fired":"cross-origin"/);
    } finally {
      await browser.close();
      await ui.shutdown();
    }
  },
});
