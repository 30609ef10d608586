/**
 * Salt's packed event (§2.1): `UTF-8(tag) + "\n\n" + msgpack(data)`, and the
 * frame that carries it on a socket (§2.4).
 *
 * @module
 */
import { EventDataError, FrameError } from "./errors.ts";
import { frameHeaderLength, writeFrameHeader } from "./frame.ts";
import { packData, unpackData } from "./msgpack.ts";

/** A decoded event: Salt's "full event" `{"data": …, "tag": …}` (key order as Salt's). */
export interface SaltEvent<T = Record<string, unknown>> {
  /** The event data, a mapping. */
  data: T;
  /** The event tag. */
  tag: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Checks that `tag` can be fired: non-empty and without `"\n\n"`.
 *
 * @throws {EventDataError} otherwise.
 * @example
 * ```ts
 * import { validateTag } from "./event_codec.ts";
 * validateTag("my/tag"); // ok
 * ```
 */
export function validateTag(tag: unknown): asserts tag is string {
  if (typeof tag !== "string") {
    throw new EventDataError(`Tag must be a string, not ${tag === null ? "null" : typeof tag}.`);
  }
  if (tag.length === 0) throw new EventDataError("Empty tag.");
  if (tag.includes("\n\n")) {
    throw new EventDataError(
      `Tag ${JSON.stringify(tag)} contains "\\n\\n", which ends a tag on the wire.`,
    );
  }
}

/**
 * Packs an event body from a tag and already-encoded msgpack data.
 *
 * @example
 * ```ts
 * import { packEventBody } from "./event_codec.ts";
 * import { packData } from "./msgpack.ts";
 * packEventBody("salt/auth", packData({ a: 1 })).length; // 15, as in §2.6
 * ```
 */
export function packEventBody(tag: string, packedData: Uint8Array): Uint8Array {
  const tagBytes = encoder.encode(tag);
  const body = new Uint8Array(tagBytes.length + 2 + packedData.length);
  body.set(tagBytes, 0);
  body[tagBytes.length] = 0x0a;
  body[tagBytes.length + 1] = 0x0a;
  body.set(packedData, tagBytes.length + 2);
  return body;
}

/**
 * Packs `tag` and `data` into a packed event (§2.1), validating both.
 *
 * @throws {EventDataError} for a bad tag or data msgpack cannot carry.
 * @example
 * ```ts
 * import { packEvent } from "./event_codec.ts";
 * packEvent("salt/auth", { a: 1 }); // 73 61 6c 74 2f 61 75 74 68 0a 0a 81 a1 61 01
 * ```
 */
export function packEvent(tag: string, data: unknown): Uint8Array {
  validateTag(tag);
  return packEventBody(tag, packData(data));
}

/**
 * Packs a whole socket frame from a tag and already-encoded msgpack data, in
 * one allocation.
 *
 * @example
 * ```ts
 * import { packEventFrame } from "./event_codec.ts";
 * import { packData } from "./msgpack.ts";
 * packEventFrame("salt/auth", packData({ a: 1 })).length; // 29, as in §2.6
 * ```
 */
export function packEventFrame(tag: string, packedData: Uint8Array): Uint8Array {
  const tagBytes = encoder.encode(tag);
  const bodyLength = tagBytes.length + 2 + packedData.length;
  const frame = new Uint8Array(frameHeaderLength(bodyLength) + bodyLength);
  let at = writeFrameHeader(frame, 0, bodyLength);
  frame.set(tagBytes, at);
  at += tagBytes.length;
  frame[at++] = 0x0a;
  frame[at++] = 0x0a;
  frame.set(packedData, at);
  return frame;
}

/**
 * Decodes the tag of a packed event, given where its `\n\n` is.
 *
 * @example
 * ```ts
 * import { decodeTag } from "./event_codec.ts";
 * const body = new TextEncoder().encode("a/b\n\n\x80");
 * decodeTag(body, 0, 3); // "a/b"
 * ```
 */
export function decodeTag(buffer: Uint8Array, start: number, tagEnd: number): string {
  // Tags are short and nearly always ASCII: build them without TextDecoder.
  if (tagEnd - start <= 64) {
    let ascii = true;
    for (let i = start; i < tagEnd; i++) {
      if (buffer[i] > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, buffer.subarray(start, tagEnd) as never);
  }
  return decoder.decode(buffer.subarray(start, tagEnd));
}

/**
 * Unpacks a packed event (§2.1, §2.3): splits at the first `\n\n`, decodes
 * the tag as UTF-8 and the rest as msgpack.
 *
 * @throws {FrameError} when there is no `\n\n` or the data is not msgpack.
 * @example
 * ```ts
 * import { packEvent, unpackEvent } from "./event_codec.ts";
 * unpackEvent(packEvent("my/tag", { a: 1 })); // { data: { a: 1 }, tag: "my/tag" }
 * ```
 */
export function unpackEvent(body: Uint8Array): SaltEvent<unknown> {
  const tagEnd = body.indexOf(0x0a) >= 0 ? findTagEnd(body) : -1;
  if (tagEnd < 0) throw new FrameError("event body has no tag end (\\n\\n)");
  return unpackEventAt(body, 0, tagEnd, body.length);
}

/**
 * Unpacks the packed event lying at `[start, end)` of `buffer` whose tag ends
 * at `tagEnd` (as reported by the frame scanner).
 *
 * @throws {FrameError} when the data is not valid msgpack.
 * @example
 * ```ts
 * import { packEvent, unpackEventAt } from "./event_codec.ts";
 * const body = packEvent("t", { a: 1 });
 * unpackEventAt(body, 0, 1, body.length); // { data: { a: 1 }, tag: "t" }
 * ```
 */
export function unpackEventAt(
  buffer: Uint8Array,
  start: number,
  tagEnd: number,
  end: number,
): SaltEvent<unknown> {
  const tag = decodeTag(buffer, start, tagEnd);
  let data: unknown;
  try {
    data = unpackData(buffer.subarray(tagEnd + 2, end));
  } catch (err) {
    throw new FrameError(
      `event ${JSON.stringify(tag)} has data that is not valid msgpack: ${
        err instanceof Error ? err.message : err
      }`,
      { cause: err },
    );
  }
  return { data, tag };
}

function findTagEnd(body: Uint8Array): number {
  for (let i = 0; i < body.length - 1; i++) {
    if (body[i] === 0x0a && body[i + 1] === 0x0a) return i;
  }
  return -1;
}
