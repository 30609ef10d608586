import assert from "node:assert/strict";
import { formatOutput, isOutputterName, OUTPUTTERS } from "./outputter.ts";

Deno.test("formatOutput() prints as salt-call does: rstripped text plus one newline", () => {
  assert.equal(formatOutput({ local: true }), "local:\n    True\n");
  assert.equal(formatOutput({ local: true }, "nested"), "local:\n    True\n");
  assert.equal(formatOutput({ local: "trailing   " }, "nested"), "local:\n    trailing\n");
  assert.equal(formatOutput({ local: true }, "quiet"), "");
});

Deno.test("formatOutput(…, 'json') is Python's json.dumps(indent=4), insertion order, non-ASCII kept", () => {
  assert.equal(formatOutput({ local: true }, "json"), '{\n    "local": true\n}\n');
  assert.equal(
    formatOutput({ local: { b: [1, 2.5], a: "é", n: null } }, "json"),
    '{\n    "local": {\n        "b": [\n            1,\n            2.5\n        ],\n' +
      '        "a": "é",\n        "n": null\n    }\n}\n',
  );
  assert.equal(
    formatOutput({ local: { b: 1, a: 2 } }, "json", { indent: null }),
    '{"local": {"b": 1, "a": 2}}\n',
  );
  assert.equal(
    formatOutput({ local: { b: 1, a: 2 } }, "json", { indent: "pretty" }),
    '{\n    "local": {\n        "a": 2,\n        "b": 1\n    }\n}\n',
  );
  assert.equal(formatOutput({ local: () => 1 }, "json"), "{}\n");
});

Deno.test("formatOutput(…, 'yaml') is PyYAML's block style: sorted keys, unindented lists, quoted YAML 1.1 words", () => {
  assert.equal(formatOutput({ local: true }, "yaml"), "local: true\n");
  assert.equal(
    formatOutput({ local: { b: [1, 2], a: "yes", c: null, d: {} } }, "yaml"),
    "local:\n  a: 'yes'\n  b:\n  - 1\n  - 2\n  c: null\n  d: {}\n",
  );
});

Deno.test("formatOutput(…, 'txt') prints key: line, other values as Python's str()", () => {
  assert.equal(formatOutput({ local: true }, "txt"), "local: True\n");
  assert.equal(formatOutput({ local: "a\nb" }, "txt"), "local: a\nlocal: b\n");
  assert.equal(formatOutput({ local: { a: [1, null] } }, "txt"), "local: {'a': [1, None]}\n");
  assert.equal(formatOutput("plain", "txt"), "plain\n");
  assert.equal(formatOutput([1, "x"], "txt"), "[1, 'x']\n");
});

Deno.test("formatOutput() rejects an unknown outputter; OUTPUTTERS lists the names", () => {
  assert.deepEqual([...OUTPUTTERS], ["nested", "json", "yaml", "txt", "quiet"]);
  assert.equal(isOutputterName("yaml"), true);
  assert.equal(isOutputterName("highstate"), false);
  assert.throws(
    () => formatOutput({}, "highstate" as "nested"),
    /unknown outputter "highstate": use one of nested, json, yaml, txt, quiet/,
  );
});
