/**
 * The wheel's `key` functions (Salt's `salt/wheel/key.py`). saltbus has no
 * minion key registry yet (it comes with the network transport): every
 * minion the master knows (connected now, or seen lately) counts as an
 * accepted key, and no key is pending, rejected or denied. Asking to
 * reject or delete a known minion's key is refused with a clear error
 * rather than pretending; accepting answers as Salt does for keys that are
 * already accepted.
 *
 * @module
 */
import { UsageError } from "../bus/errors.ts";
import { knownMinions } from "../runners/minion_cache.ts";
import { matchKeys } from "./key_match.ts";
import type { WheelContext } from "./wheel_context.ts";

const NO_REGISTRY = "saltbus has no minion key registry yet (it comes with the network " +
  "transport): the master accepts every minion that connects to its socket";

async function acceptedKeys(ctx: WheelContext): Promise<string[]> {
  const { up, down } = await knownMinions(ctx);
  return [...new Set([...up, ...down])].sort();
}

function byState(ids: string[]): Record<string, string[]> {
  return ids.length === 0 ? {} : { minions: ids };
}

/**
 * Salt's `key.list_all`: every key by state. The accepted keys (`minions`)
 * are the minions the master knows; `local` (the master's own key files)
 * is empty, as saltbus has none.
 *
 * CLI Example: `wheel.cmd('key.list_all')`
 *
 * @example
 * ```ts
 * import type { WheelContext } from "./wheel_context.ts";
 * import { list_all } from "./key.ts";
 * declare const ctx: WheelContext;
 * await list_all.call(ctx);
 * // { minions: ["web1"], minions_pre: [], minions_rejected: [], minions_denied: [], local: [] }
 * ```
 */
export async function list_all(this: WheelContext): Promise<Record<string, string[]>> {
  return {
    minions: await acceptedKeys(this),
    minions_pre: [],
    minions_rejected: [],
    minions_denied: [],
    local: [],
  };
}

/**
 * Salt's `key.accept`: accepts the pending keys `match` names and answers
 * the matched keys by state, `{"minions": [...]}` (`{}` when nothing
 * matches). There are no pending keys: the known minions are accepted
 * already.
 *
 * CLI Example: `wheel.cmd('key.accept', match='minion1')`
 *
 * @example
 * ```ts
 * import type { WheelContext } from "./wheel_context.ts";
 * import { accept } from "./key.ts";
 * declare const ctx: WheelContext;
 * await accept.call(ctx, "web*"); // { minions: ["web1", "web2"] }
 * ```
 */
export async function accept(
  this: WheelContext,
  match: unknown,
  include_rejected: unknown = false,
  include_denied: unknown = false,
): Promise<Record<string, string[]>> {
  void include_rejected; // nothing is rejected or denied
  void include_denied;
  return byState(matchKeys(await acceptedKeys(this), match));
}

/**
 * Salt's `key.reject`: rejects the pending keys `match` names (and the
 * accepted ones with `include_accepted=True`); answers the matched keys by
 * state.
 *
 * CLI Example: `wheel.cmd('key.reject', match='minion1')`
 *
 * @throws {UsageError} with `include_accepted=True` on a known minion: saltbus cannot reject it yet.
 * @example
 * ```ts
 * import type { WheelContext } from "./wheel_context.ts";
 * import { reject } from "./key.ts";
 * declare const ctx: WheelContext;
 * await reject.call(ctx, "nosuch*"); // {}
 * ```
 */
export async function reject(
  this: WheelContext,
  match: unknown,
  include_accepted: unknown = false,
  include_denied: unknown = false,
): Promise<Record<string, string[]>> {
  void include_denied;
  const matched = matchKeys(await acceptedKeys(this), match);
  if (include_accepted && matched.length > 0) {
    throw new UsageError(`key.reject: cannot reject ${matched.join(", ")}: ${NO_REGISTRY}`);
  }
  return byState(matched);
}

/**
 * Salt's `key.delete`: deletes the keys `match` names and answers `{}`.
 *
 * CLI Example: `wheel.cmd('key.delete', match='minion1')`
 *
 * @throws {UsageError} when `match` names a known minion: saltbus cannot delete its key yet.
 * @example
 * ```ts
 * import type { WheelContext } from "./wheel_context.ts";
 * import { delete_ } from "./key.ts";
 * declare const ctx: WheelContext;
 * await delete_.call(ctx, "nosuch*"); // {}
 * ```
 */
export async function delete_(this: WheelContext, match: unknown): Promise<Record<string, never>> {
  const matched = matchKeys(await acceptedKeys(this), match);
  if (matched.length > 0) {
    throw new UsageError(
      `key.delete: cannot delete the key of ${matched.join(", ")}: ${NO_REGISTRY}`,
    );
  }
  return {};
}

/**
 * Salt's `key.finger`: `{state: {id: fingerprint}}` of the keys `match`
 * names. saltbus keeps no key material, so there is no fingerprint to show
 * and the answer is `{}`, as Salt's for a match without keys.
 *
 * CLI Example: `wheel.cmd('key.finger', match='minion1')`
 *
 * @example
 * ```ts
 * import type { WheelContext } from "./wheel_context.ts";
 * import { finger } from "./key.ts";
 * declare const ctx: WheelContext;
 * await finger.call(ctx, "web1"); // {}
 * ```
 */
export function finger(
  this: WheelContext,
  match: unknown,
  hash_type: unknown = null,
): Record<string, Record<string, string>> {
  void match;
  void hash_type;
  return {};
}
