/**
 * Salt's socket framing (§2.4): each message is the msgpack map
 * `{"head": {}, "body": <bin>}`, concatenated with no length prefix. This
 * module writes frames and finds them in a byte stream without decoding the
 * body, so the broker can route on the frame and the tag alone.
 *
 * @module
 */
import { concatBytes } from "./bytes.ts";
import { FrameError } from "./errors.ts";

/** Bytes every canonical frame starts with: `82 a4 "head" 80 a4 "body"`. */
const CANONICAL_PREFIX = Uint8Array.of(
  0x82,
  0xa4,
  0x68,
  0x65,
  0x61,
  0x64,
  0x80,
  0xa4,
  0x62,
  0x6f,
  0x64,
  0x79,
);
const PREFIX_LENGTH = CANONICAL_PREFIX.length;

/** Default largest frame accepted on a socket: 16 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

/**
 * Length of the frame header written before a body of `bodyLength` bytes.
 *
 * @example
 * ```ts
 * import { frameHeaderLength } from "./frame.ts";
 * frameHeaderLength(15); // 14: 12 bytes of prefix, c4 and the length
 * ```
 */
export function frameHeaderLength(bodyLength: number): number {
  return PREFIX_LENGTH + (bodyLength < 0x100 ? 2 : bodyLength < 0x10000 ? 3 : 5);
}

/**
 * Writes a frame header for a body of `bodyLength` bytes into `target` at
 * `offset` and returns the offset where the body goes.
 *
 * @example
 * ```ts
 * import { frameHeaderLength, writeFrameHeader } from "./frame.ts";
 * const frame = new Uint8Array(frameHeaderLength(3) + 3);
 * const at = writeFrameHeader(frame, 0, 3);
 * frame.set([1, 2, 3], at);
 * ```
 */
export function writeFrameHeader(target: Uint8Array, offset: number, bodyLength: number): number {
  target.set(CANONICAL_PREFIX, offset);
  let at = offset + PREFIX_LENGTH;
  if (bodyLength < 0x100) {
    target[at++] = 0xc4;
    target[at++] = bodyLength;
  } else if (bodyLength < 0x10000) {
    target[at++] = 0xc5;
    target[at++] = bodyLength >>> 8;
    target[at++] = bodyLength & 0xff;
  } else {
    target[at++] = 0xc6;
    target[at++] = bodyLength >>> 24;
    target[at++] = (bodyLength >>> 16) & 0xff;
    target[at++] = (bodyLength >>> 8) & 0xff;
    target[at++] = bodyLength & 0xff;
  }
  return at;
}

/**
 * Wraps a packed event (`tag \n\n msgpack(data)`) in a Salt frame.
 *
 * @example
 * ```ts
 * import { encodeFrame } from "./frame.ts";
 * const body = new TextEncoder().encode("salt/auth\n\n\x81\xa1a\x01");
 * encodeFrame(body).length; // 29, as in §2.6
 * ```
 */
export function encodeFrame(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(frameHeaderLength(body.length) + body.length);
  frame.set(body, writeFrameHeader(frame, 0, body.length));
  return frame;
}

/** Where one complete frame lies in a buffer, as reported by {@linkcode FrameScanner}. */
export interface FrameSink {
  /**
   * Called once per complete frame, in stream order. `buffer` stays valid
   * after the call (the scanner never reuses it).
   *
   * @param buffer the bytes holding the frame
   * @param start offset of the frame's first byte
   * @param end offset just past the frame
   * @param bodyStart offset of the packed event (`tag \n\n data`)
   * @param tagEnd offset of the `\n\n` that ends the tag
   * @param bodyEnd offset just past the packed event
   * @param canonical true when the frame is byte-identical to
   *   `encodeFrame(body)` and so can be forwarded as it is
   */
  frame(
    buffer: Uint8Array,
    start: number,
    end: number,
    bodyStart: number,
    tagEnd: number,
    bodyEnd: number,
    canonical: boolean,
  ): void;
}

/** Options of {@linkcode FrameScanner}. */
export interface FrameScannerOptions {
  /** Largest frame accepted, in bytes; larger ones throw {@linkcode FrameError}. Default 16 MiB. */
  maxFrameSize?: number;
}

const INCOMPLETE = -1;

/**
 * Finds Salt frames in a byte stream cut at arbitrary points: one chunk may
 * hold several frames or part of one. Bodies are not decoded; the scanner
 * checks the framing, the size limit and that the body holds a tag end
 * (`\n\n`).
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameScanner } from "./frame.ts";
 * const scanner = new FrameScanner();
 * const frame = encodeFrame(new TextEncoder().encode("a/b\n\n\x80"));
 * let count = 0;
 * const sink = { frame: () => void count++ };
 * scanner.push(frame.subarray(0, 5), sink);
 * scanner.push(frame.subarray(5), sink);
 * console.log(count); // 1
 * ```
 */
export class FrameScanner {
  readonly #maxFrameSize: number;
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  /** Bytes the frame at the start of the pending data needs before it can complete. */
  #needed = 0;

  /** Creates a scanner. */
  constructor(options: FrameScannerOptions = {}) {
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  }

  /** Bytes held from a frame that has not completed yet. */
  get bufferedBytes(): number {
    return this.#pendingLength;
  }

  /**
   * Feeds a chunk. Reports every frame it completes to `sink`. The chunk
   * must not be modified afterwards (frames are reported as views into it).
   *
   * @throws {FrameError} for bytes that are not a valid frame or a frame over
   * the size limit; the stream cannot be resumed after that.
   */
  push(chunk: Uint8Array, sink: FrameSink): void {
    if (chunk.length === 0) return;
    let buffer = chunk;
    if (this.#pendingLength > 0) {
      this.#pending.push(chunk);
      this.#pendingLength += chunk.length;
      if (this.#pendingLength < this.#needed) return;
      buffer = concatBytes(this.#pending, this.#pendingLength);
      this.#pending = [];
      this.#pendingLength = 0;
    }
    let pos = 0;
    while (pos < buffer.length) {
      const end = this.#scanOne(buffer, pos, sink);
      if (end === INCOMPLETE) break;
      pos = end;
    }
    if (pos < buffer.length) {
      const rest = buffer.subarray(pos);
      if (rest.length > this.#maxFrameSize) {
        throw new FrameError(`frame exceeds max_frame_size (${this.#maxFrameSize} bytes)`);
      }
      this.#pending = [rest];
      this.#pendingLength = rest.length;
    } else {
      this.#needed = 0;
    }
  }

  /** Scans one frame at `pos`; returns its end or INCOMPLETE (setting #needed). */
  #scanOne(buf: Uint8Array, pos: number, sink: FrameSink): number {
    const available = buf.length - pos;
    if (available >= PREFIX_LENGTH + 2 && isCanonicalPrefix(buf, pos)) {
      const marker = buf[pos + PREFIX_LENGTH];
      let bodyStart: number;
      let bodyLength: number;
      if (marker === 0xc4) {
        bodyLength = buf[pos + PREFIX_LENGTH + 1];
        bodyStart = pos + PREFIX_LENGTH + 2;
      } else if (marker === 0xc5) {
        if (available < PREFIX_LENGTH + 3) return this.#incomplete(0);
        bodyLength = (buf[pos + PREFIX_LENGTH + 1] << 8) | buf[pos + PREFIX_LENGTH + 2];
        bodyStart = pos + PREFIX_LENGTH + 3;
      } else if (marker === 0xc6) {
        if (available < PREFIX_LENGTH + 5) return this.#incomplete(0);
        bodyLength = readU32(buf, pos + PREFIX_LENGTH + 1);
        bodyStart = pos + PREFIX_LENGTH + 5;
      } else {
        return this.#scanGeneric(buf, pos, sink);
      }
      const end = bodyStart + bodyLength;
      this.#checkSize(end - pos);
      if (end > buf.length) return this.#incomplete(end - pos);
      // Canonical means the shortest length encoding was used, as encodeFrame does.
      const canonical = bodyStart - pos === frameHeaderLength(bodyLength);
      sink.frame(buf, pos, end, bodyStart, findTagEnd(buf, bodyStart, end), end, canonical);
      return end;
    }
    return this.#scanGeneric(buf, pos, sink);
  }

  /** Any valid frame: a msgpack map with a str/bin `body` and any other keys. */
  #scanGeneric(buf: Uint8Array, pos: number, sink: FrameSink): number {
    const start = pos;
    const map = readLength(buf, pos, MAP_TYPES);
    if (map === INCOMPLETE_HEADER) return this.#incomplete(0);
    if (map === WRONG_TYPE) {
      throw new FrameError(
        `frame is not a msgpack map (first byte 0x${buf[pos].toString(16).padStart(2, "0")})`,
      );
    }
    pos = map.next;
    let bodyStart = -1;
    let bodyEnd = -1;
    for (let i = 0; i < map.length; i++) {
      const key = readLength(buf, pos, STRING_TYPES);
      if (key === INCOMPLETE_HEADER) return this.#incomplete(0);
      if (key === WRONG_TYPE) throw new FrameError("frame has a map key that is not a string");
      const keyEnd = key.next + key.length;
      this.#checkSize(keyEnd - start);
      if (keyEnd > buf.length) return this.#incomplete(0);
      const isBody = key.length === 4 && buf[key.next] === 0x62 && buf[key.next + 1] === 0x6f &&
        buf[key.next + 2] === 0x64 && buf[key.next + 3] === 0x79;
      pos = keyEnd;
      if (isBody) {
        const body = readLength(buf, pos, STRING_TYPES);
        if (body === INCOMPLETE_HEADER) return this.#incomplete(0);
        if (body === WRONG_TYPE) throw new FrameError("frame body is not bytes");
        bodyStart = body.next;
        bodyEnd = body.next + body.length;
        this.#checkSize(bodyEnd - start);
        if (bodyEnd > buf.length) return this.#incomplete(bodyEnd - start);
        pos = bodyEnd;
      } else {
        pos = skipValue(buf, pos);
        if (pos === INCOMPLETE) return this.#incomplete(0);
        this.#checkSize(pos - start);
      }
    }
    if (bodyStart < 0) throw new FrameError("frame has no body");
    sink.frame(buf, start, pos, bodyStart, findTagEnd(buf, bodyStart, bodyEnd), bodyEnd, false);
    return pos;
  }

  #checkSize(size: number): void {
    if (size > this.#maxFrameSize) {
      throw new FrameError(
        `frame of ${size}+ bytes exceeds max_frame_size (${this.#maxFrameSize} bytes)`,
      );
    }
  }

  #incomplete(needed: number): number {
    this.#needed = needed;
    return INCOMPLETE;
  }
}

function isCanonicalPrefix(buf: Uint8Array, pos: number): boolean {
  for (let i = 0; i < PREFIX_LENGTH; i++) {
    if (buf[pos + i] !== CANONICAL_PREFIX[i]) return false;
  }
  return true;
}

/** Offset of the `\n\n` ending the tag, or throws: a body without one is not an event. */
function findTagEnd(buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end - 1; i++) {
    if (buf[i] === 0x0a && buf[i + 1] === 0x0a) return i;
  }
  throw new FrameError("event body has no tag end (\\n\\n)");
}

function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) >>> 0) + ((buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]);
}

const INCOMPLETE_HEADER = 0;
const WRONG_TYPE = 1;
const MAP_TYPES = 0;
const STRING_TYPES = 1;

/** Reads a map header (MAP_TYPES) or a str/bin header (STRING_TYPES). */
function readLength(
  buf: Uint8Array,
  pos: number,
  kind: number,
): { length: number; next: number } | typeof INCOMPLETE_HEADER | typeof WRONG_TYPE {
  if (pos >= buf.length) return INCOMPLETE_HEADER;
  const b = buf[pos];
  let size: number;
  if (kind === MAP_TYPES) {
    if (b >= 0x80 && b <= 0x8f) return { length: b & 0x0f, next: pos + 1 };
    if (b === 0xde) size = 2;
    else if (b === 0xdf) size = 4;
    else return WRONG_TYPE;
  } else {
    if (b >= 0xa0 && b <= 0xbf) return { length: b & 0x1f, next: pos + 1 };
    if (b === 0xc4 || b === 0xd9) size = 1;
    else if (b === 0xc5 || b === 0xda) size = 2;
    else if (b === 0xc6 || b === 0xdb) size = 4;
    else return WRONG_TYPE;
  }
  if (pos + 1 + size > buf.length) return INCOMPLETE_HEADER;
  const length = size === 1
    ? buf[pos + 1]
    : size === 2
    ? (buf[pos + 1] << 8) | buf[pos + 2]
    : readU32(buf, pos + 1);
  return { length, next: pos + 1 + size };
}

/** Skips one msgpack value (containers included); INCOMPLETE when it runs past `buf`. */
function skipValue(buf: Uint8Array, pos: number): number {
  let remaining = 1;
  while (remaining > 0) {
    if (pos >= buf.length) return INCOMPLETE;
    const b = buf[pos];
    remaining--;
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3)) {
      if (b === 0xc1) throw new FrameError("frame holds the never-used msgpack byte 0xc1");
      pos += 1;
    } else if (b <= 0x8f) {
      remaining += 2 * (b & 0x0f);
      pos += 1;
    } else if (b <= 0x9f) {
      remaining += b & 0x0f;
      pos += 1;
    } else if (b <= 0xbf) {
      pos += 1 + (b & 0x1f);
    } else if (FIXED_SIZES[b] !== undefined) {
      pos += FIXED_SIZES[b];
    } else {
      // c4-c6 bin, c7-c9 ext, d9-db str, dc-dd array, de-df map: a length field follows.
      const lengthSize = b === 0xc4 || b === 0xc7 || b === 0xd9
        ? 1
        : b === 0xc5 || b === 0xc8 || b === 0xda || b === 0xdc || b === 0xde
        ? 2
        : 4;
      if (pos + 1 + lengthSize > buf.length) return INCOMPLETE;
      const n = lengthSize === 1
        ? buf[pos + 1]
        : lengthSize === 2
        ? (buf[pos + 1] << 8) | buf[pos + 2]
        : readU32(buf, pos + 1);
      pos += 1 + lengthSize;
      if (b >= 0xdc && b <= 0xdd) remaining += n;
      else if (b >= 0xde) remaining += 2 * n;
      else pos += b >= 0xc7 && b <= 0xc9 ? 1 + n : n; // ext has a type byte
    }
  }
  return pos > buf.length ? INCOMPLETE : pos;
}

/** Total size of the fixed-size msgpack values, by type byte (floats, ints, fixext). */
const FIXED_SIZES: Readonly<Record<number, number>> = {
  0xca: 5,
  0xcb: 9,
  0xcc: 2,
  0xcd: 3,
  0xce: 5,
  0xcf: 9,
  0xd0: 2,
  0xd1: 3,
  0xd2: 5,
  0xd3: 9,
  0xd4: 3,
  0xd5: 4,
  0xd6: 6,
  0xd7: 10,
  0xd8: 18,
};
