/**
 * The `test` engine (Salt's `salt/engines/test.py`): logs every event of
 * this node's bus as JSON at debug level.
 *
 * @module
 */
import type { EngineContext } from "./engine_context.ts";

/**
 * Logs events until `ctx.signal` aborts.
 *
 * @example
 * ```ts
 * import { start } from "./test.ts";
 * import type { EngineContext } from "./engine_context.ts";
 * declare const ctx: EngineContext;
 * await start({}, ctx);
 * ```
 */
export async function start(_options: Record<string, unknown>, ctx: EngineContext): Promise<void> {
  const events = ctx.events();
  for await (
    const event of events.iterEvents({ full: true, autoReconnect: true, signal: ctx.signal })
  ) {
    ctx.log.debug(JSON.stringify(event));
  }
}
