/**
 * The `reactor` engine on a minion (Salt: `engines: [reactor]` with a
 * `reactor:` map in the minion config, "the only way to run the Reactor if
 * you use masterless minions"): a {@linkcode Reactor} on the minion bus.
 * `caller` and `runner` reactions run here; `local` reactions need a master
 * to publish through and fail with a logged reason. On the master the
 * reactor is the master's `reactor` component (started by the `reactor`
 * option), not a Worker.
 *
 * @module
 */
import { resolveConfig } from "../bus/config.ts";
import { Reactor } from "../reactor/reactor.ts";
import { socketServices } from "../link/node_services.ts";
import type { EngineContext } from "./engine_context.ts";

/** Options of the reactor engine (Salt's names): each overrides `reactor_<name>`. */
export interface ReactorEngineOptions {
  /** `reactor_refresh_interval`. */
  refresh_interval?: number | null;
  /** `reactor_worker_threads`. */
  worker_threads?: number | null;
  /** `reactor_worker_hwm`. */
  worker_hwm?: number | null;
}

/**
 * Runs the reactor until `ctx.signal` aborts.
 *
 * @example
 * ```ts
 * import { start } from "./reactor_engine.ts";
 * import type { EngineContext } from "./engine_context.ts";
 * declare const ctx: EngineContext;
 * await start({ worker_threads: 4 }, ctx);
 * ```
 */
export async function start(options: ReactorEngineOptions, ctx: EngineContext): Promise<void> {
  const opts: Record<string, unknown> = { ...ctx.opts };
  for (const key of ["refresh_interval", "worker_threads", "worker_hwm"] as const) {
    if (options[key] !== undefined && options[key] !== null) opts[`reactor_${key}`] = options[key];
  }
  const config = resolveConfig(ctx.role, opts);
  const events = socketServices.eventClient(config, ctx.log, { listen: false });
  const reactor = new Reactor({
    config,
    log: ctx.log,
    listener: ctx.events(),
    events,
    services: socketServices,
    publish: () =>
      Promise.reject(
        new Error("local reactions need the master: on a minion use caller reactions"),
      ),
  });
  try {
    await reactor.start();
    await ctx.sleep(Infinity);
  } finally {
    await reactor.close();
    await events.close();
  }
}
