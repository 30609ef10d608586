/**
 * `max_event_size` trimming (§2.7): oversized values are replaced with
 * `"VALUE_TRIMMED"` until the packed data fits. The event is never dropped.
 *
 * @module
 */
import { packData } from "./msgpack.ts";
import { isMapping } from "./mapping.ts";

/** What a trimmed value is replaced with, as in Salt. */
export const VALUE_TRIMMED = "VALUE_TRIMMED";

/** Salt measures `sys.getsizeof(bytes)`, which is the length plus this. */
const PYTHON_BYTES_OVERHEAD = 33;

/** The result of {@linkcode trimToSize}. */
export interface TrimResult {
  /** The packed data, trimmed when it had to be. */
  packed: Uint8Array;
  /** Dotted paths of the values replaced with `VALUE_TRIMMED`. */
  trimmed: string[];
}

/**
 * True when packed data of `length` bytes exceeds `maxEventSize` the way
 * Salt counts it.
 *
 * @example
 * ```ts
 * import { exceedsEventSize } from "./trim.ts";
 * exceedsEventSize(1048576, 1048576); // true: Salt adds 33 bytes of object overhead
 * ```
 */
export function exceedsEventSize(length: number, maxEventSize: number): boolean {
  return length + PYTHON_BYTES_OVERHEAD > maxEventSize;
}

/**
 * Trims `data` (already packed as `packed`) to fit `maxEventSize`: passes
 * with a threshold of 50 % of the limit, then 40 %, … down to 0 %, each
 * replacing every value (recursing into mappings, not into lists) whose own
 * packed size exceeds the threshold. Returns what remains even if it still
 * does not fit, as Salt does.
 *
 * @example
 * ```ts
 * import { trimToSize } from "./trim.ts";
 * import { packData } from "./msgpack.ts";
 * const data = { small: 1, big: "x".repeat(2000) };
 * const { trimmed } = trimToSize(data, packData(data), 1000);
 * console.log(trimmed); // ["big"]
 * ```
 */
export function trimToSize(data: unknown, packed: Uint8Array, maxEventSize: number): TrimResult {
  if (!exceedsEventSize(packed.length, maxEventSize) || !isMapping(data)) {
    return { packed, trimmed: [] };
  }
  let current: Record<string, unknown> = structuredCloneMapping(data);
  const trimmed: string[] = [];
  for (let percent = 50; percent >= 0; percent -= 10) {
    current = trimPass(current, (maxEventSize * percent) / 100, "", trimmed);
    packed = packData(current);
    if (!exceedsEventSize(packed.length, maxEventSize)) break;
  }
  return { packed, trimmed };
}

function trimPass(
  data: Record<string, unknown>,
  threshold: number,
  prefix: string,
  trimmed: string[],
): Record<string, unknown> {
  for (const [key, value] of Object.entries(data)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isMapping(value)) {
      data[key] = trimPass(value, threshold, path, trimmed);
    } else if (value !== VALUE_TRIMMED && packData(value).length > threshold) {
      data[key] = VALUE_TRIMMED;
      trimmed.push(path);
    }
  }
  return data;
}

/** Copies nested plain mappings (not their leaves) so the caller's data is left alone. */
function structuredCloneMapping(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    out[key] = isMapping(value) && Object.getPrototypeOf(value) === Object.prototype
      ? structuredCloneMapping(value)
      : value;
  }
  return out;
}
