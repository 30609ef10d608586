/**
 * The `manage` runners: which minions the master sees, asked over its link.
 *
 * @module
 */
import { BusUnreachableError } from "../bus/errors.ts";
import { MasterRequestError } from "../link/master_link.ts";
import type { RunnerContext } from "./runner_context.ts";

async function ask(ctx: RunnerContext, fun: string): Promise<unknown> {
  try {
    return await ctx.services.requestMaster(ctx.opts, "_manage", { fun }, {
      hello: { role: "client", id: "saltbus-cli", pid: Deno.pid },
    });
  } catch (err) {
    if (err instanceof MasterRequestError) throw new BusUnreachableError(err.message);
    throw err;
  }
}

/**
 * Salt's `manage.up`: the ids of the minions connected now.
 *
 * CLI Example: `cli.ts run manage.up`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { up } from "./manage.ts";
 * declare const ctx: RunnerContext;
 * console.log(await up.call(ctx)); // ["db1", "web1"]
 * ```
 */
export function up(this: RunnerContext): Promise<unknown> {
  return ask(this, "up");
}

/**
 * Salt's `manage.down`: minions the master has seen that are gone.
 *
 * CLI Example: `cli.ts run manage.down`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { down } from "./manage.ts";
 * declare const ctx: RunnerContext;
 * console.log(await down.call(ctx)); // ["old1"]
 * ```
 */
export function down(this: RunnerContext): Promise<unknown> {
  return ask(this, "down");
}

/**
 * Salt's `manage.status`: `{up: [...], down: [...]}`.
 *
 * CLI Example: `cli.ts run manage.status`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { status } from "./manage.ts";
 * declare const ctx: RunnerContext;
 * console.log(await status.call(ctx)); // { up: ["web1"], down: [] }
 * ```
 */
export function status(this: RunnerContext): Promise<unknown> {
  return ask(this, "status");
}
