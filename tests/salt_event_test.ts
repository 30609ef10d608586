/**
 * Salt's own event tests (salt-spec §9.1, §9.2), ported to a real saltbus
 * broker: socket clients first, then the core cases once more through the
 * in-process actors (MessagePorts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { EventClient } from "../bus/event_client.ts";
import { encodeFrame } from "../bus/frame.ts";
import { sleep, startTestBus, type TestBus } from "./harness.ts";

/** A socket client whose listening side is connected (so nothing fired later is missed). */
async function listener(t: TestBus, opts?: Record<string, unknown>): Promise<EventClient> {
  const ev = t.client(opts ? { opts } : {});
  assert.equal(await ev.connected(2), true, "listener connected");
  return ev;
}

/** Salt's `_assert_got_event`: not null and every expected key equal (extra keys ignored). */
function assertGotEvent(evt: unknown, expected: Record<string, unknown>): void {
  assert.notEqual(evt, null);
  assert.equal(typeof evt, "object");
  const got = evt as Record<string, unknown>;
  for (const [key, value] of Object.entries(expected)) {
    assert.ok(key in got, `event has key ${key}`);
    assert.deepEqual(got[key], value);
  }
}

/** Salt's `_assert_got_event(..., expected_failure=True)`: the values differ. */
function assertGotEventDiffers(evt: unknown, expected: Record<string, unknown>): void {
  assert.notEqual(evt, null);
  const got = evt as Record<string, unknown>;
  for (const [key, value] of Object.entries(expected)) assert.notDeepEqual(got[key], value);
}

const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/;

// ------------------------------------------------------------ socket paths

Deno.test("test_master_event: a master bus listens on master_event_pub.ipc / master_event_pull.ipc", async () => {
  await using t = await startTestBus();
  assert.equal(t.bus.paths.pub, join(t.sockDir, "master_event_pub.ipc"));
  assert.equal(t.bus.paths.pull, join(t.sockDir, "master_event_pull.ipc"));
  assert.ok((await Deno.lstat(t.bus.paths.pub)).isSocket);
  assert.ok((await Deno.lstat(t.bus.paths.pull)).isSocket);
});

Deno.test("test_minion_event: a minion bus with id foo uses hash 2c26b46b68 and a client with id foo talks to it", async () => {
  await using t = await startTestBus({ node: "minion", config: { id: "foo" } });
  const names = [];
  for await (const entry of Deno.readDir(t.sockDir)) names.push(entry.name);
  assert.deepEqual(names.filter((name) => name.endsWith(".ipc")).sort(), [
    "minion_event_2c26b46b68_pub.ipc",
    "minion_event_2c26b46b68_pull.ipc",
  ]);
  const ev = await listener(t, { id: "foo" });
  const firer = t.client({ opts: { id: "foo" }, listen: false });
  assert.equal(await firer.fireEvent({ data: "foo1" }, "evt1"), true);
  assertGotEvent(await ev.getEvent({ wait: 2, tag: "evt1" }), { data: "foo1" });
  // A client for another minion id looks at other socket files.
  const other = t.client({ opts: { id: "bar" } });
  assert.equal(await other.connected(0.2), false);
});

Deno.test("test_minion_event_no_id: a minion bus without id hashes the empty string (e3b0c44298)", async () => {
  await using t = await startTestBus({ node: "minion" });
  assert.equal(t.bus.paths.pub, join(t.sockDir, "minion_event_e3b0c44298_pub.ipc"));
  assert.ok((await Deno.lstat(join(t.sockDir, "minion_event_e3b0c44298_pull.ipc"))).isSocket);
  const ev = await listener(t);
  await t.client({ listen: false }).fireEvent({ data: "foo1" }, "evt1");
  assertGotEvent(await ev.getEvent({ wait: 2, tag: "evt1" }), { data: "foo1" });
});

// ------------------------------------------------------------ get_event

Deno.test("test_event_single: getEvent({tag: 'evt1'}) returns the fired data", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  assert.equal(await me.fireEvent({ data: "foo1" }, "evt1"), true);
  const evt1 = await me.getEvent({ wait: 2, tag: "evt1" });
  assertGotEvent(evt1, { data: "foo1" });
  assert.match((evt1 as Record<string, string>)._stamp, STAMP);
});

Deno.test("test_event_single_no_block: noBlock returns null at once, then wait=0 gets the event", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  const start = performance.now();
  assert.equal(await me.getEvent({ wait: 0, tag: "evt1", noBlock: true }), null);
  assert.ok(performance.now() - start < 500, "noBlock did not wait");
  await me.fireEvent({ data: "foo1" }, "evt1");
  assertGotEvent(await me.getEvent({ wait: 0, tag: "evt1" }), { data: "foo1" });
});

Deno.test("test_event_single_wait_0_no_block_False: wait=0 without noBlock blocks until the event", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  await me.fireEvent({ data: "foo1" }, "evt1");
  assertGotEvent(await me.getEvent({ wait: 0, tag: "evt1", noBlock: false }), { data: "foo1" });
});

Deno.test("test_event_timeout: the second getEvent returns null after the default 5 s wait", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  await me.fireEvent({ data: "foo1" }, "evt1");
  assertGotEvent(await me.getEvent({ tag: "evt1" }), { data: "foo1" });
  const start = performance.now();
  assert.equal(await me.getEvent({ tag: "evt1" }), null);
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 4900 && elapsed < 7000, `waited ${elapsed} ms`);
});

Deno.test("test_event_no_timeout: getEvent(wait=0) blocks until another client fires", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  const other = t.client({ listen: false });
  const start = performance.now();
  const fired = sleep(1000).then(() => other.fireEvent({ data: "foo2" }, "evt2"));
  const evt = await me.getEvent({ tag: "evt2", wait: 0, noBlock: false });
  const elapsed = performance.now() - start;
  assertGotEvent(evt, { data: "foo2" });
  assert.ok(elapsed >= 950, `returned after ${elapsed} ms, before the event was fired`);
  assert.equal(await fired, true);
});

Deno.test("test_event_matching: tag 'ev' matches evt1 (startswith)", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  await me.fireEvent({ data: "foo1" }, "evt1");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "ev" }), { data: "foo1" });
});

Deno.test("test_event_matching_regex: tag '^ev' with matchType regex matches", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  await me.fireEvent({ data: "foo1" }, "evt1");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "^ev", matchType: "regex" }), { data: "foo1" });
});

Deno.test("test_event_matching_all: tag '' matches everything", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  await me.fireEvent({ data: "foo1" }, "evt1");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "" }), { data: "foo1" });
});

Deno.test("test_event_matching_all_when_tag_is_None: getEvent() without tag matches", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  await me.fireEvent({ data: "foo1" }, "evt1");
  assertGotEvent(await me.getEvent({ wait: 2 }), { data: "foo1" });
});

Deno.test("test_event_not_subscribed: an event read while waiting for another tag is dropped", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  await me.fireEvent({ data: "foo1" }, "evt1");
  await me.fireEvent({ data: "foo2" }, "evt2");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt2" }), { data: "foo2" });
  assert.equal(await me.getEvent({ wait: 0.3, tag: "evt1" }), null);
});

Deno.test("test_event_subscription_cache: a subscribed event read while waiting is kept", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  me.subscribe("evt1");
  await me.fireEvent({ data: "foo1" }, "evt1");
  await me.fireEvent({ data: "foo2" }, "evt2");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt2" }), { data: "foo2" });
  const start = performance.now();
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt1" }), { data: "foo1" });
  assert.ok(performance.now() - start < 500, "served from the cache");
});

Deno.test("test_event_subscriptions_cache_regex: a regex subscription keeps the event", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  me.subscribe("e..1$", "regex");
  await me.fireEvent({ data: "foo1" }, "evt1");
  await me.fireEvent({ data: "foo2" }, "evt2");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt2" }), { data: "foo2" });
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt1" }), { data: "foo1" });
});

Deno.test("test_event_multiple_clients: two listeners both get the event", async () => {
  await using t = await startTestBus();
  const me1 = await listener(t);
  const me2 = await listener(t);
  await me1.fireEvent({ data: "foo1" }, "evt1");
  assertGotEvent(await me1.getEvent({ wait: 2, tag: "evt1" }), { data: "foo1" });
  assertGotEvent(await me2.getEvent({ wait: 2, tag: "evt1" }), { data: "foo1" });
});

Deno.test("test_event_nested_sub_all: reads are FIFO (the first getEvent('') gets foo1)", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  await me.fireEvent({ data: "foo1" }, "evt1");
  await me.fireEvent({ data: "foo2" }, "evt2");
  const evt2 = await me.getEvent({ wait: 2, tag: "" });
  const evt1 = await me.getEvent({ wait: 2, tag: "" });
  // Salt's expected-failure assertions.
  assertGotEventDiffers(evt2, { data: "foo2" });
  assertGotEventDiffers(evt1, { data: "foo1" });
  // What it really is.
  assertGotEvent(evt2, { data: "foo1" });
  assertGotEvent(evt1, { data: "foo2" });
});

Deno.test("test_event_many: 500 fire-then-get round trips return str(i) each", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  for (let i = 0; i < 500; i++) {
    await me.fireEvent({ data: String(i) }, "testevents");
    assertGotEvent(await me.getEvent({ wait: 2, tag: "testevents" }), { data: String(i) });
  }
});

Deno.test("test_event_many_backlog: 500 fired, then 500 read in order", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  for (let i = 0; i < 500; i++) await me.fireEvent({ data: String(i) }, "testevents");
  for (let i = 0; i < 500; i++) {
    assertGotEvent(await me.getEvent({ wait: 2, tag: "testevents" }), { data: String(i) });
  }
});

Deno.test("test_send_master_event: fireMaster fires fire_master with {data, tag, events: null, pretag: null}", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  assert.equal(await me.fireMaster({ data: "foo1" }, "test_master"), true);
  const evt = await me.getEvent({ wait: 2, tag: "fire_master", full: true });
  assert.ok(evt);
  assert.equal(evt.tag, "fire_master");
  assertGotEvent(evt.data, {
    data: { data: "foo1" },
    tag: "test_master",
    events: null,
    pretag: null,
  });
  // Key order as Salt's (§2.6): tag, data, events, pretag, _stamp.
  assert.deepEqual(Object.keys(evt.data), ["tag", "data", "events", "pretag", "_stamp"]);
});

Deno.test("test_master_pub_permissions: master_event_pub.ipc is owner-only", async () => {
  await using t = await startTestBus();
  const mode = (await Deno.stat(t.bus.paths.pub)).mode! & 0o777;
  assert.equal(mode & 0o600, 0o600, "owner can read and write");
  assert.equal(mode & 0o077, 0, "group and other cannot");
});

Deno.test("test_event_unpack_with_SaltDeserializationError: an undecodable event gives null and an error log", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  await me.fireEvent({ data: "foo1" }, "evt1");
  await me.flush();
  // evt2 whose data is not msgpack (0xc1 is never valid).
  const conn = await Deno.connect({ transport: "unix", path: t.bus.paths.pull });
  try {
    await conn.write(encodeFrame(new TextEncoder().encode("evt2\n\n\xc1")));
  } finally {
    conn.close();
  }
  assertGotEvent(await me.getEvent({ wait: 2, tag: "" }), { data: "foo1" });
  assert.equal(await me.getEvent({ wait: 2, tag: "" }), null);
  assert.ok(
    t.logs.some((l) =>
      l.startsWith("error: ") && l.includes("Unable to deserialize received event")
    ),
    t.logs.join("\n"),
  );
  // The client keeps working.
  await me.fireEvent({ data: "foo3" }, "evt3");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt3" }), { data: "foo3" });
});

// ------------------------------------------------------------ §9.2 related suites

Deno.test("test_event_subscription: subscribe('') on a minion bus; the listener gets evt1 with data minus _stamp", async () => {
  await using t = await startTestBus({ node: "minion", config: { id: "minion" } });
  const me = await listener(t);
  me.subscribe("");
  await t.client({ listen: false }).fireEvent({ data: "foo1" }, "evt1");
  const evt = await me.getEvent({ wait: 2, full: true });
  assert.ok(evt);
  assert.equal(evt.tag, "evt1");
  const { _stamp, ...rest } = evt.data;
  assert.match(_stamp as string, STAMP);
  assert.deepEqual(rest, { data: "foo1" });
});

Deno.test("test_event_unsubscribe_remove_error: unsubscribe twice and for an unknown tag raises nothing", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  me.subscribe("evt1");
  me.unsubscribe("evt1");
  me.unsubscribe("evt1");
  me.unsubscribe("tag_does_not_exist");
  me.unsubscribe(null);
  // The subscription is gone: evt1 read while waiting for evt2 is dropped.
  await me.fireEvent({ data: "foo1" }, "evt1");
  await me.fireEvent({ data: "foo2" }, "evt2");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt2" }), { data: "foo2" });
  assert.equal(await me.getEvent({ wait: 0.3, tag: "evt1" }), null);
});

Deno.test("unsubscribe() drops kept events no remaining subscription matches; duplicates are removed one at a time", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  me.subscribe("evt1");
  me.subscribe("evt1");
  await me.fireEvent({ data: "foo1" }, "evt1");
  await me.fireEvent({ data: "foo2" }, "evt2");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt2" }), { data: "foo2" });
  me.unsubscribe("evt1"); // one duplicate left: still kept
  assertGotEvent(await me.getEvent({ wait: 0.3, tag: "evt1" }), { data: "foo1" });
  await me.fireEvent({ data: "foo3" }, "evt1");
  await me.fireEvent({ data: "foo4" }, "evt4");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt4" }), { data: "foo4" });
  me.unsubscribe("evt1"); // none left: the kept evt1 is discarded
  assert.equal(await me.getEvent({ wait: 0.3, tag: "evt1" }), null);
});

Deno.test("test_basic_send: {foo: 'bar', stop: true} round-trips", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  await t.client({ listen: false }).fireEvent({ foo: "bar", stop: true }, "basic");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "basic" }), { foo: "bar", stop: true });
});

Deno.test("test_send_many: 1,000 events arrive in order", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  const firer = t.client({ listen: false });
  for (let i = 0; i < 1000; i++) {
    assert.equal(await firer.fireEvent({ msg: `test_many_send_${i}` }, "many"), true);
  }
  for (let i = 0; i < 1000; i++) {
    assertGotEvent(await me.getEvent({ wait: 2, tag: "many" }), { msg: `test_many_send_${i}` });
  }
});

Deno.test("test_very_big_message: a 488,890-character string arrives intact", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  const big = Array.from({ length: 1e5 }, (_, n) => String(n)).join("");
  assert.equal(big.length, 488_890);
  await t.client({ listen: false }).fireEvent({ big }, "big");
  const evt = await me.getEvent({ wait: 5, tag: "big" });
  assert.ok(evt);
  assert.equal((evt.big as string).length, 488_890);
  assert.equal(evt.big, big);
});

Deno.test("test_multistream_sends: two clients each send 'foo'; the listener gets both", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  const a = t.client({ listen: false });
  const b = t.client({ listen: false });
  await Promise.all([
    a.fireEvent({ payload: "foo" }, "multi"),
    b.fireEvent({ payload: "foo" }, "multi"),
  ]);
  const got = [
    await me.getEvent({ wait: 2, tag: "multi" }),
    await me.getEvent({ wait: 2, tag: "multi" }),
  ];
  assert.deepEqual(got.map((e) => e?.payload), ["foo", "foo"]);
});

Deno.test("test_multistream_error_sends: null payloads are valid", async () => {
  await using t = await startTestBus();
  const me = await listener(t);
  const a = t.client({ listen: false });
  const b = t.client({ listen: false });
  for (
    const [client, from, payload] of [[a, "a", null], [b, "b", null], [a, "a", "foo"], [
      b,
      "b",
      "foo",
    ]] as const
  ) {
    await client.fireEvent({ from, payload }, "multi");
    await client.flush();
  }
  const got = [];
  for (let i = 0; i < 4; i++) got.push(await me.getEvent({ wait: 2, tag: "multi" }));
  // FIFO per publisher connection; no order promised between connections.
  for (const from of ["a", "b"]) {
    assert.deepEqual(got.filter((e) => e?.from === from).map((e) => e?.payload), [null, "foo"]);
  }
  assert.deepEqual(got.map((e) => e?.payload).sort(), ["foo", "foo", null, null]);
});

// ------------------------------------------------------------ in-process actors

Deno.test("in-process clients: test_event_single over MessagePorts", async () => {
  await using t = await startTestBus();
  await using me = t.bus.getEvent();
  assert.equal(await me.connected(2), true);
  assert.equal(await me.fireEvent({ data: "foo1" }, "evt1"), true);
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt1" }), { data: "foo1" });
});

Deno.test("in-process clients: noBlock returns null at once and a short wait times out", async () => {
  await using t = await startTestBus();
  await using me = t.bus.getEvent();
  await me.connected(2);
  let start = performance.now();
  assert.equal(await me.getEvent({ tag: "evt1", noBlock: true }), null);
  assert.ok(performance.now() - start < 500);
  start = performance.now();
  assert.equal(await me.getEvent({ tag: "evt1", wait: 0.3 }), null);
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 280 && elapsed < 1500, `waited ${elapsed} ms`);
});

Deno.test("in-process clients: not-subscribed events are dropped, subscribed ones cached", async () => {
  await using t = await startTestBus();
  await using me = t.bus.getEvent();
  await me.connected(2);
  await me.fireEvent({ data: "foo1" }, "evt1");
  await me.fireEvent({ data: "foo2" }, "evt2");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt2" }), { data: "foo2" });
  assert.equal(await me.getEvent({ wait: 0.3, tag: "evt1" }), null);

  me.subscribe("e..1$", "regex");
  await me.fireEvent({ data: "foo1" }, "evt1");
  await me.fireEvent({ data: "foo2" }, "evt2");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt2" }), { data: "foo2" });
  assertGotEvent(await me.getEvent({ wait: 2, tag: "evt1" }), { data: "foo1" });
});

Deno.test("in-process clients: FIFO reads and a 500-event backlog in order", async () => {
  await using t = await startTestBus();
  await using me = t.bus.getEvent();
  await me.connected(2);
  await me.fireEvent({ data: "foo1" }, "evt1");
  await me.fireEvent({ data: "foo2" }, "evt2");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "" }), { data: "foo1" });
  assertGotEvent(await me.getEvent({ wait: 2, tag: "" }), { data: "foo2" });
  for (let i = 0; i < 500; i++) await me.fireEvent({ data: String(i) }, "testevents");
  for (let i = 0; i < 500; i++) {
    assertGotEvent(await me.getEvent({ wait: 2, tag: "testevents" }), { data: String(i) });
  }
});

Deno.test("an in-process firer reaches a socket listener; a socket firer reaches both kinds of listener", async () => {
  await using t = await startTestBus();
  const sock = await listener(t);
  // connected() resolves when the socket connects, before the broker Worker has accepted
  // it; an in-process firer is fast enough to publish in between.
  await sleep(50);
  await using portFirer = t.bus.getEvent({ listen: false });
  await portFirer.fireEvent({ from: "port" }, "cross/port");
  assertGotEvent(await sock.getEvent({ wait: 2, tag: "cross/port" }), { from: "port" });

  await using inProc = t.bus.getEvent();
  await inProc.connected(2);
  await sleep(50); // the broker registers the new subscriber
  await t.client({ listen: false }).fireEvent({ from: "socket" }, "cross/socket");
  assertGotEvent(await sock.getEvent({ wait: 2, tag: "cross/socket" }), { from: "socket" });
  assertGotEvent(await inProc.getEvent({ wait: 2, tag: "cross/socket" }), { from: "socket" });
});

Deno.test({
  name: "two in-process listeners both get an event fired in-process",
  fn: async () => {
    await using t = await startTestBus();
    await using a = t.bus.getEvent();
    await using b = t.bus.getEvent();
    assert.equal(await a.connected(2), true);
    assert.equal(await b.connected(2), true);
    await sleep(50);
    await a.fireEvent({ data: "foo1" }, "evt1");
    assertGotEvent(await a.getEvent({ wait: 2, tag: "evt1" }), { data: "foo1" });
    assertGotEvent(await b.getEvent({ wait: 2, tag: "evt1" }), { data: "foo1" });
  },
});

Deno.test({
  name: "a socket listener gets events fired in-process while an in-process listener is connected",
  fn: async () => {
    await using t = await startTestBus();
    await using inProc = t.bus.getEvent();
    assert.equal(await inProc.connected(2), true);
    const sock = await listener(t);
    await sleep(50);
    await inProc.fireEvent({ from: "port" }, "cross/port");
    assertGotEvent(await inProc.getEvent({ wait: 2, tag: "cross/port" }), { from: "port" });
    assertGotEvent(await sock.getEvent({ wait: 2, tag: "cross/port" }), { from: "port" });
  },
});

Deno.test({
  name: "a socket listener gets a 200 kB socket event while an in-process listener is connected",
  fn: async () => {
    await using t = await startTestBus();
    await using inProc = t.bus.getEvent();
    assert.equal(await inProc.connected(2), true);
    const sock = await listener(t);
    await sleep(50);
    const big = "q".repeat(200_000);
    await t.client({ listen: false }).fireEvent({ big }, "big");
    assertGotEvent(await inProc.getEvent({ wait: 2, tag: "big" }), { big });
    assertGotEvent(await sock.getEvent({ wait: 2, tag: "big" }), { big });
  },
});

Deno.test("in-process clients: fireMaster and a 488,890-character string", async () => {
  await using t = await startTestBus();
  await using me = t.bus.getEvent();
  await me.connected(2);
  await me.fireMaster({ data: "foo1" }, "test_master");
  assertGotEvent(await me.getEvent({ wait: 2, tag: "fire_master" }), {
    data: { data: "foo1" },
    tag: "test_master",
    events: null,
    pretag: null,
  });
  const big = Array.from({ length: 1e5 }, (_, n) => String(n)).join("");
  await me.fireEvent({ big }, "big");
  const evt = await me.getEvent({ wait: 5, tag: "big" });
  assert.equal(evt?.big, big);
});
