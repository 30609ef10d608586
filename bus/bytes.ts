/**
 * Byte-array helpers shared by the codec, the router and the writers.
 *
 * @module
 */

/**
 * Joins byte arrays into one new array.
 *
 * @param parts the arrays, in order
 * @param length their total length, when the caller already knows it
 * @example
 * ```ts
 * import { concatBytes } from "./bytes.ts";
 * concatBytes([Uint8Array.of(1), Uint8Array.of(2, 3)]); // Uint8Array(3) [ 1, 2, 3 ]
 * ```
 */
export function concatBytes(
  parts: readonly Uint8Array[],
  length: number = parts.reduce((n, p) => n + p.length, 0),
): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Bytes from a hex dump such as `"81 a1 6b"` (for tests and examples).
 *
 * @example
 * ```ts
 * import { fromHex } from "./bytes.ts";
 * fromHex("81 a1 61 01"); // Uint8Array(4) [ 0x81, 0xa1, 0x61, 0x01 ]
 * ```
 */
export function fromHex(text: string): Uint8Array {
  return Uint8Array.from(text.trim().split(/\s+/), (h) => parseInt(h, 16));
}

/**
 * A copy of `buffer`'s first `used` bytes in a new buffer with room for
 * `more` after them: twice as large as `buffer` (at least `minimum`
 * bytes), doubled again until it fits.
 *
 * @example
 * ```ts
 * import { growBytes } from "./bytes.ts";
 * const bigger = growBytes(Uint8Array.of(1, 2, 3), 3, 100); // length 128, starts 1, 2, 3
 * ```
 */
export function growBytes(
  buffer: Uint8Array,
  used: number,
  more: number,
  minimum = 64,
): Uint8Array {
  let size = Math.max(minimum, buffer.length * 2);
  while (size < used + more) size *= 2;
  const next = new Uint8Array(size);
  next.set(buffer.subarray(0, used));
  return next;
}
