/**
 * The HTTP API over real HTTP on a real bus: salt-api's exact /events bytes
 * (through curl as a real process), login and the 401 cases, expiry,
 * resume, filters, slow clients, WebSockets, webhooks and TLS.
 */
import assert from "node:assert/strict";
import {
  fireRaw,
  login,
  PASSWORD,
  readSse,
  STAMP,
  startTestApi,
  syncHub,
  until,
} from "./api_harness.ts";
import { collect, sleep, startTestBus } from "./harness.ts";

const EVENT_BYTES = (tag: string, dataJson: string, id: number) =>
  `tag: ${tag}\ndata: {"data": ${dataJson}, "tag": "${tag}"}\nid: ${id}\n\n`;

/** Runs curl (a real process) with `args`; stdout collected. */
function curl(args: string[]) {
  const child = new Deno.Command("curl", { args, stdout: "piped", stderr: "piped" }).spawn();
  return { child, stdout: collect(child.stdout), stderr: collect(child.stderr) };
}

Deno.test("curl -N /events gets salt-api's exact bytes, with an id line per event", async () => {
  await using t = await startTestBus();
  const api = await startTestApi(t);
  try {
    const token = await login(api);
    await syncHub(t, api); // id 1
    const c = curl(["-sN", `${api.url}events?token=${token}`]);
    await c.stdout.waitFor("retry: 400\n");
    await until("the stream to attach", () => api.hub.clients === 1);
    await fireRaw(t, "salt/auth", { a: 1, _stamp: STAMP });
    await fireRaw(t, "my/tag", { z: [1, "é", null], b: { t: true }, _stamp: STAMP });
    // Data JSON cannot carry: bytes, a bigint, a date.
    await fireRaw(t, "odd/data", {
      raw: new Uint8Array([0x68, 0x69, 0xff]),
      big: 2n ** 63n,
      when: new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 789)),
    });
    // A normal fireEvent (another publisher: wait for the others first); its
    // stamp is replaced below.
    await c.stdout.waitFor("id: 4\n\n");
    const ev = t.bus.getEvent({ listen: false });
    await ev.fireEvent({ n: 1 }, "salt/job/1/new");
    await ev.close();
    await c.stdout.waitFor("id: 5\n\n");
    await api.close();
    assert.equal((await c.child.status).code, 0);
    await c.stdout.done;
    await c.stderr.done;
    const text = c.stdout.text.replace(
      /"_stamp": "[0-9T:.-]+"}, "tag": "salt\/job/,
      `"_stamp": "${STAMP}"}, "tag": "salt/job`,
    );
    assert.equal(
      text,
      "retry: 400\n" +
        EVENT_BYTES("salt/auth", `{"a": 1, "_stamp": "${STAMP}"}`, 2) +
        EVENT_BYTES("my/tag", `{"z": [1, "é", null], "b": {"t": true}, "_stamp": "${STAMP}"}`, 3) +
        EVENT_BYTES(
          "odd/data",
          `{"raw": "hi\ufffd", "big": 9223372036854775808, "when": "2024-05-01T12:34:56.789000"}`,
          4,
        ) +
        EVENT_BYTES("salt/job/1/new", `{"n": 1, "_stamp": "${STAMP}"}`, 5),
    );
  } finally {
    await api.close();
  }
});

Deno.test("Salt's documented consumers work unchanged: curl | awk by tag, and a Python line reader", async () => {
  await using t = await startTestBus();
  const api = await startTestApi(t);
  try {
    const token = await login(api);
    await syncHub(t, api);
    const url = `${api.url}events?token=${token}`;
    // rest_cherrypy's docstring recipe: records split on blank lines, the tag on the first line.
    const awk = new Deno.Command("sh", {
      args: [
        "-c",
        `curl -NsS '${url}' | awk 'BEGIN { RS=""; FS="\\n" } $1 ~ /^tag: salt\\/job\\/[0-9]+\\/new$/ { print $0 }'`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const python = new Deno.Command("python3", {
      args: [
        "-c",
        `import json, sys, urllib.request
for line in urllib.request.urlopen(sys.argv[1]):
    line = line.decode("utf-8")
    if line.startswith("data: "):
        event = json.loads(line[6:])
        print(event["tag"], event["data"]["n"], flush=True)`,
        url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = collect(python.stdout);
    const err = collect(python.stderr);
    await until("both consumers to connect", () => api.hub.clients === 2);
    // As with salt-api, the first record also holds the `retry: 400` line, so
    // the awk recipe cannot match the first event: let it be another one.
    await fireRaw(t, "salt/auth", { n: 0, _stamp: STAMP });
    await fireRaw(t, "salt/job/20240501/new", { n: 1, _stamp: STAMP });
    await fireRaw(t, "salt/job/20240501/ret/web1", { n: 2, _stamp: STAMP });
    await fireRaw(t, "salt/job/20240502/new", { n: 3, _stamp: STAMP });
    await out.waitFor("salt/job/20240502/new 3\n");
    await api.close(); // ends the streams: curl, awk and Python finish
    const awkOut = new TextDecoder().decode((await awk.output()).stdout);
    await python.status;
    await err.done;
    assert.equal(
      out.text,
      "salt/auth 0\nsalt/job/20240501/new 1\nsalt/job/20240501/ret/web1 2\nsalt/job/20240502/new 3\n",
    );
    assert.equal(
      awkOut,
      `tag: salt/job/20240501/new\ndata: {"data": {"n": 1, "_stamp": "${STAMP}"}, "tag": "salt/job/20240501/new"}\nid: 3\n` +
        `tag: salt/job/20240502/new\ndata: {"data": {"n": 3, "_stamp": "${STAMP}"}, "tag": "salt/job/20240502/new"}\nid: 5\n`,
    );
  } finally {
    await api.close();
  }
});

Deno.test("/events answers 401 with JSON for a missing, malformed, unknown, expired or logged-out token", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t, { token_expire: 0.5 });
  const status = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${api.url}${path}`, init);
    const body = await res.text();
    return { status: res.status, type: res.headers.get("content-type"), body };
  };
  const unauthorized = {
    status: 401,
    type: "application/json",
    body: `{"status": 401, "return": "Please log in"}`,
  };
  assert.deepEqual(await status("events"), unauthorized);
  assert.deepEqual(await status("events?token=not-hex"), unauthorized);
  assert.deepEqual(await status(`events?token=${"ab".repeat(32)}`), unauthorized);
  const expiring = await login(api);
  await sleep(600);
  assert.deepEqual(await status(`events?token=${expiring}`), unauthorized);
  const token = await login(api);
  const out = await status("logout", { method: "POST", headers: { "x-auth-token": token } });
  assert.equal(out.status, 200);
  assert.deepEqual(JSON.parse(out.body), { return: "Your token has been cleared" });
  assert.deepEqual(await status(`events?salt_token=${token}`), unauthorized);
  // Bad credentials.
  const bad = await fetch(`${api.url}login`, {
    method: "POST",
    body: new URLSearchParams({ username: "alice", password: "wrong", eauth: "saltbus" }),
  });
  assert.equal(bad.status, 401);
  assert.deepEqual(await bad.json(), {
    status: 401,
    return: "Could not authenticate using provided credentials",
  });
  const unknown = await fetch(`${api.url}login`, {
    method: "POST",
    body: new URLSearchParams({ username: "mallory", password: PASSWORD, eauth: "saltbus" }),
  });
  assert.equal(unknown.status, 401);
  await unknown.body?.cancel();
  assert.ok(
    !api.logs.some((l) => l.includes(token) || l.includes(expiring)),
    "tokens never logged",
  );
});

Deno.test("POST /login answers salt-api's shape; the token works as header, query and cookie", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t);
  const res = await fetch(`${api.url}login`, {
    method: "POST",
    body: new URLSearchParams({ username: "alice", password: PASSWORD, eauth: "saltbus" }),
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ["return"]);
  const info = body.return[0];
  assert.deepEqual(Object.keys(info), ["token", "start", "expire", "user", "eauth", "perms"]);
  assert.match(info.token, /^[0-9a-f]{64}$/);
  assert.equal(info.user, "alice");
  assert.equal(info.eauth, "saltbus");
  assert.deepEqual(info.perms, [".*", "@runner", "@wheel"]);
  assert.equal(Math.round(info.expire - info.start), 43200);
  assert.equal(res.headers.get("x-auth-token"), info.token);
  assert.match(
    res.headers.get("set-cookie")!,
    new RegExp(`^session_id=${info.token}; Path=/; HttpOnly`),
  );
  for (
    const init of [
      { headers: { "x-auth-token": info.token } },
      { headers: { cookie: `session_id=${info.token}` } },
    ] as RequestInit[]
  ) {
    const stream = await fetch(`${api.url}events`, init);
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get("content-type"), "text/event-stream;charset=utf-8");
    assert.equal(stream.headers.get("cache-control"), "no-cache");
    assert.equal(await readSse(stream, (text) => text.length >= 11), "retry: 400\n");
  }
  const stream = await fetch(`${api.url}events?token=${info.token}`);
  assert.equal(await readSse(stream, (text) => text.length >= 11), "retry: 400\n");
});

Deno.test("streams end when the token expires: SSE and WebSocket, idle or not; quiet streams get keep-alives", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t, { token_expire: 1.5, api_keepalive: 1 });
  const token = await login(api);
  // Idle: ends at expiry by its timer, after a keep-alive comment.
  const idle = await fetch(`${api.url}events?token=${token}`);
  const ws = new WebSocket(`${api.url.replace(/^http/, "ws")}all_events/${token}`);
  const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
  const text = await readSse(idle, () => false);
  assert.equal(text, "retry: 400\n: keep-alive\n\n");
  assert.equal((await closed).code, 1008);
  await until("the streams to be forgotten", () => api.streams === 0);
  // With events: nothing fired after the expiry is sent.
  const busy = await login(api);
  await syncHub(t, api);
  const stream = await fetch(`${api.url}events?token=${busy}`);
  const reading = readSse(stream, () => false);
  await until("the stream to attach", () => api.hub.clients === 1);
  await fireRaw(t, "before", { _stamp: STAMP });
  await sleep(1600);
  await fireRaw(t, "after", { _stamp: STAMP });
  const got = await reading;
  assert.match(got, /^retry: 400\ntag: before\n/);
  assert.ok(!got.includes("tag: after"), got);
});

Deno.test("Last-Event-ID and ?since= resume with everything still in the history; older ids get a missed notice", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t, { api_history_size: 4 });
  const token = await login(api);
  await syncHub(t, api); // id 1
  for (let i = 2; i <= 6; i++) await fireRaw(t, `n/${i}`, { i, _stamp: STAMP });
  await until("6 events", () => api.hub.history.lastId === 6);
  const ids = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

  const resumed = await fetch(`${api.url}events?token=${token}`, {
    headers: { "last-event-id": "3" },
  });
  const text = await readSse(resumed, (s) => s.includes("id: 6\n"));
  assert.deepEqual(ids(text), [4, 5, 6]);
  assert.ok(text.startsWith("retry: 400\ntag: n/4\n"), text);

  const since = await fetch(`${api.url}events?token=${token}&since=0`);
  const text2 = await readSse(since, (s) => s.includes("id: 6\n"));
  assert.deepEqual(ids(text2), [3, 4, 5, 6]);
  const missed =
    /^data: (.*)$/m.exec(text2.split("\n\n")[0].split("tag: saltbus/api/missed\n")[1])![1];
  const notice = JSON.parse(missed);
  assert.equal(notice.tag, "saltbus/api/missed");
  assert.equal(notice.data.missed, 2);
  assert.equal(notice.data.oldest, 3);

  // An id from an earlier run of the API (higher than any given here).
  const later = await fetch(`${api.url}events?token=${token}`, {
    headers: { "last-event-id": "99" },
  });
  const text3 = await readSse(later, (s) => s.includes("id: 6\n"));
  assert.match(text3, /"missed": null/);
  assert.deepEqual(ids(text3), [3, 4, 5, 6]);

  // Live events continue after the replay, nothing lost or doubled.
  const live = await fetch(`${api.url}events?token=${token}&since=5`);
  const reading = readSse(live, (s) => s.includes("id: 8\n"));
  await until("the stream to attach", () => api.hub.clients === 1);
  await fireRaw(t, "n/7", { _stamp: STAMP });
  await fireRaw(t, "n/8", { _stamp: STAMP });
  assert.deepEqual(ids(await reading), [6, 7, 8]);
  const bad = await fetch(`${api.url}events?token=${token}&since=abc`);
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).return, /must be an event id/);
});

Deno.test("Last-Event-ID resumes across an API restart from api_history_file; ids are durable and a history too short sends the missed notice", async () => {
  await using t = await startTestBus();
  const ids = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  const tags = (text: string) => [...text.matchAll(/^tag: (n\/\d+)$/gm)].map((m) => m[1]);
  let lastSeen: number;
  {
    await using api = await startTestApi(t, { api_history_size: 5 });
    assert.equal(api.hub.history.journal !== null, true, "the job cache is on: durable ids");
    await syncHub(t, api);
    for (let i = 1; i <= 6; i++) await fireRaw(t, `n/${i}`, { i, _stamp: STAMP });
    await until("6 events after the sync", () => api.hub.history.lastId >= 7);
    lastSeen = api.hub.history.lastId;
  }
  {
    await using api = await startTestApi(t, { api_history_size: 5 });
    assert.equal(api.hub.history.lastId, lastSeen, "ids continue from the file");
    const token = await login(api);
    // A client that saw up to n/3 (three events before the newest three).
    const resumed = await fetch(`${api.url}events?token=${token}`, {
      headers: { "last-event-id": String(lastSeen - 3) },
    });
    const reading = readSse(resumed, (s) => s.includes("tag: n/7\n"));
    await until("the stream to attach", () => api.hub.clients === 1);
    await fireRaw(t, "n/7", { _stamp: STAMP });
    const text = await reading;
    assert.ok(!text.includes("saltbus/api/missed"), text);
    assert.deepEqual(tags(text), ["n/4", "n/5", "n/6", "n/7"]);
    assert.deepEqual(ids(text), [lastSeen - 2, lastSeen - 1, lastSeen, lastSeen + 1]);
    // From the start: more than the 5 kept events are gone.
    const old = await fetch(`${api.url}events?token=${token}&since=0`);
    const text2 = await readSse(old, (s) => s.includes("tag: n/7\n"));
    const notice = JSON.parse(/^data: (.*)$/m.exec(text2)![1]);
    assert.equal(notice.tag, "saltbus/api/missed");
    assert.equal(notice.data.missed, lastSeen + 1 - 5);
    assert.deepEqual(tags(text2), ["n/3", "n/4", "n/5", "n/6", "n/7"], "the 5 newest");
    // A second API on the same file runs without it, and says so.
    await using second = await startTestApi(t, { api_history_size: 5 });
    assert.equal(second.hub.history.journal, null);
    assert.match(second.logs.join("\n"), /cannot open api_history_file .*another API/);
  }
});

Deno.test("api_history_file: false (or job_cache: false) keeps the history in memory only", async () => {
  await using t = await startTestBus();
  await using a = await startTestApi(t, { api_history_file: false });
  assert.equal(a.hub.history.journal, null);
  await using b = await startTestApi(t, { job_cache: false });
  assert.equal(b.hub.history.journal, null);
});

Deno.test("?tag=&match_type= filters on the server, live and on replay", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t);
  const token = await login(api);
  await syncHub(t, api);
  const url = `${api.url}events?token=${token}&tag=${
    encodeURIComponent("salt/job/*/ret/*")
  }&match_type=fnmatch`;
  const res = await fetch(url);
  const reading = readSse(res, (s) => s.includes("web2"));
  await until("the stream to attach", () => api.hub.clients === 1);
  await fireRaw(t, "salt/job/1/new", { _stamp: STAMP });
  await fireRaw(t, "salt/job/1/ret/web1", { _stamp: STAMP });
  await fireRaw(t, "other", { _stamp: STAMP });
  await fireRaw(t, "salt/job/1/ret/web2", { _stamp: STAMP });
  const tags = (text: string) => [...text.matchAll(/^tag: (.*)$/gm)].map((m) => m[1]);
  assert.deepEqual(tags(await reading), ["salt/job/1/ret/web1", "salt/job/1/ret/web2"]);
  const replay = await fetch(
    `${api.url}events?token=${token}&since=0&tag=salt/job/1/&match_type=startswith`,
  );
  assert.deepEqual(
    tags(await readSse(replay, (s) => s.includes("web2"))),
    ["salt/job/1/new", "salt/job/1/ret/web1", "salt/job/1/ret/web2"],
  );
  const bad = await fetch(`${api.url}events?token=${token}&tag=x&match_type=glob`);
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).return, /match_type must be one of/);
});

Deno.test("a client over api_client_buffer is dropped with a notice; the others and the bus carry on", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t, { api_client_buffer: 256 * 1024 });
  const token = await login(api);
  await syncHub(t, api);
  const slow = await fetch(`${api.url}events?token=${token}`);
  const fast = await fetch(`${api.url}events?token=${token}`);
  await until("two streams", () => api.hub.clients === 2);
  const reader = fast.body!.getReader();
  const decoder = new TextDecoder();
  const needle = "\ntag: fill\n";
  let carry = "";
  let received = 0;
  let last = false;
  const pump = (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      const text = carry + decoder.decode(r.value, { stream: true });
      received += text.split(needle).length - 1;
      last ||= text.includes("\ntag: last\n");
      carry = text.slice(-(needle.length - 1));
    }
  })();
  // 20 MB in windows of 20 events that the fast client keeps up with: more
  // than the kernel's socket buffers can hide for the client that never reads.
  const ev = t.bus.getEvent({ listen: false });
  const filler = "x".repeat(2000);
  const total = 10_000;
  for (let i = 0; i < total; i += 20) {
    for (let j = i; j < i + 20; j++) await ev.fireEvent({ j, filler }, "fill");
    await until("the fast client to keep up", () => received >= i);
  }
  await ev.fireEvent({}, "last");
  await ev.close();
  await until("the fast client to get everything", () => last);
  assert.equal(received, total);
  await until("the slow client to be dropped", () => api.hub.clients === 1);
  assert.ok(api.logs.some((l) => l.includes("dropping /events client")), api.logs.join("\n"));
  await reader.cancel();
  await pump;
  // The slow client finds the notice at the end of what was queued for it.
  const slowText = await readSse(slow, () => false, 30_000);
  assert.match(slowText, /tag: saltbus\/api\/dropped\ndata: \{"data": \{"reason": /);
  assert.ok(slowText.endsWith("\n\n"));
});

Deno.test("WebSockets: /ws/<token> (cherrypy), /all_events/<token> (tornado), ?format_events", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t);
  const token = await login(api);
  await syncHub(t, api);
  const wsUrl = api.url.replace(/^http/, "ws");

  const open = async (path: string) => {
    const ws = new WebSocket(`${wsUrl}${path}`);
    const messages: string[] = [];
    ws.onmessage = (e) => messages.push(e.data);
    const closed = new Promise<void>((resolve) => (ws.onclose = () => resolve()));
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    ws.send("websocket client ready");
    return { ws, messages, closed };
  };
  const cherry = await open(`ws/${token}`);
  const tornado = await open(`all_events/${token}`);
  const formatted = await open(`ws/${token}?format_events`);
  await until("three sockets streaming", () => api.hub.clients === 3);
  await fireRaw(t, "salt/job/20240501/new", {
    jid: "20240501",
    minions: ["web1"],
    fun: "test.ping",
    tgt: "*",
    tgt_type: "glob",
    _stamp: STAMP,
  });
  await fireRaw(t, "salt/job/20240501/ret/web1", {
    fun: "test.ping",
    return: true,
    retcode: 0,
    success: true,
    _stamp: STAMP,
  });
  await until(
    "the messages",
    () =>
      cherry.messages.length === 3 && tornado.messages.length === 2 &&
      formatted.messages.length === 3,
  );
  assert.equal(cherry.messages[0], "server received message");
  assert.equal(
    cherry.messages[1],
    `data: {"data": {"jid": "20240501", "minions": ["web1"], "fun": "test.ping", "tgt": "*", "tgt_type": "glob", "_stamp": "${STAMP}"}, "tag": "salt/job/20240501/new"}\n\n`,
  );
  assert.equal(
    tornado.messages[1],
    `{"data": {"fun": "test.ping", "return": true, "retcode": 0, "success": true, "_stamp": "${STAMP}"}, "tag": "salt/job/20240501/ret/web1"}`,
  );
  assert.ok(formatted.messages[2].endsWith("\n\n"));
  assert.deepEqual(JSON.parse(formatted.messages[2]), {
    jobs: {
      "20240501": {
        jid: "20240501",
        start_time: STAMP,
        minions: { web1: { success: true, return: true, retcode: 0 } },
        fun: "test.ping",
        tgt: "*",
        tgt_type: "glob",
        state: "complete",
      },
    },
  });
  // A bad token never upgrades.
  const refused = await fetch(`${api.url}all_events/${"0".repeat(64)}`, {
    headers: { upgrade: "websocket" },
  });
  assert.equal(refused.status, 401);
  await refused.body?.cancel();
  for (const s of [cherry, tornado, formatted]) {
    s.ws.close();
    await s.closed;
  }
});

Deno.test("POST /hook/<path> fires salt/netapi/hook/<path> with body, post and headers; 401 and 413", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t, { webhook_max_body: 100 });
  const token = await login(api);
  await using listener = t.bus.getEvent();
  await syncHub(t, api);
  const res = await fetch(`${api.url}hook/github/push`, {
    method: "POST",
    headers: {
      "x-auth-token": token,
      "content-type": "application/json",
      "x-github-event": "push",
    },
    body: `{"ref": "main"}`,
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { success: true });
  const event = await listener.getEvent({
    tag: "salt/netapi/hook/github/push",
    full: true,
    wait: 10,
  });
  assert.ok(event);
  const data = event.data as Record<string, unknown>;
  assert.equal(data.body, `{"ref": "main"}`);
  assert.deepEqual(data.post, { ref: "main" });
  const headers = data.headers as Record<string, string>;
  assert.equal(headers["X-Github-Event"], "push");
  assert.equal(headers["Content-Type"], "application/json");
  assert.equal(headers["X-Auth-Token"], undefined, "the token never reaches the bus");

  const noAuth = await fetch(`${api.url}hook/x`, { method: "POST", body: "a=1" });
  assert.equal(noAuth.status, 401);
  await noAuth.body?.cancel();
  const big = await fetch(`${api.url}hook/x`, {
    method: "POST",
    headers: { "x-auth-token": token },
    body: "x".repeat(101),
  });
  assert.equal(big.status, 413);
  await big.body?.cancel();
});

Deno.test("webhook_disable_auth accepts hooks without a token; forms are parsed into post", async () => {
  await using t = await startTestBus();
  await using api = await startTestApi(t, { webhook_disable_auth: true });
  await using listener = t.bus.getEvent();
  await syncHub(t, api);
  const res = await fetch(`${api.url}hook`, {
    method: "POST",
    body: new URLSearchParams("a=1&a=2&b=x"),
  });
  assert.deepEqual(await res.json(), { success: true });
  const data = await listener.getEvent({
    tag: "salt/netapi/hook",
    matchType: "endswith",
    wait: 10,
  });
  assert.deepEqual(data?.post, { a: ["1", "2"], b: "x" });
});

Deno.test("TLS: a self-signed certificate made in the test, curl -k logs in and streams; disable_ssl", async () => {
  await using t = await startTestBus();
  const dir = await Deno.makeTempDir({ prefix: "saltbus-tls-" });
  try {
    const made = await new Deno.Command("openssl", {
      args: [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
        ...[
          "-keyout",
          `${dir}/key.pem`,
          "-out",
          `${dir}/cert.pem`,
          "-days",
          "1",
          "-subj",
          "/CN=localhost",
        ],
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    await using api = await startTestApi(t, {
      api: { port: 0, ssl_crt: `${dir}/cert.pem`, ssl_key: `${dir}/key.pem` },
    });
    assert.match(api.url, /^https:/);
    const loginOut = await new Deno.Command("curl", {
      args: [
        "-sk",
        `${api.url}login`,
        "-H",
        "Accept: application/json",
        "-d",
        "username=alice",
        "-d",
        `password=${PASSWORD}`,
        "-d",
        "eauth=saltbus",
      ],
    }).output();
    const token = JSON.parse(new TextDecoder().decode(loginOut.stdout)).return[0].token;
    await syncHub(t, api);
    const c = curl(["-skN", `${api.url}events?token=${token}`]);
    await c.stdout.waitFor("retry: 400\n");
    await until("the stream to attach", () => api.hub.clients === 1);
    await fireRaw(t, "salt/auth", { a: 1, _stamp: STAMP });
    await c.stdout.waitFor("\n\n");
    await api.close();
    await c.child.status;
    await c.stdout.done;
    await c.stderr.done;
    assert.equal(
      c.stdout.text,
      "retry: 400\n" + EVENT_BYTES("salt/auth", `{"a": 1, "_stamp": "${STAMP}"}`, 2),
    );
    // disable_ssl: plain HTTP although a certificate is configured.
    await using plain = await startTestApi(t, {
      api: { port: 0, ssl_crt: `${dir}/cert.pem`, ssl_key: `${dir}/key.pem`, disable_ssl: true },
    });
    assert.match(plain.url, /^http:/);
    const res = await fetch(`${plain.url}events`);
    assert.equal(res.status, 401);
    await res.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
