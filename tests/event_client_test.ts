/**
 * fireEvent's contract (§3.9) and the client's lifecycle, against a real broker.
 */
import assert from "node:assert/strict";
import { EventDataError } from "../bus/errors.ts";
import { VALUE_TRIMMED } from "../bus/trim.ts";
import { getEvent } from "../mod.ts";
import { captureLog, startTestBus } from "./harness.ts";

const STAMP_PATTERN = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/;

Deno.test("fireEvent() rejects an empty tag, a tag with \\n\\n and non-mapping data", async () => {
  await using t = await startTestBus();
  const ev = t.client({ listen: false });
  await assert.rejects(
    ev.fireEvent({}, ""),
    (e: Error) => e instanceof EventDataError && e.message === "Empty tag.",
  );
  await assert.rejects(ev.fireEvent({}, "a\n\nb"), EventDataError);
  await assert.rejects(
    ev.fireEvent("x" as unknown as Record<string, unknown>, "t"),
    (e: Error) => e instanceof EventDataError && e.message === "Dict object expected, not 'x'.",
  );
  await assert.rejects(
    ev.fireEvent([1] as unknown as Record<string, unknown>, "t"),
    EventDataError,
  );
  await assert.rejects(ev.fireEvent({ f: () => 1 }, "t"), /data\.f is a function/);
});

Deno.test("fireEvent() resolves false when no bus listens, within its timeout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using ev = getEvent("master", { sockDir: dir, listen: false, log: captureLog().log });
    const started = Date.now();
    assert.equal(await ev.fireEvent({ a: 1 }, "t", { timeout: 200 }), false);
    assert.ok(Date.now() - started < 2000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fireEvent() stamps a copy and leaves the caller's object alone", async () => {
  await using t = await startTestBus();
  const listener = t.client();
  assert.equal(await listener.connected(), true);
  const data = { a: 1 };
  assert.equal(await t.client({ listen: false }).fireEvent(data, "stamp/test"), true);
  const got = await listener.getEvent({ tag: "stamp/", wait: 5 });
  assert.deepEqual(Object.keys(got!), ["a", "_stamp"], "_stamp is added last");
  assert.match(String(got!._stamp), STAMP_PATTERN);
  assert.deepEqual(data, { a: 1 });
});

Deno.test("fireEvent() trims data over max_event_size with VALUE_TRIMMED and warns with tag and sizes", async () => {
  await using t = await startTestBus({ config: { max_event_size: 4096 } });
  const listener = t.client();
  assert.equal(await listener.connected(), true);
  const ok = await t.client({ listen: false }).fireEvent(
    { small: "kept", big: "x".repeat(10_000) },
    "big/event",
  );
  assert.equal(ok, true);
  const got = await listener.getEvent({ tag: "big/", wait: 5 });
  assert.equal(got?.small, "kept");
  assert.equal(got?.big, VALUE_TRIMMED);
  assert.ok(
    t.logs.some((l) =>
      /warning: event "big\/event" data is \d+ bytes, over max_event_size \(4096\): trimmed big/
        .test(l)
    ),
    t.logs.join("\n"),
  );
});

Deno.test("Map data is sent as a mapping and binary as bytes", async () => {
  await using t = await startTestBus();
  const listener = t.client();
  assert.equal(await listener.connected(), true);
  const firer = t.client({ listen: false });
  await firer.fireEvent(
    new Map<string, unknown>([["k", new Uint8Array([0, 255])]]) as never,
    "map",
  );
  const got = await listener.getEvent({ tag: "map", wait: 5 });
  assert.deepEqual(got?.k, new Uint8Array([0, 255]));
});

Deno.test("iterEvents() ends when its signal aborts, and close() ends everything cleanly", async () => {
  await using t = await startTestBus();
  const listener = t.client();
  assert.equal(await listener.connected(), true);
  const firer = t.client({ listen: false });
  const abort = new AbortController();
  const seen: string[] = [];
  const loop = (async () => {
    for await (const e of listener.iterEvents({ tag: "it/", full: true, signal: abort.signal })) {
      seen.push(e.tag);
      if (seen.length === 3) abort.abort();
    }
  })();
  for (let i = 0; i < 5; i++) await firer.fireEvent({ i }, `it/${i}`);
  await loop;
  assert.deepEqual(seen, ["it/0", "it/1", "it/2"]);
});

Deno.test("a minion client finds the minion bus by the hash of its id", async () => {
  await using t = await startTestBus({ node: "minion", config: { id: "web1", hash_type: "md5" } });
  const names = [...Deno.readDirSync(t.sockDir)].map((e) => e.name)
    .filter((name) => name.endsWith(".ipc")).sort();
  assert.deepEqual(names, ["minion_event_e694aa37ab_pub.ipc", "minion_event_e694aa37ab_pull.ipc"]);
  const listener = t.client();
  assert.equal(await listener.connected(), true);
  assert.equal(await t.client({ listen: false }).fireMaster({ x: 1 }, "my/tag"), true);
  const got = await listener.getEvent({ tag: "fire_master", wait: 5 });
  assert.deepEqual({ ...got, _stamp: undefined }, {
    tag: "my/tag",
    data: { x: 1 },
    events: null,
    pretag: null,
    _stamp: undefined,
  });
});
