import assert from "node:assert/strict";
import { BodyError, lowstateChunks } from "./minions_body.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("lowstateChunks: JSON, YAML, form data; a mapping becomes one chunk, a scalar arg a list", () => {
  assert.deepEqual(
    lowstateChunks("application/json", bytes('{"tgt": "*", "fun": "test.echo", "arg": "hi"}')),
    [
      { tgt: "*", fun: "test.echo", arg: ["hi"] },
    ],
  );
  assert.deepEqual(lowstateChunks("application/x-yaml", bytes("- tgt: web1\n  fun: test.ping\n")), [
    { tgt: "web1", fun: "test.ping" },
  ]);
  assert.deepEqual(
    lowstateChunks(
      "application/x-www-form-urlencoded; charset=utf-8",
      bytes("tgt=*&fun=test.arg&arg=a&arg=b"),
    ),
    [{ tgt: "*", fun: "test.arg", arg: ["a", "b"] }],
  );
});

Deno.test("lowstateChunks: salt-api's statuses for bad bodies", () => {
  const status = (type: string, text: string) => {
    try {
      lowstateChunks(type, bytes(text));
    } catch (err) {
      assert.ok(err instanceof BodyError);
      return [err.status, err.message];
    }
    return null;
  };
  assert.deepEqual(status("application/json", "{nope"), [400, "Invalid JSON document"]);
  assert.deepEqual(status("text/yaml", "a: [1"), [400, "Invalid YAML document"]);
  assert.deepEqual(status("application/xml", "<a/>"), [406, "Content type not supported"]);
  assert.deepEqual(status("application/json", '"x"'), [400, "Lowstates must be a list"]);
  assert.deepEqual(status("application/json", "[1]"), [
    400,
    "Each lowstate chunk must be a mapping",
  ]);
});
