/**
 * msgpack with Salt's rules (§2.2, §2.3). Every msgpack call of saltbus lives
 * here so that the library behind it can be swapped.
 *
 * Encoding: strings as str, `Uint8Array` as bin, non-integer numbers as
 * float64, key insertion order kept, `Date` as ext 78 (Salt's datetime).
 * `Map` becomes a map (string or number keys only), `Set` an array, a
 * `bigint` an int64 when it fits and its decimal string otherwise (as Salt's
 * fallback encoder does). Functions and symbols are rejected with an
 * {@linkcode EventDataError}; nothing is silently emptied.
 *
 * Decoding: integer map keys accepted, ext 78 decoded to `Date`, 64-bit
 * integers beyond `Number.MAX_SAFE_INTEGER` kept exact as `bigint`, other ext
 * types kept as `ExtData`.
 *
 * @module
 */
import {
  Decoder,
  decodeTimestampExtension,
  Encoder,
  EXT_TIMESTAMP,
  ExtData,
  ExtensionCodec,
} from "npm:@msgpack/msgpack@3.1.3";
import { EventDataError } from "./errors.ts";
import { fastPack } from "./msgpack_fast.ts";
import { fastUnpack, GIVE_UP_DECODE } from "./msgpack_fast_decode.ts";

/** msgpack extension type Salt uses for `datetime` values. */
export const DATETIME_EXT_TYPE = 78;

/** Signals that data needs {@linkcode normalizeData} before encoding. */
class NeedsNormalization extends Error {}

const extensions = new ExtensionCodec();
// The library's built-in encoder (consulted first, for every non-primitive
// value) would write Date as the msgpack timestamp; Salt expects ext 78. This
// override declines Dates, so the ext 78 encoder below takes them, and flags
// the values that need normalizing.
extensions.register({
  type: EXT_TIMESTAMP,
  encode: (value: unknown): null => {
    if (
      value instanceof Map || value instanceof Set || typeof value === "bigint" ||
      typeof value === "function" || typeof value === "symbol"
    ) {
      throw new NeedsNormalization();
    }
    return null;
  },
  decode: decodeTimestampExtension,
});
extensions.register({
  type: DATETIME_EXT_TYPE,
  encode: (value: unknown): Uint8Array | null =>
    value instanceof Date ? encodeDatetime(value) : null,
  decode: (payload: Uint8Array): Date => decodeDatetime(payload),
});

const fastEncoder = new Encoder({ extensionCodec: extensions, initialBufferSize: 512 });
const bigIntEncoder = new Encoder({ extensionCodec: extensions, useBigInt64: true });
const fastDecoder = new Decoder({ extensionCodec: extensions });
const bigIntDecoder = new Decoder({ extensionCodec: extensions, useBigInt64: true });

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Encodes event data (or any value) to msgpack with Salt's rules.
 *
 * @throws {EventDataError} for values msgpack cannot carry (functions,
 * symbols, maps with non-scalar keys, cycles).
 * @example
 * ```ts
 * import { packData } from "./msgpack.ts";
 * const bytes = packData({ a: 1 });
 * console.log(bytes); // Uint8Array(4) [ 0x81, 0xa1, 0x61, 0x01 ]
 * ```
 */
export function packData(data: unknown): Uint8Array {
  const plain = fastPack(data);
  if (plain !== null) return plain;
  try {
    return fastEncoder.encode(data);
  } catch (err) {
    if (!(err instanceof NeedsNormalization)) {
      throw new EventDataError(`event data cannot be encoded as msgpack: ${messageOf(err)}`, {
        cause: err,
      });
    }
  }
  return bigIntEncoder.encode(normalizeData(data));
}

/**
 * Decodes msgpack bytes with Salt's listener rules (§2.3).
 *
 * @throws {Error} when the bytes are not one complete msgpack value.
 * @example
 * ```ts
 * import { packData, unpackData } from "./msgpack.ts";
 * console.log(unpackData(packData({ a: [1, "x"] }))); // { a: [ 1, "x" ] }
 * ```
 */
export function unpackData(bytes: Uint8Array): unknown {
  // Plain data (no ext, no 64-bit integer) decodes exactly as below, faster.
  const plain = fastUnpack(bytes);
  if (plain !== GIVE_UP_DECODE) return plain;
  // 0xcf / 0xd3 mark 64-bit integers; without them no bigint can appear and
  // the fast decoder is exact.
  if (bytes.indexOf(0xcf) === -1 && bytes.indexOf(0xd3) === -1) return fastDecoder.decode(bytes);
  return narrowBigInts(bigIntDecoder.decode(bytes));
}

/**
 * Converts what msgpack cannot carry as is into what Salt would send:
 * `Map` → plain object, `Set` → array, `bigint` → number when safe, kept as
 * `bigint` within 64 bits, decimal string beyond. Rejects functions, symbols
 * and map keys that are not strings or numbers.
 *
 * @throws {EventDataError} naming the offending path.
 * @example
 * ```ts
 * import { normalizeData } from "./msgpack.ts";
 * normalizeData({ s: new Set([1]), m: new Map([["k", 2n ** 70n]]) });
 * // => { s: [1], m: { k: "1180591620717411303424" } }
 * ```
 */
export function normalizeData(value: unknown, path = "data", seen = new Set<object>()): unknown {
  switch (typeof value) {
    case "bigint":
      if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
        return Number(value);
      }
      return value >= INT64_MIN && value <= UINT64_MAX ? value : value.toString();
    case "function":
    case "symbol":
      throw new EventDataError(`${path} is a ${typeof value}, which msgpack cannot carry`);
    case "object":
      break;
    default:
      return value;
  }
  if (value === null || value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (value instanceof ExtData) return value;
  if (seen.has(value)) throw new EventDataError(`${path} refers to itself (a cycle)`);
  seen.add(value);
  try {
    if (Array.isArray(value) || value instanceof Set) {
      return Array.from(value, (item, i) => normalizeData(item, `${path}[${i}]`, seen));
    }
    const out: Record<string, unknown> = {};
    const entries = value instanceof Map ? value.entries() : Object.entries(value);
    for (const [key, item] of entries) {
      if (typeof key !== "string" && typeof key !== "number") {
        throw new EventDataError(
          `${path} is a Map with a ${typeof key} key; only string and number keys can be sent`,
        );
      }
      out[key] = normalizeData(item, `${path}.${key}`, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function narrowBigInts(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  }
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = narrowBigInts(value[i]);
  } else if (!(value instanceof Date) && !(value instanceof ExtData)) {
    const record = value as Record<string, unknown>;
    for (const key in record) record[key] = narrowBigInts(record[key]);
  }
  return value;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

function encodeDatetime(date: Date): Uint8Array {
  const text = `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1, 2)}${
    pad(date.getUTCDate(), 2)
  }T${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}.${
    pad(date.getUTCMilliseconds() * 1000, 6)
  }`;
  return new TextEncoder().encode(text);
}

const DATETIME_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

function decodeDatetime(payload: Uint8Array): Date {
  const text = new TextDecoder().decode(payload);
  const m = DATETIME_PATTERN.exec(text);
  if (!m) throw new EventDataError(`ext 78 datetime payload is not %Y%m%dT%H:%M:%S.%f: ${text}`);
  const micros = Number((m[7] ?? "0").padEnd(6, "0"));
  return new Date(
    Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], Math.floor(micros / 1000)),
  );
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export { ExtData };
