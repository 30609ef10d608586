/**
 * JSON text of what returners store, for any value an event or a return can
 * hold: integers beyond 2^53 (bigint) stay exact, bytes become text (UTF-8,
 * as Salt's serializers give them), dates become ISO strings, and PostgreSQL's
 * `jsonb` refusal of `\u0000` is avoided by dropping NUL characters.
 *
 * @module
 */

const decoder = new TextDecoder();

/** `JSON.rawJSON` (V8 has it; TypeScript's lib does not declare it yet). */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === "bigint") return rawJSON(value.toString());
  if (value instanceof Uint8Array) return decoder.decode(value);
  return value;
}

function noNulReplacer(this: unknown, key: string, value: unknown): unknown {
  const v = replacer.call(this, key, value);
  if (typeof v === "string" && v.includes("\0")) return v.replaceAll("\0", "");
  if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)) {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).some((k) => k.includes("\0"))) {
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k.replaceAll("\0", ""), x]));
    }
  }
  return v;
}

/**
 * The JSON text of `value`.
 *
 * @example
 * ```ts
 * import { jsonText } from "./json_text.ts";
 * jsonText({ jid: 123456789012345678901234n, raw: new TextEncoder().encode("hi") });
 * // '{"jid":123456789012345678901234,"raw":"hi"}'
 * ```
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value ?? null, replacer);
}

/**
 * {@linkcode jsonText} without NUL characters (`\u0000`), which PostgreSQL's
 * `jsonb` refuses.
 *
 * @example
 * ```ts
 * import { jsonbText } from "./json_text.ts";
 * jsonbText({ s: "a\u0000b" }); // '{"s":"ab"}'
 * ```
 */
export function jsonbText(value: unknown): string {
  return JSON.stringify(value ?? null, noNulReplacer);
}
