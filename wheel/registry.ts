/**
 * The wheel registry: `<module>.<function>` → wheel function, called with
 * Salt's argument binding (as runners are). The API's `wheel` and
 * `wheel_async` clients and `GET /keys` dispatch through it.
 *
 * @module
 */
import { UsageError } from "../bus/errors.ts";
import { genJid } from "../bus/jid.ts";
import { saltStamp } from "../bus/stamp.ts";
import { ArgumentError } from "../modules/errors.ts";
import { bindArguments } from "../modules/signature.ts";
import { notAvailable } from "../runners/registry.ts";
import * as config from "./config.ts";
import * as key from "./key.ts";
import * as minions from "./minions.ts";
import type { WheelContext, WheelFunction } from "./wheel_context.ts";

/** Salt's names → the functions (`key.delete` is `delete_`: `delete` is a reserved word). */
const FUNCTIONS: Record<string, WheelFunction> = {
  "config.values": config.values,
  "key.accept": key.accept,
  "key.delete": key.delete_,
  "key.finger": key.finger,
  "key.list_all": key.list_all,
  "key.reject": key.reject,
  "minions.connected": minions.connected,
};

/**
 * Every wheel function, by its Salt name, sorted.
 *
 * @example
 * ```ts
 * import { WHEEL_FUNCTIONS } from "./registry.ts";
 * console.log(Object.keys(WHEEL_FUNCTIONS)); // ["config.values", "key.accept", …, "minions.connected"]
 * ```
 */
export const WHEEL_FUNCTIONS: Readonly<Record<string, WheelFunction>> = Object.freeze(
  Object.fromEntries(Object.entries(FUNCTIONS).sort(([a], [b]) => a < b ? -1 : 1)),
);

/**
 * No wheel function has that name; the message is Salt's
 * (`'<fun>' is not available.`).
 *
 * @example
 * ```ts
 * import { WheelNotFoundError } from "./registry.ts";
 * console.log(new WheelNotFoundError("key.gen").message); // "'key.gen' is not available."
 * ```
 */
export class WheelNotFoundError extends UsageError {
  /** The name asked for. */
  readonly fun: string;

  /** Creates the error for `fun`. */
  constructor(fun: string) {
    super(notAvailable(fun));
    this.name = "WheelNotFoundError";
    this.fun = fun;
  }
}

/**
 * Calls wheel function `fun` with Salt-style positional and keyword
 * arguments; `ctx` is its `this` (with `fun` set). Resolves what it returns.
 *
 * @throws {WheelNotFoundError} for an unknown function.
 * @throws {UsageError} for arguments that do not fit it (Python's wording), or what it cannot do.
 * @example
 * ```ts
 * import { callWheel } from "./registry.ts";
 * import type { WheelContext } from "./wheel_context.ts";
 * declare const ctx: Omit<WheelContext, "fun">;
 * await callWheel("key.list_all", [], {}, ctx); // { minions: ["web1"], minions_pre: [], … }
 * ```
 */
export async function callWheel(
  fun: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  ctx: Omit<WheelContext, "fun">,
): Promise<unknown> {
  if (typeof fun !== "string" || !Object.hasOwn(WHEEL_FUNCTIONS, fun)) {
    throw new WheelNotFoundError(String(fun));
  }
  const wheel = WHEEL_FUNCTIONS[fun];
  let bound: unknown[];
  try {
    bound = bindArguments(fun, wheel, args, kwargs);
  } catch (err) {
    if (err instanceof ArgumentError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  return await wheel.apply({ ...ctx, fun }, bound);
}

/** Salt's `WheelClient.cmd_sync` answer: `{tag, data}`. */
export interface WheelResult {
  /** `salt/wheel/<jid>`. */
  tag: string;
  /** The job's data, in Salt's key order. */
  data: {
    fun: string;
    jid: string;
    tag: string;
    user: string;
    _stamp: string;
    return: unknown;
    success: boolean;
  };
}

/** Options of {@linkcode runWheel}. */
export interface RunWheelOptions {
  /** Who runs it (`data.user`). @default "UNKNOWN" */
  user?: string;
  /** The jid (default: a new one). */
  jid?: string;
  /** Fire `salt/wheel/<jid>/new` and `…/ret` on the master bus, as Salt's master does. @default true */
  fire?: boolean;
}

/**
 * Runs wheel function `fun` as Salt's master does for the `wheel` client:
 * never throws for the function's failure; resolves `{tag: "salt/wheel/<jid>",
 * data: {fun: "wheel.<fun>", jid, tag, user, _stamp, return, success}}`.
 * An unknown function gives `return: "'<fun>' is not available."`, an
 * error `return: "Exception occurred in wheel <fun>: <Name>: <message>"`,
 * both with `success: false`.
 *
 * @example
 * ```ts
 * import { runWheel } from "./registry.ts";
 * import type { WheelContext } from "./wheel_context.ts";
 * declare const ctx: Omit<WheelContext, "fun">;
 * const { tag, data } = await runWheel("minions.connected", [], {}, ctx, { user: "alice" });
 * console.log(tag, data.return); // "salt/wheel/2024…" ["web1"]
 * ```
 */
export async function runWheel(
  fun: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  ctx: Omit<WheelContext, "fun">,
  options: RunWheelOptions = {},
): Promise<WheelResult> {
  const jid = options.jid ?? genJid();
  const tag = `salt/wheel/${jid}`;
  const head = { fun: `wheel.${fun}`, jid, tag, user: options.user ?? "UNKNOWN" };
  const fire = options.fire ?? true;
  const events = fire ? ctx.services.eventClient(ctx.opts, ctx.log, { listen: false }) : null;
  try {
    await events?.fireEvent({ ...head }, `${tag}/new`).catch(() => false);
    let ret: unknown;
    let success = true;
    try {
      ret = await callWheel(fun, args, kwargs, ctx);
    } catch (err) {
      success = false;
      ret = err instanceof WheelNotFoundError
        ? err.message
        : `Exception occurred in wheel ${fun}: ${
          err instanceof Error ? `${err.name}: ${err.message}` : String(err)
        }`;
    }
    const data = { ...head, _stamp: saltStamp(), return: ret, success };
    await events?.fireEvent({ ...data }, `${tag}/ret`).catch(() => false);
    return { tag, data };
  } finally {
    await events?.close();
  }
}
