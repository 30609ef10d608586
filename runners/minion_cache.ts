/**
 * What the running master knows of its minions (connected now, or seen
 * lately, and the grains each announced), asked over its link. Used by
 * `cache.grains`, `manage.*` and the wheel's `key.*` and `minions.*`.
 *
 * @module
 */
import { BusUnreachableError } from "../bus/errors.ts";
import { MasterRequestError } from "../link/master_link.ts";
import type { RunnerContext } from "./runner_context.ts";

/**
 * Asks the master's `_manage` service for `fun` (`up`, `down`, `status`,
 * `grains`).
 *
 * @throws {BusUnreachableError} when no master answers.
 * @example
 * ```ts
 * import { askMaster } from "./minion_cache.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: RunnerContext;
 * await askMaster(ctx, "status"); // { up: ["web1"], down: [] }
 * ```
 */
export async function askMaster(ctx: Omit<RunnerContext, "fun">, fun: string): Promise<unknown> {
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
 * The minions the master knows: `{up, down}` (connected now; seen lately and gone).
 *
 * @example
 * ```ts
 * import { knownMinions } from "./minion_cache.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: RunnerContext;
 * const { up, down } = await knownMinions(ctx);
 * ```
 */
export async function knownMinions(
  ctx: Omit<RunnerContext, "fun">,
): Promise<{ up: string[]; down: string[] }> {
  const status = await askMaster(ctx, "status") as { up?: unknown; down?: unknown };
  const list = (v: unknown) => Array.isArray(v) ? v.map(String).sort() : [];
  return { up: list(status.up), down: list(status.down) };
}

/**
 * The grains each known minion announced when it last connected: `{id: grains}`.
 *
 * @example
 * ```ts
 * import { cachedGrains } from "./minion_cache.ts";
 * import type { RunnerContext } from "./runner_context.ts";
 * declare const ctx: RunnerContext;
 * (await cachedGrains(ctx)).web1?.os; // "Debian"
 * ```
 */
export async function cachedGrains(
  ctx: Omit<RunnerContext, "fun">,
): Promise<Record<string, Record<string, unknown>>> {
  return await askMaster(ctx, "grains") as Record<string, Record<string, unknown>>;
}
