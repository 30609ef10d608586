import { concatBytes, fromHex } from "./bytes.ts";
import assert from "node:assert/strict";
import { FrameError } from "./errors.ts";
import { packEvent } from "./event_codec.ts";
import { encodeFrame, FrameScanner, type FrameSink } from "./frame.ts";

const hex = fromHex;

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

interface Seen {
  frame: Uint8Array;
  body: Uint8Array;
  tag: string;
  canonical: boolean;
}

/** A sink that copies what the scanner reports. */
function collector(): FrameSink & { seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    frame(buffer, start, end, bodyStart, tagEnd, bodyEnd, canonical) {
      assert.ok(start <= bodyStart && bodyStart <= tagEnd && tagEnd + 2 <= bodyEnd);
      assert.ok(bodyEnd <= end && end <= buffer.length);
      seen.push({
        frame: buffer.slice(start, end),
        body: buffer.slice(bodyStart, bodyEnd),
        tag: new TextDecoder().decode(buffer.subarray(bodyStart, tagEnd)),
        canonical,
      });
    },
  };
}

const enc = new TextEncoder();
const HEAD = hex("a4 68 65 61 64"); // "head"
const BODY = hex("a4 62 6f 64 79"); // "body"
const PACKED_15 = packEvent("salt/auth", { a: 1 });
const FRAME_29 = encodeFrame(PACKED_15);

const bodies = [
  packEvent("salt/auth", { a: 1 }),
  packEvent("big/one", { s: "x".repeat(300) }),
  packEvent("tâg/ü", { k: "é", l: [1, 2, 3] }),
  packEvent("huge", { s: "z".repeat(70_000) }),
];
const stream = concat(...bodies.map(encodeFrame));

Deno.test("FrameScanner reports several frames found in one chunk, in order", () => {
  const sink = collector();
  const scanner = new FrameScanner();
  scanner.push(stream, sink);
  assert.equal(sink.seen.length, bodies.length);
  sink.seen.forEach((seen, i) => {
    assert.deepEqual(seen.body, bodies[i]);
    assert.deepEqual(seen.frame, encodeFrame(bodies[i]));
    assert.equal(seen.canonical, true);
  });
  assert.deepEqual(sink.seen.map((s) => s.tag), ["salt/auth", "big/one", "tâg/ü", "huge"]);
  assert.equal(scanner.bufferedBytes, 0);
});

Deno.test("FrameScanner finds a frame split at every possible byte boundary", () => {
  const frames = concat(FRAME_29, encodeFrame(bodies[1]), FRAME_29);
  for (let cut = 0; cut <= frames.length; cut++) {
    const sink = collector();
    const scanner = new FrameScanner();
    scanner.push(frames.slice(0, cut), sink);
    scanner.push(frames.slice(cut), sink);
    assert.equal(sink.seen.length, 3, `cut at ${cut}`);
    assert.deepEqual(sink.seen[0].body, PACKED_15, `cut at ${cut}`);
    assert.deepEqual(sink.seen[1].body, bodies[1], `cut at ${cut}`);
    assert.deepEqual(sink.seen[2].body, PACKED_15, `cut at ${cut}`);
    assert.equal(scanner.bufferedBytes, 0);
  }
});

Deno.test("FrameScanner finds frames fed one byte at a time", () => {
  const sink = collector();
  const scanner = new FrameScanner();
  const small = concat(...bodies.slice(0, 3).map(encodeFrame));
  for (let i = 0; i < small.length; i++) {
    scanner.push(small.slice(i, i + 1), sink);
    // Nothing is reported before a frame's last byte.
    const complete = [0, 1, 2].filter((n) =>
      i + 1 >= bodies.slice(0, n + 1).reduce((a, b) =>
        a + encodeFrame(b).length, 0)
    ).length;
    assert.equal(sink.seen.length, complete, `after byte ${i}`);
  }
  assert.deepEqual(sink.seen.map((s) => s.body), bodies.slice(0, 3));
  assert.ok(sink.seen.every((s) => s.canonical));
});

Deno.test("FrameScanner accepts keys in order body, head and reports canonical=false", () => {
  const frame = concat(hex("82"), BODY, hex("c4 0f"), PACKED_15, HEAD, hex("80"));
  const sink = collector();
  new FrameScanner().push(concat(frame, FRAME_29), sink);
  assert.equal(sink.seen.length, 2);
  assert.deepEqual(sink.seen[0].body, PACKED_15);
  assert.deepEqual(sink.seen[0].frame, frame);
  assert.equal(sink.seen[0].tag, "salt/auth");
  assert.equal(sink.seen[0].canonical, false);
  assert.equal(sink.seen[1].canonical, true);
});

Deno.test("FrameScanner accepts a head with an extra key (mid) and reports canonical=false", () => {
  const frame = concat(hex("82"), HEAD, hex("81 a3 6d 69 64 01"), BODY, hex("c4 0f"), PACKED_15);
  const sink = collector();
  new FrameScanner().push(frame, sink);
  assert.equal(sink.seen.length, 1);
  assert.deepEqual(sink.seen[0].body, PACKED_15);
  assert.equal(sink.seen[0].canonical, false);
});

Deno.test("FrameScanner accepts a body sent as str8 and reports canonical=false", () => {
  const frame = concat(hex("82"), HEAD, hex("80"), BODY, hex("d9 0f"), PACKED_15);
  const sink = collector();
  const scanner = new FrameScanner();
  // Split inside the header too.
  scanner.push(frame.slice(0, 13), sink);
  assert.equal(sink.seen.length, 0);
  scanner.push(frame.slice(13), sink);
  assert.equal(sink.seen.length, 1);
  assert.deepEqual(sink.seen[0].body, PACKED_15);
  assert.equal(sink.seen[0].canonical, false);
});

Deno.test("FrameScanner reports a body with a longer-than-needed length (c5 00 0f) as non-canonical", () => {
  const frame = concat(hex("82"), HEAD, hex("80"), BODY, hex("c5 00 0f"), PACKED_15);
  const sink = collector();
  new FrameScanner().push(frame, sink);
  assert.equal(sink.seen.length, 1);
  assert.deepEqual(sink.seen[0].body, PACKED_15);
  assert.equal(sink.seen[0].canonical, false);
});

Deno.test("FrameScanner throws FrameError for a garbage first byte", () => {
  for (
    const garbage of [
      hex("01"),
      hex("c1 02 03"),
      enc.encode("GET / HTTP/1.1\r\n\r\n"),
      hex("92 01 02"),
    ]
  ) {
    const sink = collector();
    assert.throws(() => new FrameScanner().push(garbage, sink), FrameError);
    assert.equal(sink.seen.length, 0);
  }
});

Deno.test("FrameScanner throws FrameError for a frame without a body key", () => {
  assert.throws(
    () => new FrameScanner().push(concat(hex("81"), HEAD, hex("80")), collector()),
    FrameError,
  );
});

Deno.test("FrameScanner throws FrameError for a body without \\n\\n, after earlier frames", () => {
  const sink = collector();
  const bad = encodeFrame(enc.encode("salt/auth\n\x81\xa1a\x01"));
  assert.throws(() => new FrameScanner().push(concat(FRAME_29, bad), sink), FrameError);
  assert.equal(sink.seen.length, 1);
  assert.deepEqual(sink.seen[0].body, PACKED_15);
  // Same through the generic (non-canonical) path.
  const generic = concat(hex("82"), BODY, hex("c4 03"), enc.encode("abc"), HEAD, hex("80"));
  assert.throws(() => new FrameScanner().push(generic, collector()), FrameError);
});

Deno.test("FrameScanner throws FrameError as soon as a header announces a frame over maxFrameSize", () => {
  // Only the 17-byte header of a frame claiming a 1 GiB body: no body bytes yet.
  const header = concat(hex("82"), HEAD, hex("80"), BODY, hex("c6 40 00 00 00"));
  assert.equal(header.length, 17);
  assert.throws(() => new FrameScanner().push(header, collector()), FrameError);
  // With a small limit, a 2000-byte bin16 body is refused from its header.
  const scanner = new FrameScanner({ maxFrameSize: 1000 });
  assert.throws(
    () => scanner.push(concat(hex("82"), HEAD, hex("80"), BODY, hex("c5 07 d0")), collector()),
    FrameError,
  );
  // Header split over two chunks: refused when the length bytes arrive.
  const split = new FrameScanner({ maxFrameSize: 1000 });
  split.push(header.slice(0, 14), collector());
  assert.throws(() => split.push(header.slice(14), collector()), FrameError);
  // Generic path (body first, str32) too.
  const generic = new FrameScanner({ maxFrameSize: 1000 });
  assert.throws(
    () => generic.push(concat(hex("82"), BODY, hex("db 00 10 00 00")), collector()),
    FrameError,
  );
});

Deno.test("FrameScanner accepts a frame of exactly maxFrameSize and refuses one byte more", () => {
  const body = packEvent("t", { s: "q".repeat(500) });
  const frame = encodeFrame(body);
  const sink = collector();
  new FrameScanner({ maxFrameSize: frame.length }).push(frame, sink);
  assert.equal(sink.seen.length, 1);
  assert.throws(
    () => new FrameScanner({ maxFrameSize: frame.length - 1 }).push(frame, collector()),
    FrameError,
  );
});

Deno.test("FrameScanner keeps a partial frame buffered and reports bufferedBytes", () => {
  const scanner = new FrameScanner();
  const sink = collector();
  scanner.push(concat(FRAME_29, FRAME_29.slice(0, 10)), sink);
  assert.equal(sink.seen.length, 1);
  assert.equal(scanner.bufferedBytes, 10);
  scanner.push(FRAME_29.slice(10), sink);
  assert.equal(sink.seen.length, 2);
  assert.equal(scanner.bufferedBytes, 0);
});
