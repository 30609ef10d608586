/**
 * Tag matching (spec §3.5 and §5 step 3): the five match types of
 * `get_event`/`iter_events`, Python's `fnmatch.fnmatch`, and Salt's
 * `expr_match` used by `state.event`.
 *
 * Python regular expressions are run as JavaScript ones after a small
 * translation of the Python-only forms: `\A` → `^`, `\Z` → `$`,
 * `(?P<name>…)` → `(?<name>…)` and `(?P=name)` → `\k<name>`.
 *
 * @module
 */

import { MatchTypeError } from "./errors.ts";

/**
 * A tag match type: how a listener's search tag is compared with an event's
 * tag (spec §3.5).
 *
 * @example
 * ```ts
 * import type { MatchType } from "./tag_match.ts";
 * const type: MatchType = "fnmatch";
 * ```
 */
export type MatchType = "startswith" | "endswith" | "find" | "regex" | "fnmatch";

/**
 * Every valid match type, the default (`startswith`) first.
 *
 * @example
 * ```ts
 * import { MATCH_TYPES } from "./tag_match.ts";
 * console.log(MATCH_TYPES.includes("regex")); // true
 * ```
 */
export const MATCH_TYPES: readonly MatchType[] = Object.freeze([
  "startswith",
  "endswith",
  "find",
  "regex",
  "fnmatch",
]);

/**
 * A tag predicate: does `eventTag` match the listener's `searchTag`?
 *
 * @example
 * ```ts
 * import { getMatcher, type TagMatcher } from "./tag_match.ts";
 * const match: TagMatcher = getMatcher("startswith");
 * console.log(match("salt/auth", "salt/")); // true
 * ```
 */
export type TagMatcher = (eventTag: string, searchTag: string) => boolean;

/** Largest number of compiled patterns kept per cache. */
const CACHE_LIMIT = 1000;

/** A bounded cache of compiled patterns (`null`: the pattern does not compile). */
class PatternCache {
  #map = new Map<string, RegExp | null>();
  #compile: (pattern: string) => RegExp;

  constructor(compile: (pattern: string) => RegExp) {
    this.#compile = compile;
  }

  get(pattern: string): RegExp | null {
    let re = this.#map.get(pattern);
    if (re === undefined) {
      try {
        re = this.#compile(pattern);
      } catch {
        re = null;
      }
      if (this.#map.size >= CACHE_LIMIT) {
        // Maps iterate in insertion order: the first key is the oldest.
        this.#map.delete(this.#map.keys().next().value as string);
      }
      this.#map.set(pattern, re);
    }
    return re;
  }
}

/**
 * Rewrites the Python-only regex forms into their JavaScript equivalents,
 * leaving escaped backslashes and everything else alone.
 */
function pythonRegexSource(pattern: string): string {
  if (!pattern.includes("\\A") && !pattern.includes("\\Z") && !pattern.includes("(?P")) {
    return pattern;
  }
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) {
      const next = pattern[i + 1];
      if (!inClass && next === "A") out += "^";
      else if (!inClass && next === "Z") out += "$";
      else out += c + next;
      i++;
    } else if (!inClass && c === "(" && pattern.startsWith("(?P<", i)) {
      out += "(?<";
      i += 3;
    } else if (!inClass && c === "(" && pattern.startsWith("(?P=", i)) {
      const close = pattern.indexOf(")", i);
      if (close < 0) {
        out += c;
        continue;
      }
      out += "\\k<" + pattern.slice(i + 4, close) + ">";
      i = close;
    } else {
      if (c === "[") inClass = true;
      else if (c === "]") inClass = false;
      out += c;
    }
  }
  return out;
}

/** Compiles a Python `re.search` pattern anchored at the start. */
function compileStartRegex(pattern: string): RegExp {
  return new RegExp("^" + pythonRegexSource(pattern));
}

/** Compiles a Python `re.match(r"\A" + pattern + r"\Z")` pattern (sticky at 0). */
function compileFullRegex(pattern: string): RegExp {
  return new RegExp("^" + pythonRegexSource(pattern) + "$", "y");
}

const regexCache = new PatternCache(compileStartRegex);
const fnmatchCache = new PatternCache(fnmatchToRegExp);
const fullRegexCache = new PatternCache(compileFullRegex);

const SYNTAX_CHARS = /[\\^$.*+?()[\]{}|/]/;

/** Escapes a regex syntax character outside a character class. */
function escapeChar(c: string): string {
  return SYNTAX_CHARS.test(c) ? "\\" + c : c;
}

/** Escapes a character inside a character class. */
function escapeClassChar(c: string): string {
  return c === "\\" || c === "]" || c === "[" || c === "-" || c === "^" ? "\\" + c : c;
}

/**
 * Translates a Python `fnmatch` glob into an anchored JavaScript RegExp with
 * the same meaning: `*` matches any run of characters including `/` and
 * newlines, `?` one character, `[seq]` and `[!seq]` a set (a `]` right after
 * the opening `[` or `[!` is part of the set, ranges with a start after their
 * end are dropped), and a `[` without a closing `]` is literal. Everything
 * else matches itself, case-sensitively.
 *
 * @example
 * ```ts
 * import { fnmatchToRegExp } from "./tag_match.ts";
 * const re = fnmatchToRegExp("salt/job/*\/ret/*");
 * console.log(re.test("salt/job/123/ret/minion")); // true
 * ```
 */
export function fnmatchToRegExp(pattern: string): RegExp {
  // Work on code points so that `?` and sets see whole characters.
  const pat = Array.from(pattern);
  const n = pat.length;
  let out = "";
  let i = 0;
  while (i < n) {
    const c = pat[i++];
    if (c === "*") {
      while (i < n && pat[i] === "*") i++;
      out += "[\\s\\S]*";
    } else if (c === "?") {
      out += "[\\s\\S]";
    } else if (c === "[") {
      let j = i;
      if (j < n && pat[j] === "!") j++;
      if (j < n && pat[j] === "]") j++;
      while (j < n && pat[j] !== "]") j++;
      if (j >= n) {
        out += "\\[";
        continue;
      }
      out += setToRegExp(pat.slice(i, j));
      i = j + 1;
    } else {
      out += escapeChar(c);
    }
  }
  return new RegExp("^(?:" + out + ")$", "u");
}

/** Translates the inside of a `[...]` glob set (as code points) into a regex. */
function setToRegExp(set: string[]): string {
  const negate = set[0] === "!";
  const body = negate ? set.slice(1) : set;
  // Split on range hyphens: a hyphen is a range operator unless it is the
  // first character of the set or the character right after a range's end.
  const chunks: string[][] = [];
  let current: string[] = [];
  let k = 0;
  while (k < body.length) {
    if (body[k] === "-" && current.length > 0) {
      chunks.push(current);
      current = body.slice(k + 1, k + 3);
      k += 3;
    } else {
      current.push(body[k]);
      k++;
    }
  }
  if (current.length > 0) chunks.push(current);
  else if (chunks.length > 0) chunks[chunks.length - 1].push("-");
  // Drop reversed ranges (a range whose start is after its end matches nothing).
  for (let c = chunks.length - 1; c > 0; c--) {
    const prev = chunks[c - 1];
    const cur = chunks[c];
    if (prev[prev.length - 1].codePointAt(0)! > cur[0].codePointAt(0)!) {
      chunks[c - 1] = prev.slice(0, -1).concat(cur.slice(1));
      chunks.splice(c, 1);
    }
  }
  const stuff = chunks.map((chunk) => chunk.map(escapeClassChar).join("")).join("-");
  if (stuff === "") return negate ? "[\\s\\S]" : "(?!)";
  return (negate ? "[^" : "[") + stuff + "]";
}

/**
 * Python `fnmatch.fnmatch(name, pattern)` on POSIX: a case-sensitive glob
 * match of the whole name, where `*` also crosses `/`. Compiled patterns are
 * cached.
 *
 * @example
 * ```ts
 * import { fnmatch } from "./tag_match.ts";
 * console.log(fnmatch("salt/job/123/ret/minion", "salt/job/*\/ret/*")); // true
 * console.log(fnmatch("salt/auth", "salt/a[!u]th")); // false
 * ```
 */
export function fnmatch(name: string, pattern: string): boolean {
  return fnmatchCache.get(pattern)!.test(name);
}

const startswith: TagMatcher = (eventTag, searchTag) => eventTag.startsWith(searchTag);
const endswith: TagMatcher = (eventTag, searchTag) => eventTag.endsWith(searchTag);
const find: TagMatcher = (eventTag, searchTag) => eventTag.includes(searchTag);
const regex: TagMatcher = (eventTag, searchTag) => {
  const re = regexCache.get(searchTag);
  return re !== null && re.test(eventTag);
};

const MATCHERS: Readonly<Record<MatchType, TagMatcher>> = Object.freeze({
  startswith,
  endswith,
  find,
  regex,
  fnmatch,
});

/**
 * Returns the matcher for a match type (spec §3.5). `regex` is Python
 * `re.search` anchored at the start only (`"^" + searchTag`, no end anchor);
 * a search tag that is not a valid regex matches nothing. Compiled regexes
 * and globs are cached (1000 patterns each, oldest evicted first).
 *
 * @throws {MatchTypeError} when `matchType` is not one of {@link MATCH_TYPES}.
 *
 * @example
 * ```ts
 * import { getMatcher } from "./tag_match.ts";
 * const match = getMatcher("regex");
 * console.log(match("evt1", "e..1$")); // true
 * console.log(match("xevt1", "evt")); // false
 * ```
 */
export function getMatcher(matchType: string): TagMatcher {
  if (!Object.hasOwn(MATCHERS, matchType)) {
    throw new MatchTypeError(
      `unknown match type ${JSON.stringify(matchType)}: use one of ${MATCH_TYPES.join(", ")}`,
    );
  }
  return MATCHERS[matchType as MatchType];
}

/**
 * Checks a search tag ahead of time (for command-line options and
 * configuration): a `regex` pattern must compile. Other match types accept
 * every string.
 *
 * @throws {MatchTypeError} when the pattern is an invalid regex.
 *
 * @example
 * ```ts
 * import { validatePattern } from "./tag_match.ts";
 * validatePattern("salt/job/\\d+", "regex"); // fine
 * try {
 *   validatePattern("salt/(", "regex");
 * } catch (e) {
 *   console.error((e as Error).message);
 * }
 * ```
 */
export function validatePattern(pattern: string, matchType: MatchType): void {
  getMatcher(matchType);
  if (matchType !== "regex") return;
  try {
    compileStartRegex(pattern);
  } catch (e) {
    throw new MatchTypeError(
      `invalid regex tag ${JSON.stringify(pattern)}: ${(e as Error).message}; ` +
        `fix the pattern or use another match type`,
      { cause: e },
    );
  }
}

/**
 * Salt's `expr_match`, the tag filter of `state.event` (spec §5 step 3):
 * true when the tag matches the pattern as an `fnmatch` glob, or else as a
 * Python `re.match(r"\A" + pattern + r"\Z", tag)` regex. An invalid regex is
 * ignored (only the glob counts). Like Salt, the anchors are glued to the
 * pattern without a group, so a top-level `a|b` means "starts with `a`, or
 * is exactly `b`".
 *
 * @example
 * ```ts
 * import { exprMatch } from "./tag_match.ts";
 * console.log(exprMatch("salt/auth", "*")); // true
 * console.log(exprMatch("salt/job/1/new", "salt/job/\\d+/new")); // true
 * console.log(exprMatch("salt/job/1/new/x", "salt/job/\\d+/new")); // false
 * ```
 */
export function exprMatch(tag: string, pattern: string): boolean {
  if (fnmatch(tag, pattern)) return true;
  const re = fullRegexCache.get(pattern);
  if (re === null) return false;
  re.lastIndex = 0;
  return re.test(tag);
}
