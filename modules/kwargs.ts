/**
 * Keyword arguments for calls through `salt["mod.fun"](…)` and
 * `Caller.cmd(…)`: JavaScript has none, so a trailing argument marks them,
 * either a {@linkcode Kwargs} made by {@linkcode kwargs} or Salt's own
 * convention, a plain object with `"__kwarg__": true`.
 *
 * @module
 */

/**
 * Keyword arguments wrapped so that they are not taken for a positional
 * object (such as `event.send`'s `data`). Make one with {@linkcode kwargs}.
 *
 * @example
 * ```ts
 * import { Kwargs } from "./kwargs.ts";
 * const kw = new Kwargs({ with_grains: true });
 * console.log(kw.values); // { with_grains: true }
 * ```
 */
export class Kwargs {
  /** The keyword arguments, by parameter name. */
  readonly values: Readonly<Record<string, unknown>>;
  /** Wraps `values` (copied). */
  constructor(values: Record<string, unknown>) {
    this.values = copyEntries(values, false);
  }
}

/**
 * Marks keyword arguments for an execution-function call: pass the result
 * as the last argument.
 *
 * @example
 * ```ts
 * import { kwargs } from "./kwargs.ts";
 * import { Caller } from "./caller.ts";
 * await using caller = new Caller({ config: "/etc/saltbus/minion" });
 * // data is positional; with_grains is a keyword argument
 * await caller.cmd("event.send", "myco/deploy/done", { ok: true }, kwargs({ with_grains: true }));
 * ```
 */
export function kwargs(values: Record<string, unknown>): Kwargs {
  return new Kwargs(values);
}

/** Own enumerable string keys copied into a fresh object (`__proto__` kept as a plain key). */
function copyEntries(
  values: Record<string, unknown>,
  dropMarker: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(values)) {
    if (dropMarker && key === "__kwarg__") continue;
    Object.defineProperty(out, key, {
      value: values[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Whether `value` marks keyword arguments: a {@linkcode Kwargs}, or a plain
 * object whose `__kwarg__` is `true` (Salt's marker).
 *
 * @example
 * ```ts
 * import { isKwargs, kwargs } from "./kwargs.ts";
 * isKwargs(kwargs({ a: 1 })); // true
 * isKwargs({ a: 1, __kwarg__: true }); // true
 * isKwargs({ a: 1 }); // false
 * ```
 */
export function isKwargs(value: unknown): boolean {
  if (value instanceof Kwargs) return true;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return Object.hasOwn(value, "__kwarg__") && (value as Record<string, unknown>).__kwarg__ === true;
}

/**
 * Splits call arguments: a trailing keyword marker (see {@linkcode isKwargs})
 * becomes `kwargs` (without the `__kwarg__` key); everything else stays
 * positional. Only the last argument is looked at.
 *
 * @example
 * ```ts
 * import { kwargs, splitKwargs } from "./kwargs.ts";
 * splitKwargs(["my/tag", { a: 1 }, kwargs({ with_env: true })]);
 * // { args: ["my/tag", { a: 1 }], kwargs: { with_env: true } }
 * splitKwargs(["my/tag", { with_env: true, __kwarg__: true }]);
 * // { args: ["my/tag"], kwargs: { with_env: true } }
 * ```
 */
export function splitKwargs(
  args: readonly unknown[],
): { args: unknown[]; kwargs: Record<string, unknown> } {
  const n = args.length;
  if (n > 0) {
    const last = args[n - 1];
    if (last instanceof Kwargs) {
      return { args: args.slice(0, n - 1), kwargs: copyEntries(last.values, false) };
    }
    if (isKwargs(last)) {
      return {
        args: args.slice(0, n - 1),
        kwargs: copyEntries(last as Record<string, unknown>, true),
      };
    }
  }
  return { args: args.slice(), kwargs: {} };
}
