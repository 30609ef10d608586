import assert from "node:assert/strict";
import { EventDataError, FrameError } from "./errors.ts";
import {
  packEvent,
  packEventBody,
  packEventFrame,
  unpackEvent,
  unpackEventAt,
  validateTag,
} from "./event_codec.ts";
import { encodeFrame } from "./frame.ts";
import { packData } from "./msgpack.ts";

/** Bytes from a hex dump such as `"81 a1 6b"` (offset columns and ASCII gutters excluded). */
function hex(text: string): Uint8Array {
  return Uint8Array.from(text.trim().split(/\s+/), (h) => parseInt(h, 16));
}

const PACKED_15 = hex("73 61 6c 74 2f 61 75 74 68 0a 0a 81 a1 61 01");
const FRAME_29 = hex(`
  82 a4 68 65 61 64 80 a4 62 6f 64 79 c4 0f
  73 61 6c 74 2f 61 75 74 68 0a 0a 81 a1 61 01`);
// §2.6, the 63-byte frame fire_event({"a": 1}, "salt/auth") sends.
const FRAME_63 = hex(`
  82 a4 68 65 61 64 80 a4 62 6f 64 79 c4 31 73 61
  6c 74 2f 61 75 74 68 0a 0a 82 a1 61 01 a6 5f 73
  74 61 6d 70 ba 32 30 32 34 2d 30 35 2d 30 31 54
  31 32 3a 33 34 3a 35 36 2e 37 38 39 30 31 32`);

Deno.test("packEvent('salt/auth', {a: 1}) is the 15-byte packed event of §2.6", () => {
  assert.equal(PACKED_15.length, 15);
  assert.deepEqual(packEvent("salt/auth", { a: 1 }), PACKED_15);
  assert.deepEqual(packEventBody("salt/auth", packData({ a: 1 })), PACKED_15);
});

Deno.test("packEventFrame('salt/auth', {a: 1}) is the 29-byte frame of §2.6", () => {
  assert.equal(FRAME_29.length, 29);
  assert.deepEqual(packEventFrame("salt/auth", packData({ a: 1 })), FRAME_29);
  assert.deepEqual(encodeFrame(PACKED_15), FRAME_29);
});

Deno.test("a stamped event frame is the 63 bytes of §2.6, _stamp last", () => {
  assert.equal(FRAME_63.length, 63);
  const frame = packEventFrame(
    "salt/auth",
    packData({ a: 1, _stamp: "2024-05-01T12:34:56.789012" }),
  );
  assert.equal(frame.length, 63);
  assert.deepEqual(frame, FRAME_63);
});

Deno.test("a frame with a 300-byte body starts 82 a4 head 80 a4 body c5 01 2c", () => {
  const tag = "big/one";
  // tag (7) + \n\n (2) + data: fixmap (1) + "s" (2) + str16 header (3) + 285 chars = 300
  const data = { s: "x".repeat(285) };
  const frame = packEventFrame(tag, packData(data));
  assert.deepEqual(
    frame.subarray(0, 15),
    hex("82 a4 68 65 61 64 80 a4 62 6f 64 79 c5 01 2c"),
  );
  assert.equal(frame.length, 15 + 300);
  assert.deepEqual(encodeFrame(packEvent(tag, data)), frame);
});

Deno.test("a frame with a body over 64 KiB uses bin32 (c6)", () => {
  const body = packEvent("t", { s: "y".repeat(70_000) });
  const frame = encodeFrame(body);
  assert.equal(frame[12], 0xc6);
  const length = new DataView(frame.buffer, frame.byteOffset + 13, 4).getUint32(0);
  assert.equal(length, body.length);
  assert.equal(frame.length, 17 + body.length);
});

Deno.test("unpackEvent() splits at the first \\n\\n and decodes tag and data", () => {
  assert.deepEqual(unpackEvent(PACKED_15), { data: { a: 1 }, tag: "salt/auth" });
  const event = unpackEvent(packEvent("tâg/ünicode", { "ключ": ["é", 1.5, null, true] }));
  assert.deepEqual(event, { data: { "ключ": ["é", 1.5, null, true] }, tag: "tâg/ünicode" });
  assert.deepEqual(Object.keys(event), ["data", "tag"]);
  // A tag with a single \n is fine; the split is at the first double one.
  assert.deepEqual(unpackEvent(packEvent("a\nb", { x: "\n\n" })), {
    data: { x: "\n\n" },
    tag: "a\nb",
  });
});

Deno.test("unpackEventAt() decodes an event lying inside a larger buffer", () => {
  const buffer = new Uint8Array(5 + FRAME_29.length);
  buffer.set(FRAME_29, 5);
  const bodyStart = 5 + 14;
  assert.deepEqual(unpackEventAt(buffer, bodyStart, bodyStart + 9, buffer.length), {
    data: { a: 1 },
    tag: "salt/auth",
  });
});

Deno.test("unpackEvent() throws FrameError for a body without \\n\\n or with bad msgpack", () => {
  assert.throws(() => unpackEvent(new TextEncoder().encode("salt/auth\n")), FrameError);
  assert.throws(() => unpackEvent(new TextEncoder().encode("no tag end")), FrameError);
  // c1 is never valid msgpack; a truncated map is incomplete.
  assert.throws(() => unpackEvent(hex("61 0a 0a c1")), FrameError);
  assert.throws(() => unpackEvent(hex("61 0a 0a 82 a1 61")), FrameError);
});

Deno.test("validateTag() and packEvent() reject empty tags and tags containing \\n\\n", () => {
  validateTag("ok/tag");
  assert.throws(() => validateTag(""), EventDataError);
  assert.throws(() => validateTag("a\n\nb"), EventDataError);
  assert.throws(() => validateTag(undefined), EventDataError);
  assert.throws(() => packEvent("", { a: 1 }), EventDataError);
  assert.throws(() => packEvent("x\n\n", { a: 1 }), EventDataError);
  assert.throws(() => packEvent("x", { f: () => 1 }), EventDataError);
});
