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

Deno.test("FrameScanner throws FrameError for a canonical-looking prefix followed by a body that is not bytes, without waiting for more", () => {
  // 13 bytes: the canonical prefix, then 0x07 where c4/c5/c6 would be.
  const bad = concat(hex("82"), HEAD, hex("80"), BODY, hex("07"));
  assert.equal(bad.length, 13);
  assert.throws(() => new FrameScanner().push(bad, collector()), FrameError);
  // Cut after the prefix: refused when the 13th byte arrives.
  const split = new FrameScanner();
  split.push(bad.subarray(0, 12), collector());
  assert.equal(split.bufferedBytes, 12);
  assert.throws(() => split.push(bad.subarray(12), collector()), FrameError);
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

/** Non-canonical frames of PACKED_15, in every shape the generic path reads. */
const GENERIC_VARIANTS: [string, Uint8Array][] = [
  ["body first", concat(hex("82"), BODY, hex("c4 0f"), PACKED_15, HEAD, hex("80"))],
  [
    "head with mid",
    concat(hex("82"), HEAD, hex("81 a3 6d 69 64 01"), BODY, hex("c4 0f"), PACKED_15),
  ],
  ["body as str8", concat(hex("82"), HEAD, hex("80"), BODY, hex("d9 0f"), PACKED_15)],
  ["long length", concat(hex("82"), HEAD, hex("80"), BODY, hex("c6 00 00 00 0f"), PACKED_15)],
  ["map16 frame", concat(hex("de 00 02"), HEAD, hex("80"), BODY, hex("c4 0f"), PACKED_15)],
  [
    "head of nested values",
    concat(
      hex("83"),
      HEAD,
      // {a: [1, -1, nil, 1.5(f64), "xy", bin8 "z", fixext1, ext8, {b: true}], c: array16 [uint32]}
      hex("82 a1 61 99 01 ff c0 cb 3f f8 00 00 00 00 00 00 a2 78 79 c4 01 7a d4 01 02"),
      hex("c7 02 05 aa bb 81 a1 62 c3"),
      hex("a1 63 dc 00 01 ce 00 01 00 00"),
      hex("a5 65 78 74 72 61 da 00 03 61 62 63"), // key "extra": str16 "abc"
      BODY,
      hex("c4 0f"),
      PACKED_15,
    ),
  ],
];

Deno.test("FrameScanner finds non-canonical frames split at every byte boundary", () => {
  for (const [name, frame] of GENERIC_VARIANTS) {
    const stream = concat(frame, FRAME_29, frame);
    for (let cut = 0; cut <= stream.length; cut++) {
      const sink = collector();
      const scanner = new FrameScanner();
      scanner.push(stream.slice(0, cut), sink);
      scanner.push(stream.slice(cut), sink);
      assert.deepEqual(sink.seen.map((s) => s.body), [PACKED_15, PACKED_15, PACKED_15], name);
      assert.deepEqual(sink.seen.map((s) => s.canonical), [false, true, false], `${name} ${cut}`);
      assert.deepEqual(sink.seen[0].frame, frame, `${name}, cut at ${cut}`);
      assert.equal(scanner.bufferedBytes, 0);
      assert.equal(scanner.memoryBytes, 0);
    }
    // And one byte at a time.
    const sink = collector();
    const scanner = new FrameScanner();
    for (let i = 0; i < stream.length; i++) scanner.push(stream.slice(i, i + 1), sink);
    assert.equal(sink.seen.length, 3, name);
  }
});

Deno.test("FrameScanner matches a one-chunk scan on random frame streams cut at random points", () => {
  let seed = 42;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const frames: Uint8Array[] = [];
    const expected: Uint8Array[] = [];
    for (let i = 0, n = 1 + random(12); i < n; i++) {
      const body = packEvent(`t/${round}/${i}`, {
        s: "x".repeat(random(3) === 0 ? random(70_000) : random(300)),
      });
      const variant = random(4);
      frames.push(
        variant === 0
          ? concat(hex("82"), BODY, hex("c6"), u32(body.length), body, HEAD, hex("80"))
          : variant === 1
          ? concat(
            hex("82"),
            HEAD,
            hex("81 a3 6d 69 64 dd 00 00 00 02 01 02"),
            BODY,
            hex("c6"),
            u32(body.length),
            body,
          )
          : encodeFrame(body),
      );
      expected.push(body);
    }
    const stream = concat(...frames);
    const sink = collector();
    const scanner = new FrameScanner();
    let at = 0;
    let pushes = 0;
    while (at < stream.length) {
      const n = 1 + random(random(2) === 0 ? 64 : 70_000);
      scanner.push(stream.slice(at, at + n), sink);
      at += n;
      pushes++;
    }
    assert.deepEqual(sink.seen.map((s) => s.body), expected, `round ${round}`);
    assert.equal(scanner.bufferedBytes, 0);
    // Each byte is looked at about once, however the stream was cut.
    assert.ok(scanner.scannedBytes <= stream.length + 16 * pushes, `round ${round}`);
  }
});

function u32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** A non-canonical frame whose head holds an array32 of `n` one-byte ints. */
function array32Frame(n: number): Uint8Array {
  return concat(
    hex("82"),
    HEAD,
    hex("81 a1 78 dd"),
    u32(n),
    new Uint8Array(n).fill(0x01),
    BODY,
    hex("c4 0f"),
    PACKED_15,
  );
}

Deno.test("FrameScanner scans a dripped non-canonical frame (array32 head) once, never again from its start", () => {
  const frame = array32Frame(512 * 1024);
  const sink = collector();
  const scanner = new FrameScanner();
  const step = 1024;
  let pushes = 0;
  for (let at = 0; at < frame.length; at += step) {
    scanner.push(frame.slice(at, at + step), sink);
    pushes++;
    if (at + step < frame.length) {
      assert.equal(sink.seen.length, 0);
      assert.ok(scanner.memoryBytes <= 2 * scanner.bufferedBytes + 4096);
    }
  }
  assert.equal(sink.seen.length, 1);
  assert.deepEqual(sink.seen[0].body, PACKED_15);
  assert.equal(pushes, 513);
  // Rescanning from the start on every chunk would go over ~134 MB here.
  assert.ok(scanner.scannedBytes <= frame.length + 16 * pushes, `${scanner.scannedBytes}`);
  // Copies: the bytes once, plus the buffer's doublings.
  assert.ok(scanner.copiedBytes <= 3 * frame.length, `${scanner.copiedBytes}`);
  assert.equal(scanner.memoryBytes, 0);
});

Deno.test("FrameScanner copies only the frames cut by a chunk boundary, each into a buffer of its own size", () => {
  const frame = encodeFrame(packEvent("salt/job/1/ret/web1", { pad: "p".repeat(180) }));
  const stream = concat(...Array.from({ length: 2000 }, () => frame));
  const chunk = 64 * 1024;
  const buffers = new Set<ArrayBufferLike>();
  let count = 0;
  const sink: FrameSink = {
    frame(buffer, start, end) {
      assert.equal(end - start, frame.length);
      buffers.add(buffer.buffer);
      count++;
    },
  };
  const scanner = new FrameScanner();
  let cuts = 0;
  for (let at = 0; at < stream.length; at += chunk) {
    scanner.push(stream.subarray(at, at + chunk), sink);
    if (scanner.bufferedBytes > 0) {
      cuts++;
      // The cut frame's buffer is exactly its size once its header is known.
      if (scanner.bufferedBytes >= 17) assert.equal(scanner.memoryBytes, frame.length);
    }
  }
  assert.equal(count, 2000);
  // (A frame cut inside its header has those few bytes copied twice.)
  assert.ok(
    scanner.copiedBytes <= cuts * (frame.length + 16),
    `${scanner.copiedBytes} for ${cuts} cuts`,
  );
  // Each frame is gone over once (plus the header of a cut frame, looked at again).
  assert.ok(scanner.scannedBytes <= stream.length + 40 * Math.ceil(stream.length / chunk));
});

Deno.test("FrameScanner memoryBytes grows with a large canonical frame and discard() releases it", () => {
  const body = packEvent("big", { s: "b".repeat(3 * 1024 * 1024) });
  const frame = encodeFrame(body);
  const scanner = new FrameScanner();
  const sink = collector();
  scanner.push(frame.subarray(0, 100_000), sink);
  // Not the whole frame's size up front: the buffer grows as bytes come.
  assert.ok(
    scanner.memoryBytes >= 100_000 && scanner.memoryBytes <= 1 << 21,
    `${scanner.memoryBytes}`,
  );
  scanner.push(frame.subarray(100_000, 2_000_000), sink);
  assert.ok(scanner.memoryBytes >= 2_000_000 && scanner.memoryBytes <= frame.length);
  scanner.discard();
  assert.equal(scanner.memoryBytes, 0);
  assert.equal(scanner.bufferedBytes, 0);
  // After discard() the scanner starts afresh.
  scanner.push(FRAME_29, sink);
  assert.deepEqual(sink.seen.map((s) => s.body), [PACKED_15]);
});
