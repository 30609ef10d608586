/**
 * Minion targeting as Salt's matchers do it (`salt/matchers/*.py`): which
 * minions (or proxied devices) a target expression selects.
 *
 * - `glob`: Python `fnmatch` on the id (`web*`, `db[12]`).
 * - `list`: exact ids, comma-separated or as an array (`web1,web2`).
 * - `pcre`: Python `re.match` on the id (anchored at the start only).
 * - `grain`: `key:value`, `:` descending into nested grains, the value an
 *   `fnmatch` glob compared case-insensitively (`os:Debian`,
 *   `ip_interfaces:eth0:10.*`); any element of a list grain may match.
 * - `compound`: words joined by `and`, `or`, `not` and parentheses (each
 *   separated by spaces), a word being a glob on the id or `G@`, `P@`, `L@`,
 *   `E@`, `I@`, `J@` (`web* and G@os:Debian or not L@db1,db2`).
 *
 * Everything is pure: a target compiles once into a predicate that is then
 * run on many candidates.
 *
 * @module
 */
import { SaltbusError } from "../bus/errors.ts";
import { fnmatch, getMatcher, validatePattern } from "../bus/tag_match.ts";
import { isMapping } from "../bus/mapping.ts";
import { traverse } from "../bus/traverse.ts";

/**
 * The target types of Salt's `tgt_type` that saltbus evaluates.
 *
 * @example
 * ```ts
 * import type { TargetType } from "./target.ts";
 * const type: TargetType = "compound";
 * ```
 */
export type TargetType = "glob" | "list" | "pcre" | "grain" | "compound";

/**
 * Every {@linkcode TargetType}, the default (`glob`) first.
 *
 * @example
 * ```ts
 * import { TARGET_TYPES } from "./target.ts";
 * console.log(TARGET_TYPES.includes("grain")); // true
 * ```
 */
export const TARGET_TYPES: readonly TargetType[] = Object.freeze([
  "glob",
  "list",
  "pcre",
  "grain",
  "compound",
]);

/**
 * What a target is matched against: a minion or device id and, for grain
 * (and pillar) targets, its grains (and pillar).
 *
 * @example
 * ```ts
 * import type { TargetCandidate } from "./target.ts";
 * const web1: TargetCandidate = { id: "web1", grains: { os: "Debian", roles: ["web"] } };
 * ```
 */
export interface TargetCandidate {
  /** The minion or device id. */
  id: string;
  /** Its grains; a candidate without grains matches no grain target. */
  grains?: Readonly<Record<string, unknown>>;
  /** Its pillar, for `I@`/`J@` compound words; without it they match nothing. */
  pillar?: Readonly<Record<string, unknown>>;
}

/**
 * A target predicate made by {@linkcode compileTarget}.
 *
 * @example
 * ```ts
 * import { compileTarget, type TargetMatcher } from "./target.ts";
 * const isWeb: TargetMatcher = compileTarget("web*");
 * console.log(isWeb({ id: "web1" })); // true
 * ```
 */
export type TargetMatcher = (candidate: TargetCandidate) => boolean;

/**
 * A target expression that cannot be evaluated: an invalid regex, unbalanced
 * parentheses or a misplaced operator in a compound target, an unknown or
 * unsupported compound prefix, a grain target without `:`.
 *
 * @example
 * ```ts
 * import { compileTarget, TargetError } from "./target.ts";
 * try {
 *   compileTarget("( web* and db*", "compound");
 * } catch (e) {
 *   if (e instanceof TargetError) console.error(e.message);
 * }
 * ```
 */
export class TargetError extends SaltbusError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TargetError";
  }
}

/** Salt's default `DEFAULT_TARGET_DELIM`. */
const DELIMITER = ":";

/**
 * Compiles a target expression into a predicate on candidates, with Salt's
 * rules for each `tgtType` (see the module documentation). Compile once and
 * run the predicate on every candidate.
 *
 * @throws {TargetError} for a target that cannot be evaluated; the message
 * says what is wrong.
 *
 * @example
 * ```ts
 * import { compileTarget } from "./target.ts";
 * const match = compileTarget("G@os:Debian and not web2", "compound");
 * match({ id: "web1", grains: { os: "Debian" } }); // true
 * match({ id: "web2", grains: { os: "Debian" } }); // false
 * compileTarget(["web1", "db1"], "list")({ id: "db1" }); // true
 * ```
 */
export function compileTarget(
  tgt: string | readonly string[],
  tgtType: TargetType = "glob",
): TargetMatcher {
  if (tgtType === "list") return listMatcher(tgt);
  if (tgtType === "compound") {
    return compoundMatcher(typeof tgt === "string" ? tgt.split(/\s+/) : tgt);
  }
  if (typeof tgt !== "string") {
    throw new TargetError(`a ${tgtType} target must be a string, not a list`);
  }
  switch (tgtType) {
    case "glob":
      return (c) => fnmatch(c.id, tgt);
    case "pcre":
      return pcreMatcher(tgt);
    case "grain":
      return dataMatcher(tgt, DELIMITER, false, "grain", (c) => c.grains);
    default:
      throw new TargetError(
        `unknown target type ${JSON.stringify(tgtType)}: use one of ${TARGET_TYPES.join(", ")}`,
      );
  }
}

/**
 * Does `candidate` match the target? A one-off {@linkcode compileTarget};
 * compile once instead when matching many candidates.
 *
 * @throws {TargetError} for a target that cannot be evaluated.
 *
 * @example
 * ```ts
 * import { matchTarget } from "./target.ts";
 * matchTarget("os:Deb*", "grain", { id: "web1", grains: { os: "Debian" } }); // true
 * matchTarget("web[0-9]", "pcre", { id: "web1x" }); // true: anchored at the start only
 * ```
 */
export function matchTarget(
  tgt: string | readonly string[],
  tgtType: TargetType,
  candidate: TargetCandidate,
): boolean {
  return compileTarget(tgt, tgtType)(candidate);
}

// ------------------------------------------------------------- simple types

function listMatcher(tgt: string | readonly string[]): TargetMatcher {
  const ids = new Set(
    (typeof tgt === "string" ? tgt.split(",") : tgt).map((id) => id.trim()).filter((id) => id),
  );
  return (c) => ids.has(c.id);
}

/** Python's `re.match(pattern, s)` (with `i`: case-insensitive), validated now. */
function compileRegex(pattern: string, ignoreCase: boolean): (s: string) => boolean {
  // The group keeps a top-level `a|b` anchored at the start on both sides, as re.match does.
  const wrapped = (ignoreCase ? "(?i:" : "(?:") + pattern + ")";
  validatePattern(wrapped, "regex");
  const regex = getMatcher("regex");
  return (s) => regex(s, wrapped);
}

function pcreMatcher(pattern: string): TargetMatcher {
  try {
    const match = compileRegex(pattern, false);
    return (c) => match(c.id);
  } catch (err) {
    throw new TargetError(
      `invalid pcre target ${JSON.stringify(pattern)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

// ---------------------------------------------- grain and pillar (subdict_match)

/** Python's `str(value)` for the scalars grains hold. */
function pythonStr(value: unknown): string {
  if (value === true) return "True";
  if (value === false) return "False";
  if (value === null || value === undefined) return "None";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** One way of comparing a leaf value with a pattern (glob or regex, both case-insensitive). */
type LeafMatch = (value: unknown, pattern: string) => boolean;

function globLeaf(value: unknown, pattern: string): boolean {
  return fnmatch(pythonStr(value).toLowerCase(), pattern.toLowerCase());
}

function regexLeaf(): LeafMatch {
  const compiled = new Map<string, ((s: string) => boolean) | null>();
  return (value, pattern) => {
    let match = compiled.get(pattern);
    if (match === undefined) {
      try {
        match = compileRegex(pattern, true);
      } catch {
        match = null; // Salt logs "Invalid regex" and does not match
      }
      compiled.set(pattern, match);
    }
    return match !== null && match(pythonStr(value));
  };
}

/** Salt's `_dict_match`: a pattern against a mapping (key present, or a nested match). */
function dictMatch(
  target: Record<string, unknown>,
  pattern: string,
  delimiter: string,
  leaf: LeafMatch,
): boolean {
  const wildcard = pattern.startsWith("*" + delimiter);
  if (wildcard) pattern = pattern.slice(2);
  if (pattern === "*" || Object.hasOwn(target, pattern)) return true;
  if (subdictMatch(target, pattern, delimiter, leaf)) return true;
  if (!wildcard) return false;
  for (const value of Object.values(target)) {
    if (isMapping(value)) {
      if (dictMatch(value, pattern, delimiter, leaf)) return true;
    } else if (Array.isArray(value)) {
      if (value.some((item) => leaf(item, pattern))) return true;
    } else if (leaf(value, pattern)) return true;
  }
  return false;
}

/**
 * Salt's `salt.utils.data.subdict_match`: splits `expr` at each delimiter from
 * the right into a key path and a pattern, and matches when any split does.
 */
function subdictMatch(
  data: Record<string, unknown>,
  expr: string,
  delimiter: string,
  leaf: LeafMatch,
): boolean {
  const splits = expr.split(delimiter);
  for (let idx = splits.length - 1; idx > 0; idx--) {
    const key = splits.slice(0, idx).join(delimiter);
    const pattern = splits.slice(idx).join(delimiter);
    const match = key === "*" ? data : traverse(data, key, undefined, delimiter);
    if (match === undefined || (isMapping(match) && Object.keys(match).length === 0)) continue;
    if (isMapping(match)) {
      if (dictMatch(match, key === "*" ? expr : pattern, delimiter, leaf)) return true;
    } else if (Array.isArray(match)) {
      for (const member of match) {
        if (isMapping(member) && dictMatch(member, pattern, delimiter, leaf)) return true;
        if (leaf(member, pattern)) return true;
      }
    } else if (leaf(match, key === "*" ? expr : pattern)) return true;
  }
  return false;
}

/**
 * A grain or pillar matcher (`G@`/`P@`, `I@`/`J@`): `expr` is `key:value`
 * with `delimiter` between nested keys.
 */
function dataMatcher(
  expr: string,
  delimiter: string,
  regex: boolean,
  what: string,
  data: (c: TargetCandidate) => Readonly<Record<string, unknown>> | undefined,
): TargetMatcher {
  if (!expr.includes(delimiter)) {
    throw new TargetError(
      `${what} target ${JSON.stringify(expr)} has no '${delimiter}': write key${delimiter}value`,
    );
  }
  let leaf: LeafMatch = globLeaf;
  if (regex) {
    // At least one way of splitting must leave a valid regex to match with.
    const splits = expr.split(delimiter);
    const errors: string[] = [];
    for (let idx = splits.length - 1; idx > 0; idx--) {
      try {
        compileRegex(splits.slice(idx).join(delimiter), true);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length === splits.length - 1) {
      throw new TargetError(`invalid ${what} pcre target ${JSON.stringify(expr)}: ${errors[0]}`);
    }
    leaf = regexLeaf();
  }
  return (c) => {
    const d = data(c);
    return d !== undefined && subdictMatch(d as Record<string, unknown>, expr, delimiter, leaf);
  };
}

// --------------------------------------------------------------- compound

/** Salt's `parse_target`: an engine letter, a delimiter for G/P/I/J, `@`, the pattern. */
const ENGINE_WORD = /^([A-Z])((?<=[GPIJ]).)?@(.+)$/s;

/** The matcher for one compound word. */
function wordMatcher(word: string): TargetMatcher {
  const m = ENGINE_WORD.exec(word);
  if (m === null) return compileTarget(word, "glob");
  const [, engine, delimiter = DELIMITER, pattern] = m;
  switch (engine) {
    case "G":
      return dataMatcher(pattern, delimiter, false, "grain", (c) => c.grains);
    case "P":
      return dataMatcher(pattern, delimiter, true, "grain", (c) => c.grains);
    case "I":
      return dataMatcher(pattern, delimiter, false, "pillar", (c) => c.pillar);
    case "J":
      return dataMatcher(pattern, delimiter, true, "pillar", (c) => c.pillar);
    case "L":
      return listMatcher(pattern);
    case "E":
      return pcreMatcher(pattern);
    case "S":
    case "N":
    case "R":
      throw new TargetError(
        `compound word ${JSON.stringify(word)}: ${engine}@ targeting is not supported; ` +
          `use G@, P@, I@, J@, L@, E@ or a glob`,
      );
    default:
      throw new TargetError(
        `compound word ${JSON.stringify(word)}: unknown prefix ${engine}@; ` +
          `use G@, P@, I@, J@, L@, E@ or a glob`,
      );
  }
}

/**
 * A compound target, as Salt evaluates it: each word becomes True/False and
 * the words form a Python boolean expression (`not` binds tightest, then
 * `and`, then `or`). Like Salt, a `not` right after a word means `and not`.
 */
function compoundMatcher(input: readonly string[]): TargetMatcher {
  const words = input.filter((w) => w !== "");
  if (words.length === 0) throw new TargetError("empty compound target");
  const tokens: (string | TargetMatcher)[] = [];
  for (const word of words) {
    if (word === "not" && tokens.length > 0) {
      const last = tokens[tokens.length - 1];
      if (last !== "and" && last !== "or" && last !== "(" && last !== "not") tokens.push("and");
    }
    tokens.push(OPERATORS.has(word) ? word : wordMatcher(word));
  }
  const text = words.join(" ");
  let pos = 0;
  const fail = (what: string): never => {
    throw new TargetError(`invalid compound target ${JSON.stringify(text)}: ${what}`);
  };
  const describe = (t: string | TargetMatcher | undefined) =>
    t === undefined ? "the end" : typeof t === "string" ? `'${t}'` : "a word";
  // or_expr := and_expr ("or" and_expr)*; and_expr := not_expr ("and" not_expr)*;
  // not_expr := "not" not_expr | "(" or_expr ")" | word
  const orExpr = (): TargetMatcher => {
    const parts = [andExpr()];
    while (tokens[pos] === "or") {
      pos++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? parts[0] : (c) => parts.some((p) => p(c));
  };
  const andExpr = (): TargetMatcher => {
    const parts = [notExpr()];
    while (tokens[pos] === "and") {
      pos++;
      parts.push(notExpr());
    }
    return parts.length === 1 ? parts[0] : (c) => parts.every((p) => p(c));
  };
  const notExpr = (): TargetMatcher => {
    const token = tokens[pos++];
    if (typeof token === "function") return token;
    if (token === "not") {
      const inner = notExpr();
      return (c) => !inner(c);
    }
    if (token === "(") {
      const inner = orExpr();
      if (tokens[pos] !== ")") fail(`expected ')' but found ${describe(tokens[pos])}`);
      pos++;
      return inner;
    }
    return fail(`expected a word, 'not' or '(' but found ${describe(token)}`);
  };
  const matcher = orExpr();
  if (pos < tokens.length) {
    fail(
      tokens[pos] === ")"
        ? "unbalanced ')'"
        : `expected 'and' or 'or' but found ${describe(tokens[pos])}`,
    );
  }
  return matcher;
}

const OPERATORS = new Set(["and", "or", "not", "(", ")"]);
