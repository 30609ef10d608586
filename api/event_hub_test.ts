import assert from "node:assert/strict";
import { packEventFrame } from "../bus/event_codec.ts";
import { packData } from "../bus/msgpack.ts";
import type { ByteChannel, Connector } from "../bus/transport.ts";
import { captureLog } from "../tests/harness.ts";
import { type EventBatch, EventHub } from "./event_hub.ts";

/** A connector whose pub side yields `chunks`, then waits until closed. */
function fakeBus(chunks: Uint8Array[]): Connector {
  const channel: ByteChannel = {
    read: () => {
      const chunk = chunks.shift();
      return chunk ? Promise.resolve(chunk) : new Promise<null>((resolve) => (close = resolve));
    },
    write: () => Promise.resolve(),
    close: () => close(null),
  };
  let close: (value: null) => void = () => {};
  return {
    connectPub: () => Promise.resolve(channel),
    connectPull: () => Promise.reject(new Error("no pull side")),
    describe: () => "fake bus",
  };
}

Deno.test("EventHub turns frames into SSE bytes once, with ids, for every client and the history", async () => {
  const frames = [
    packEventFrame("a/b", packData({ x: 1, _stamp: "S" })),
    packEventFrame("two\nlines", packData({ y: "é" })),
    packEventFrame("when", packData({ t: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) })), // slow path
    packEventFrame("bad", Uint8Array.of(0xc1)), // not msgpack: skipped
    packEventFrame("last", packData({})),
  ];
  const joined = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  frames.reduce((at, f) => (joined.set(f, at), at + f.length), 0);
  const { log, lines } = captureLog();
  const hub = new EventHub(fakeBus([joined.subarray(0, 7), joined.subarray(7)]), {
    historySize: 10,
    historyBytes: 1 << 20,
    maxFrameSize: 1 << 20,
    log,
  });
  const batches: EventBatch[] = [];
  hub.attach({ deliver: (batch) => batches.push(batch) });
  hub.start();
  await hub.connected();
  while (hub.history.lastId < 4) await new Promise((r) => setTimeout(r, 1));
  await hub.close();
  const text = new TextDecoder().decode(batches[0].sse);
  assert.equal(
    text,
    `tag: a/b\ndata: {"data": {"x": 1, "_stamp": "S"}, "tag": "a/b"}\nid: 1\n\n` +
      `tag: two\\nlines\ndata: {"data": {"y": "é"}, "tag": "two\\nlines"}\nid: 2\n\n` +
      `tag: when\ndata: {"data": {"t": "2024-01-02T03:04:05"}, "tag": "when"}\nid: 3\n\n` +
      `tag: last\ndata: {"data": {}, "tag": "last"}\nid: 4\n\n`,
  );
  const events = batches.flatMap((b) => b.events);
  assert.deepEqual(events.map((e) => e.id), [1, 2, 3, 4]);
  assert.equal(events[1].json, `{"data": {"y": "é"}, "tag": "two\\nlines"}`);
  assert.deepEqual(events[0].data, { x: 1, _stamp: "S" });
  assert.deepEqual(hub.history.since(2).entries.map((e) => e.tag), ["when", "last"]);
  assert.ok(lines.some((l) => l.includes(`skipping event "bad"`)), lines.join("\n"));
});
