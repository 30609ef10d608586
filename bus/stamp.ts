/**
 * Event stamps (spec §3.10): the `_stamp` value Salt adds to every fired
 * event, Python's `datetime.utcnow().isoformat()`.
 *
 * @module
 */

let lastMicros = -Infinity;

/**
 * The current time in whole microseconds since the Unix epoch, from
 * `performance.timeOrigin + performance.now()` so the sub-millisecond digits
 * are real. Never smaller than a previous call in this process.
 *
 * @returns microseconds since 1970-01-01T00:00:00Z.
 *
 * @example
 * ```ts
 * import { nowMicros } from "./stamp.ts";
 * const a = nowMicros();
 * const b = nowMicros();
 * console.log(b >= a); // true
 * ```
 */
export function nowMicros(): number {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  if (micros > lastMicros) lastMicros = micros;
  return lastMicros;
}

let cachedSecond = NaN;
let cachedPrefix = "";

function pad2(n: number): string {
  return n < 10 ? "0" + n : "" + n;
}

/** Formats `YYYY-MM-DDTHH:MM:SS` for a whole second since the epoch. */
function secondPrefix(second: number): string {
  const d = new Date(second * 1000);
  const year = d.getUTCFullYear();
  const y = year >= 1000 ? "" + year : ("000" + year).slice(-4);
  return y + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate()) + "T" +
    pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) + ":" + pad2(d.getUTCSeconds());
}

/**
 * Formats a time like Python's `datetime.utcnow().isoformat()`: naive UTC,
 * `YYYY-MM-DDTHH:MM:SS.ffffff` with six fraction digits, or
 * `YYYY-MM-DDTHH:MM:SS` when the microseconds are zero.
 *
 * @param epochMicros microseconds since the epoch (fractions are truncated);
 * default {@link nowMicros}.
 * @returns the stamp.
 *
 * @example
 * ```ts
 * import { saltStamp } from "./stamp.ts";
 * const micros = Date.UTC(2024, 4, 1, 12, 34, 56) * 1000 + 789012;
 * console.log(saltStamp(micros)); // "2024-05-01T12:34:56.789012"
 * console.log(saltStamp(Date.UTC(2024, 4, 1) * 1000)); // "2024-05-01T00:00:00"
 * ```
 */
export function saltStamp(epochMicros: number = nowMicros()): string {
  const micros = Math.floor(epochMicros);
  const second = Math.floor(micros / 1e6);
  if (second !== cachedSecond) {
    cachedPrefix = secondPrefix(second);
    cachedSecond = second;
  }
  const fraction = micros - second * 1e6;
  if (fraction === 0) return cachedPrefix;
  return cachedPrefix + "." + ("00000" + fraction).slice(-6);
}
