import assert from "node:assert/strict";
import { pythonJsonDumps } from "./python_json.ts";

// Expected strings below were produced by CPython 3's
// json.dumps(value, ensure_ascii=False, sort_keys=…, indent=…).

const EVENT = { a: 1, _stamp: "2024-05-01T12:34:56.789012" };

Deno.test("pythonJsonDumps() writes the compact state.event form of §5", () => {
  assert.equal(pythonJsonDumps(EVENT), '{"a": 1, "_stamp": "2024-05-01T12:34:56.789012"}');
});

Deno.test("pythonJsonDumps() writes the pretty state.event form of §5", () => {
  assert.equal(
    pythonJsonDumps(EVENT, { sortKeys: true, indent: 4 }),
    '{\n    "_stamp": "2024-05-01T12:34:56.789012",\n    "a": 1\n}',
  );
});

Deno.test("pythonJsonDumps() writes the SSE data line of §6.1", () => {
  assert.equal(
    pythonJsonDumps({ data: EVENT, tag: "salt/auth" }),
    '{"data": {"a": 1, "_stamp": "2024-05-01T12:34:56.789012"}, "tag": "salt/auth"}',
  );
});

const NESTED = { b: [1, { c: [] }, {}], a: { x: null, y: true } };

Deno.test("pythonJsonDumps() indents nested containers and keeps empty ones inline", () => {
  assert.equal(
    pythonJsonDumps(NESTED, { sortKeys: true, indent: 4 }),
    '{\n    "a": {\n        "x": null,\n        "y": true\n    },\n    "b": [\n        1,\n' +
      '        {\n            "c": []\n        },\n        {}\n    ]\n}',
  );
  assert.equal(
    pythonJsonDumps(NESTED, { indent: 2 }),
    '{\n  "b": [\n    1,\n    {\n      "c": []\n    },\n    {}\n  ],\n  "a": {\n    "x": null,\n' +
      '    "y": true\n  }\n}',
  );
  assert.equal(pythonJsonDumps({ b: [1, 2] }, { indent: 0 }), '{\n"b": [\n1,\n2\n]\n}');
});

Deno.test("pythonJsonDumps() compact form keeps insertion order and Python separators", () => {
  assert.equal(pythonJsonDumps({ b: [1, 2], c: { d: false } }), '{"b": [1, 2], "c": {"d": false}}');
  assert.equal(pythonJsonDumps({}), "{}");
  assert.equal(pythonJsonDumps([]), "[]");
  assert.equal(pythonJsonDumps({}, { indent: 4 }), "{}");
  assert.equal(pythonJsonDumps([[]], { indent: 4 }), "[\n    []\n]");
  assert.equal(pythonJsonDumps("x"), '"x"');
  assert.equal(pythonJsonDumps(null), "null");
  assert.equal(pythonJsonDumps(undefined), "null");
  assert.equal(pythonJsonDumps([undefined, true, false]), "[null, true, false]");
});

Deno.test("pythonJsonDumps() escapes strings like Python with ensure_ascii=False", () => {
  assert.equal(
    pythonJsonDumps(['"\\\n\r\t\b\f\x00\x01\x1f\x7f', "é中😀\u2028\u2029"]),
    '["\\"\\\\\\n\\r\\t\\b\\f\\u0000\\u0001\\u001f\x7f", "é中😀\u2028\u2029"]',
  );
  assert.equal(pythonJsonDumps({ "k\n": "v" }), '{"k\\n": "v"}');
});

Deno.test("pythonJsonDumps() sorts keys by code point, not UTF-16 unit", () => {
  const value = { "\ue000": 1, "\u{1F600}": 2, a: 3, Z: 4, "é": 5 };
  assert.equal(
    pythonJsonDumps(value, { sortKeys: true }),
    '{"Z": 4, "a": 3, "é": 5, "\ue000": 1, "😀": 2}',
  );
  assert.equal(pythonJsonDumps({ ab: 1, a: 2 }, { sortKeys: true }), '{"a": 2, "ab": 1}');
});

Deno.test("pythonJsonDumps() writes numbers like Python's repr", () => {
  assert.equal(
    pythonJsonDumps([
      1e-5,
      1.5e-7,
      0.0001,
      0.5,
      -0,
      1e16,
      123.456,
      1e300,
      NaN,
      Infinity,
      -Infinity,
    ]),
    "[1e-05, 1.5e-07, 0.0001, 0.5, -0.0, 1e+16, 123.456, 1e+300, NaN, Infinity, -Infinity]",
  );
  assert.equal(pythonJsonDumps([0, -1, 2 ** 53 - 1]), "[0, -1, 9007199254740991]");
  assert.equal(pythonJsonDumps(10n ** 25n), "10000000000000000000000000");
  assert.equal(pythonJsonDumps(2n ** 53n + 1n), "9007199254740993");
});

Deno.test("pythonJsonDumps() decodes bytes, replacing invalid UTF-8 with U+FFFD", () => {
  const valid = new TextEncoder().encode("héllo");
  assert.equal(pythonJsonDumps({ b: valid }), '{"b": "héllo"}');
  const binary = new Uint8Array([0xff, 0xfe, 0x61, 0x62, 0xe9]);
  assert.equal(
    pythonJsonDumps({ fun: "test.ping", b: binary }),
    '{"fun": "test.ping", "b": "\ufffd\ufffdab\ufffd"}',
  );
  assert.equal(pythonJsonDumps(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), '"\ufeffa"', "BOM kept");
  assert.equal(pythonJsonDumps(new Uint8Array([0x61]).buffer), '"a"');
});

Deno.test("pythonJsonDumps() writes Dates like Python's isoformat", () => {
  assert.equal(
    pythonJsonDumps(new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 789))),
    '"2024-05-01T12:34:56.789000"',
  );
  assert.equal(
    pythonJsonDumps(new Date(Date.UTC(2024, 4, 1, 12, 34, 56))),
    '"2024-05-01T12:34:56"',
  );
});

Deno.test("pythonJsonDumps() writes Maps as objects and Sets as arrays", () => {
  const map = new Map<unknown, unknown>([["a", 1], [2, "x"], [true, null], [null, 0], [1.5, 1]]);
  assert.equal(
    pythonJsonDumps(map),
    '{"a": 1, "2": "x", "true": null, "null": 0, "1.5": 1}',
  );
  assert.equal(pythonJsonDumps(new Set([1, "a"])), '[1, "a"]');
  assert.equal(
    pythonJsonDumps(new Map([["b", 1], ["a", 2]]), { sortKeys: true }),
    '{"a": 2, "b": 1}',
  );
  assert.throws(() => pythonJsonDumps(new Map([[{}, 1]])), TypeError);
});

Deno.test("pythonJsonDumps() writes class instances as their own enumerable properties", () => {
  class Ext {
    constructor(public type: number, public data: Uint8Array) {}
  }
  assert.equal(pythonJsonDumps(new Ext(78, new Uint8Array([0x61]))), '{"type": 78, "data": "a"}');
});

Deno.test("pythonJsonDumps() throws TypeError on cycles and functions", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.throws(() => pythonJsonDumps(cyclic), TypeError);
  const list: unknown[] = [];
  list.push(list);
  assert.throws(() => pythonJsonDumps(list), TypeError);
  assert.throws(() => pythonJsonDumps({ f: () => 1 }), TypeError);
});

Deno.test("pythonJsonDumps() allows the same object twice when it is not a cycle", () => {
  const shared = { x: 1 };
  assert.equal(pythonJsonDumps([shared, shared]), '[{"x": 1}, {"x": 1}]');
});
