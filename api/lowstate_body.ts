/**
 * The body of `POST /`, `/run` and `/token`: salt-api's lowstate (as
 * {@linkcode lowstateChunks}), with JSON read exactly. pepper sends a jid
 * as a bare integer above 2^64 (`jid=20240501123456789012`), which
 * `JSON.parse` would round; here an integer literal outside the safe range
 * becomes the string of its digits, so a jid stays the jid.
 *
 * @module
 */
import { lowstateChunks } from "./minions_body.ts";

/** Most lowstate chunks in one request (a bigger list answers 413). */
export const MAX_LOWSTATE_CHUNKS = 1000;

function exactReviver(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== "number" || Number.isSafeInteger(value)) return value;
  const source = context?.source;
  return typeof source === "string" && /^-?\d+$/.test(source) ? source : value;
}

/**
 * Parses JSON without rounding big integers: an integer literal outside
 * `Number.MAX_SAFE_INTEGER` becomes its digits as a string.
 *
 * @throws {SyntaxError} for text that is not JSON.
 * @example
 * ```ts
 * import { parseJsonExact } from "./lowstate_body.ts";
 * parseJsonExact('{"jid": 20240501123456789012}'); // { jid: "20240501123456789012" }
 * ```
 */
export function parseJsonExact(text: string): unknown {
  // deno-lint-ignore no-explicit-any
  return JSON.parse(text, exactReviver as any);
}

/**
 * Parses a lowstate body into chunks, JSON exactly (see the module text).
 *
 * @throws {BodyError} for a bad document (400), an unsupported content type (406), a non-mapping chunk (400).
 * @example
 * ```ts
 * import { lowstateBody } from "./lowstate_body.ts";
 * const bytes = new TextEncoder().encode('[{"client": "runner", "fun": "jobs.lookup_jid", "jid": 20240501123456789012}]');
 * lowstateBody("application/json", bytes); // [{ client: "runner", fun: "jobs.lookup_jid", jid: "20240501123456789012" }]
 * ```
 */
export function lowstateBody(
  contentType: string | null,
  bytes: Uint8Array,
): Record<string, unknown>[] {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if ((type === "application/json" || type === "text/plain") && bytes.length > 0) {
    let body: unknown;
    try {
      body = parseJsonExact(new TextDecoder().decode(bytes));
    } catch {
      // Invalid JSON: lowstateChunks answers 400 (JSON) or takes the raw text (text/plain).
      return lowstateChunks(contentType, bytes);
    }
    return lowstateChunks("application/json", new TextEncoder().encode(JSON.stringify(body)));
  }
  return lowstateChunks(contentType, bytes);
}
