/**
 * A fast msgpack encoder for the plain data most events carry (objects with
 * `Object.prototype` or no prototype, arrays, strings, numbers, booleans,
 * `null`/`undefined`, `Uint8Array`), writing exactly the bytes
 * `@msgpack/msgpack` writes for them (the smallest integer and string
 * forms, float64 for fractions, keys in `Object.keys` order). Anything
 * else (Date, Map, Set, bigint, class instances, other typed arrays, more
 * than 100 levels) answers `null`, and the caller takes the general path
 * with Salt's extension rules. The general encoder consults its extension
 * codec for every object and array; skipping that is most of the gain.
 *
 * @module
 */

import { growBytes } from "./bytes.ts";

const encoder = new TextEncoder();
const MAX_DEPTH = 100;

const EMPTY = new Uint8Array(0);
/** Above this size, the last sink's buffer is not kept referenced between calls. */
const RETAINED_MAX = 1 << 20;

let buf: Uint8Array = EMPTY;
let view = new DataView(buf.buffer);
/** The buffer `view` was made for. */
let viewOf: Uint8Array = buf;
let pos = 0;

function ensure(n: number): void {
  if (pos + n <= buf.length) return;
  buf = growBytes(buf, pos, n);
  view = new DataView(buf.buffer);
  viewOf = buf;
}

/** Thrown inside the encoder to give up on a value; never escapes. */
const GIVE_UP = Symbol("give up");

/** Strings up to this length are tried as ASCII, byte by byte. */
const ASCII_TRY = 4096;

/** The header of a str or bin of `n` bytes with a 1-, 2- or 4-byte length (`b8`, `b16`, `b32`). */
function writeSizedHeader(n: number, b8: number, b16: number, b32: number): void {
  if (n < 0x100) {
    buf[pos++] = b8;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = b16;
    view.setUint16(pos, n);
    pos += 2;
  } else {
    buf[pos++] = b32;
    view.setUint32(pos, n);
    pos += 4;
  }
}

function writeStringHeader(n: number): void {
  if (n < 32) buf[pos++] = 0xa0 | n;
  else writeSizedHeader(n, 0xd9, 0xda, 0xdb);
}

function writeString(s: string): void {
  const n = s.length;
  if (n <= ASCII_TRY) {
    // Most keys and values are ASCII: written byte by byte, header by length.
    ensure(5 + n);
    const start = pos;
    writeStringHeader(n);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        pos = start;
        writeUtf8(s);
        return;
      }
      buf[pos++] = c;
    }
    return;
  }
  writeUtf8(s);
}

function writeUtf8(s: string): void {
  // At most 3 bytes per UTF-16 unit; the header is written once the length is known.
  const most = s.length * 3;
  ensure(5 + most);
  const headerRoom = most < 32 ? 1 : most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
  const at = pos + headerRoom;
  const n = encoder.encodeInto(s, buf.subarray(at, at + most)).written;
  const headerLength = n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  if (headerLength !== headerRoom) buf.copyWithin(pos + headerLength, at, at + n);
  writeStringHeader(n);
  pos += n;
}

function writeNumber(x: number): void {
  ensure(9);
  if (Number.isSafeInteger(x)) {
    if (x >= 0) {
      if (x < 0x80) buf[pos++] = x;
      else if (x < 0x100) {
        buf[pos++] = 0xcc;
        buf[pos++] = x;
      } else if (x < 0x10000) {
        buf[pos++] = 0xcd;
        view.setUint16(pos, x);
        pos += 2;
      } else if (x < 0x100000000) {
        buf[pos++] = 0xce;
        view.setUint32(pos, x);
        pos += 4;
      } else {
        buf[pos++] = 0xcf;
        view.setUint32(pos, Math.floor(x / 0x100000000));
        view.setUint32(pos + 4, x >>> 0);
        pos += 8;
      }
    } else {
      if (x >= -0x20) buf[pos++] = 0xe0 | (x + 0x20);
      else if (x >= -0x80) {
        buf[pos++] = 0xd0;
        view.setInt8(pos++, x);
      } else if (x >= -0x8000) {
        buf[pos++] = 0xd1;
        view.setInt16(pos, x);
        pos += 2;
      } else if (x >= -0x80000000) {
        buf[pos++] = 0xd2;
        view.setInt32(pos, x);
        pos += 4;
      } else {
        buf[pos++] = 0xd3;
        view.setBigInt64(pos, BigInt(x));
        pos += 8;
      }
    }
    return;
  }
  buf[pos++] = 0xcb;
  view.setFloat64(pos, x);
  pos += 8;
}

function writeLength(n: number, fix: number, b16: number, b32: number): void {
  ensure(5);
  if (n < 16) buf[pos++] = fix | n;
  else if (n < 0x10000) {
    buf[pos++] = b16;
    view.setUint16(pos, n);
    pos += 2;
  } else {
    buf[pos++] = b32;
    view.setUint32(pos, n);
    pos += 4;
  }
}

function write(value: unknown, depth: number): void {
  switch (typeof value) {
    case "string":
      writeString(value);
      return;
    case "number":
      writeNumber(value);
      return;
    case "boolean":
      ensure(1);
      buf[pos++] = value ? 0xc3 : 0xc2;
      return;
    case "undefined":
      ensure(1);
      buf[pos++] = 0xc0;
      return;
    case "object":
      break;
    default:
      throw GIVE_UP; // bigint, function, symbol: the general path decides
  }
  if (value === null) {
    ensure(1);
    buf[pos++] = 0xc0;
    return;
  }
  if (depth >= MAX_DEPTH) throw GIVE_UP;
  if (Array.isArray(value)) {
    const n = value.length;
    writeLength(n, 0x90, 0xdc, 0xdd);
    for (let i = 0; i < n; i++) write(value[i], depth + 1);
    return;
  }
  if (value instanceof Uint8Array) {
    const n = value.length;
    ensure(5 + n);
    writeSizedHeader(n, 0xc4, 0xc5, 0xc6);
    buf.set(value, pos);
    pos += n;
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw GIVE_UP;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  writeLength(keys.length, 0x80, 0xde, 0xdf);
  for (const key of keys) {
    writeString(key);
    write(record[key], depth + 1);
  }
}

/** The buffer {@linkcode fastPack} encodes into before copying. */
let scratch: Uint8Array = new Uint8Array(4096);

/**
 * The msgpack bytes of `value` when it is plain data, else `null` (use the
 * general encoder). The bytes are a fresh copy.
 *
 * @example
 * ```ts
 * import { fastPack } from "./msgpack_fast.ts";
 * fastPack({ a: 1 }); // Uint8Array(4) [ 0x81, 0xa1, 0x61, 0x01 ]
 * fastPack(new Date()); // null
 * ```
 */
export function fastPack(value: unknown): Uint8Array | null {
  const sink: PackSink = { buffer: scratch, pos: 0 };
  if (!fastPackInto(value, sink)) return null;
  scratch = sink.buffer;
  return sink.buffer.slice(0, sink.pos);
}

/**
 * A growable byte buffer that {@linkcode fastPackInto} appends to: bytes
 * `[0, pos)` of `buffer` are written. The encoder may replace `buffer` by a
 * larger copy while it writes.
 */
export interface PackSink {
  /** The bytes, written up to `pos`. */
  buffer: Uint8Array;
  /** Where the next byte goes. */
  pos: number;
}

/**
 * Appends the msgpack bytes of `value` to `sink` when it is plain data and
 * answers `true`; answers `false` (the sink unchanged up to its `pos`) when
 * the general encoder must take it. No allocation unless the sink grows.
 *
 * @example
 * ```ts
 * import { fastPackInto, type PackSink } from "./msgpack_fast.ts";
 * const sink: PackSink = { buffer: new Uint8Array(16), pos: 0 };
 * fastPackInto({ a: 1 }, sink); // true; sink.pos is 4
 * fastPackInto(new Date(), sink); // false; sink.pos is still 4
 * ```
 */
export function fastPackInto(value: unknown, sink: PackSink): boolean {
  buf = sink.buffer;
  if (viewOf !== buf) {
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    viewOf = buf;
  }
  pos = sink.pos;
  try {
    write(value, 0);
  } catch (err) {
    if (err === GIVE_UP) return false;
    throw err;
  } finally {
    sink.buffer = buf;
    // The module keeps no large buffer of a caller alive.
    if (buf.length > RETAINED_MAX) {
      buf = viewOf = EMPTY;
      view = new DataView(EMPTY.buffer);
    }
  }
  sink.pos = pos;
  return true;
}

/**
 * Appends `s` to `sink` as UTF-8 bytes without a msgpack header (for tags),
 * and answers how many bytes it wrote.
 *
 * @example
 * ```ts
 * import { writeUtf8Into, type PackSink } from "./msgpack_fast.ts";
 * const sink: PackSink = { buffer: new Uint8Array(4), pos: 0 };
 * writeUtf8Into("salt/auth", sink); // 9 (the buffer grew)
 * ```
 */
export function writeUtf8Into(s: string, sink: PackSink): number {
  const n = s.length;
  let at = sink.pos;
  if (at + n > sink.buffer.length) sink.buffer = growBytes(sink.buffer, at, n);
  const target = sink.buffer;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      const bytes = encoder.encode(s);
      if (sink.pos + bytes.length > sink.buffer.length) {
        sink.buffer = growBytes(sink.buffer, sink.pos, bytes.length);
      }
      sink.buffer.set(bytes, sink.pos);
      sink.pos += bytes.length;
      return bytes.length;
    }
    target[at++] = c;
  }
  sink.pos = at;
  return n;
}
