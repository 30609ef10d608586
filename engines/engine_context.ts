/**
 * The engine module API: what a saltbus engine exports (`start(options,
 * ctx)`, Salt's `start(**kwargs)`) and what it runs with (Salt's
 * `__opts__`, `__salt__`, `__runners__`, a bus client and an abort signal).
 *
 * @module
 */
import type { EventClient } from "../bus/event_client.ts";
import type { Logger } from "../bus/log.ts";
import type { SaltFunctions } from "../modules/context.ts";

/** Where an engine runs: the master daemon or a minion daemon (Salt's `__role`). */
export type EngineRole = "master" | "minion";

/**
 * Calls a runner by name with Salt's argument binding (master only).
 *
 * @example
 * ```ts
 * import type { RunnerCall } from "./engine_context.ts";
 * declare const runner: RunnerCall;
 * await runner("event.send", ["myco/tag"], { data: { a: 1 } });
 * ```
 */
export type RunnerCall = (
  fun: string,
  args?: unknown[],
  kwargs?: Record<string, unknown>,
) => Promise<unknown>;

/**
 * What `start(options, ctx)` gets as `ctx`. Everything it opens through
 * `ctx` is closed when the engine ends.
 *
 * @example
 * ```ts
 * import type { EngineContext } from "./engine_context.ts";
 * // <engines_dirs>/heartbeat.ts
 * export async function start(options: { interval?: number }, ctx: EngineContext) {
 *   while (!ctx.signal.aborted) {
 *     await ctx.fire(`myco/heartbeat/${ctx.opts.id}`, { alive: true });
 *     await ctx.sleep((options.interval ?? 60) * 1000);
 *   }
 * }
 * ```
 */
export interface EngineContext {
  /** The engine's label (its `engines:` name, the alias with `engine_module`). */
  readonly name: string;
  /** Salt's `__role`. */
  readonly role: EngineRole;
  /** Salt's `__opts__`: the daemon's resolved configuration (with `__role`). */
  readonly opts: Readonly<Record<string, unknown>>;
  /** Salt's `__salt__`: the execution modules, loaded with `opts` (on first use). */
  readonly salt: SaltFunctions;
  /** Salt's `__runners__`: calls a runner; `null` on a minion (Salt gives `[]`). */
  readonly runner: RunnerCall | null;
  /** Where to log (lines go to the daemon's log). */
  readonly log: Logger;
  /** Aborted when the daemon shuts the engine down; return soon after. */
  readonly signal: AbortSignal;
  /**
   * A new listening client of this node's bus (the master bus on a master,
   * the minion bus on a minion), closed when the engine ends.
   */
  events(): EventClient;
  /**
   * Fires an event the way Salt's engines do: onto the master bus on a
   * master; to the master (`event.send`, through the minion daemon) on a
   * minion. Resolves whether it was sent.
   */
  fire(tag: string, data: Record<string, unknown>): Promise<boolean>;
  /** Fires onto this node's own bus (the minion bus on a minion). */
  fireLocal(tag: string, data: Record<string, unknown>): Promise<boolean>;
  /** Sleeps `ms`, resolving early (without throwing) when `signal` aborts. */
  sleep(ms: number): Promise<void>;
}

/**
 * An engine module: a TypeScript or JavaScript module exporting `start`.
 * `start` should run until `ctx.signal` aborts; returning or throwing
 * before that counts as a failure and the engine is restarted with
 * back-off.
 *
 * @example
 * ```ts
 * import type { EngineModule } from "./engine_context.ts";
 * const engine: EngineModule = {
 *   async start(_options, ctx) {
 *     for await (const e of ctx.events().iterEvents({ full: true, signal: ctx.signal })) {
 *       ctx.log.info(`saw ${e.tag}`);
 *     }
 *   },
 * };
 * ```
 */
export interface EngineModule {
  /** Runs the engine; `options` are its configured keyword arguments. */
  start(options: Record<string, unknown>, ctx: EngineContext): unknown;
}
