/**
 * The `reactor` runners (spec §12.10): `reactor.list`, `reactor.add`,
 * `reactor.delete`, `reactor.is_leader`, `reactor.set_leader`, asked of
 * the running master's reactor over its link (`_reactor`) rather than with
 * Salt's master-key events on the bus. They change the map of the running
 * reactor only (lost on restart, as in Salt).
 *
 * @module
 */
import { BusUnreachableError, SaltbusError, UsageError } from "../bus/errors.ts";
import { MasterRequestError } from "../link/master_link.ts";
import type { RunnerContext } from "./runner_context.ts";

/** The master runs no reactor (its `reactor` option is empty), or the request failed there. */
export class ReactorNotRunningError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReactorNotRunningError";
  }
}

async function ask(ctx: RunnerContext, data: Record<string, unknown>): Promise<unknown> {
  try {
    return await ctx.services.requestMaster(ctx.opts, "_reactor", data, {
      hello: { role: "client", id: "saltbus-cli", pid: Deno.pid },
    });
  } catch (err) {
    if (err instanceof MasterRequestError) {
      if (/Reactor system is not running/.test(err.message)) {
        throw new ReactorNotRunningError("Reactor system is not running.", { cause: err });
      }
      throw new BusUnreachableError(err.message);
    }
    throw err;
  }
}

/**
 * Salt's `reactor.list`: the whole reactor map, `[{tag: [files]}]`.
 *
 * CLI Example: `cli.ts run reactor.list`
 *
 * @throws {ReactorNotRunningError} when the master runs no reactor.
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { list } from "./reactor.ts";
 * declare const ctx: RunnerContext;
 * console.log(await list.call(ctx)); // [{ "salt/minion/*\/start": ["/srv/reactor/start.sls"] }]
 * ```
 */
export function list(this: RunnerContext) {
  return ask(this, { op: "list" });
}

/**
 * Salt's `reactor.add`: adds `{event: reactors}` to the running reactor's
 * map; `{status: true, comment: "Reactor added."}`, or `status: false` when
 * that exact tag is already there.
 *
 * CLI Example: `cli.ts run reactor.add 'salt/cloud/*\/destroyed' reactors='/srv/reactor/destroy.sls'`
 *
 * @throws {ReactorNotRunningError} when the master runs no reactor.
 * @throws {UsageError} without an event tag or reactors.
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { add } from "./reactor.ts";
 * declare const ctx: RunnerContext;
 * await add.call(ctx, "myco/*", "/srv/reactor/my.sls"); // { status: true, comment: "Reactor added." }
 * ```
 */
export function add(
  this: RunnerContext,
  event: unknown,
  reactors: unknown,
) {
  const files = typeof reactors === "string" ? [reactors] : reactors;
  if (typeof event !== "string" || !Array.isArray(files)) {
    throw new UsageError(
      "reactor.add needs an event tag and reactors (a file or a list of files)",
    );
  }
  return ask(this, { op: "add", event, reactors: files.map(String) });
}

/**
 * Salt's `reactor.delete`: removes the entry whose tag is exactly `event`;
 * `{status: true, comment: "Reactor deleted."}` or
 * `{status: false, comment: "Reactor does not exists."}` (sic).
 *
 * CLI Example: `cli.ts run reactor.delete 'salt/cloud/*\/destroyed'`
 *
 * @throws {ReactorNotRunningError} when the master runs no reactor.
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import * as reactor from "./reactor.ts";
 * declare const ctx: RunnerContext;
 * await reactor.delete.call(ctx, "myco/*");
 * ```
 */
function delete_(this: RunnerContext, event: unknown) {
  return ask(this, { op: "delete", event: String(event) });
}
export { delete_ as delete };

/**
 * Salt's `reactor.is_leader`: whether the reactor reacts.
 *
 * CLI Example: `cli.ts run reactor.is_leader`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { is_leader } from "./reactor.ts";
 * declare const ctx: RunnerContext;
 * await is_leader.call(ctx); // true
 * ```
 */
export function is_leader(this: RunnerContext) {
  return ask(this, { op: "is_leader" });
}

/**
 * Salt's `reactor.set_leader`: makes the reactor react (`true`) or not.
 *
 * CLI Example: `cli.ts run reactor.set_leader value=False`
 *
 * @example
 * ```ts
 * import type { RunnerContext } from "./runner_context.ts";
 * import { set_leader } from "./reactor.ts";
 * declare const ctx: RunnerContext;
 * await set_leader.call(ctx, false); // false
 * ```
 */
export function set_leader(this: RunnerContext, value: unknown = true) {
  return ask(this, { op: "set_leader", value: value === true });
}
