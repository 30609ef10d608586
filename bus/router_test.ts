import { concatBytes } from "./bytes.ts";
import assert from "node:assert/strict";
import { FrameError } from "./errors.ts";
import { packEvent, unpackEvent } from "./event_codec.ts";
import { encodeFrame, FrameScanner } from "./frame.ts";
import { createLogger } from "./log.ts";
import { DROPPED_TAG, type Outbound, Router } from "./router.ts";

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

function newRouter(options: { writeBufferLimit?: number; dropNoticeTimeoutMs?: number } = {}) {
  const lines: string[] = [];
  const log = createLogger("debug", (level, message) => lines.push(`${level}: ${message}`));
  const router = new Router({
    writeBufferLimit: options.writeBufferLimit ?? 1 << 20,
    maxFrameSize: 1 << 20,
    ...(options.dropNoticeTimeoutMs !== undefined
      ? { dropNoticeTimeoutMs: options.dropNoticeTimeoutMs }
      : {}),
    log,
  });
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

Deno.test("Router drops a subscriber that does not read once over writeBufferLimit; a fast one gets everything", async () => {
  const limit = 2000;
  const { router, lines } = newRouter({ writeBufferLimit: limit });
  const slow = new StuckOutbound();
  const fast = new FastOutbound();
  router.addSubscriber(slow, "slow");
  router.addSubscriber(fast, "fast");
  const input = router.addPublisher("pub");
  const frames = Array.from({ length: 100 }, (_, i) => frameOf(`t/${i}`, { pad: "p".repeat(80) }));
  for (const frame of frames) {
    input.push(frame);
    await tick();
  }
  // The fast subscriber saw every frame, in order.
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
  slow.release();
  await until(() => slow.closed > 0);
  assert.equal(slow.writes.length, 2);
  const notice = events(slow.writes[1]);
  assert.equal(notice.length, 1);
  assert.equal(notice[0].tag, DROPPED_TAG);
  assert.equal(DROPPED_TAG, "saltbus/subscriber/dropped");
  const data = notice[0].data as Record<string, unknown>;
  assert.equal(data.ipc_write_buffer, limit);
  assert.ok((data.buffered_bytes as number) > limit);
  assert.equal(data.delivered_events, 1);
  assert.equal(typeof data.discarded_events, "number");
  assert.ok((data.discarded_events as number) > 0);
  assert.match(data.reason as string, /ipc_write_buffer/);
  assert.match(data._stamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
  // The notice was the last write, then the connection was closed.
  assert.equal(slow.closedAt, 2);
  // Publishing on goes to the fast one only.
  input.push(frameOf("after", {}));
  await tick();
  assert.equal(slow.writes.length, 2);
  assert.equal(events(fast.bytes).at(-1)?.tag, "after");
  input.close();
  router.closeAll();
});

Deno.test("Router closes a dropped subscriber whose stuck write fails (notice best effort)", async () => {
  const { router } = newRouter({ writeBufferLimit: 500 });
  const slow = new StuckOutbound();
  const fast = new FastOutbound();
  router.addSubscriber(slow, "slow");
  router.addSubscriber(fast, "fast");
  const input = router.addPublisher("pub");
  const frames = Array.from({ length: 20 }, (_, i) => frameOf(`t/${i}`, { pad: "p".repeat(80) }));
  for (const frame of frames) {
    input.push(frame);
    await tick();
  }
  assert.equal(router.stats.dropped, 1);
  slow.fail();
  await until(() => slow.closed > 0);
  // The notice went out after the failed write (best effort), and close followed.
  assert.ok(slow.writes.length <= 2);
  if (slow.writes.length === 2) assert.equal(events(slow.writes[1])[0].tag, DROPPED_TAG);
  assert.deepEqual(fast.bytes, concat(...frames));
  input.close();
  router.closeAll();
});

Deno.test("Router closes a dropped subscriber after dropNoticeTimeoutMs when its write stays stuck", async () => {
  const { router } = newRouter({ writeBufferLimit: 500, dropNoticeTimeoutMs: 30 });
  const slow = new StuckOutbound();
  // Like a socket: closing it fails the pending write.
  const close = slow.close.bind(slow);
  slow.close = () => {
    close();
    slow.fail();
  };
  router.addSubscriber(slow, "slow");
  const input = router.addPublisher("pub");
  const started = Date.now();
  for (let i = 0; i < 20; i++) input.push(frameOf(`t/${i}`, { pad: "p".repeat(80) }));
  await until(() => slow.closed > 0);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 25 && elapsed < 1000, `closed after ${elapsed} ms`);
  // Let the notice task finish against the closed outbound.
  await new Promise((resolve) => setTimeout(resolve, 30));
  input.close();
  router.closeAll();
});

Deno.test({
  name: "Router stops waiting on a dropped subscriber's stuck write after dropNoticeTimeoutMs",
  fn: async () => {
    const { router } = newRouter({ writeBufferLimit: 500, dropNoticeTimeoutMs: 20 });
    const slow = new StuckOutbound();
    router.addSubscriber(slow, "slow");
    const input = router.addPublisher("pub");
    // One frame per tick: the first write is in flight (stuck) when the drop happens.
    for (let i = 0; i < 20; i++) {
      input.push(frameOf(`t/${i}`, { pad: "p".repeat(80) }));
      await tick();
    }
    assert.equal(router.stats.dropped, 1);
    await until(() => slow.closed > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    input.close();
    router.closeAll();
  },
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
