/**
 * A batch of Salt frames built in one growable buffer: events are encoded
 * straight into it (frame header, tag, `\n\n`, msgpack data), so firing an
 * event allocates no byte array of its own. The writers take the batch as
 * one chunk.
 *
 * @module
 */
import { growBytes } from "./bytes.ts";
import { frameHeaderLength, writeFrameHeader } from "./frame.ts";
import { packEventFrame } from "./event_codec.ts";
import { packData } from "./msgpack.ts";
import { fastPackInto, type PackSink, writeUtf8Into } from "./msgpack_fast.ts";
import { exceedsEventSize } from "./trim.ts";

/** The longest frame header (a body of 64 KiB or more). */
const MAX_HEADER = frameHeaderLength(0x10000);

/** Capacity a batch starts with. */
const INITIAL_CAPACITY = 64 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * Frames appended in order into one buffer; {@linkcode FrameBatch.take}
 * hands them over as one chunk and empties the batch.
 *
 * @example
 * ```ts
 * import { FrameBatch } from "./frame_batch.ts";
 * const batch = new FrameBatch();
 * batch.appendEvent("salt/auth", { a: 1 }, 1048576); // true
 * batch.take().length; // 29, the frame of §2.6
 * ```
 */
export class FrameBatch {
  readonly #sink: PackSink = { buffer: EMPTY, pos: 0 };

  /** Bytes appended and not taken yet. */
  get length(): number {
    return this.#sink.pos;
  }

  /**
   * Appends an encoded frame (copied).
   *
   * @example
   * ```ts
   * import { FrameBatch } from "./frame_batch.ts";
   * import { encodeFrame } from "./frame.ts";
   * const batch = new FrameBatch();
   * batch.appendFrame(encodeFrame(new TextEncoder().encode("t\n\n\x80")));
   * batch.length; // 18
   * ```
   */
  appendFrame(frame: Uint8Array): void {
    this.#reserve(frame.length);
    this.#sink.buffer.set(frame, this.#sink.pos);
    this.#sink.pos += frame.length;
  }

  /**
   * Encodes and appends the frame of event `tag` with `data`, unless the
   * packed data exceeds `maxEventSize` the way Salt counts it: then nothing
   * is appended and the answer is `false` (the caller trims and appends the
   * trimmed frame). The tag is not validated here.
   *
   * @throws {EventDataError} for data msgpack cannot carry (nothing appended).
   * @example
   * ```ts
   * import { FrameBatch } from "./frame_batch.ts";
   * const batch = new FrameBatch();
   * batch.appendEvent("my/tag", { big: "x".repeat(2000) }, 1000); // false
   * batch.length; // 0
   * ```
   */
  appendEvent(tag: string, data: unknown, maxEventSize: number): boolean {
    const sink = this.#sink;
    const start = sink.pos;
    // The body is written after room for the longest header and moved back
    // once its length, and so the header's, is known.
    this.#reserve(MAX_HEADER + tag.length + 2);
    const bodyAt = start + MAX_HEADER;
    sink.pos = bodyAt;
    writeUtf8Into(tag, sink);
    this.#reserve(2);
    sink.buffer[sink.pos++] = 0x0a;
    sink.buffer[sink.pos++] = 0x0a;
    const dataAt = sink.pos;
    if (!fastPackInto(data, sink)) {
      sink.pos = start;
      const packed = packData(data);
      if (exceedsEventSize(packed.length, maxEventSize)) return false;
      this.appendFrame(packEventFrame(tag, packed));
      return true;
    }
    if (exceedsEventSize(sink.pos - dataAt, maxEventSize)) {
      sink.pos = start;
      return false;
    }
    const bodyLength = sink.pos - bodyAt;
    const headerLength = frameHeaderLength(bodyLength);
    if (headerLength < MAX_HEADER) {
      sink.buffer.copyWithin(start + headerLength, bodyAt, sink.pos);
      sink.pos -= MAX_HEADER - headerLength;
    }
    writeFrameHeader(sink.buffer, start, bodyLength);
    return true;
  }

  /**
   * The frames appended so far, as one fresh array the caller owns, and an
   * empty batch (its buffer is kept for the next frames).
   *
   * @example
   * ```ts
   * import { FrameBatch } from "./frame_batch.ts";
   * const batch = new FrameBatch();
   * batch.appendEvent("a", {}, 1048576);
   * const chunk = batch.take();
   * batch.length; // 0
   * ```
   */
  take(): Uint8Array {
    const sink = this.#sink;
    if (sink.pos === 0) return EMPTY;
    const chunk = sink.buffer.slice(0, sink.pos);
    sink.pos = 0;
    // A buffer grown for one huge event is not kept.
    if (sink.buffer.length > 4 * INITIAL_CAPACITY && chunk.length < INITIAL_CAPACITY) {
      sink.buffer = EMPTY;
    }
    return chunk;
  }

  #reserve(more: number): void {
    const sink = this.#sink;
    if (sink.pos + more <= sink.buffer.length) return;
    sink.buffer = growBytes(sink.buffer, sink.pos, more, INITIAL_CAPACITY);
  }
}
