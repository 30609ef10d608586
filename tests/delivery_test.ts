/**
 * Delivery guarantees of the real broker (Worker + Unix sockets), driven with
 * raw sockets: the bound on memory held for incomplete frames, frames
 * dripped slowly, lagging subscribers (missed notices with exact counts,
 * Salt's disconnect mode) and subscribers that make no progress.
 */
import { concatBytes } from "../bus/bytes.ts";
import assert from "node:assert/strict";
import { packEvent, packEventFrame, unpackEvent } from "../bus/event_codec.ts";
import { FrameScanner } from "../bus/frame.ts";
import { packData } from "../bus/msgpack.ts";
import { DROPPED_TAG, SUBSCRIBER_MISSED_TAG } from "../bus/router.ts";
import { sleep, startTestBus, type TestBus } from "./harness.ts";

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

function connect(path: string): Promise<Deno.UnixConn> {
  return Deno.connect({ transport: "unix", path });
}

/** A raw subscriber, connected and (after a pause) registered by the broker. */
async function rawSubscriber(t: TestBus): Promise<Deno.UnixConn> {
  const conn = await connect(t.bus.paths.pub);
  await sleep(100);
  return conn;
}

async function until(condition: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(10);
  }
}

interface Event {
  tag: string;
  data: Record<string, number | string>;
}

/** Reads a raw subscriber's stream, decoding events as they complete. */
class Reader {
  readonly events: Event[] = [];
  eof = false;
  readonly #scanner = new FrameScanner({ maxFrameSize: 1 << 26 });
  constructor(readonly conn: Deno.Conn) {}

  /** Reads once (at most `size` bytes); false at end of stream. */
  async readOnce(size = 256 * 1024): Promise<boolean> {
    const buffer = new Uint8Array(size);
    let n: number | null;
    try {
      n = await this.conn.read(buffer);
    } catch (err) {
      if (!(err instanceof Deno.errors.ConnectionReset)) throw err;
      n = null;
    }
    if (n === null) {
      this.eof = true;
      return false;
    }
    this.#scanner.push(buffer.subarray(0, n), {
      frame: (buf, _s, _e, bodyStart, _t, bodyEnd) =>
        this.events.push(unpackEvent(buf.slice(bodyStart, bodyEnd)) as Event),
    });
    return true;
  }

  /** Reads until `done()` or end of stream, pausing `pauseMs` before each read. */
  async readUntil(
    done: () => boolean,
    options: { ms?: number; pauseMs?: number; size?: number } = {},
  ) {
    const deadline = Date.now() + (options.ms ?? 20_000);
    while (!done() && !this.eof) {
      if (Date.now() > deadline) {
        throw new Error(`reader: not done after ${options.ms ?? 20_000} ms`);
      }
      if (options.pauseMs) await sleep(options.pauseMs);
      await this.readOnce(options.size);
    }
  }

  /** Numbered events received (tag `n/<i>`). */
  get numbered(): number {
    return this.events.filter((e) => e.tag.startsWith("n/")).length;
  }

  lastIs(i: number): boolean {
    return this.events.at(-1)?.tag === `n/${i}`;
  }
}

/** Event `i` of a numbered stream: about 1 KB, tag `n/<i>`. */
function numbered(i: number): Uint8Array {
  return packEventFrame(`n/${i}`, packData({ i, pad: "p".repeat(1000) }));
}

/**
 * Checks that `events` account for each of `total` numbered events: each gap
 * comes right after a missed notice whose `missed_events` is its exact size,
 * and whose `delivered_events` counts what came before it.
 */
function checkAccounting(events: Event[], total: number) {
  let next = 0;
  let delivered = 0;
  let missed = 0;
  let notices = 0;
  for (const event of events) {
    if (event.tag === SUBSCRIBER_MISSED_TAG) {
      notices++;
      const data = event.data as Record<string, number>;
      assert.equal(data.delivered_events, delivered, "delivered_events counts what came before");
      assert.ok(data.missed_events > 0);
      assert.ok(data.missed_bytes >= data.missed_events * 1000);
      missed += data.missed_events;
      assert.equal(data.total_missed_events, missed);
      next += data.missed_events;
      continue;
    }
    assert.equal(event.tag, `n/${next}`, `no gap without a notice (after ${delivered} events)`);
    next++;
    delivered++;
  }
  assert.equal(next, total, "every event was received or counted in a notice");
  return { delivered, missed, notices };
}

/** Writes `frames` to a fresh pull connection in 64 KiB writes; `gate` runs between writes. */
async function publish(
  t: TestBus,
  frames: Uint8Array[],
  gate: (sent: number) => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const pub = await connect(t.bus.paths.pull);
  try {
    let batch: Uint8Array[] = [];
    let size = 0;
    for (let i = 0; i < frames.length; i++) {
      batch.push(frames[i]);
      size += frames[i].length;
      if (size >= 64 * 1024 || i === frames.length - 1) {
        const bytes = concat(...batch);
        for (let at = 0; at < bytes.length;) at += await pub.write(bytes.subarray(at));
        batch = [];
        size = 0;
        await gate(i + 1);
      }
    }
  } finally {
    pub.close();
  }
}

/** A canonical frame of exactly `size` bytes, tag `tag`. */
function frameOfSize(tag: string, size: number): Uint8Array {
  const head = packEventFrame(tag, packData({ s: "" })).length;
  const frame = packEventFrame(tag, packData({ s: "x".repeat(size - head - 2) }));
  return frame.length === size
    ? frame
    : packEventFrame(tag, packData({ s: "x".repeat(size - head - 4) }));
}

/** Writes all of `bytes`. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/** True once the broker has closed `conn` (a write fails or a read ends). */
async function closedByBroker(conn: Deno.Conn, probe: Uint8Array, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  try {
    await writeAll(conn, probe);
  } catch {
    return true;
  }
  const buffer = new Uint8Array(16);
  while (Date.now() < deadline) {
    const read = conn.read(buffer).then((n) => n === null, () => true);
    const result = await Promise.race([read, sleep(deadline - Date.now()).then(() => false)]);
    if (result) return true;
  }
  return false;
}

// ------------------------------------------------------------ pull side

Deno.test("partial frames on all pull connections over partial_frames_limit: the one holding the largest is closed with a logged reason; the others are delivered", async () => {
  const limit = 2 * 1024 * 1024;
  await using t = await startTestBus({
    config: { max_frame_size: 1024 * 1024, partial_frames_limit: limit },
  });
  const sub = new Reader(await rawSubscriber(t));
  const frames = {
    a: frameOfSize("big/a", 1_000_000),
    b: frameOfSize("part/b", 600_000),
    c: frameOfSize("part/c", 400_000),
    d: frameOfSize("part/d", 300_000),
  };
  const conns: Record<string, Deno.UnixConn> = {};
  try {
    // Each sends a tenth of its frame and holds; together they pass 2 MiB with d.
    for (const [name, frame] of Object.entries(frames)) {
      conns[name] = await connect(t.bus.paths.pull);
      await writeAll(conns[name], frame.subarray(0, frame.length / 10));
      await sleep(100);
    }
    await until(
      () => t.logs.some((l) => l.includes("over partial_frames_limit")),
      3000,
      "the limit's warning",
    );
    const line = t.logs.find((l) => l.includes("over partial_frames_limit"))!;
    assert.match(
      line,
      /^warning: closing publisher pull#\d+: incomplete frames on all publisher connections hold \d+ bytes/,
    );
    assert.ok(line.includes(`partial_frames_limit (${limit} bytes)`), line);
    assert.ok(line.includes(`holds the most (${frames.a.length} bytes)`), line);
    // a is closed (at once, or at its next bytes); its frame is never delivered.
    assert.equal(await closedByBroker(conns.a, frames.a.subarray(frames.a.length / 10)), true);
    // The others complete their frames and are delivered, in the order they complete.
    for (const name of ["b", "c", "d"] as const) {
      await writeAll(conns[name], frames[name].subarray(frames[name].length / 10));
    }
    await sub.readUntil(() => sub.events.length >= 3, { ms: 5000 });
    assert.deepEqual(sub.events.map((e) => e.tag), ["part/b", "part/c", "part/d"]);
    assert.equal(t.logs.filter((l) => l.includes("over partial_frames_limit")).length, 1);
  } finally {
    for (const conn of Object.values(conns)) conn.close();
    sub.conn.close();
  }
});

Deno.test("a non-canonical frame (array32 head) dripped on a pull connection is scanned once, not from its start on every read", async () => {
  await using t = await startTestBus({ config: { log_level: "debug" } });
  const sub = new Reader(await rawSubscriber(t));
  const body = packEvent("dripped/array32", { ok: true });
  const n = 256 * 1024;
  const frame = concat(
    Uint8Array.of(0x82, 0xa4, 0x68, 0x65, 0x61, 0x64, 0x81, 0xa1, 0x78, 0xdd),
    Uint8Array.of(0, n >>> 16, (n >>> 8) & 0xff, n & 0xff),
    new Uint8Array(n).fill(0x01),
    Uint8Array.of(0xa4, 0x62, 0x6f, 0x64, 0x79, 0xc4, body.length),
    body,
  );
  const drip = await connect(t.bus.paths.pull);
  const step = 1024;
  try {
    for (let at = 0; at < frame.length; at += step) {
      await writeAll(drip, frame.subarray(at, at + step));
      await sleep(1);
    }
    await sub.readUntil(() => sub.events.length >= 1, { ms: 5000 });
  } finally {
    drip.close();
  }
  // Forwarded, re-framed canonically.
  assert.deepEqual(sub.events, [unpackEvent(body)]);
  await until(
    () => t.logs.some((l) => /publisher pull#\d+ closed: 1 frames/.test(l)),
    3000,
    "the publisher's closing line",
  );
  const line = t.logs.find((l) => /publisher pull#\d+ closed: 1 frames/.test(l))!;
  const [, bytesIn, scanned] = /and (\d+) bytes in, (\d+) bytes scanned/.exec(line)!.map(Number);
  assert.equal(bytesIn, frame.length);
  const reads = Math.ceil(frame.length / step);
  // Scanning from the start on each read would go over ~34 MB here.
  assert.ok(scanned <= frame.length + 16 * reads, `${scanned} bytes scanned for ${frame.length}`);
  sub.conn.close();
});

// ------------------------------------------------------------ lagging subscribers

Deno.test("a slow reader over ipc_write_buffer gets missed notices with exact counts and goes on receiving; a fast reader gets every event", async () => {
  const limit = 256 * 1024;
  await using t = await startTestBus({ config: { ipc_write_buffer: limit } });
  const fast = new Reader(await rawSubscriber(t));
  const slow = new Reader(await rawSubscriber(t));
  const total = 4000; // about 4 MB
  const frames = Array.from({ length: total }, (_, i) => numbered(i));
  // The slow one reads 16 KiB every 5 ms, all along.
  const slowDone = slow.readUntil(() => slow.lastIs(total - 1), { pauseMs: 5, size: 16 * 1024 });
  try {
    // Each 64 KiB batch waits for the fast reader to take the previous one.
    await publish(t, frames, async (sent) => {
      await fast.readUntil(() => fast.numbered >= sent, { ms: 10_000 });
    });
    await slowDone;
    const got = checkAccounting(slow.events, total);
    assert.ok(got.notices >= 1 && got.missed > 0, JSON.stringify(got));
    assert.ok(got.delivered > 0.05 * total, JSON.stringify(got));
    assert.equal(slow.eof, false, "the slow reader is not disconnected");
    const fastGot = checkAccounting(fast.events, total);
    assert.equal(fastGot.notices, 0);
    assert.ok(
      t.logs.some((l) => l.includes("is more than ipc_write_buffer (262144 bytes) behind")),
    );
    // It goes on receiving.
    await publish(t, [numbered(total)]);
    await slow.readUntil(() => slow.lastIs(total), { ms: 5000 });
  } finally {
    await slowDone.catch(() => {});
    fast.conn.close();
    slow.conn.close();
  }
});

Deno.test("a subscriber that stalls through a burst and then reads gets the newest events, after notices counting the rest", async () => {
  const limit = 256 * 1024;
  await using t = await startTestBus({ config: { ipc_write_buffer: limit } });
  const stalled = new Reader(await rawSubscriber(t));
  const total = 3000;
  try {
    await publish(t, Array.from({ length: total }, (_, i) => numbered(i)));
    await sleep(1500);
    await stalled.readUntil(() => stalled.lastIs(total - 1));
    // Every gap has its notice with the exact count (checkAccounting). Discards
    // before its next read share one notice; one already in its socket buffer
    // when more are discarded is followed by another, so timing may make two.
    const got = checkAccounting(stalled.events, total);
    assert.ok(got.notices >= 1 && got.notices <= 2, JSON.stringify(got));
    // It gets what sat in its socket and its last write, the notice, then up to ¾ of the limit.
    assert.ok(got.delivered * 1030 < 4 * limit, JSON.stringify(got));
  } finally {
    stalled.conn.close();
  }
});

Deno.test("a subscriber that reads nothing is closed after subscriber_stall_timeout, its counts logged; the others carry on", async () => {
  await using t = await startTestBus({
    config: { ipc_write_buffer: 256 * 1024, subscriber_stall_timeout: 0.5 },
  });
  const stuck = new Reader(await rawSubscriber(t));
  const fast = new Reader(await rawSubscriber(t));
  const total = 2000;
  try {
    await publish(t, Array.from({ length: total }, (_, i) => numbered(i)), async (sent) => {
      await fast.readUntil(() => fast.numbered >= sent, { ms: 10_000 });
    });
    await until(
      () => t.logs.some((l) => l.includes("no progress")),
      5000,
      "the stalled subscriber to be closed",
    );
    const line = t.logs.find((l) => l.includes("no progress"))!;
    const match =
      /^warning: closing subscriber pub#\d+: no progress for [\d.]+ s \(subscriber_stall_timeout 0\.5 s\), a write of \d+ bytes still pending; it was sent (\d+) events and missed (\d+) \(\d+ bytes\), (\d+) of them not announced to it yet$/
        .exec(line);
    assert.ok(match, line);
    const [sent, missed, unannounced] = match.slice(1).map(Number);
    assert.ok(missed > 0 && unannounced === missed, line);
    assert.ok(sent + missed <= total);
    // What it finds on its socket: a gapless start, then end of stream.
    await stuck.readUntil(() => false, { ms: 5000 });
    assert.equal(stuck.eof, true);
    assert.ok(stuck.numbered <= sent);
    stuck.events.forEach((e, i) => assert.equal(e.tag, `n/${i}`));
    // The fast one got everything and is still served.
    assert.equal(checkAccounting(fast.events, total).notices, 0);
    await publish(t, [numbered(total)]);
    await fast.readUntil(() => fast.lastIs(total), { ms: 5000 });
  } finally {
    stuck.conn.close();
    fast.conn.close();
  }
});

Deno.test("with subscriber_overflow: disconnect, a lagging subscriber gets saltbus/subscriber/dropped after what was in flight, then end of stream", async () => {
  const limit = 256 * 1024;
  await using t = await startTestBus({
    config: { ipc_write_buffer: limit, subscriber_overflow: "disconnect" },
  });
  const slow = new Reader(await rawSubscriber(t));
  const total = 3000;
  try {
    await publish(t, Array.from({ length: total }, (_, i) => numbered(i)));
    await until(() => t.logs.some((l) => l.startsWith("warning: dropping subscriber")), 3000);
    // It reads only well after the drop (Salt's notice, 1 s then, never reached it).
    await sleep(1500);
    await slow.readUntil(() => false, { ms: 10_000 });
    assert.equal(slow.eof, true);
    const last = slow.events.at(-1)!;
    assert.equal(last.tag, DROPPED_TAG);
    const loads = slow.events.slice(0, -1);
    loads.forEach((e, i) => assert.equal(e.tag, `n/${i}`));
    assert.equal(last.data.delivered_events, loads.length);
    assert.equal(last.data.ipc_write_buffer, limit);
    assert.ok((last.data.discarded_events as number) > 0);
    assert.ok(loads.length + (last.data.discarded_events as number) <= total);
    assert.match(last.data.reason as string, /ipc_write_buffer/);
  } finally {
    slow.conn.close();
  }
});

Deno.test("an in-process subscriber (MessagePort) over ipc_write_buffer gets the missed notice too", async () => {
  const limit = 256 * 1024;
  await using t = await startTestBus({ config: { ipc_write_buffer: limit } });
  await using listener = t.bus.getEvent();
  assert.equal(await listener.connected(2), true);
  await sleep(100);
  const total = 2000;
  // The listener does not read while the burst goes by.
  await publish(t, Array.from({ length: total }, (_, i) => numbered(i)));
  const got: Event[] = [];
  while (got.at(-1)?.tag !== `n/${total - 1}`) {
    const event = await listener.getEvent({ wait: 5, full: true, tag: "" });
    assert.ok(event, `stopped after ${got.length} events`);
    got.push({ tag: event.tag as string, data: event.data as Record<string, number> });
  }
  const accounted = checkAccounting(got, total);
  assert.ok(accounted.notices >= 1 && accounted.missed > 0, JSON.stringify(accounted));
});
