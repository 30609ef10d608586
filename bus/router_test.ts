import { concatBytes } from "./bytes.ts";
import assert from "node:assert/strict";
import { FrameError } from "./errors.ts";
import { packEvent, unpackEvent } from "./event_codec.ts";
import { encodeFrame, FrameScanner } from "./frame.ts";
import { createLogger } from "./log.ts";
import {
  DROPPED_TAG,
  type Outbound,
  Router,
  type RouterOptions,
  SUBSCRIBER_MISSED_TAG,
} from "./router.ts";

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

function frameOf(tag: string, data: Record<string, unknown>): Uint8Array {
  return encodeFrame(packEvent(tag, data));
}

/** An Outbound that records every write and completes it at once. */
class FastOutbound implements Outbound {
  writes: Uint8Array[] = [];
  closed = 0;
  write(bytes: Uint8Array): Promise<void> {
    this.writes.push(bytes.slice());
    return Promise.resolve();
  }
  close(): void {
    this.closed++;
  }
  get bytes(): Uint8Array {
    return concat(...this.writes);
  }
}

/**
 * An Outbound whose first write never completes until `release()` (resolve)
 * or `fail()`; later writes complete at once. close() counts.
 */
class StuckOutbound implements Outbound {
  writes: Uint8Array[] = [];
  closed = 0;
  closedAt = -1;
  #stuck: PromiseWithResolvers<void> | null = null;
  write(bytes: Uint8Array): Promise<void> {
    this.writes.push(bytes.slice());
    if (this.writes.length === 1) {
      this.#stuck = Promise.withResolvers<void>();
      return this.#stuck.promise;
    }
    return Promise.resolve();
  }
  close(): void {
    this.closed++;
    if (this.closedAt < 0) this.closedAt = this.writes.length;
  }
  release(): void {
    this.#stuck?.resolve();
  }
  fail(): void {
    this.#stuck?.reject(new Error("broken pipe"));
  }
}

/** Frames (decoded) found in bytes. */
function events(bytes: Uint8Array): { tag: string; data: unknown }[] {
  const out: { tag: string; data: unknown }[] = [];
  new FrameScanner().push(bytes, {
    frame: (buffer, _s, _e, bodyStart, _t, bodyEnd) =>
      out.push(unpackEvent(buffer.slice(bodyStart, bodyEnd))),
  });
  return out;
}

function newRouter(options: Partial<Omit<RouterOptions, "log">> = {}) {
  const lines: string[] = [];
  const log = createLogger("debug", (level, message) => lines.push(`${level}: ${message}`));
  const router = new Router({ writeBufferLimit: 1 << 20, maxFrameSize: 1 << 20, ...options, log });
  return { router, lines };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

Deno.test("Router fans every frame out to every subscriber, in publish order", async () => {
  const { router } = newRouter();
  const subs = [new FastOutbound(), new FastOutbound(), new FastOutbound()];
  const removes = subs.map((s, i) => router.addSubscriber(s, `sub${i}`));
  const input = router.addPublisher("pub");
  const frames = Array.from({ length: 50 }, (_, i) => frameOf(`t/${i}`, { i }));
  for (const frame of frames) input.push(frame);
  await tick();
  for (const sub of subs) {
    assert.deepEqual(sub.bytes, concat(...frames));
    assert.deepEqual(events(sub.bytes).map((e) => e.tag), frames.map((_, i) => `t/${i}`));
  }
  assert.equal(router.stats.subscribers, 3);
  assert.equal(router.stats.publishers, 1);
  assert.equal(router.stats.framesIn, 50);
  input.close();
  assert.equal(router.stats.publishers, 0);
  removes.forEach((remove) => remove());
  assert.equal(router.stats.subscribers, 0);
});

Deno.test("Router does not send to a subscriber after it is removed", async () => {
  const { router } = newRouter();
  const kept = new FastOutbound();
  const gone = new FastOutbound();
  router.addSubscriber(kept, "kept");
  const remove = router.addSubscriber(gone, "gone");
  const input = router.addPublisher("pub");
  input.push(frameOf("a", {}));
  await tick();
  remove();
  input.push(frameOf("b", {}));
  await tick();
  assert.deepEqual(events(gone.bytes).map((e) => e.tag), ["a"]);
  assert.deepEqual(events(kept.bytes).map((e) => e.tag), ["a", "b"]);
  input.close();
  router.closeAll();
  assert.equal(kept.closed, 1);
});

Deno.test("Router forwards a canonical run from one chunk as one piece, bytes untouched", async () => {
  const { router } = newRouter();
  const sub = new FastOutbound();
  router.addSubscriber(sub, "sub");
  const input = router.addPublisher("pub");
  const chunk = concat(frameOf("a", { n: 1 }), frameOf("b", { n: 2 }), frameOf("c", { n: 3 }));
  input.push(chunk);
  await tick();
  assert.equal(sub.writes.length, 1);
  assert.deepEqual(sub.writes[0], chunk);
  input.close();
  router.closeAll();
});

Deno.test("Router re-frames a non-canonical frame canonically, keeping order around it", async () => {
  const { router } = newRouter();
  const sub = new FastOutbound();
  router.addSubscriber(sub, "sub");
  const input = router.addPublisher("pub");
  const body = packEvent("odd", { k: "v" });
  // keys in order body, head
  const odd = concat(
    Uint8Array.of(0x82, 0xa4, 0x62, 0x6f, 0x64, 0x79, 0xc4, body.length),
    body,
    Uint8Array.of(0xa4, 0x68, 0x65, 0x61, 0x64, 0x80),
  );
  const a = frameOf("a", {});
  const c = frameOf("c", {});
  input.push(concat(a, odd, c));
  await tick();
  assert.deepEqual(sub.bytes, concat(a, encodeFrame(body), c));
  input.close();
  router.closeAll();
});

Deno.test("Router coalesces frames queued during a write into the next write", async () => {
  const { router } = newRouter();
  let release!: () => void;
  const writes: Uint8Array[] = [];
  const sub: Outbound = {
    write(bytes) {
      writes.push(bytes.slice());
      if (writes.length === 1) return new Promise<void>((resolve) => release = resolve);
      return Promise.resolve();
    },
    close() {},
  };
  router.addSubscriber(sub, "sub");
  const input = router.addPublisher("pub");
  const frames = Array.from({ length: 5 }, (_, i) => frameOf(`t/${i}`, {}));
  input.push(frames[0]);
  await tick();
  for (const frame of frames.slice(1)) input.push(frame);
  await tick();
  assert.equal(writes.length, 1);
  release();
  await tick();
  assert.equal(writes.length, 2);
  assert.deepEqual(writes[1], concat(...frames.slice(1)));
  input.close();
  router.closeAll();
});

/**
 * An Outbound whose writes stay pending until released (`release()` one,
 * `releaseAll()` all, or `auto` to complete them as they come). It records
 * each written view as given (no copy), so tests can check what is shared.
 */
class GatedOutbound implements Outbound {
  writes: Uint8Array[] = [];
  closed = 0;
  auto = false;
  #pending: PromiseWithResolvers<void>[] = [];
  write(bytes: Uint8Array): Promise<void> {
    this.writes.push(bytes);
    if (this.auto) return Promise.resolve();
    const gate = Promise.withResolvers<void>();
    this.#pending.push(gate);
    return gate.promise;
  }
  close(): void {
    this.closed++;
    // Like a socket: closing fails the write in flight.
    for (const gate of this.#pending.splice(0)) gate.reject(new Error("closed"));
  }
  releaseAll(): void {
    this.auto = true;
    for (const gate of this.#pending.splice(0)) gate.resolve();
  }
  get pending(): number {
    return this.#pending.length;
  }
  get bytes(): Uint8Array {
    return concat(...this.writes);
  }
}

/** An Outbound that completes each write after `ms` (a reader that keeps reading, slowly). */
class SlowOutbound implements Outbound {
  writes: Uint8Array[] = [];
  closed = 0;
  busy = false;
  constructor(readonly ms: number) {}
  async write(bytes: Uint8Array): Promise<void> {
    this.busy = true;
    this.writes.push(bytes.slice());
    await new Promise((resolve) => setTimeout(resolve, this.ms));
    this.busy = false;
  }
  close(): void {
    this.closed++;
  }
  get bytes(): Uint8Array {
    return concat(...this.writes);
  }
}

/** Frame `i` of a numbered stream: tag `t/<i>`, data `{ i, pad }`. */
function numbered(i: number, pad = 80): Uint8Array {
  return frameOf(`t/${i}`, { i, pad: "p".repeat(pad) });
}

/**
 * Checks that a subscriber's stream accounts for every one of `total`
 * numbered events: each gap is preceded by a missed notice whose
 * `missed_events` is the gap's exact size and whose `delivered_events` is
 * what came before it.
 */
function checkAccounting(
  bytes: Uint8Array,
  total: number,
): { delivered: number; missed: number; notices: number } {
  let next = 0;
  let delivered = 0;
  let missed = 0;
  let notices = 0;
  for (const event of events(bytes)) {
    const data = event.data as Record<string, number>;
    if (event.tag === SUBSCRIBER_MISSED_TAG) {
      notices++;
      assert.ok(data.missed_events > 0);
      assert.equal(data.delivered_events, delivered, "delivered_events counts what came before");
      missed += data.missed_events;
      next += data.missed_events;
      assert.equal(data.total_missed_events, missed);
      assert.ok(data.missed_bytes > data.missed_events * 80);
      continue;
    }
    assert.equal(event.tag, `t/${next}`, "no gap without a notice counting it");
    assert.equal(data.i, next);
    next++;
    delivered++;
  }
  assert.equal(next, total, "every event was received or counted as missed");
  return { delivered, missed, notices };
}

Deno.test("Router discards the oldest unsent events of a subscriber over writeBufferLimit, announces them where the gap is, and goes on", async () => {
  const limit = 4000;
  const { router, lines } = newRouter({ writeBufferLimit: limit });
  const slow = new GatedOutbound();
  const fast = new FastOutbound();
  router.addSubscriber(slow, "slow");
  router.addSubscriber(fast, "fast");
  const input = router.addPublisher("pub");
  const total = 100;
  for (let i = 0; i < total; i++) {
    input.push(numbered(i));
    await tick();
  }
  // The slow one is stuck in its first write; it is not dropped.
  assert.equal(slow.writes.length, 1);
  assert.equal(slow.closed, 0);
  assert.equal(router.stats.subscribers, 2);
  assert.equal(router.stats.dropped, 0);
  assert.ok(router.stats.missedEvents > 0);
  assert.ok(router.stats.bufferedBytes <= limit, `${router.stats.bufferedBytes}`);
  assert.ok(
    lines.some((l) => l.startsWith("warning: subscriber slow is more than ipc_write_buffer")),
    lines.join("\n"),
  );
  // It reads again: its first write, one notice for the one gap, the newest events.
  slow.releaseAll();
  await until(() => events(slow.bytes).at(-1)?.tag === `t/${total - 1}`);
  const got = checkAccounting(slow.bytes, total);
  assert.equal(got.notices, 1);
  assert.equal(got.missed, router.stats.missedEvents);
  assert.ok(got.delivered > 1, "it goes on receiving after the gap");
  assert.equal(router.stats.missedNotices, 1);
  // Publishing on reaches it as usual.
  input.push(numbered(total));
  await tick();
  assert.equal(events(slow.bytes).at(-1)?.tag, `t/${total}`);
  // The fast subscriber saw every frame, in order, and no notice.
  assert.deepEqual(
    events(fast.bytes).map((e) => e.tag),
    [...Array(total + 1).keys()].map((i) => `t/${i}`),
  );
  input.close();
  router.closeAll();
});

Deno.test("Router gives a reader slower than the publisher gaps, each announced with its exact count", async () => {
  const { router } = newRouter({ writeBufferLimit: 20_000 });
  const slow = new SlowOutbound(2);
  router.addSubscriber(slow, "slow");
  const input = router.addPublisher("pub");
  const total = 5000;
  for (let i = 0; i < total; i += 100) {
    for (let j = i; j < i + 100; j++) input.push(numbered(j));
    await tick();
  }
  await until(() => !slow.busy && events(slow.bytes).at(-1)?.tag === `t/${total - 1}`, 10_000);
  const got = checkAccounting(slow.bytes, total);
  assert.ok(got.notices >= 2, `${got.notices} notices`);
  assert.equal(got.delivered + got.missed, total);
  assert.equal(slow.closed, 0);
  input.close();
  router.closeAll();
});

Deno.test("Router shares the bytes of N stuck subscribers: one copy held, each write a view of the chunk it came in", async () => {
  const { router } = newRouter({ writeBufferLimit: 10 << 20 });
  const subs = [new GatedOutbound(), new GatedOutbound(), new GatedOutbound()];
  subs.forEach((sub, i) => router.addSubscriber(sub, `stuck${i}`));
  const input = router.addPublisher("pub");
  const chunks: Uint8Array[] = [];
  for (let c = 0; c < 64; c++) {
    const chunk = concat(...Array.from({ length: 150 }, (_, k) => numbered(c * 150 + k)));
    chunks.push(chunk);
    input.push(chunk);
    await tick();
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  assert.ok(total > 1_000_000);
  const stats = router.stats;
  // One copy of what they lag behind, not three.
  assert.equal(stats.bufferedBytes, total - chunks[0].length);
  assert.equal(stats.backlogBytes, 3 * total);
  for (const sub of subs) sub.releaseAll();
  await until(() => subs.every((sub) => sub.writes.length === chunks.length));
  for (const sub of subs) {
    assert.deepEqual(sub.bytes, concat(...chunks));
    sub.writes.forEach((write, i) => assert.equal(write.buffer, chunks[i].buffer, "no copy"));
  }
  assert.equal(router.stats.bufferedBytes, 0);
  input.close();
  router.closeAll();
});

Deno.test("Router holds about writeBufferLimit for a stuck subscriber while 50 times that passes", async () => {
  const limit = 64 * 1024;
  const { router } = newRouter({ writeBufferLimit: limit });
  const stuck = new GatedOutbound();
  const fast = new FastOutbound();
  router.addSubscriber(stuck, "stuck");
  router.addSubscriber(fast, "fast");
  const input = router.addPublisher("pub");
  let most = 0;
  let i = 0;
  while (router.stats.bytesIn < 50 * limit) {
    input.push(concat(...Array.from({ length: 40 }, () => numbered(i++))));
    await tick();
    most = Math.max(most, router.stats.bufferedBytes);
  }
  assert.ok(most <= limit, `held ${most} bytes`);
  assert.equal(events(fast.bytes).length, i);
  stuck.releaseAll();
  await until(() => events(stuck.bytes).at(-1)?.tag === `t/${i - 1}`);
  const got = checkAccounting(stuck.bytes, i);
  assert.equal(got.notices, 1);
  assert.ok(got.missed > 0.9 * i);
  input.close();
  router.closeAll();
});

Deno.test("Router with overflow: disconnect drops a subscriber over writeBufferLimit; the dropped notice follows its write in flight", async () => {
  const limit = 2000;
  const { router, lines } = newRouter({ writeBufferLimit: limit, overflow: "disconnect" });
  const slow = new GatedOutbound();
  const fast = new FastOutbound();
  router.addSubscriber(slow, "slow");
  router.addSubscriber(fast, "fast");
  const input = router.addPublisher("pub");
  const frames = Array.from({ length: 100 }, (_, i) => numbered(i));
  let pushedAtDrop = 0;
  for (const frame of frames) {
    input.push(frame);
    await tick();
    if (pushedAtDrop === 0 && router.stats.dropped > 0) pushedAtDrop = router.stats.framesIn;
  }
  assert.deepEqual(fast.bytes, concat(...frames));
  assert.equal(router.stats.dropped, 1);
  assert.equal(router.stats.subscribers, 1);
  assert.ok(
    lines.some((l) => l.startsWith("warning: dropping subscriber slow") && l.includes(`${limit}`)),
    lines.join("\n"),
  );
  // The slow one had only its first write; the notice waits for that write.
  assert.equal(slow.writes.length, 1);
  assert.equal(slow.closed, 0);
  slow.releaseAll();
  await until(() => slow.closed > 0);
  assert.equal(slow.writes.length, 2);
  const got = events(slow.bytes);
  assert.deepEqual(got.map((e) => e.tag), ["t/0", DROPPED_TAG]);
  assert.equal(DROPPED_TAG, "saltbus/subscriber/dropped");
  const data = got[1].data as Record<string, unknown>;
  assert.equal(data.ipc_write_buffer, limit);
  assert.ok((data.buffered_bytes as number) > limit);
  assert.equal(data.delivered_events, 1);
  // Everything published to it but the write in flight was discarded.
  assert.equal(data.discarded_events, pushedAtDrop - 1);
  assert.match(data.reason as string, /ipc_write_buffer/);
  assert.match(data._stamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
  // Publishing on goes to the fast one only.
  input.push(frameOf("after", {}));
  await tick();
  assert.equal(slow.writes.length, 2);
  assert.equal(events(fast.bytes).at(-1)?.tag, "after");
  input.close();
  router.closeAll();
});

Deno.test("Router with overflow: disconnect closes a dropped subscriber whose write in flight fails", async () => {
  const { router } = newRouter({ writeBufferLimit: 500, overflow: "disconnect" });
  const slow = new StuckOutbound();
  const fast = new FastOutbound();
  router.addSubscriber(slow, "slow");
  router.addSubscriber(fast, "fast");
  const input = router.addPublisher("pub");
  const frames = Array.from({ length: 20 }, (_, i) => numbered(i));
  for (const frame of frames) {
    input.push(frame);
    await tick();
  }
  assert.equal(router.stats.dropped, 1);
  slow.fail();
  await until(() => slow.closed > 0);
  // The peer is gone: nothing more was written to it.
  assert.equal(slow.writes.length, 1);
  assert.deepEqual(fast.bytes, concat(...frames));
  input.close();
  router.closeAll();
});

Deno.test("Router closes a subscriber whose write makes no progress for stallTimeoutMs, logging what it was sent and missed", async () => {
  const { router, lines } = newRouter({ writeBufferLimit: 2000, stallTimeoutMs: 40 });
  const stuck = new GatedOutbound();
  const fast = new FastOutbound();
  router.addSubscriber(stuck, "stuck");
  router.addSubscriber(fast, "fast");
  const input = router.addPublisher("pub");
  const started = Date.now();
  for (let i = 0; i < 50; i++) {
    input.push(numbered(i));
    await tick();
  }
  await until(() => stuck.closed > 0);
  assert.ok(Date.now() - started >= 40);
  assert.equal(router.stats.stalled, 1);
  assert.equal(router.stats.subscribers, 1);
  const line = lines.find((l) => l.startsWith("warning: closing subscriber stuck: no progress"));
  assert.ok(line, lines.join("\n"));
  const missed = router.stats.missedEvents;
  assert.ok(missed > 0);
  assert.match(line, new RegExp(`was sent \\d+ events and missed ${missed} \\(\\d+ bytes\\)`));
  // The others carry on.
  input.push(numbered(50));
  await tick();
  assert.equal(events(fast.bytes).length, 51);
  input.close();
  router.closeAll();
});

Deno.test("Router with overflow: disconnect closes a dropped subscriber that never takes its notice after stallTimeoutMs", async () => {
  const { router, lines } = newRouter({
    writeBufferLimit: 500,
    overflow: "disconnect",
    stallTimeoutMs: 30,
  });
  const stuck = new GatedOutbound();
  router.addSubscriber(stuck, "stuck");
  const input = router.addPublisher("pub");
  for (let i = 0; i < 20; i++) {
    input.push(numbered(i));
    await tick();
  }
  assert.equal(router.stats.dropped, 1);
  await until(() => stuck.closed > 0);
  assert.equal(router.stats.stalled, 1);
  assert.equal(stuck.writes.length, 1);
  assert.ok(lines.some((l) => l.startsWith("warning: closing subscriber stuck: no progress")));
  input.close();
  router.closeAll();
});

Deno.test("Router does not close a subscriber whose writes each complete, however far behind it is", async () => {
  const { router } = newRouter({ writeBufferLimit: 3000, stallTimeoutMs: 30 });
  const slow = new SlowOutbound(15);
  router.addSubscriber(slow, "slow");
  const input = router.addPublisher("pub");
  let i = 0;
  const until300 = Date.now() + 300;
  while (Date.now() < until300) {
    input.push(numbered(i++));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await until(() => !slow.busy && events(slow.bytes).at(-1)?.tag === `t/${i - 1}`, 5000);
  assert.equal(slow.closed, 0);
  assert.equal(router.stats.stalled, 0);
  checkAccounting(slow.bytes, i);
  input.close();
  router.closeAll();
});

// ------------------------------------------------------------ pull side

Deno.test("Router closes the publisher holding the largest incomplete frame once they all hold more than partialFramesLimit; the others are unaffected", async () => {
  const { router, lines } = newRouter({ partialFramesLimit: 100_000 });
  const sub = new FastOutbound();
  router.addSubscriber(sub, "sub");
  const closed: string[] = [];
  const add = (label: string) => router.addPublisher(label, { close: () => closed.push(label) });
  const big = frameOf("big", { s: "b".repeat(60_000) });
  const mid = frameOf("mid", { s: "m".repeat(30_000) });
  const small = frameOf("small", { s: "s".repeat(20_000) });
  const a = add("a");
  const b = add("b");
  const c = add("c");
  a.push(big.slice(0, 50_000));
  b.push(mid.slice(0, 10_000));
  // Canonical frames: each holds a buffer of its frame's size.
  assert.equal(router.stats.partialBytes, big.length + mid.length);
  assert.equal(router.stats.evicted, 0);
  c.push(small.slice(0, 5_000));
  assert.deepEqual(closed, ["a"]);
  assert.equal(router.stats.evicted, 1);
  assert.equal(router.stats.partialBytes, mid.length + small.length);
  assert.ok(
    lines.some((l) =>
      l.startsWith("warning: closing publisher a: incomplete frames") &&
      l.includes("partial_frames_limit (100000 bytes)") && l.includes(`(${big.length} bytes)`)
    ),
    lines.join("\n"),
  );
  assert.throws(() => a.push(big.slice(50_000)), FrameError);
  a.close();
  b.push(mid.slice(10_000));
  c.push(small.slice(5_000));
  await tick();
  assert.deepEqual(events(sub.bytes).map((e) => e.tag), ["mid", "small"]);
  assert.equal(router.stats.partialBytes, 0);
  b.close();
  c.close();
  assert.equal(router.stats.publishers, 0);
  router.closeAll();
});

Deno.test("Router without a close callback releases an evicted publisher's bytes at once and refuses its next push", () => {
  const { router } = newRouter({ partialFramesLimit: 50_000 });
  const big = frameOf("big", { s: "b".repeat(40_000) });
  const a = router.addPublisher("a");
  const b = router.addPublisher("b");
  a.push(big.slice(0, 100));
  // b is the one pushing and the largest: its push throws after the frames before.
  assert.throws(
    () => b.push(concat(FRAME_SMALL, frameOf("huge", { s: "h".repeat(60_000) }).slice(0, 30))),
    (err: unknown) => err instanceof FrameError && /partial_frames_limit/.test(err.message),
  );
  assert.equal(router.stats.partialBytes, big.length);
  assert.equal(router.stats.framesIn, 1);
  b.close();
  a.close();
  assert.equal(router.stats.partialBytes, 0);
  assert.equal(router.stats.rejected, 1);
});

const FRAME_SMALL = frameOf("small", { ok: true });

Deno.test("Router's partial-frame accounting returns to 0 after 1,000 publishers leave mid-frame", () => {
  const { router } = newRouter({ partialFramesLimit: 200_000 });
  const frame = frameOf("churn", { s: "c".repeat(10_000) });
  const open = [];
  for (let i = 0; i < 1000; i++) {
    const input = router.addPublisher(`p${i}`);
    try {
      input.push(frame.slice(0, 1 + (i * 37) % (frame.length - 1)));
    } catch (err) {
      assert.ok(err instanceof FrameError);
    }
    open.push(input);
    if (open.length > 30) open.shift()!.close();
    assert.ok(router.stats.partialBytes <= 200_000);
  }
  for (const input of open) input.close();
  assert.equal(router.stats.partialBytes, 0);
  assert.equal(router.stats.publishers, 0);
});

Deno.test("Router scans a dripped non-canonical frame once and forwards it re-framed", async () => {
  const { router } = newRouter({ maxFrameSize: 1 << 20 });
  const sub = new FastOutbound();
  router.addSubscriber(sub, "sub");
  const body = packEvent("dripped", { ok: 1 });
  const filler = 256 * 1024;
  const frame = concat(
    Uint8Array.of(0x82, 0xa4, 0x68, 0x65, 0x61, 0x64, 0x81, 0xa1, 0x78, 0xdd),
    Uint8Array.of(0, filler >>> 16, (filler >>> 8) & 0xff, filler & 0xff),
    new Uint8Array(filler).fill(0x07),
    Uint8Array.of(0xa4, 0x62, 0x6f, 0x64, 0x79, 0xc4, body.length),
    body,
  );
  const input = router.addPublisher("drip");
  let pushes = 0;
  for (let at = 0; at < frame.length; at += 512) {
    input.push(frame.slice(at, at + 512));
    pushes++;
  }
  await tick();
  assert.deepEqual(sub.bytes, encodeFrame(body));
  assert.ok(
    router.stats.scannedBytes <= frame.length + 16 * pushes,
    `${router.stats.scannedBytes}`,
  );
  assert.equal(router.stats.partialBytes, 0);
  input.close();
  router.closeAll();
});

Deno.test("Router throws FrameError for a bad frame, after delivering the frames before it; other publishers carry on", async () => {
  const { router, lines } = newRouter();
  const sub = new FastOutbound();
  router.addSubscriber(sub, "sub");
  const bad = router.addPublisher("bad-pub");
  const good = router.addPublisher("good-pub");
  const before = concat(frameOf("before/1", {}), frameOf("before/2", {}));
  assert.throws(() => bad.push(concat(before, Uint8Array.of(0x01, 0x02, 0x03))), FrameError);
  bad.close();
  assert.equal(router.stats.rejected, 1);
  assert.ok(
    lines.some((l) => l.startsWith("warning: closing publisher bad-pub")),
    lines.join("\n"),
  );
  good.push(frameOf("good/1", { ok: true }));
  // A frame split across chunks from the good publisher still completes.
  const split = frameOf("good/2", { ok: true });
  good.push(split.slice(0, 7));
  good.push(split.slice(7));
  await tick();
  assert.deepEqual(events(sub.bytes).map((e) => e.tag), [
    "before/1",
    "before/2",
    "good/1",
    "good/2",
  ]);
  assert.equal(router.stats.publishers, 1);
  good.close();
  router.closeAll();
});

Deno.test("Router throws FrameError for a body without \\n\\n and for an over-size header", () => {
  const { router } = newRouter();
  const a = router.addPublisher("a");
  assert.throws(() => a.push(encodeFrame(new TextEncoder().encode("no tag end"))), FrameError);
  a.close();
  const b = router.addPublisher("b");
  assert.throws(
    () =>
      b.push(
        Uint8Array.of(
          0x82,
          0xa4,
          0x68,
          0x65,
          0x61,
          0x64,
          0x80,
          0xa4,
          0x62,
          0x6f,
          0x64,
          0x79,
          0xc6,
          0x40,
          0,
          0,
          0,
        ),
      ),
    FrameError,
  );
  b.close();
  assert.equal(router.stats.rejected, 2);
});

Deno.test("Router drops the partial frame of a publisher that closes mid-frame", async () => {
  const { router } = newRouter();
  const sub = new FastOutbound();
  router.addSubscriber(sub, "sub");
  const a = router.addPublisher("a");
  const b = router.addPublisher("b");
  const frame = frameOf("partial", {});
  a.push(frame.slice(0, 10));
  a.close();
  b.push(frameOf("whole", {}));
  await tick();
  assert.deepEqual(events(sub.bytes).map((e) => e.tag), ["whole"]);
  b.close();
  router.closeAll();
});
