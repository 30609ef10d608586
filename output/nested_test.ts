import assert from "node:assert/strict";
import { nested } from "./nested.ts";

// Expected strings traced by hand through Salt's salt/output/nested.py
// (NestDisplay.display, colours off).

Deno.test("nested() prints salt-call's test.ping return as Salt does", () => {
  assert.equal(nested({ local: true }), "local:\n    True");
  assert.equal(nested({ local: false }), "local:\n    False");
  assert.equal(nested({ local: null }), "local:\n    None");
});

Deno.test("nested() reproduces the example in Salt's nested.py docstring", () => {
  const ret = {
    myminion: {
      foo: { list: ["Hello", "World"], bar: "baz", dictionary: { def: 456, abc: 123 } },
    },
  };
  assert.equal(
    nested(ret),
    [
      "myminion:",
      "    ----------",
      "    foo:",
      "        ----------",
      "        bar:",
      "            baz",
      "        dictionary:",
      "            ----------",
      "            abc:",
      "                123",
      "            def:",
      "                456",
      "        list:",
      "            - Hello",
      "            - World",
    ].join("\n"),
  );
});

Deno.test("nested() marks dicts and lists inside lists with |_", () => {
  assert.equal(
    nested({ local: [1, { a: 1, b: [true] }, [2, "x"]] }),
    [
      "local:",
      "    - 1",
      "    |_",
      "      ----------",
      "      a:",
      "          1",
      "      b:",
      "          - True",
      "    |_",
      "      - 2",
      "      - x",
    ].join("\n"),
  );
});

Deno.test("nested() prints multi-line strings line by line, continuation lines under the prefix", () => {
  assert.equal(nested({ local: "one\ntwo\r\nthree\n" }), "local:\n    one\n    two\n    three");
  assert.equal(nested({ local: ["a\nb", "c"] }), "local:\n    - a\n      b\n    - c");
  assert.equal(nested({ local: "" }), "local:", "Python's ''.splitlines() is empty");
  assert.equal(nested({ local: "esc\x1b[31mred" }), "local:\n    esc?[31mred");
});

Deno.test("nested() prints numbers as Python's repr and sorts keys by code point", () => {
  assert.equal(
    nested({ local: { x: 3.5, e: 0.00001, n: -7, B: 1e16, b: 12345678901234567890n } }),
    [
      "local:",
      "    ----------",
      "    B:",
      "        1e+16",
      "    b:",
      "        12345678901234567890",
      "    e:",
      "        1e-05",
      "    n:",
      "        -7",
      "    x:",
      "        3.5",
    ].join("\n"),
  );
});

Deno.test("nested() prints empty containers as Salt does", () => {
  assert.equal(nested({ local: {} }), "local:\n    ----------");
  assert.equal(nested({ local: [] }), "local:");
  assert.equal(nested({}), "");
});

Deno.test("nested() prints top-level scalars and lists without a key", () => {
  assert.equal(nested("hello"), "hello");
  assert.equal(nested(["a", "b"]), "- a\n- b");
  assert.equal(nested(42), "42");
  assert.equal(nested(undefined), "None");
});

Deno.test("nested() with a base indent prints a separator before the top dict (nested_indent)", () => {
  assert.equal(nested({ local: true }, { indent: 2 }), "  ----------\n  local:\n      True");
});

Deno.test("nested() colours like Salt when asked, red keys for a failed return", () => {
  assert.equal(
    nested({ local: { a: "x", b: 1 } }, { color: true }),
    [
      "\x1b[36mlocal\x1b[0m:",
      "    \x1b[36m----------\x1b[0m",
      "    \x1b[36ma\x1b[0m:",
      "        \x1b[32mx\x1b[0m",
      "    \x1b[36mb\x1b[0m:",
      "        \x1b[1;33m1\x1b[0m",
    ].join("\n"),
  );
  assert.equal(
    nested({ local: ["x"] }, { color: true, retcode: 1 }),
    "\x1b[31mlocal\x1b[0m:\n    \x1b[32m- x\x1b[0m",
  );
});

Deno.test("nested() takes Map, Set, bytes and keeps insertion order when asked", () => {
  assert.equal(nested(new Map<unknown, unknown>([[2, "b"], [1, "a"]])), "1:\n    a\n2:\n    b");
  assert.equal(nested({ local: new Set(["s"]) }), "local:\n    - s");
  assert.equal(nested({ local: new TextEncoder().encode("bytes") }), "local:\n    bytes");
  assert.equal(nested({ local: new Uint8Array([0xff]) }), "local:");
  assert.equal(nested({ b: 1, a: 2 }, { sortKeys: false }), "b:\n    1\na:\n    2");
});
