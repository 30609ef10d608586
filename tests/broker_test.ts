/**
 * The real broker (Worker + Unix sockets), driven with raw sockets where the
 * bytes matter: forwarding, bad input, disconnects, slow consumers, restarts,
 * socket files.
 */
import { concatBytes, fromHex } from "../bus/bytes.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { BrokerStartError } from "../bus/errors.ts";
import { packEventFrame, unpackEvent } from "../bus/event_codec.ts";
import { encodeFrame, FrameScanner } from "../bus/frame.ts";
import { silentLogger } from "../bus/log.ts";
import { packData } from "../bus/msgpack.ts";
import { DROPPED_TAG } from "../bus/router.ts";
import { startBus } from "../broker/start_bus.ts";
import { sleep, startTestBus, type TestBus } from "./harness.ts";

const hex = fromHex;

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

// §2.6: what fire_event({"a": 1}, "salt/auth") sends, stamp 2024-05-01T12:34:56.789012.
const FRAME_63 = hex(`
  82 a4 68 65 61 64 80 a4 62 6f 64 79 c4 31 73 61
  6c 74 2f 61 75 74 68 0a 0a 82 a1 61 01 a6 5f 73
  74 61 6d 70 ba 32 30 32 34 2d 30 35 2d 30 31 54
  31 32 3a 33 34 3a 35 36 2e 37 38 39 30 31 32`);
const HEAD = hex("a4 68 65 61 64");
const BODY = hex("a4 62 6f 64 79");

function connect(path: string): Promise<Deno.UnixConn> {
  return Deno.connect({ transport: "unix", path });
}

/** A raw subscriber, connected and (after a pause) registered by the broker. */
async function rawSubscriber(t: TestBus): Promise<Deno.UnixConn> {
  const conn = await connect(t.bus.paths.pub);
  await sleep(100);
  return conn;
}

/** Reads exactly `n` bytes (or fails after `ms`). */
async function readExactly(conn: Deno.Conn, n: number, ms = 2000): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let at = 0;
  const deadline = Date.now() + ms;
  while (at < n) {
    const got = await withTimeout(conn.read(out.subarray(at)), deadline - Date.now());
    if (got === null) throw new Error(`EOF after ${at} of ${n} bytes`);
    at += got;
  }
  return out;
}

/** Reads until EOF; `closed` is false when `ms` passed first. */
async function readToEnd(
  conn: Deno.Conn,
  ms = 3000,
): Promise<{ bytes: Uint8Array; closed: boolean }> {
  const chunks: Uint8Array[] = [];
  const deadline = Date.now() + ms;
  const buffer = new Uint8Array(256 * 1024);
  while (true) {
    let n: number | null;
    try {
      n = await withTimeout(conn.read(buffer), deadline - Date.now());
    } catch (err) {
      if (err instanceof TimeoutError) return { bytes: concat(...chunks), closed: false };
      if (err instanceof Deno.errors.ConnectionReset) n = null;
      else throw err;
    }
    if (n === null) return { bytes: concat(...chunks), closed: true };
    chunks.push(buffer.slice(0, n));
  }
}

class TimeoutError extends Error {}

/** Resolves `promise` or rejects with TimeoutError after `ms`; the promise is left to settle. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`timed out after ${ms} ms`)),
        Math.max(0, ms),
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Events (tag, data) in a byte stream, plus leftover bytes of an incomplete frame. */
function decodeStream(
  bytes: Uint8Array,
): { events: { tag: string; data: unknown }[]; rest: number } {
  const events: { tag: string; data: unknown }[] = [];
  const scanner = new FrameScanner({ maxFrameSize: 1 << 30 });
  scanner.push(bytes, {
    frame: (buffer, _s, _e, bodyStart, _t, bodyEnd) =>
      events.push(unpackEvent(buffer.slice(bodyStart, bodyEnd))),
  });
  return { events, rest: scanner.bufferedBytes };
}

async function until(condition: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(10);
  }
}

// ------------------------------------------------------------ forwarding

Deno.test("broker forwards the 63-byte §2.6 frame written raw on the pull socket byte for byte", async () => {
  await using t = await startTestBus();
  const sub = await rawSubscriber(t);
  const pub = await connect(t.bus.paths.pull);
  try {
    await pub.write(FRAME_63);
    assert.deepEqual(await readExactly(sub, 63), FRAME_63);
    // Nothing else follows.
    const more = await readToEnd(sub, 200);
    assert.equal(more.bytes.length, 0);
  } finally {
    pub.close();
    sub.close();
  }
});

Deno.test("broker re-frames a non-canonical frame canonically with the same body", async () => {
  await using t = await startTestBus();
  const sub = await rawSubscriber(t);
  const pub = await connect(t.bus.paths.pull);
  const body = FRAME_63.slice(14); // the 49-byte packed event
  const variants = [
    concat(hex("82"), BODY, hex("c4 31"), body, HEAD, hex("80")), // body first
    concat(hex("82"), HEAD, hex("81 a3 6d 69 64 00"), BODY, hex("c4 31"), body), // head.mid
    concat(hex("82"), HEAD, hex("80"), BODY, hex("d9 31"), body), // body as str8
    concat(hex("82"), HEAD, hex("80"), BODY, hex("c6 00 00 00 31"), body), // long length
  ];
  try {
    await pub.write(concat(...variants));
    const got = await readExactly(sub, 63 * variants.length);
    for (let i = 0; i < variants.length; i++) {
      assert.deepEqual(got.subarray(63 * i, 63 * (i + 1)), FRAME_63, `variant ${i}`);
    }
  } finally {
    pub.close();
    sub.close();
  }
});

Deno.test("broker forwards a frame written one byte at a time", async () => {
  await using t = await startTestBus();
  const sub = await rawSubscriber(t);
  const pub = await connect(t.bus.paths.pull);
  try {
    for (const byte of FRAME_63) {
      await pub.write(Uint8Array.of(byte));
      await sleep(0);
    }
    assert.deepEqual(await readExactly(sub, 63), FRAME_63);
  } finally {
    pub.close();
    sub.close();
  }
});

// ------------------------------------------------------------ bad input

const BAD_INPUTS: [string, Uint8Array][] = [
  ["garbage bytes", new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
  ["a body without \\n\\n", encodeFrame(new TextEncoder().encode("salt/auth\n\x81\xa1a\x01"))],
  [
    "a header claiming a 1 GiB body",
    concat(hex("82"), HEAD, hex("80"), BODY, hex("c6 40 00 00 00")),
  ],
];

for (const [what, bytes] of BAD_INPUTS) {
  Deno.test(`broker closes a pull connection that sends ${what}, logs why, and carries on`, async () => {
    await using t = await startTestBus();
    const listener = t.client();
    assert.equal(await listener.connected(2), true);
    const firer = t.client({ listen: false });
    // The other publisher is connected before the bad one.
    assert.equal(await firer.fireEvent({ n: 1 }, "before"), true);
    assert.deepEqual((await listener.getEvent({ wait: 2, tag: "before" }))?.n, 1);
    const bad = await connect(t.bus.paths.pull);
    try {
      await bad.write(bytes);
      const end = await readToEnd(bad, 2000);
      assert.equal(end.closed, true, "the broker closed the bad connection");
      assert.equal(end.bytes.length, 0);
    } finally {
      bad.close();
    }
    await until(
      () => t.logs.some((l) => l.startsWith("warning: closing publisher")),
      2000,
      "warning logged",
    );
    // The earlier publisher and the subscribers keep working.
    assert.equal(await firer.fireEvent({ n: 2 }, "after"), true);
    assert.deepEqual((await listener.getEvent({ wait: 2, tag: "after" }))?.n, 2);
    // So does a new connection.
    await t.client({ listen: false }).fireEvent({ n: 3 }, "after");
    assert.deepEqual((await listener.getEvent({ wait: 2, tag: "after" }))?.n, 3);
  });
}

Deno.test("broker delivers the frames a bad connection sent before its bad bytes", async () => {
  await using t = await startTestBus();
  const sub = await rawSubscriber(t);
  const bad = await connect(t.bus.paths.pull);
  try {
    await bad.write(concat(FRAME_63, hex("01 02 03")));
    assert.deepEqual(await readExactly(sub, 63), FRAME_63);
    assert.equal((await readToEnd(bad, 2000)).closed, true);
  } finally {
    bad.close();
    sub.close();
  }
});

Deno.test("a peer that disconnects mid-frame loses only its own partial frame", async () => {
  await using t = await startTestBus();
  const listener = t.client();
  assert.equal(await listener.connected(2), true);
  const sub = await rawSubscriber(t);
  const firer = t.client({ listen: false });
  const partial = packEventFrame("partial", packData({ x: "y".repeat(500) }));
  const quitter = await connect(t.bus.paths.pull);
  await quitter.write(partial.subarray(0, 200));
  await sleep(50);
  quitter.close();
  await sleep(50);
  try {
    await firer.fireEvent({ ok: 1 }, "whole");
    const evt = await listener.getEvent({ wait: 2, full: true });
    assert.equal(evt?.tag, "whole");
    // A fresh raw connection's frame arrives intact right after.
    const again = await connect(t.bus.paths.pull);
    await again.write(FRAME_63);
    again.close();
    const bytes = await readToEnd(sub, 500);
    const { events, rest } = decodeStream(bytes.bytes);
    assert.equal(rest, 0);
    assert.deepEqual(events.map((e) => e.tag), ["whole", "salt/auth"]);
    assert.ok(!t.logs.some((l) => l.startsWith("error:")), t.logs.join("\n"));
  } finally {
    sub.close();
  }
});

// ------------------------------------------------------------ slow consumer

Deno.test("with subscriber_overflow: disconnect, a subscriber that never reads is dropped; a fast one gets every event; the publisher is never blocked", async () => {
  const limit = 256 * 1024;
  await using t = await startTestBus({
    config: { ipc_write_buffer: limit, subscriber_overflow: "disconnect" },
  });
  const fast = t.client();
  assert.equal(await fast.connected(2), true);
  const slow = await rawSubscriber(t);
  const firer = t.client({ listen: false });

  const total = 2000; // × ~10 kB ≈ 20 MB
  const pad = "p".repeat(10_000);
  let received = 0;
  const reading = (async () => {
    for (let i = 0; i < total; i++) {
      const evt = await fast.getEvent({ wait: 5, tag: "load" });
      assert.equal(evt?.i, i, `fast subscriber: event ${i} in order`);
      received++;
    }
  })();
  const results: boolean[] = [];
  try {
    for (let i = 0; i < total; i++) {
      results.push(await firer.fireEvent({ i, pad }, "load"));
      // Keep the fast reader close behind so that it is never over its own buffer.
      if (i % 10 === 9) await until(() => received >= i - 10, 5000, "fast reader catching up");
    }
    await reading;
    assert.equal(received, total);
    assert.ok(results.every((r) => r === true), "every fireEvent resolved true");

    await until(
      () => t.logs.some((l) => l.startsWith("warning: dropping subscriber")),
      3000,
      "drop warning",
    );
    assert.ok(t.logs.some((l) => l.includes(`${limit}`) && l.includes("dropping subscriber")));
    // The slow socket: whatever the kernel buffered, then end of stream.
    const end = await readToEnd(slow, 5000);
    assert.equal(end.closed, true, "the broker closed the slow subscriber");
    const { events } = decodeStream(end.bytes);
    const last = events.at(-1);
    const loads = last?.tag === DROPPED_TAG ? events.slice(0, -1) : events;
    assert.ok(loads.length < total, "the slow subscriber did not get everything");
    loads.forEach((e, i) => {
      assert.equal(e.tag, "load");
      assert.equal((e.data as { i: number }).i, i);
    });
    if (last?.tag === DROPPED_TAG) {
      const data = last.data as Record<string, unknown>;
      assert.equal(data.ipc_write_buffer, limit);
      assert.ok((data.buffered_bytes as number) > limit);
      assert.equal(typeof data.discarded_events, "number");
      assert.equal(typeof data.delivered_events, "number");
      assert.match(data.reason as string, /ipc_write_buffer/);
    }
    // Still working afterwards.
    await firer.fireEvent({ i: -1 }, "after");
    assert.equal((await fast.getEvent({ wait: 2, tag: "after" }))?.i, -1);
  } finally {
    slow.close();
    await reading.catch(() => {});
  }
});

// ------------------------------------------------------------ restarts

Deno.test("a crashed broker worker is restarted on the same paths; an auto-reconnecting listener carries on", async () => {
  await using t = await startTestBus();
  const listener = t.client();
  assert.equal(await listener.connected(2), true);
  await sleep(50); // let the broker Worker accept the listener before an in-process fire
  await using inProc = t.bus.getEvent({ listen: false });
  assert.equal(await inProc.fireEvent({ n: 0 }, "before"), true);
  assert.equal((await listener.getEvent({ wait: 2, tag: "before" }))?.n, 0);

  t.bus.crashBrokerForTesting();
  await sleep(200);
  await t.bus.ready();
  assert.equal(t.bus.restarts, 1);
  assert.ok(t.logs.some((l) => l.startsWith("error: broker worker died")), t.logs.join("\n"));
  assert.ok((await Deno.lstat(t.bus.paths.pub)).isSocket);
  assert.ok((await Deno.lstat(t.bus.paths.pull)).isSocket);

  // A short getEvent notices the closed stream and reconnects.
  assert.equal(await listener.getEvent({ wait: 0.3, autoReconnect: true, tag: "after" }), null);
  // A firer connecting after the restart (socket and in-process) reaches it.
  const firer = t.client({ listen: false });
  let got: Record<string, unknown> | null = null;
  for (let n = 1; n <= 20 && got === null; n++) {
    assert.equal(await firer.fireEvent({ n }, "after"), true);
    got = await listener.getEvent({ wait: 0.25, autoReconnect: true, tag: "after" });
  }
  assert.ok(got, "an event fired after the restart was received");
  await using inProc2 = t.bus.getEvent({ listen: false });
  await inProc2.fireEvent({ n: 100 }, "again");
  assert.equal((await listener.getEvent({ wait: 2, autoReconnect: true, tag: "again" }))?.n, 100);
});

Deno.test({
  name:
    "a socket firer connected before a broker restart carries on without leaking its old connection",
  fn: async () => {
    await using t = await startTestBus();
    const listener = t.client();
    assert.equal(await listener.connected(2), true);
    const firer = t.client({ listen: false });
    assert.equal(await firer.fireEvent({ n: 0 }, "before"), true);
    assert.equal((await listener.getEvent({ wait: 2, tag: "before" }))?.n, 0);

    t.bus.crashBrokerForTesting();
    await sleep(200);
    await t.bus.ready();
    assert.equal(t.bus.restarts, 1);
    assert.equal(await listener.getEvent({ wait: 0.3, autoReconnect: true, tag: "after" }), null);
    let got: Record<string, unknown> | null = null;
    for (let n = 1; n <= 20 && got === null; n++) {
      assert.equal(await firer.fireEvent({ n }, "after"), true);
      got = await listener.getEvent({ wait: 0.25, autoReconnect: true, tag: "after" });
    }
    assert.ok(got, "an event fired after the restart was received");
  },
});

// ------------------------------------------------------------ socket files

Deno.test("a broker replaces stale socket files left by a dead process", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-stale-" });
  try {
    const pull = join(dir, "master_event_pull.ipc");
    const pub = join(dir, "master_event_pub.ipc");
    // Deno removes a socket file when its listener closes; Python leaves it behind.
    const py = await new Deno.Command("python3", {
      args: [
        "-c",
        "import socket, sys\nfor p in sys.argv[1:]:\n  s = socket.socket(socket.AF_UNIX); s.bind(p)",
        pull,
        pub,
      ],
    }).output();
    assert.equal(py.code, 0, new TextDecoder().decode(py.stderr));
    assert.ok((await Deno.lstat(pull)).isSocket);
    await assert.rejects(connect(pull)); // nobody answers: stale

    await using t = await startTestBus({ sockDir: dir });
    const listener = t.client();
    assert.equal(await listener.connected(2), true);
    await t.client({ listen: false }).fireEvent({ ok: true }, "fresh");
    assert.deepEqual((await listener.getEvent({ wait: 2, tag: "fresh" }))?.ok, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second broker on a live sock_dir fails with BrokerStartError naming the path; the first keeps working", async () => {
  await using t = await startTestBus();
  await assert.rejects(
    startBus({ sockDir: t.sockDir, log: silentLogger }),
    (err: unknown) => {
      assert.ok(err instanceof BrokerStartError, `got ${err}`);
      assert.ok(
        err.message.includes(t.bus.paths.pull) || err.message.includes(t.bus.paths.pub),
        err.message,
      );
      return true;
    },
  );
  assert.ok((await Deno.lstat(t.bus.paths.pub)).isSocket);
  const listener = t.client();
  assert.equal(await listener.connected(2), true);
  await t.client({ listen: false }).fireEvent({ still: "here" }, "first");
  assert.deepEqual((await listener.getEvent({ wait: 2, tag: "first" }))?.still, "here");
});

Deno.test("a broker creates sock_dir 0700 and its sockets 0600, and removes them on close", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "saltbus-modes-" });
  try {
    const dir = join(tmp, "run", "master");
    const t = await startTestBus({ sockDir: dir });
    try {
      assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
      assert.equal((await Deno.stat(t.bus.paths.pull)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(t.bus.paths.pub)).mode! & 0o777, 0o600);
    } finally {
      await t.close();
    }
    const left = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    assert.deepEqual(left.filter((name) => name.endsWith(".ipc")), []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("with publisher_acl the pub socket is 0660 (pull stays 0600); files removed on close", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "saltbus-modes-" });
  try {
    const dir = join(tmp, "acl");
    const t = await startTestBus({ sockDir: dir, config: { publisher_acl: { bob: [".*"] } } });
    try {
      assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
      assert.equal((await Deno.stat(t.bus.paths.pub)).mode! & 0o777, 0o660);
      assert.equal((await Deno.stat(t.bus.paths.pull)).mode! & 0o777, 0o600);
    } finally {
      await t.close();
    }
    const left = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    assert.deepEqual(left, []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
