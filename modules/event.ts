/**
 * The `event` execution module (spec §4): `event.fire` puts an event on the
 * local minion bus, `event.fire_master` sends one to the master, and
 * `event.send` builds the data Salt's way and picks between the two.
 * Failures are logged and returned as `false`, as in Salt; a missing Deno
 * permission is thrown as a `PermissionError` naming the flag.
 *
 * @module
 */
import { resolveConfig } from "../bus/config.ts";
import type { EventClient } from "../bus/event_client.ts";
import { PermissionError, withPermission } from "../bus/permission.ts";
import { isMapping } from "../bus/mapping.ts";
import { minionEventLoad } from "../link/minion_event_load.ts";
import { linkDialerFor } from "../transport/link_transport.ts";
import type { ModuleContext } from "./context.ts";

/** How long `fire_master` waits for the master's link and its answer. */
const MASTER_CONNECT_MS = 2000;
const MASTER_ANSWER_MS = 5000;

/**
 * Fires an event on the local minion bus; `true` when it was sent, `false`
 * when the bus is unreachable or the data is not a mapping.
 *
 * CLI Example: `cli.ts call event.fire '{"data": "my event data"}' 'tag'`
 *
 * @example
 * ```ts
 * import type { ModuleContext } from "./context.ts";
 * declare const ctx: ModuleContext;
 * await ctx.salt["event.fire"]({ data: "my event data" }, "tag"); // true
 * ```
 */
export async function fire(this: ModuleContext, data: unknown, tag: unknown): Promise<boolean> {
  try {
    const bus = minionBus(this);
    const sent = await bus.fireEvent(data as Record<string, unknown>, tag as string);
    if (!sent) this.log.warning(`event.fire ${String(tag)}: no minion bus at ${bus.location}`);
    return sent;
  } catch (err) {
    if (err instanceof PermissionError) throw err;
    this.log.warning(`event.fire ${String(tag)}: ${messageOf(err)}`);
    return false;
  }
}

/**
 * Sends an event to the master bus, as Salt's `_minion_event` load. From
 * `call` (salt-call) or with `preload`, it goes straight to the master;
 * otherwise it goes through the minion daemon (a `fire_master` event on the
 * minion bus). In local mode (`local`, `file_client: local`) nothing is sent.
 *
 * CLI Example: `cli.ts call event.fire_master '{"data": "my event data"}' 'tag'`
 *
 * @example
 * ```ts
 * import type { ModuleContext } from "./context.ts";
 * declare const ctx: ModuleContext;
 * await ctx.salt["event.fire_master"]({ data: "my event data" }, "tag"); // true
 * ```
 */
export async function fire_master(
  this: ModuleContext,
  data: unknown,
  tag: unknown,
  preload: unknown = null,
): Promise<boolean> {
  const opts = this.opts;
  if ((opts.local || opts.file_client === "local") && !opts.use_master_when_local) {
    this.log.warning(`Local mode detected. Event with tag ${String(tag)} will NOT be sent.`);
    return false;
  }
  try {
    if (preload || opts.__cli === "salt-call") {
      const load = minionEventLoad(String(opts.id ?? ""), tag as string, data);
      delete load.pretag;
      if (isMapping(preload)) Object.assign(load, preload);
      return await sendToMaster(this, "_minion_event", { load });
    }
    const bus = minionBus(this);
    const sent = await bus.fireMaster(data as Record<string, unknown>, tag as string);
    if (!sent) {
      this.log.warning(
        `event.fire_master ${
          String(tag)
        }: no minion bus at ${bus.location} (is the minion running?)`,
      );
    }
    return sent;
  } catch (err) {
    if (err instanceof PermissionError) throw err;
    this.log.warning(`event.fire_master ${String(tag)}: ${messageOf(err)}`);
    return false;
  }
}

/**
 * Sends an event with Salt's options, to the master (or to the minion bus in
 * local mode, `master_type: disable`). The data is built in this order, later
 * steps winning: `with_env` (`environ`: the whole environment, or the listed
 * names), `with_grains` (`grains`), `with_pillar` (`pillar`), `with_env_opts`
 * (`saltenv`, `pillarenv`), any other keyword argument, then `data` when it
 * is a mapping.
 *
 * CLI Example: `cli.ts call event.send myco/mytag/success '{success: True, message: "It works!"}'`
 *
 * @example
 * ```ts
 * import type { ModuleContext } from "./context.ts";
 * import { kwargs } from "./kwargs.ts";
 * declare const ctx: ModuleContext;
 * await ctx.salt["event.send"]("myco/build/done", { ok: true });
 * await ctx.salt["event.send"]("myco/build/done", kwargs({ with_grains: ["os", "id"] }));
 * ```
 */
export async function send(
  this: ModuleContext,
  tag: unknown,
  data: unknown = null,
  preload: unknown = null,
  with_env: unknown = false,
  with_grains: unknown = false,
  with_pillar: unknown = false,
  with_env_opts: unknown = false,
  kwargs: Record<string, unknown> = {},
): Promise<boolean> {
  const dataDict: Record<string, unknown> = {};
  if (with_env) {
    dataDict.environ = subset(
      withPermission("event.send with_env", () => Deno.env.toObject()),
      with_env,
    );
  }
  if (with_grains) dataDict.grains = subset(this.grains, with_grains);
  if (with_pillar) dataDict.pillar = subset(this.pillar, with_pillar);
  if (with_env_opts) {
    dataDict.saltenv = this.opts.saltenv ?? "base";
    dataDict.pillarenv = this.opts.pillarenv ?? null;
  }
  Object.assign(dataDict, kwargs);
  if (isMapping(data)) Object.assign(dataDict, data);
  const opts = this.opts;
  const local = opts.local || opts.file_client === "local" || opts.master_type === "disable";
  if (local && !opts.use_master_when_local) return await fire.call(this, dataDict, tag);
  return await fire_master.call(this, dataDict, tag, preload);
}

/** `true` → everything; a list → those keys (`a:b` reaches into nested maps). */
function subset(source: Readonly<Record<string, unknown>>, which: unknown): unknown {
  if (!Array.isArray(which)) return { ...source };
  const out: Record<string, unknown> = {};
  for (const key of which) {
    let value: unknown = source;
    for (const part of String(key).split(":")) {
      value = isMapping(value) ? value[part] : undefined;
    }
    if (value !== undefined) out[String(key)] = value;
  }
  return out;
}

/** The loader's fire-only client of the local minion bus. */
function minionBus(ctx: ModuleContext): EventClient {
  return ctx.resources.get("event:minion-bus", () => {
    const config = resolveConfig("minion", ctx.opts as Record<string, unknown>);
    return ctx.services.eventClient(config, ctx.log, { listen: false });
  });
}

/** Sends a request over the loader's link to the master; `false` when unreachable. */
async function sendToMaster(
  ctx: ModuleContext,
  command: string,
  data: Record<string, unknown>,
): Promise<boolean> {
  const config = resolveConfig("minion", ctx.opts as Record<string, unknown>);
  const link = ctx.resources.get(
    "event:master-link",
    () =>
      ctx.services.masterLink(config, {
        hello: () => ({ role: "client", id: config.id ?? "", pid: Deno.pid }),
        log: ctx.log,
        queueSize: config.master_queue_size as number | undefined,
      }),
  );
  if (!(await link.waitConnected(MASTER_CONNECT_MS))) {
    throw new Error(`no master listening at ${linkDialerFor(config).describe()}`);
  }
  return (await link.request(command, data, MASTER_ANSWER_MS)) !== false;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
