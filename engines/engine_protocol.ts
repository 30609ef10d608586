/**
 * The messages between the engine supervisor and an engine Worker
 * (`workers/engine_worker.ts`).
 *
 * @module
 */
import type { MessageLevel } from "../bus/log.ts";
import type { EngineRole } from "./engine_context.ts";

/**
 * Supervisor → Worker: start one engine, or stop it.
 *
 * @example
 * ```ts
 * import type { EngineCommand } from "./engine_protocol.ts";
 * const stop: EngineCommand = { type: "stop" };
 * ```
 */
export type EngineCommand =
  | {
    type: "start";
    /** The engine's label. */
    name: string;
    /** The module name (built-in) … */
    module: string;
    /** … or the file URL of a custom engine from `engines_dirs`. */
    url: string | null;
    /** The keyword arguments of `start()`. */
    options: Record<string, unknown>;
    /** The daemon's configuration. */
    config: Record<string, unknown>;
    /** master or minion. */
    role: EngineRole;
  }
  | { type: "stop" };

/**
 * Worker → supervisor: a log line, the engine started, the engine ended on
 * its own (`returned` or `threw`), or it finished stopping.
 *
 * @example
 * ```ts
 * import type { EngineReport } from "./engine_protocol.ts";
 * const r: EngineReport = { type: "ended", outcome: "threw", error: "Error: boom" };
 * ```
 */
export type EngineReport =
  | { type: "log"; level: MessageLevel; message: string }
  | { type: "running" }
  | { type: "ended"; outcome: "returned" | "threw"; error?: string }
  | { type: "stopped" };
