import assert from "node:assert/strict";
import { packData, unpackData } from "./msgpack.ts";
import { exceedsEventSize, trimToSize, VALUE_TRIMMED } from "./trim.ts";

Deno.test("exceedsEventSize() counts Python's 33 bytes of bytes-object overhead, as Salt", () => {
  assert.equal(exceedsEventSize(1000 - 33, 1000), false);
  assert.equal(exceedsEventSize(1000 - 32, 1000), true);
});

Deno.test("trimToSize() leaves data under the limit untouched", () => {
  const data = { a: "x".repeat(100) };
  const packed = packData(data);
  const result = trimToSize(data, packed, 1000);
  assert.equal(result.packed, packed);
  assert.deepEqual(result.trimmed, []);
});

Deno.test("trimToSize() replaces oversized values, nested mappings included, and keeps the rest", () => {
  const data = {
    keep: "small",
    big: "x".repeat(5000),
    nested: { fine: 1, huge: "y".repeat(5000) },
    list: [1, 2, 3],
  };
  const result = trimToSize(data, packData(data), 2000);
  assert.deepEqual(unpackData(result.packed), {
    keep: "small",
    big: VALUE_TRIMMED,
    nested: { fine: 1, huge: VALUE_TRIMMED },
    list: [1, 2, 3],
  });
  assert.deepEqual(result.trimmed.sort(), ["big", "nested.huge"]);
  assert.equal(exceedsEventSize(result.packed.length, 2000), false);
  assert.equal(data.big.length, 5000, "the caller's data is not modified");
});

Deno.test("trimToSize() lowers the threshold step by step until the data fits", () => {
  // Ten values of 150 bytes: none is over 50 % of 1000, but together they are too big.
  const data = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, "z".repeat(150)]));
  const result = trimToSize(data, packData(data), 1000);
  assert.equal(exceedsEventSize(result.packed.length, 1000), false);
  assert.ok(result.trimmed.length > 0);
});
