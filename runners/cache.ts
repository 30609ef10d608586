/**
 * The `cache` runners (Salt's `salt/runners/cache.py`): `cache.grains`, the
 * grains the master keeps of its minions. saltbus's master keeps the grains
 * each minion announced when it last connected, while it knows the minion.
 *
 * @module
 */
import { UsageError } from "../bus/errors.ts";
import { compileTarget, TARGET_TYPES, type TargetType } from "../jobs/target.ts";
import { cachedGrains } from "./minion_cache.ts";
import type { RunnerContext } from "./runner_context.ts";

/**
 * Salt's `cache.grains`: `{minion: grains}` for the known minions that
 * `tgt` (default `*`) matches by `tgt_type` (default `glob`), from the
 * master's cache, without asking the minions.
 *
 * CLI Example: `cli.ts run cache.grains tgt='web*'`
 *
 * @throws {UsageError} for a bad target or target type.
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { grains } from "./cache.ts";
 * declare const ctx: RunnerContext;
 * await grains.call(ctx, "web*"); // { web1: { id: "web1", os: "Debian", … } }
 * ```
 */
export async function grains(
  this: RunnerContext,
  tgt: unknown = null,
  tgt_type: unknown = "glob",
  kwargs: Record<string, unknown> = {},
): Promise<Record<string, Record<string, unknown>>> {
  void kwargs; // Salt takes **kwargs and ignores them
  const type = String(tgt_type) as TargetType;
  if (!TARGET_TYPES.includes(type)) {
    throw new UsageError(
      `cache.grains: tgt_type must be one of ${TARGET_TYPES.join(", ")}, not '${tgt_type}'`,
    );
  }
  let match;
  try {
    match = compileTarget((tgt ?? "*") as string | string[], type);
  } catch (err) {
    throw new UsageError(`cache.grains: ${(err as Error).message}`);
  }
  const all = await cachedGrains(this);
  const out: Record<string, Record<string, unknown>> = {};
  for (const id of Object.keys(all).sort()) {
    if (match({ id, grains: all[id] })) out[id] = all[id];
  }
  return out;
}
