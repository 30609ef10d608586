import assert from "node:assert/strict";
import { eventJson, sseEvent } from "./sse.ts";

Deno.test("eventJson writes salt-api's JSON: data before tag, Python separators", () => {
  assert.equal(
    eventJson("salt/auth", { a: 1, _stamp: "2024-05-01T12:34:56.789012" }),
    `{"data": {"a": 1, "_stamp": "2024-05-01T12:34:56.789012"}, "tag": "salt/auth"}`,
  );
  assert.equal(
    eventJson("t", { b: new Uint8Array([0x61, 0x80]) }),
    `{"data": {"b": "a\ufffd"}, "tag": "t"}`,
  );
});

Deno.test("sseEvent: tag and data lines; a newline in a tag cannot break the stream", () => {
  assert.equal(sseEvent("a", "{}"), "tag: a\ndata: {}\n\n");
  assert.equal(sseEvent("a\nb\rc", "{}"), "tag: a\\nb\\rc\ndata: {}\n\n");
});
