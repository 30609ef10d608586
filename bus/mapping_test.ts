import assert from "node:assert/strict";
import { isMapping } from "./mapping.ts";

Deno.test("isMapping() is true for plain objects only: not arrays, bytes, dates, sets or maps", () => {
  assert.equal(isMapping({ a: 1 }), true);
  assert.equal(isMapping(Object.create(null)), true);
  for (
    const value of [
      null,
      undefined,
      1,
      "a",
      [1],
      new Uint8Array(1),
      new Date(),
      new Set(),
      new Map(),
    ]
  ) {
    assert.equal(isMapping(value), false, String(value));
  }
});
