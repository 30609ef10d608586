import assert from "node:assert/strict";
import { EventDataError } from "./errors.ts";
import { DATETIME_EXT_TYPE, ExtData, packData, unpackData } from "./msgpack.ts";

/** Bytes from a hex dump such as `"81 a1 6b"`. */
function hex(text: string): Uint8Array {
  return Uint8Array.from(text.trim().split(/\s+/), (h) => parseInt(h, 16));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

Deno.test("packData() writes the §2.2 example map byte for byte", () => {
  const data = { k: 1.5, n: null, t: true, neg: -1, big: 2 ** 40, l: [1, 2] };
  assert.equal(
    toHex(packData(data)),
    "86 a1 6b cb 3f f8 00 00 00 00 00 00 a1 6e c0 a1 74 c3 a3 6e 65 67 ff a3 62 69 67 " +
      "cf 00 00 01 00 00 00 00 00 a1 6c 92 01 02",
  );
});

Deno.test("packData() writes non-ASCII strings as UTF-8 str: {k: 'é'} is 81 a1 6b a2 c3 a9", () => {
  assert.equal(toHex(packData({ k: "é" })), "81 a1 6b a2 c3 a9");
  assert.deepEqual(unpackData(hex("81 a1 6b a2 c3 a9")), { k: "é" });
});

Deno.test("packData() keeps key insertion order", () => {
  const bytes = packData({ z: 1, a: 2, m: 3 });
  assert.equal(toHex(bytes), "83 a1 7a 01 a1 61 02 a1 6d 03");
  assert.deepEqual(Object.keys(unpackData(bytes) as object), ["z", "a", "m"]);
});

Deno.test("packData() writes Uint8Array as bin and whole-number floats as ints", () => {
  assert.equal(toHex(packData(Uint8Array.of(1, 2, 3))), "c4 03 01 02 03");
  assert.equal(toHex(packData(0.5)), "cb 3f e0 00 00 00 00 00 00");
  const bytes = unpackData(hex("c4 03 01 02 03"));
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual(Array.from(bytes), [1, 2, 3]);
});

Deno.test("packData() writes a Date as Salt's ext 78 datetime (c7 18 4e + %Y%m%dT%H:%M:%S.%f)", () => {
  const date = new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 789));
  const bytes = packData(date);
  const payload = new TextEncoder().encode("20240501T12:34:56.789000");
  assert.equal(DATETIME_EXT_TYPE, 78);
  assert.deepEqual(bytes, Uint8Array.of(0xc7, 0x18, 0x4e, ...payload));
  // Inside a map too.
  assert.deepEqual(
    packData({ d: date }),
    Uint8Array.of(0x81, 0xa1, 0x64, 0xc7, 0x18, 0x4e, ...payload),
  );
});

Deno.test("unpackData() decodes ext 78 datetimes with microseconds, without, and nested", () => {
  const text = "20240501T12:34:56.789012";
  // 24 bytes (salt-spec §2.2 says 26 and c7 1a; the text it shows is 24 bytes: c7 18).
  assert.equal(text.length, 24);
  const ext = Uint8Array.of(0xc7, 0x18, 0x4e, ...new TextEncoder().encode(text));
  const date = unpackData(ext);
  assert.ok(date instanceof Date);
  assert.equal(date.toISOString(), "2024-05-01T12:34:56.789Z");

  const noFraction = new TextEncoder().encode("20240501T12:34:56");
  const whole = unpackData(Uint8Array.of(0xc7, noFraction.length, 0x4e, ...noFraction));
  assert.ok(whole instanceof Date);
  assert.equal(whole.toISOString(), "2024-05-01T12:34:56.000Z");

  const nested = unpackData(Uint8Array.of(0x81, 0xa1, 0x64, ...ext)) as { d: Date };
  assert.equal(nested.d.getTime(), Date.UTC(2024, 4, 1, 12, 34, 56, 789));
});

Deno.test("packData() and unpackData() round-trip a Date at millisecond precision", () => {
  const date = new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 5));
  const back = unpackData(packData({ when: date })) as { when: Date };
  assert.equal(back.when.getTime(), date.getTime());
});

Deno.test("unpackData() keeps other ext types as ExtData", () => {
  const value = unpackData(hex("d4 05 2a"));
  assert.ok(value instanceof ExtData);
  assert.equal(value.type, 5);
  assert.deepEqual(Array.from(value.data as Uint8Array), [0x2a]);
});

Deno.test("unpackData() accepts integer map keys (81 01 a1 78)", () => {
  assert.deepEqual(unpackData(hex("81 01 a1 78")), { 1: "x" });
  assert.deepEqual(unpackData(hex("82 01 a1 78 a1 6b 02")), { 1: "x", k: 2 });
});

Deno.test("unpackData() decodes a uint64 above 2^53 exactly as a bigint", () => {
  // 2^53 + 1 = 9007199254740993 cannot be a JS number.
  assert.equal(unpackData(hex("cf 00 20 00 00 00 00 00 01")), 9007199254740993n);
  assert.equal(unpackData(hex("cf ff ff ff ff ff ff ff ff")), 2n ** 64n - 1n);
  assert.equal(unpackData(hex("d3 80 00 00 00 00 00 00 00")), -(2n ** 63n));
  assert.deepEqual(unpackData(hex("81 a1 6e cf 00 20 00 00 00 00 00 01")), {
    n: 9007199254740993n,
  });
});

Deno.test("unpackData() decodes a small cf / d3 value as a number", () => {
  const small = unpackData(hex("cf 00 00 00 00 00 00 00 05"));
  assert.equal(typeof small, "number");
  assert.equal(small, 5);
  assert.equal(unpackData(hex("d3 ff ff ff ff ff ff ff fe")), -2);
  // Exactly 2^53 - 1 is still safe.
  assert.equal(unpackData(hex("cf 00 1f ff ff ff ff ff ff")), Number.MAX_SAFE_INTEGER);
  assert.deepEqual(unpackData(hex("92 cf 00 00 01 00 00 00 00 00 cf 00 20 00 00 00 00 00 01")), [
    2 ** 40,
    9007199254740993n,
  ]);
});

Deno.test("packData() writes a Map as a msgpack map, in insertion order", () => {
  assert.equal(toHex(packData(new Map([["a", 1]]))), "81 a1 61 01");
  assert.deepEqual(
    packData({ m: new Map<string, unknown>([["b", 2], ["a", [1]]]) }),
    packData({ m: { b: 2, a: [1] } }),
  );
  assert.deepEqual(unpackData(packData(new Map([[1, "x"]]))), { 1: "x" });
});

Deno.test("packData() writes a Set as an array", () => {
  assert.equal(toHex(packData(new Set([1, 2]))), "92 01 02");
  assert.deepEqual(unpackData(packData({ s: new Set(["a", "b"]) })), { s: ["a", "b"] });
});

Deno.test("packData() writes a bigint within int64/uint64 range as an integer", () => {
  assert.equal(toHex(packData(5n)), "05");
  assert.equal(toHex(packData(2n ** 60n)), "cf 10 00 00 00 00 00 00 00");
  assert.equal(toHex(packData(2n ** 64n - 1n)), "cf ff ff ff ff ff ff ff ff");
  assert.equal(toHex(packData(-(2n ** 63n))), "d3 80 00 00 00 00 00 00 00");
  assert.deepEqual(unpackData(packData({ n: 2n ** 60n + 1n })), { n: 2n ** 60n + 1n });
});

Deno.test("packData() writes a bigint outside 64 bits as its decimal string (Salt's fallback)", () => {
  assert.deepEqual(unpackData(packData({ n: 2n ** 64n })), { n: "18446744073709551616" });
  assert.deepEqual(unpackData(packData({ n: -(2n ** 63n) - 1n })), { n: "-9223372036854775809" });
  assert.deepEqual(packData(2n ** 70n), packData("1180591620717411303424"));
});

Deno.test("packData() rejects functions and symbols with EventDataError, never emptying them", () => {
  const bad: unknown[] = [
    () => 1,
    { f: () => 1 },
    { a: 1, nested: { f() {} } },
    [1, () => 2],
    { s: Symbol("x") },
    { m: new Map([["f", () => 1]]) },
    { s: new Set([() => 1]) },
    { big: 1n, f: () => 1 },
  ];
  for (const value of bad) {
    assert.throws(() => packData(value), EventDataError, `for ${String(value)}`);
  }
});

Deno.test("packData() rejects a cycle with EventDataError", () => {
  const a: Record<string, unknown> = { b: new Map() };
  (a.b as Map<string, unknown>).set("a", a);
  assert.throws(() => packData(a), EventDataError);
});
