/**
 * Job ids (spec §7.1): Salt's JIDs are 20 decimal digits of UTC time,
 * `%Y%m%d%H%M%S%f`, optionally followed by `_<pid>` (`unique_jid`).
 *
 * @module
 */
import { nowMicros } from "./stamp.ts";

/** Options of {@linkcode genJid}. */
export interface GenJidOptions {
  /** Salt's `unique_jid`: append `_<pid>` (default false). */
  uniqueJid?: boolean;
}

let lastJidMicros = -Infinity;

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** Formats microseconds since the epoch as Salt's 20-digit `%Y%m%d%H%M%S%f`. */
function formatJid(micros: number): string {
  const second = Math.floor(micros / 1e6);
  const d = new Date(second * 1000);
  return pad(d.getUTCFullYear(), 4) + pad(d.getUTCMonth() + 1, 2) + pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) + pad(d.getUTCMinutes(), 2) + pad(d.getUTCSeconds(), 2) +
    pad(micros - second * 1e6, 6);
}

/**
 * A new JID from the current UTC time, strictly increasing within this
 * process (a collision moves it on by one microsecond, as Salt does for
 * `unique_jid`).
 *
 * @example
 * ```ts
 * import { genJid, isJid } from "./jid.ts";
 * const jid = genJid(); // "20261123182248123456"
 * isJid(jid); // true
 * genJid({ uniqueJid: true }); // "20261123182248123457_4242"
 * ```
 */
export function genJid(options: GenJidOptions = {}): string {
  let micros = nowMicros();
  if (micros <= lastJidMicros) micros = lastJidMicros + 1;
  lastJidMicros = micros;
  const jid = formatJid(micros);
  return options.uniqueJid ? `${jid}_${Deno.pid}` : jid;
}

/**
 * True for a JID-shaped value: a string of 20 digits, or longer than 21 with
 * `_` at index 20 (Salt's `is_jid`).
 *
 * @example
 * ```ts
 * import { isJid } from "./jid.ts";
 * isJid("20240501123456789012"); // true
 * isJid("20240501123456789012_42"); // true
 * isJid("2024"); // false
 * ```
 */
export function isJid(value: unknown): value is string {
  if (typeof value !== "string") return false;
  if (value.length !== 20 && !(value.length > 21 && value[20] === "_")) return false;
  return /^\d{20}$/.test(value.slice(0, 20));
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * The time of a JID as Salt's `jid_to_time` prints it,
 * `YYYY, Mon DD HH:MM:SS.ffffff`, or `""` for a value that is not a JID.
 *
 * @example
 * ```ts
 * import { jidToTime } from "./jid.ts";
 * jidToTime("20240501123456789012"); // "2024, May 01 12:34:56.789012"
 * ```
 */
export function jidToTime(jid: unknown): string {
  if (!isJid(jid)) return "";
  const s = jid.slice(0, 20);
  const month = Number(s.slice(4, 6));
  if (month < 1 || month > 12) return "";
  return `${s.slice(0, 4)}, ${MONTHS[month - 1]} ${s.slice(6, 8)} ${s.slice(8, 10)}:` +
    `${s.slice(10, 12)}:${s.slice(12, 14)}.${s.slice(14, 20)}`;
}

/**
 * The UTC `Date` of a JID (millisecond precision), or `null` when it is not a JID.
 *
 * @example
 * ```ts
 * import { jidToDate } from "./jid.ts";
 * jidToDate("20240501123456789012")?.toISOString(); // "2024-05-01T12:34:56.789Z"
 * ```
 */
export function jidToDate(jid: unknown): Date | null {
  if (!isJid(jid)) return null;
  const n = (from: number, to: number) => Number(jid.slice(from, to));
  const date = new Date(Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14)));
  date.setUTCMilliseconds(Math.floor(n(14, 20) / 1000));
  return Number.isNaN(date.getTime()) ? null : date;
}
