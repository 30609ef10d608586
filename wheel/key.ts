/**
 * The wheel's `key` functions (Salt's `salt/wheel/key.py`). With
 * `transport: nats` they work on the master's key registry (`<pki_dir>`,
 * the same one `cli.ts key` changes and the running master applies). On
 * one host (the Unix link) there are no keys: every minion the master
 * knows (connected now, or seen lately) counts as an accepted key, and no
 * key is pending, rejected or denied; asking to reject or delete a known
 * minion's key is then refused with a clear error rather than pretending.
 *
 * @module
 */
import { UsageError } from "../bus/errors.ts";
import { type KeyMatch, KeyRegistry } from "../link/key_registry.ts";
import { pkiDirOf } from "../transport/link_transport.ts";
import { knownMinions } from "../runners/minion_cache.ts";
import { matchKeys } from "./key_match.ts";
import type { WheelContext } from "./wheel_context.ts";

const NO_REGISTRY = "saltbus has no minion key registry yet (it comes with the network " +
  "transport): the master accepts every minion that connects to its socket";

/** The key registry, when the master has one (`transport: nats`). */
function registryOf(ctx: WheelContext): Promise<KeyRegistry> | null {
  const opts = ctx.opts as { transport?: unknown; sock_dir: string; pki_dir?: unknown };
  return opts.transport === "nats" ? KeyRegistry.open(pkiDirOf(opts)) : null;
}

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
  const registry = registryOf(this);
  if (registry) return { ...(await (await registry).list()), local: [] };
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
  const registry = registryOf(this);
  if (registry) {
    const moved = await (await registry).accept(match as KeyMatch, {
      includeRejected: include_rejected === true,
      includeDenied: include_denied === true,
    });
    return byState(Object.values(moved).flat().sort()); // Salt answers by the new state
  }
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
  const registry = registryOf(this);
  if (registry) {
    const moved = await (await registry).reject(match as KeyMatch, {
      includeAccepted: include_accepted === true,
      includeDenied: include_denied === true,
    });
    const ids = Object.values(moved).flat().sort();
    return ids.length === 0 ? {} : { minions_rejected: ids };
  }
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
  const registry = registryOf(this);
  if (registry) {
    await (await registry).delete(match as KeyMatch);
    return {};
  }
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
 * names (SHA-256 of the public key, `aa:bb:…`). On one host saltbus keeps
 * no key material, so the answer is `{}`, as Salt's for a match without keys.
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
export async function finger(
  this: WheelContext,
  match: unknown,
  hash_type: unknown = null,
): Promise<Record<string, Record<string, string>>> {
  void hash_type; // always sha256
  const registry = registryOf(this);
  if (registry) {
    return await (await registry).finger(match as KeyMatch) as Record<
      string,
      Record<string, string>
    >;
  }
  return {};
}
