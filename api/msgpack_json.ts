/**
 * msgpack straight to JSON bytes, without building JavaScript objects: the
 * API's fast path. The output is what `pythonJsonDumps(unpackData(bytes))`
 * writes (Python's separators, `ensure_ascii=False`), except that map keys
 * keep their wire order even when they look like integers (as Python's
 * dicts do). Anything unusual (ext types such as Salt's datetime, non-scalar
 * map keys, malformed data) makes it give up, and the caller takes the slow
 * path.
 *
 * @module
 */
import { formatNumber } from "../output/python_json.ts";

/**
 * A growable byte buffer that text is appended to.
 *
 * @example
 * ```ts
 * import { ByteWriter } from "./msgpack_json.ts";
 * const w = new ByteWriter(16);
 * w.ascii("id: 1\n");
 * w.bytes().length; // 6
 * ```
 */
export class ByteWriter {
  /** The buffer (may be replaced when it grows). */
  buf: Uint8Array;
  /** Bytes written. */
  length = 0;
  static readonly #encoder = new TextEncoder();

  /** Creates a writer with room for `capacity` bytes to start with. */
  constructor(capacity = 64 * 1024) {
    this.buf = new Uint8Array(capacity);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }

  /** Appends ASCII text (no character above U+007F). */
  ascii(text: string): void {
    const n = text.length;
    this.reserve(n);
    const buf = this.buf;
    let at = this.length;
    for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** Appends any text as UTF-8. */
  text(text: string): void {
    this.reserve(text.length * 3);
    this.length += ByteWriter.#encoder.encodeInto(text, this.buf.subarray(this.length)).written;
  }

  /** Appends bytes as they are. */
  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The bytes written so far (a view). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** Thrown internally when the fast path cannot handle the data. */
class GiveUp extends Error {}
const GIVE_UP = new GiveUp();

const HEX = "0123456789abcdef";
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Appends `src[start, end)`, UTF-8 text, as a JSON string literal, escaped
 * as Python's `json.dumps(ensure_ascii=False)` does. Bytes that are not
 * valid UTF-8 are replaced by U+FFFD.
 *
 * @example
 * ```ts
 * import { ByteWriter, writeJsonString } from "./msgpack_json.ts";
 * const w = new ByteWriter();
 * writeJsonString(w, new TextEncoder().encode('a"b'), 0, 3);
 * new TextDecoder().decode(w.bytes()); // "\"a\\\"b\""
 * ```
 */
export function writeJsonString(w: ByteWriter, src: Uint8Array, start: number, end: number): void {
  w.reserve((end - start) * 6 + 2);
  const buf = w.buf;
  let at = w.length;
  buf[at++] = 0x22;
  for (let i = start; i < end; i++) {
    const b = src[i];
    if (b >= 0x20 && b !== 0x22 && b !== 0x5c) {
      if (b >= 0x80) {
        // Not ASCII: let the platform check the UTF-8 and escape the text.
        return w.text(JSON.stringify(utf8.decode(src.subarray(start, end))));
      }
      buf[at++] = b;
      continue;
    }
    buf[at++] = 0x5c;
    switch (b) {
      case 0x22:
        buf[at++] = 0x22;
        break;
      case 0x5c:
        buf[at++] = 0x5c;
        break;
      case 0x0a:
        buf[at++] = 0x6e; // n
        break;
      case 0x0d:
        buf[at++] = 0x72; // r
        break;
      case 0x09:
        buf[at++] = 0x74; // t
        break;
      case 0x08:
        buf[at++] = 0x62; // b
        break;
      case 0x0c:
        buf[at++] = 0x66; // f
        break;
      default:
        buf[at++] = 0x75; // u00XX
        buf[at++] = 0x30;
        buf[at++] = 0x30;
        buf[at++] = HEX.charCodeAt(b >> 4);
        buf[at++] = HEX.charCodeAt(b & 15);
    }
  }
  buf[at++] = 0x22;
  w.length = at;
}

/**
 * Appends the JSON of the msgpack value in `src[start, end)`; resolves
 * `false` (having written garbage that the caller must truncate) when the
 * fast path cannot handle it or the bytes are not exactly one value.
 *
 * @example
 * ```ts
 * import { ByteWriter, msgpackToJson } from "./msgpack_json.ts";
 * import { packData } from "../bus/msgpack.ts";
 * const w = new ByteWriter();
 * const packed = packData({ a: [1, "x", null] });
 * msgpackToJson(packed, 0, packed.length, w); // true
 * new TextDecoder().decode(w.bytes()); // '{"a": [1, "x", null]}'
 * ```
 */
export function msgpackToJson(src: Uint8Array, start: number, end: number, w: ByteWriter): boolean {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  let pos = start;

  const need = (n: number) => {
    if (pos + n > end) throw GIVE_UP;
  };

  const str = (n: number) => {
    need(n);
    writeJsonString(w, src, pos, pos + n);
    pos += n;
  };

  const array = (n: number) => {
    w.ascii("[");
    for (let i = 0; i < n; i++) {
      if (i > 0) w.ascii(", ");
      value();
    }
    w.ascii("]");
  };

  const map = (n: number) => {
    w.ascii("{");
    for (let i = 0; i < n; i++) {
      if (i > 0) w.ascii(", ");
      key();
      w.ascii(": ");
      value();
    }
    w.ascii("}");
  };

  // A map key: strings as they are, scalars converted as Python's json does.
  const key = () => {
    need(1);
    const b = src[pos];
    if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) return value();
    const mark = w.length;
    w.ascii('"');
    const inner = w.length;
    value();
    if (w.buf[inner] === 0x22 || w.buf[inner] === 0x5b || w.buf[inner] === 0x7b) {
      w.length = mark; // a bin, array or map key: let the slow path decide
      throw GIVE_UP;
    }
    w.ascii('"');
  };

  const value = (): void => {
    need(1);
    const b = src[pos++];
    if (b <= 0x7f) return w.ascii("" + b);
    if (b >= 0xe0) return w.ascii("" + (b - 256));
    if (b <= 0x8f) return map(b & 0x0f);
    if (b <= 0x9f) return array(b & 0x0f);
    if (b <= 0xbf) return str(b & 0x1f);
    switch (b) {
      case 0xc0:
        return w.ascii("null");
      case 0xc2:
        return w.ascii("false");
      case 0xc3:
        return w.ascii("true");
      case 0xc4:
      case 0xc5:
      case 0xc6: { // bin: text, invalid UTF-8 replaced (as pythonJsonDumps)
        const size = b === 0xc4 ? 1 : b === 0xc5 ? 2 : 4;
        need(size);
        const n = size === 1 ? src[pos] : size === 2 ? view.getUint16(pos) : view.getUint32(pos);
        pos += size;
        need(n);
        w.text(JSON.stringify(utf8.decode(src.subarray(pos, pos + n))));
        pos += n;
        return;
      }
      case 0xca:
        need(4);
        pos += 4;
        return w.ascii(formatNumber(view.getFloat32(pos - 4)));
      case 0xcb:
        need(8);
        pos += 8;
        return w.ascii(formatNumber(view.getFloat64(pos - 8)));
      case 0xcc:
        need(1);
        return w.ascii("" + src[pos++]);
      case 0xcd:
        need(2);
        pos += 2;
        return w.ascii("" + view.getUint16(pos - 2));
      case 0xce:
        need(4);
        pos += 4;
        return w.ascii("" + view.getUint32(pos - 4));
      case 0xcf:
        need(8);
        pos += 8;
        return w.ascii(view.getBigUint64(pos - 8).toString());
      case 0xd0:
        need(1);
        pos += 1;
        return w.ascii("" + view.getInt8(pos - 1));
      case 0xd1:
        need(2);
        pos += 2;
        return w.ascii("" + view.getInt16(pos - 2));
      case 0xd2:
        need(4);
        pos += 4;
        return w.ascii("" + view.getInt32(pos - 4));
      case 0xd3:
        need(8);
        pos += 8;
        return w.ascii(view.getBigInt64(pos - 8).toString());
      case 0xd9:
        need(1);
        return str(src[pos++]);
      case 0xda:
        need(2);
        pos += 2;
        return str(view.getUint16(pos - 2));
      case 0xdb:
        need(4);
        pos += 4;
        return str(view.getUint32(pos - 4));
      case 0xdc:
        need(2);
        pos += 2;
        return array(view.getUint16(pos - 2));
      case 0xdd:
        need(4);
        pos += 4;
        return array(view.getUint32(pos - 4));
      case 0xde:
        need(2);
        pos += 2;
        return map(view.getUint16(pos - 2));
      case 0xdf:
        need(4);
        pos += 4;
        return map(view.getUint32(pos - 4));
    }
    throw GIVE_UP; // ext types (Salt's datetime, …) and the unused 0xc1
  };

  try {
    value();
  } catch (err) {
    if (err === GIVE_UP || err instanceof RangeError) return false;
    throw err;
  }
  return pos === end;
}
