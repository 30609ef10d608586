/**
 * Tag building (spec §3.1, §3.12): Salt's tag constants and `tagify`.
 *
 * @module
 */

/**
 * The separator between an event's tag and its packed data (`"\n\n"`); a tag
 * must never contain it.
 *
 * @example
 * ```ts
 * import { TAGEND } from "./tagify.ts";
 * console.log("salt/auth".includes(TAGEND)); // false
 * ```
 */
export const TAGEND = "\n\n";

/**
 * The separator between the parts of a tag (`"/"`).
 *
 * @example
 * ```ts
 * import { TAGPARTER } from "./tagify.ts";
 * console.log(["salt", "auth"].join(TAGPARTER)); // "salt/auth"
 * ```
 */
export const TAGPARTER = "/";

/**
 * The default first part of a tag (`"salt"`).
 *
 * @example
 * ```ts
 * import { SALT } from "./tagify.ts";
 * console.log(SALT); // "salt"
 * ```
 */
export const SALT = "salt";

/**
 * Salt's known tag prefixes, each mapped to itself: `auth`, `job`, `key`,
 * `minion`, `syndic`, `run`, `wheel`, `cloud`, `fileserver`, `queue`.
 *
 * @example
 * ```ts
 * import { TAGS } from "./tagify.ts";
 * console.log(TAGS.job); // "job"
 * ```
 */
export const TAGS: Readonly<Record<string, string>> = Object.freeze({
  auth: "auth",
  job: "job",
  key: "key",
  minion: "minion",
  syndic: "syndic",
  run: "run",
  wheel: "wheel",
  cloud: "cloud",
  fileserver: "fileserver",
  queue: "queue",
});

const utf8 = new TextDecoder();

/** Converts one tag part to a string the way Python's `str()` would. */
function partToString(part: unknown): string {
  if (typeof part === "string") return part;
  if (part === undefined) return "";
  if (part === null) return "None";
  if (part === true) return "True";
  if (part === false) return "False";
  if (part instanceof Uint8Array) return utf8.decode(part);
  if (part instanceof ArrayBuffer) return utf8.decode(new Uint8Array(part));
  return String(part);
}

/** Splits a suffix into parts: non-string iterables are spread, Maps give their keys. */
function suffixParts(suffix: unknown): unknown[] {
  if (
    suffix === null || typeof suffix !== "object" || suffix instanceof Uint8Array ||
    !(Symbol.iterator in suffix)
  ) {
    return [suffix];
  }
  if (suffix instanceof Map) return [...suffix.keys()];
  return [...(suffix as Iterable<unknown>)];
}

/**
 * Builds a tag like Salt 3007's `tagify`: joins `base`, the prefix (through
 * {@link TAGS}) and the suffix parts with `/`, dropping empty parts.
 *
 * The suffix is split into parts when it is an array or any other non-string
 * iterable (a Map gives its keys, like a Python dict); otherwise it is one
 * part. Each part becomes a string: bytes (`Uint8Array`) are decoded as UTF-8,
 * `null` becomes `"None"` and is kept (Python `None`), `true`/`false` become
 * `"True"`/`"False"`, `0` becomes `"0"`, and `undefined` becomes `""` and is
 * dropped. Unlike Python, a `Uint8Array` suffix is one decoded part rather
 * than a list of byte values.
 *
 * @param suffix the last part(s) of the tag; default `""`.
 * @param prefix the middle part; default `""`.
 * @param base the first part; default `"salt"`.
 * @returns the tag.
 *
 * @example
 * ```ts
 * import { tagify } from "./tagify.ts";
 * console.log(tagify(["20240501123456789012", "new"], "job")); // "salt/job/20240501123456789012/new"
 * console.log(tagify("m1", "refresh", "minion")); // "minion/refresh/m1"
 * console.log(tagify(undefined, "auth")); // "salt/auth"
 * ```
 */
export function tagify(suffix: unknown = "", prefix: string = "", base: string = SALT): string {
  const mapped = Object.hasOwn(TAGS, prefix) ? TAGS[prefix] : prefix;
  const parts = [base, mapped, ...suffixParts(suffix)];
  const out: string[] = [];
  for (const part of parts) {
    const text = partToString(part);
    if (text !== "") out.push(text);
  }
  return out.join(TAGPARTER);
}
