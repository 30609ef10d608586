/**
 * A minion's job return load (spec §7.2): what the master fires as
 * `salt/job/<jid>/ret/<id>`.
 *
 * @module
 */

/** What {@linkcode returnLoad} builds a return from. */
export interface ReturnInput {
  /** The minion id. */
  id: string;
  /** The job id. */
  jid: string;
  /** The function, e.g. `test.ping`. */
  fun: string;
  /** Positional arguments. */
  args: readonly unknown[];
  /** Keyword arguments given by the caller (no `__pub_*`). */
  kwargs?: Readonly<Record<string, unknown>>;
  /** What the function returned (or its error text). */
  result: unknown;
  /** 0 for success. */
  retcode: number;
}

/**
 * Salt's argument list: the positionals, then the keyword arguments as a
 * trailing map marked `"__kwarg__": true` when there are any.
 *
 * @example
 * ```ts
 * import { publishArgs } from "./return_load.ts";
 * publishArgs(["a"], { b: 1 }); // ["a", { b: 1, __kwarg__: true }]
 * ```
 */
export function publishArgs(
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>> = {},
): unknown[] {
  const keys = Object.keys(kwargs).filter((k) => !k.startsWith("__pub_"));
  if (keys.length === 0) return [...args];
  return [...args, { ...Object.fromEntries(keys.map((k) => [k, kwargs[k]])), __kwarg__: true }];
}

/**
 * The `_return` load: `cmd, id, jid, fun, fun_args, return, retcode, success`.
 *
 * @example
 * ```ts
 * import { returnLoad } from "./return_load.ts";
 * returnLoad({ id: "web1", jid: "20240501123456789012", fun: "test.ping", args: [], result: true, retcode: 0 });
 * // { cmd: "_return", id: "web1", jid: "2024…", fun: "test.ping", fun_args: [], return: true, retcode: 0, success: true }
 * ```
 */
export function returnLoad(input: ReturnInput): Record<string, unknown> {
  return {
    cmd: "_return",
    id: input.id,
    jid: input.jid,
    fun: input.fun,
    fun_args: publishArgs(input.args, input.kwargs),
    return: input.result,
    retcode: input.retcode,
    success: input.retcode === 0,
  };
}
