import assert from "node:assert/strict";
import { concatBytes } from "./bytes.ts";
import { EventDataError } from "./errors.ts";
import { packEventFrame } from "./event_codec.ts";
import { encodeFrame } from "./frame.ts";
import { FrameBatch } from "./frame_batch.ts";
import { packData } from "./msgpack.ts";

const LIMIT = 1_048_576;

Deno.test("appendEvent writes the bytes of packEventFrame(tag, packData(data))", () => {
  const batch = new FrameBatch();
  const cases: [string, unknown][] = [
    ["salt/auth", { a: 1 }],
    ["", {}],
    ["ünïcødé/tag/日本", { k: "é" }],
    ["t", { pad: "x".repeat(0xff - 10) }], // bodies around the 1-byte length header
    ["t", { pad: "x".repeat(0xff - 9) }],
    ["t", { pad: "x".repeat(0xff - 8) }],
    ["t", { pad: "y".repeat(0xffff - 12) }], // and around the 2-byte one
    ["t", { pad: "y".repeat(0xffff - 11) }],
    ["t", { pad: "y".repeat(0xffff - 10) }],
    ["t", { when: new Date(Date.UTC(2024, 4, 1)), n: 2n ** 40n }], // the general encoder
    ["t".repeat(5000), { long: "tag" }],
  ];
  const expected: Uint8Array[] = [];
  for (const [tag, data] of cases) {
    assert.equal(batch.appendEvent(tag, data, LIMIT), true);
    expected.push(packEventFrame(tag, packData(data)));
  }
  const total = expected.reduce((n, f) => n + f.length, 0);
  assert.equal(batch.length, total);
  assert.deepEqual(batch.take(), concatBytes(expected));
  assert.equal(batch.length, 0);
  assert.equal(batch.take().length, 0);
});

Deno.test("frames and events keep the order they were appended in", () => {
  const batch = new FrameBatch();
  const raw = encodeFrame(new TextEncoder().encode("raw\n\n\x80"));
  batch.appendEvent("a", { n: 1 }, LIMIT);
  batch.appendFrame(raw);
  batch.appendEvent("b", { n: 2 }, LIMIT);
  const first = batch.take();
  assert.deepEqual(
    first,
    concatBytes([
      packEventFrame("a", packData({ n: 1 })),
      raw,
      packEventFrame("b", packData({ n: 2 })),
    ]),
  );
  // The buffer is reused: what was taken is a copy and stays intact.
  batch.appendEvent("c", { n: 3 }, LIMIT);
  assert.deepEqual(batch.take(), packEventFrame("c", packData({ n: 3 })));
  const tail = packEventFrame("b", packData({ n: 2 })).length;
  assert.deepEqual(first.subarray(first.length - tail - raw.length, first.length - tail), raw);
});

Deno.test("an event over max_event_size appends nothing and answers false", () => {
  const batch = new FrameBatch();
  batch.appendEvent("keep", { a: 1 }, LIMIT);
  const before = batch.length;
  assert.equal(batch.appendEvent("big", { big: "x".repeat(2000) }, 1000), false);
  assert.equal(batch.appendEvent("big", { when: new Date(), big: "x".repeat(2000) }, 1000), false);
  assert.equal(batch.length, before);
  // Salt counts 33 bytes of overhead: 967 bytes of data is the most that fits 1000.
  const data = { s: "x".repeat(967 - 6) }; // map, key, str16 header: 6 bytes
  assert.equal(packData(data).length, 967);
  assert.equal(batch.appendEvent("fits", data, 1000), true);
  assert.equal(batch.appendEvent("over", { s: "x".repeat(962) }, 1000), false);
  assert.deepEqual(
    batch.take(),
    concatBytes([
      packEventFrame("keep", packData({ a: 1 })),
      packEventFrame("fits", packData(data)),
    ]),
  );
});

Deno.test("data msgpack cannot carry throws and leaves the batch as it was", () => {
  const batch = new FrameBatch();
  batch.appendEvent("keep", { a: 1 }, LIMIT);
  assert.throws(() => batch.appendEvent("bad", { f: () => 1 }, LIMIT), EventDataError);
  assert.deepEqual(batch.take(), packEventFrame("keep", packData({ a: 1 })));
});

Deno.test("a batch grows past its first buffer and past huge events", () => {
  const batch = new FrameBatch();
  const expected: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) {
    const data = { i, s: "z".repeat(i % 300) };
    batch.appendEvent(`grow/${i}`, data, LIMIT);
    expected.push(packEventFrame(`grow/${i}`, packData(data)));
  }
  const huge = { s: "h".repeat(900_000) };
  batch.appendEvent("huge", huge, LIMIT);
  expected.push(packEventFrame("huge", packData(huge)));
  assert.deepEqual(batch.take(), concatBytes(expected));
  batch.appendEvent("after", { a: 1 }, LIMIT);
  assert.deepEqual(batch.take(), packEventFrame("after", packData({ a: 1 })));
});
