/**
 * A fast msgpack decoder for the plain data most events carry, the mirror of
 * `msgpack_fast.ts`: nil, booleans, integers up to 32 bits, float32
 * and float64, str, bin (as `subarray` views of the input, as
 * `@msgpack/msgpack` returns them), arrays and maps with string or number
 * keys, at most 100 levels deep. It returns exactly what `@msgpack/msgpack`'s
 * `Decoder` returns for the same bytes. Anything else (64-bit integers, ext
 * types such as Salt's datetime, the never-used byte 0xc1, keys of other
 * types or `__proto__`, truncated input, bytes after the value, short
 * strings whose UTF-8 the library would decode from bytes past their end)
 * answers {@linkcode GIVE_UP_DECODE}, and the caller takes the general path
 * with Salt's rules, which decodes or throws its own error.
 *
 * Strings follow the library's own rules: up to 200 bytes as its JavaScript
 * UTF-8 reader decodes them (ASCII directly, valid UTF-8 by a strict
 * `TextDecoder`, invalid UTF-8 given up), longer ones by a `TextDecoder`
 * with the same (default) options. Short ASCII strings come
 * from two small caches (map keys up to 64 bytes, values up to 16), which is
 * most of the gain with the bounds checks done once per value.
 *
 * @module
 */

/**
 * What {@linkcode fastUnpack} answers when the bytes are not plain data it
 * decodes exactly like `@msgpack/msgpack` (use the general decoder).
 *
 * @example
 * ```ts
 * import { fastUnpack, GIVE_UP_DECODE } from "./msgpack_fast_decode.ts";
 * fastUnpack(new Uint8Array([0xc1])) === GIVE_UP_DECODE; // true
 * ```
 */
export const GIVE_UP_DECODE: unique symbol = Symbol("msgpack fast decode: give up");

/** Thrown inside the decoder to give up; never escapes. */
const GIVE_UP = Symbol("give up");
const MAX_DEPTH = 100;
/** `@msgpack/msgpack` decodes strings above this many bytes with TextDecoder. */
const TEXT_DECODER_THRESHOLD = 200;
const textDecoder = new TextDecoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const EMPTY: Uint8Array = new Uint8Array(0);

let bytes = EMPTY;
let pos = 0;
let end = 0;

const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

/**
 * Short ASCII strings already decoded, by a hash of their bytes: one table
 * for map keys (up to 64 bytes: a fresh key string costs its creation and
 * its interning on the store), one for values up to 16 bytes.
 */
const CACHE_SLOTS = 4096;

interface StringCache {
  max: number;
  lengths: Uint8Array;
  bytes: Uint8Array;
  strings: string[];
}

function stringCache(max: number): StringCache {
  return {
    max,
    lengths: new Uint8Array(CACHE_SLOTS),
    bytes: new Uint8Array(CACHE_SLOTS * max),
    strings: new Array(CACHE_SLOTS).fill(""),
  };
}

const keyCache = stringCache(64);
const valueCache = stringCache(16);

function need(n: number): void {
  if (end - pos < n) throw GIVE_UP;
}

function readU16(): number {
  need(2);
  const v = (bytes[pos] << 8) | bytes[pos + 1];
  pos += 2;
  return v;
}

function readU32(): number {
  need(4);
  const v =
    ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) >>> 0;
  pos += 4;
  return v;
}

function readFloat(n: 4 | 8): number {
  need(n);
  for (let i = 0; i < n; i++) scratchBytes[i] = bytes[pos + i];
  pos += n;
  return n === 4 ? scratch.getFloat32(0) : scratch.getFloat64(0);
}

/** Reused argument arrays for `String.fromCharCode`, by length (8 to 200). */
const charPools: number[][] = [];

function charUnits(n: number): number[] {
  return charPools[n] ??= new Array(n).fill(0);
}

/** ASCII bytes `[p, p + n)` as a flat string (the caller checked they are ASCII). */
function ascii(p: number, n: number): string {
  const b = bytes;
  switch (n) {
    case 0:
      return "";
    case 1:
      return String.fromCharCode(b[p]);
    case 2:
      return String.fromCharCode(b[p], b[p + 1]);
    case 3:
      return String.fromCharCode(b[p], b[p + 1], b[p + 2]);
    case 4:
      return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);
    case 5:
      return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4]);
    case 6:
      return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5]);
    case 7:
      return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6]);
    default: {
      const units = charUnits(n);
      for (let i = 0; i < n; i++) units[i] = b[p + i];
      return String.fromCharCode.apply(null, units);
    }
  }
}

/**
 * A short string that is not ASCII: the library decodes it with its own
 * JavaScript UTF-8 reader, which gives the same string as a strict
 * `TextDecoder` for valid UTF-8 (a leading BOM kept). Invalid UTF-8 (where
 * that reader may even read past the string) gives up, and the library
 * decodes it as it always did.
 */
function shortUtf8(p: number, n: number): string {
  try {
    return strictDecoder.decode(bytes.subarray(p, p + n));
  } catch {
    throw GIVE_UP;
  }
}

function readString(n: number): string {
  need(n);
  const p = pos;
  pos += n;
  if (n > TEXT_DECODER_THRESHOLD) return textDecoder.decode(bytes.subarray(p, p + n));
  if (n < 8) {
    for (let i = p; i < pos; i++) {
      if (bytes[i] >= 0x80) return shortUtf8(p, n);
    }
    return ascii(p, n);
  }
  // Copy to the argument array and check for non-ASCII in one pass.
  const units = charUnits(n);
  const b = bytes;
  let high = 0;
  for (let i = 0; i < n; i++) {
    const c = b[p + i];
    high |= c;
    units[i] = c;
  }
  if (high >= 0x80) return shortUtf8(p, n);
  return String.fromCharCode.apply(null, units);
}

/**
 * The ASCII string of the `n` bytes at `pos` (1 to `cache.max`, already
 * bounds-checked), from `cache` when the same bytes were seen, else decoded
 * and stored; `undefined` when they are not ASCII (nothing consumed then).
 */
function cachedAscii(n: number, cache: StringCache): string | undefined {
  const b = bytes;
  const p = pos;
  let h = n ^ (b[p] << 8) ^ (b[p + n - 1] << 16) ^ (b[p + (n >> 1)] << 4);
  if (n > 16) {
    // Long keys (Salt state ids) often differ only inside: hash every byte.
    for (let i = 0; i < n; i++) h = Math.imul(h ^ b[p + i], 0x01000193);
  }
  const slot = Math.imul(h, 0x9e3779b1) >>> 20; // 12 bits: CACHE_SLOTS
  const base = slot * cache.max;
  const known = cache.bytes;
  if (cache.lengths[slot] === n) {
    let i = 0;
    while (i < n && known[base + i] === b[p + i]) i++;
    if (i === n) {
      pos = p + n;
      return cache.strings[slot];
    }
  }
  for (let i = 0; i < n; i++) if (b[p + i] >= 0x80) return undefined;
  const s = ascii(p, n);
  for (let i = 0; i < n; i++) known[base + i] = b[p + i];
  cache.lengths[slot] = n;
  cache.strings[slot] = s;
  pos = p + n;
  return s;
}

/** A map key: a string or a number, as the library's `mapKeyConverter`. */
function readKey(): string | number {
  need(1);
  const head = bytes[pos];
  let len = 0;
  let skip = 1;
  if (head > 0xa0 && head < 0xc0) len = head - 0xa0;
  else if (head === 0xd9 && end - pos > 1) {
    len = bytes[pos + 1];
    skip = 2;
  }
  let key: unknown;
  if (len > 0 && len <= keyCache.max) {
    pos += skip;
    need(len);
    key = cachedAscii(len, keyCache) ?? readString(len);
  } else if ((head >= 0x80 && head < 0xa0) || (head >= 0xdc && head <= 0xdf)) {
    throw GIVE_UP; // the library rejects container keys
  } else {
    key = read(0);
    if (typeof key === "number") return key;
    if (typeof key !== "string") throw GIVE_UP;
  }
  if (key === "__proto__") throw GIVE_UP;
  return key as string;
}

function readArray(n: number, depth: number): unknown[] {
  if (depth >= MAX_DEPTH || n > end - pos) throw GIVE_UP;
  const array = new Array(n);
  for (let i = 0; i < n; i++) array[i] = read(depth + 1);
  return array;
}

function readMap(n: number, depth: number): Record<string, unknown> {
  if (depth >= MAX_DEPTH || n > (end - pos) / 2) throw GIVE_UP;
  const map: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = readKey();
    map[key] = read(depth + 1);
  }
  return map;
}

function readBin(n: number): Uint8Array {
  need(n);
  const p = pos;
  pos += n;
  return bytes.subarray(p, pos);
}

function read(depth: number): unknown {
  need(1);
  const head = bytes[pos++];
  if (head < 0x80) return head;
  if (head >= 0xe0) return head - 0x100;
  if (head < 0x90) return readMap(head - 0x80, depth);
  if (head < 0xa0) return readArray(head - 0x90, depth);
  if (head < 0xc0) {
    const n = head - 0xa0;
    if (n === 0 || n > valueCache.max) return readString(n);
    need(n);
    return cachedAscii(n, valueCache) ?? readString(n);
  }
  switch (head) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      need(1);
      return readBin(bytes[pos++]);
    case 0xc5:
      return readBin(readU16());
    case 0xc6:
      return readBin(readU32());
    case 0xca:
      return readFloat(4);
    case 0xcb:
      return readFloat(8);
    case 0xcc:
      need(1);
      return bytes[pos++];
    case 0xcd:
      return readU16();
    case 0xce:
      return readU32();
    case 0xd0:
      need(1);
      return (bytes[pos++] << 24) >> 24;
    case 0xd1:
      return (readU16() << 16) >> 16;
    case 0xd2:
      return readU32() | 0;
    case 0xd9:
      need(1);
      return readString(bytes[pos++]);
    case 0xda:
      return readString(readU16());
    case 0xdb:
      return readString(readU32());
    case 0xdc:
      return readArray(readU16(), depth);
    case 0xdd:
      return readArray(readU32(), depth);
    case 0xde:
      return readMap(readU16(), depth);
    case 0xdf:
      return readMap(readU32(), depth);
    default:
      // 0xc1 (never used), 64-bit integers (bigint rules live in
      // msgpack.ts), ext types (Salt's datetime and the library's timestamp)
      throw GIVE_UP;
  }
}

/**
 * The value msgpack `input` holds when it is plain data (exactly what
 * `@msgpack/msgpack`'s `Decoder` returns), else {@linkcode GIVE_UP_DECODE}
 * (use the general decoder). Never throws. `bin` values are views of
 * `input`.
 *
 * @example
 * ```ts
 * import { fastUnpack, GIVE_UP_DECODE } from "./msgpack_fast_decode.ts";
 * fastUnpack(new Uint8Array([0x81, 0xa1, 0x61, 0x01])); // { a: 1 }
 * fastUnpack(new Uint8Array([0xd4, 0x4e, 0x00])) === GIVE_UP_DECODE; // true (ext)
 * ```
 */
export function fastUnpack(input: Uint8Array): unknown {
  if (!(input instanceof Uint8Array)) return GIVE_UP_DECODE;
  bytes = input;
  pos = 0;
  end = input.length;
  try {
    const value = read(0);
    return pos === end ? value : GIVE_UP_DECODE;
  } catch {
    // GIVE_UP, or anything the library would meet the same way
    return GIVE_UP_DECODE;
  } finally {
    bytes = EMPTY;
  }
}
