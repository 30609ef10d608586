import assert from "node:assert/strict";
import { packData, unpackData } from "../bus/msgpack.ts";
import { pythonJsonDumps } from "../output/python_json.ts";
import { ByteWriter, msgpackToJson } from "./msgpack_json.ts";

const fast = (bytes: Uint8Array): string | null => {
  const w = new ByteWriter(4);
  return msgpackToJson(bytes, 0, bytes.length, w) ? new TextDecoder().decode(w.bytes()) : null;
};

Deno.test("msgpackToJson writes what pythonJsonDumps(unpackData()) writes", () => {
  const values: unknown[] = [
    {},
    [],
    { a: 1, b: -1, c: -33, d: 255, e: 65536, f: -129, g: -40000, h: 2 ** 32, i: -(2 ** 40) },
    { big: 2n ** 63n, neg: -(2n ** 63n), u64: 2n ** 64n - 1n },
    { f: 1.5, g: 1e-5, h: -0.25, i: 3.0, j: 1e300, k: NaN, l: -Infinity, m: 0.1 + 0.2 },
    { s: 'quote " backslash \\ nl \n cr \r tab \t ctl \u0001 \u001f del \u007f', e: "" },
    { unicode: "é 日本 🎉 \u2028", "clé": ["x".repeat(40), "y".repeat(300), "z".repeat(70000)] },
    { nested: { a: [1, [2, [3, { b: null, c: true, d: false }]]] } },
    { bytes: new Uint8Array([0x68, 0x69, 0xff, 0x00]) },
    { many: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])) },
    { arr: Array.from({ length: 70000 }, (_, i) => i % 3) },
  ];
  for (const value of values) {
    const packed = packData(value);
    assert.equal(
      fast(packed),
      pythonJsonDumps(unpackData(packed)),
      pythonJsonDumps(value).slice(0, 80),
    );
  }
});

Deno.test("msgpackToJson keeps wire key order, converts scalar keys, and gives up on the unusual", () => {
  // {"b": 1, "1": 2} with the int-like key second: Python keeps this order.
  assert.equal(fast(Uint8Array.of(0x82, 0xa1, 0x62, 0x01, 0xa1, 0x31, 0x02)), `{"b": 1, "1": 2}`);
  // Integer, nil and bool keys become strings, as Python's json does.
  assert.equal(
    fast(Uint8Array.of(0x83, 0x07, 0x01, 0xc0, 0x02, 0xc3, 0x03)),
    `{"7": 1, "null": 2, "true": 3}`,
  );
  assert.equal(fast(packData({ when: new Date(0) })), null); // ext 78: the slow path
  assert.equal(fast(Uint8Array.of(0x81, 0x90, 0x01)), null); // an array key
  assert.equal(fast(Uint8Array.of(0x92, 0x01)), null); // truncated
  assert.equal(fast(Uint8Array.of(0x01, 0x02)), null); // trailing bytes
  assert.equal(fast(Uint8Array.of(0xc1)), null); // never used
});
