/**
 * Salt's argument rules on plain JavaScript functions. Parameter names are
 * read from the function's source (`Function.prototype.toString()`, which
 * keeps names and default values once types are stripped), so positional and
 * keyword arguments bind as they would to the Python function:
 *
 * - positionals fill the named parameters in order; a rest parameter
 *   (`...args`, Salt's `*args`) takes the ones left over;
 * - keywords fill parameters by name; a parameter named `kwargs` (Salt's
 *   `**kwargs`: last, or just before the rest parameter since JavaScript
 *   puts rest last) receives an object with the keywords that match no
 *   named parameter. It is never filled positionally;
 * - a function can name its parameters itself with an own property
 *   `params: string[]` (`"...args"` for a rest parameter), e.g. to take a
 *   keyword that is a reserved word in JavaScript (`default`).
 *
 * @module
 */
import { ArgumentError } from "./errors.ts";

/**
 * Any function, whatever its parameters (what the loader calls).
 *
 * @example
 * ```ts
 * import type { AnyFunction } from "./signature.ts";
 * const f: AnyFunction = (a: number, b: string) => `${a}${b}`;
 * ```
 */
// deno-lint-ignore no-explicit-any
export type AnyFunction = (...args: any[]) => unknown;

/** The parsed parameter list of a function. */
export interface Signature {
  /** Named parameters, in order, without the rest and `kwargs` parameters. `null`: a destructured parameter (positional only). */
  readonly names: readonly (string | null)[];
  /** How many of `names` are required (those before the first default value). */
  readonly required: number;
  /** Whether the function takes any number of positionals (a rest parameter). */
  readonly rest: boolean;
  /** Whether the function takes any keyword arguments (a `kwargs` parameter). */
  readonly kwargs: boolean;
  /**
   * Where the `kwargs` object and the rest values go in the call: `"kwargs-last"`
   * (`f(a, b, kwargs)`), `"kwargs-then-rest"` (`f(a, kwargs, ...args)`),
   * `"rest-then-kwargs"` (only with `params`: `f(...all)` gets the rest values,
   * then the kwargs object, as its last argument).
   */
  readonly layout: "kwargs-last" | "kwargs-then-rest" | "rest-then-kwargs";
}

interface RawParam {
  name: string | null;
  rest: boolean;
  hasDefault: boolean;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
const cache = new WeakMap<AnyFunction, Signature>();

/** Characters after which a `/` starts a regular expression rather than a division. */
const REGEX_PRECEDERS = new Set("(,=:[!&|?{};+-*%<>~^".split(""));

/**
 * Splits the text between `open` (the index of a `(`) and its matching `)`
 * into top-level comma-separated pieces, minding brackets, strings, template
 * literals, comments and regular expressions.
 */
function splitParameterList(src: string, open: number): string[] | null {
  // Stack of expected closers; "`" means inside a template literal, "${" an expression in one.
  const stack: string[] = [")"];
  const pieces: string[] = [];
  let start = open + 1;
  let last = "(";
  let i = open + 1;
  const n = src.length;
  while (i < n) {
    const top = stack[stack.length - 1];
    const c = src[i];
    if (top === "`") {
      if (c === "\\") i += 2;
      else if (c === "`") {
        stack.pop();
        last = "`";
        i++;
      } else if (c === "$" && src[i + 1] === "{") {
        stack.push("${");
        i += 2;
      } else i++;
      continue;
    }
    if (c === "'" || c === '"') {
      i++;
      while (i < n && src[i] !== c) i += src[i] === "\\" ? 2 : 1;
      i++;
      last = c;
      continue;
    }
    if (c === "`") {
      stack.push("`");
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      const nl = src.indexOf("\n", i);
      i = nl < 0 ? n : nl + 1;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === "/" && REGEX_PRECEDERS.has(last)) {
      i++;
      let inClass = false;
      while (i < n) {
        const d = src[i];
        if (d === "\\") i += 2;
        else if (inClass) {
          if (d === "]") inClass = false;
          i++;
        } else if (d === "[") {
          inClass = true;
          i++;
        } else if (d === "/") break;
        else i++;
      }
      i++;
      while (i < n && /[A-Za-z]/.test(src[i])) i++;
      last = "/";
      continue;
    }
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === "(") stack.push(")");
    else if (c === "[") stack.push("]");
    else if (c === "{") stack.push("}");
    else if (c === ")" || c === "]" || c === "}") {
      const closer = stack.pop();
      // "${" closes with "}" and returns to the template literal below it.
      if (closer !== c && !(closer === "${" && c === "}")) return null;
      if (stack.length === 0) {
        pieces.push(src.slice(start, i));
        return pieces;
      }
    } else if (c === "," && stack.length === 1) {
      pieces.push(src.slice(start, i));
      start = i + 1;
    }
    last = c;
    i++;
  }
  return null;
}

/** Removes comments from a parameter's text (strings in default values are left alone enough for a name). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ").trim();
}

function parsePiece(piece: string): RawParam | null {
  let text = stripComments(piece);
  if (text === "") return null;
  let rest = false;
  if (text.startsWith("...")) {
    rest = true;
    text = text.slice(3).trim();
  }
  const eq = text.indexOf("=");
  const hasDefault = eq >= 0 && text[eq + 1] !== ">";
  const head = (hasDefault ? text.slice(0, eq) : text).trim();
  return { name: IDENT.test(head) ? head : null, rest, hasDefault };
}

/** Skips a quoted method name or a computed key at `i`; returns the index after it. */
function skipHead(src: string, i: number): number {
  const c = src[i];
  if (c === "'" || c === '"') {
    i++;
    while (i < src.length && src[i] !== c) i += src[i] === "\\" ? 2 : 1;
    return i + 1;
  }
  if (c === "[") {
    let depth = 0;
    for (; i < src.length; i++) {
      if (src[i] === "[") depth++;
      else if (src[i] === "]" && --depth === 0) return i + 1;
    }
  }
  return i;
}

/** Reads the raw parameters from a function's source; `null` when it cannot (native code). */
function rawParams(src: string): RawParam[] | null {
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) return null;
  let i = 0;
  const n = src.length;
  // Leading keywords / name: scan to the first "(" or "=>".
  while (i < n) {
    const c = src[i];
    if (c === "'" || c === '"' || c === "[") {
      i = skipHead(src, i);
      continue;
    }
    if (c === "(") break;
    if (c === "=" && src[i + 1] === ">") {
      // Single-parameter arrow function: `x => …` or `async x => …`.
      const head = src.slice(0, i).trim().replace(/^async\s+/, "");
      return IDENT.test(head) ? [{ name: head, rest: false, hasDefault: false }] : null;
    }
    if (c === "{") return null;
    i++;
  }
  if (i >= n) return null;
  const pieces = splitParameterList(src, i);
  if (pieces === null) return null;
  const params: RawParam[] = [];
  for (const piece of pieces) {
    const p = parsePiece(piece);
    if (p !== null) params.push(p);
  }
  return params;
}

function fromNames(names: readonly string[], length: number): Signature {
  const named: (string | null)[] = [];
  let rest = false;
  let kw = false;
  let layout: Signature["layout"] = "kwargs-last";
  for (const raw of names) {
    if (raw.startsWith("...")) {
      rest = true;
      if (kw) layout = "kwargs-then-rest";
    } else if (raw === "kwargs") {
      kw = true;
      if (rest) layout = "rest-then-kwargs";
    } else {
      named.push(raw);
    }
  }
  return { names: named, required: Math.min(length, named.length), rest, kwargs: kw, layout };
}

/**
 * The signature of `fn`: from its own `params` property when it has one
 * (an array of names, `"...args"` for a rest parameter, `"kwargs"` for the
 * keyword object), else parsed from its source. Cached per function. A
 * function whose source cannot be read (native or bound) takes any
 * positionals and no keywords.
 *
 * @example
 * ```ts
 * import { signatureOf } from "./signature.ts";
 * const sig = signatureOf(function send(tag: string, data = null, kwargs = {}) {
 *   return [tag, data, kwargs];
 * });
 * // { names: ["tag", "data"], required: 1, rest: false, kwargs: true, layout: "kwargs-last" }
 * ```
 */
export function signatureOf(fn: AnyFunction): Signature {
  const cached = cache.get(fn);
  if (cached !== undefined) return cached;
  let sig: Signature;
  const own = Object.hasOwn(fn, "params") ? (fn as { params?: unknown }).params : undefined;
  if (Array.isArray(own) && own.every((p) => typeof p === "string")) {
    sig = fromNames(own as string[], fn.length);
  } else {
    const raw = rawParams(Function.prototype.toString.call(fn));
    if (raw === null) {
      sig = { names: [], required: 0, rest: true, kwargs: false, layout: "kwargs-last" };
    } else {
      const names: string[] = [];
      const nulls = new Set<number>();
      // A `kwargs` parameter counts when it is last, or just before the rest parameter.
      const lastIndex = raw.length - 1;
      const kwIndex = raw.findIndex((p, k) =>
        p.name === "kwargs" && !p.rest &&
        (k === lastIndex || (k === lastIndex - 1 && raw[lastIndex].rest))
      );
      raw.forEach((p, k) => {
        if (p.rest) names.push("..." + (p.name ?? "args"));
        else if (k === kwIndex) names.push("kwargs");
        else {
          if (p.name === null) nulls.add(names.length);
          names.push(p.name ?? `<parameter ${k + 1}>`);
        }
      });
      const base = fromNames(names, fn.length);
      // Destructured parameters have no name a keyword could use.
      let idx = 0;
      const named = base.names.map((name) => nulls.has(idx++) ? null : name);
      // `kwargs` without a default value still is not a required parameter.
      sig = { ...base, names: named, required: Math.min(fn.length, named.length) };
    }
  }
  cache.set(fn, sig);
  return sig;
}

function quoteList(names: readonly string[]): string {
  const q = names.map((n) => `'${n}'`);
  if (q.length <= 1) return q.join("");
  if (q.length === 2) return `${q[0]} and ${q[1]}`;
  return `${q.slice(0, -1).join(", ")}, and ${q[q.length - 1]}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * Binds Salt-style positional and keyword arguments to `fn`'s parameters and
 * returns the argument list to call it with (`undefined` where a parameter
 * keeps its default value).
 *
 * @throws {ArgumentError} with Python's wording, naming `fun`: a missing
 * required argument, too many positionals, a keyword given twice, an unknown
 * keyword for a function without `kwargs`.
 * @example
 * ```ts
 * import { bindArguments } from "./signature.ts";
 * function send(tag: string, data: unknown = null, with_env = false, kwargs = {}) {
 *   return { tag, data, with_env, kwargs };
 * }
 * bindArguments("event.send", send, ["my/tag"], { with_env: true, extra: 1 });
 * // ["my/tag", undefined, true, { extra: 1 }]
 * ```
 */
export function bindArguments(
  fun: string,
  fn: AnyFunction,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>> = {},
): unknown[] {
  const sig = signatureOf(fn);
  const names = sig.names;
  const nNamed = names.length;
  const nArgs = args.length;
  if (nArgs > nNamed && !sig.rest) {
    const takes = sig.required < nNamed ? `from ${sig.required} to ${nNamed}` : `${nNamed}`;
    const word = takes === "1" ? "positional argument" : "positional arguments";
    throw new ArgumentError(
      fun,
      `takes ${takes} ${word} but ${nArgs} ${nArgs === 1 ? "was" : "were"} given`,
    );
  }
  const bound: unknown[] = new Array(nNamed).fill(undefined);
  const filled = Math.min(nArgs, nNamed);
  for (let k = 0; k < filled; k++) bound[k] = args[k];
  let extra: Record<string, unknown> | undefined;
  let highest = filled;
  for (const key of Object.keys(kwargs)) {
    const index = names.indexOf(key);
    if (index >= 0) {
      if (index < filled) {
        throw new ArgumentError(fun, `got multiple values for argument '${key}'`);
      }
      bound[index] = kwargs[key];
      if (index + 1 > highest) highest = index + 1;
    } else if (sig.kwargs) {
      extra ??= {};
      Object.defineProperty(extra, key, {
        value: kwargs[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      throw new ArgumentError(fun, `got an unexpected keyword argument '${key}'`);
    }
  }
  if (sig.required > filled) {
    const missing: string[] = [];
    for (let k = filled; k < sig.required; k++) {
      if (!Object.hasOwn(kwargs, names[k] ?? "")) missing.push(names[k] ?? `<parameter ${k + 1}>`);
    }
    if (missing.length > 0) {
      throw new ArgumentError(
        fun,
        `missing ${plural(missing.length, "required positional argument")}: ${quoteList(missing)}`,
      );
    }
  }
  const restValues = nArgs > nNamed ? args.slice(nNamed) : [];
  if (!sig.kwargs) {
    if (restValues.length === 0) {
      bound.length = highest;
      return bound;
    }
    bound.length = nNamed;
    for (const v of restValues) bound.push(v);
    return bound;
  }
  bound.length = nNamed;
  const kwObject = extra ?? {};
  switch (sig.layout) {
    case "kwargs-last":
      bound.push(kwObject);
      break;
    case "kwargs-then-rest":
      bound.push(kwObject);
      for (const v of restValues) bound.push(v);
      break;
    case "rest-then-kwargs":
      for (const v of restValues) bound.push(v);
      bound.push(kwObject);
      break;
  }
  return bound;
}
