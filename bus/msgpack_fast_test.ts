import assert from "node:assert/strict";
import { Encoder } from "npm:@msgpack/msgpack@3.1.3";
import { fastPack } from "./msgpack_fast.ts";

const reference = new Encoder();

/** A random plain value: what events carry. */
function randomValue(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 4 ? 7 : 10));
  const ints = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2: {
      const n = ints[Math.floor(rand() * ints.length)];
      return rand() < 0.5 ? n : -n - Math.floor(rand() * 40);
    }
    case 3:
      return (rand() - 0.5) * 10 ** Math.floor(rand() * 12);
    case 4: {
      const chars = ["a", "Z", "é", "日", "😀", "\0", "\n", " "];
      const len = [0, 5, 31, 32, 255, 256, 70000][Math.floor(rand() * 7)];
      let s = "";
      for (let i = 0; i < len; i++) {
        s += rand() < 0.9 ? "x" : chars[Math.floor(rand() * chars.length)];
      }
      return s;
    }
    case 5:
      return crypto.getRandomValues(new Uint8Array([0, 10, 300][Math.floor(rand() * 3)]));
    case 6:
      return undefined;
    case 7:
    case 8: {
      const o: Record<string, unknown> = {};
      const n = [0, 3, 15, 16, 20][Math.floor(rand() * 5)];
      for (let i = 0; i < n; i++) {
        o[`k${i}${rand() < 0.1 ? "é" : ""}`] = randomValue(rand, depth + 1);
      }
      return o;
    }
    default:
      return Array.from(
        { length: [0, 2, 15, 16, 17][Math.floor(rand() * 5)] },
        () => randomValue(rand, depth + 1),
      );
  }
}

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

Deno.test("fastPack writes exactly @msgpack/msgpack's bytes for plain data (2,000 random values)", () => {
  const rand = seeded(42);
  for (let i = 0; i < 2000; i++) {
    const value = randomValue(rand);
    const fast = fastPack(value);
    assert.ok(fast !== null, `plain value given up: ${JSON.stringify(value)?.slice(0, 80)}`);
    assert.deepEqual(fast, reference.encode(value), `value ${i}`);
  }
  assert.deepEqual(
    fastPack({ a: NaN, b: -0, c: Infinity }),
    reference.encode({ a: NaN, b: -0, c: Infinity }),
  );
});

Deno.test("fastPack gives up on what needs Salt's rules or the general encoder", () => {
  class Point {
    x = 1;
  }
  for (
    const value of [new Date(), new Map(), new Set(), 1n, new Point(), new Int8Array(2), () => 1]
  ) {
    assert.equal(fastPack(value), null);
    assert.equal(fastPack({ nested: [value] }), null);
  }
  let deep: unknown = 1;
  for (let i = 0; i < 150; i++) deep = [deep];
  assert.equal(fastPack(deep), null, "deeper than 100 levels");
  const a = fastPack({ a: 1 })!;
  const b = fastPack({ b: 2 })!;
  assert.deepEqual([...a], [0x81, 0xa1, 0x61, 0x01], "a fresh copy each time");
  assert.deepEqual([...b], [0x81, 0xa1, 0x62, 0x02]);
});
