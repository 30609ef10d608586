/**
 * The engine supervisor: one Worker per engine
 * (`workers/engine_worker.ts`). An engine whose `start()` throws or returns,
 * or whose Worker crashes, is logged with the reason, reported as an event
 * on this node's bus (`saltbus/engine/<name>/error`), and restarted with
 * exponential back-off (Salt restarts every 10 s, forever). Closing stops
 * every engine: the abort signal first, then the Worker is terminated after
 * a grace period.
 *
 * @module
 */
import type { EventClient } from "../bus/event_client.ts";
import type { Logger } from "../bus/log.ts";
import type { RestartPolicy } from "./config.ts";
import type { EngineRole } from "./engine_context.ts";
import type { EngineCommand, EngineReport } from "./engine_protocol.ts";
import type { ResolvedEngine } from "./resolve_engine.ts";

const WORKER_URL = new URL("../workers/engine_worker.ts", import.meta.url);

/**
 * The tag of an engine's failure event.
 *
 * @example
 * ```ts
 * import { engineErrorTag } from "./supervisor.ts";
 * engineErrorTag("webhook"); // "saltbus/engine/webhook/error"
 * ```
 */
export function engineErrorTag(name: string): string {
  return `saltbus/engine/${name}/error`;
}

/** Options of {@linkcode EngineSupervisor}. */
export interface EngineSupervisorOptions {
  /** The engines to run. */
  engines: readonly ResolvedEngine[];
  /** The daemon's configuration (structured-cloned into each Worker). */
  config: Record<string, unknown>;
  /** master or minion. */
  role: EngineRole;
  /** Where to log. */
  log: Logger;
  /** Fires the failure events on this node's bus. */
  events: EventClient;
  /** Restart delays. */
  restart: RestartPolicy;
  /** How long a stopping engine may take before its Worker is terminated (default 3000 ms). */
  graceMs?: number;
}

/** How one engine is doing (for tests and status). */
export interface EngineStatus {
  /** Its label. */
  readonly name: string;
  /** Times it failed. */
  readonly failures: number;
  /** Whether a Worker runs it now. */
  readonly running: boolean;
}

class SupervisedEngine {
  #worker: Worker | null = null;
  #stopped: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #startedAt = 0;
  #nextDelay: number;
  #closing = false;
  failures = 0;

  constructor(readonly spec: ResolvedEngine, readonly options: EngineSupervisorOptions) {
    this.#nextDelay = options.restart.initialMs;
  }

  get running(): boolean {
    return this.#worker !== null;
  }

  start(): void {
    if (this.#closing) return;
    const { spec, options } = this;
    const label = spec.name === spec.module ? spec.name : `${spec.module}, name=${spec.name}`;
    options.log.info(`Starting Engine(${label})`);
    const worker = new Worker(WORKER_URL, { type: "module", name: `engine ${spec.name}` });
    this.#worker = worker;
    this.#startedAt = Date.now();
    worker.onmessage = (e: MessageEvent<EngineReport>) => this.#report(worker, e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#failed(worker, "crashed", `the engine Worker crashed: ${e.message}`);
    };
    worker.onmessageerror = () => this.#failed(worker, "crashed", "unreadable Worker message");
    const command: EngineCommand = {
      type: "start",
      name: spec.name,
      module: spec.module,
      url: spec.url,
      options: spec.options as Record<string, unknown>,
      config: options.config,
      role: options.role,
    };
    worker.postMessage(command);
  }

  #report(worker: Worker, report: EngineReport): void {
    if (worker !== this.#worker) return;
    const log = this.options.log;
    switch (report.type) {
      case "log":
        log[report.level](report.message);
        break;
      case "running":
        break;
      case "ended":
        this.#failed(worker, report.outcome, report.error);
        break;
      case "stopped":
        this.#stopped?.();
        break;
    }
  }

  #failed(worker: Worker, outcome: "returned" | "threw" | "crashed", error?: string): void {
    if (worker !== this.#worker || this.#closing) return;
    this.#worker = null;
    worker.terminate();
    this.failures++;
    const { spec, options } = this;
    const ranMs = Date.now() - this.#startedAt;
    if (ranMs >= options.restart.resetAfterMs) this.#nextDelay = options.restart.initialMs;
    const delayMs = this.#nextDelay;
    this.#nextDelay = Math.min(delayMs * 2, options.restart.maxMs);
    const reason = outcome === "returned"
      ? "its start() returned"
      : outcome === "threw"
      ? `its start() threw: ${error}`
      : String(error);
    const seconds = (delayMs / 1000).toFixed(delayMs % 1000 === 0 ? 0 : 1);
    if (outcome === "returned") {
      options.log.error(
        `Engine '${spec.name}' stopped: ${reason}; restarting in ${seconds} s (failure ${this.failures})`,
      );
    } else {
      options.log.error(
        `Engine '${spec.name}' could not be started! ${reason}; restarting in ${seconds} s (failure ${this.failures})`,
      );
    }
    void options.events.fireEvent({
      name: spec.name,
      module: spec.module,
      reason: outcome,
      error: error ?? null,
      failures: this.failures,
      ran_seconds: ranMs / 1000,
      restart_in_seconds: delayMs / 1000,
    }, engineErrorTag(spec.name)).catch((err) =>
      options.log.warning(`engine ${spec.name}: could not fire its error event: ${err}`)
    );
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.start();
    }, delayMs);
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#timer);
    const worker = this.#worker;
    if (worker === null) return;
    this.#worker = null;
    const graceMs = this.options.graceMs ?? 3000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = new Promise<boolean>((resolve) => {
      this.#stopped = () => resolve(true);
      timer = setTimeout(() => resolve(false), graceMs);
    });
    // Reports still arrive while it stops (its last log lines).
    worker.onmessage = (e: MessageEvent<EngineReport>) => {
      const report = e.data;
      if (report.type === "log") this.options.log[report.level](report.message);
      else if (report.type === "stopped") this.#stopped?.();
    };
    worker.onerror = (e) => {
      e.preventDefault();
      this.#stopped?.();
    };
    worker.postMessage({ type: "stop" } satisfies EngineCommand);
    const clean = await stopped;
    clearTimeout(timer);
    if (!clean) {
      this.options.log.warning(
        `Engine '${this.spec.name}' did not stop within ${graceMs} ms: terminating its Worker`,
      );
    }
    worker.terminate();
  }
}

/**
 * Runs and supervises a node's engines.
 *
 * @example
 * ```ts
 * import { EngineSupervisor } from "./supervisor.ts";
 * import { createLogger } from "../bus/log.ts";
 * import { startBus } from "../broker/start_bus.ts";
 * await using bus = await startBus({ sockDir: await Deno.makeTempDir() });
 * const supervisor = new EngineSupervisor({
 *   engines: [{ name: "test", module: "test", options: {}, url: null }],
 *   config: { ...bus.config },
 *   role: "master",
 *   log: createLogger("info"),
 *   events: bus.getEvent({ listen: false }),
 *   restart: { initialMs: 1000, maxMs: 60000, resetAfterMs: 60000 },
 * });
 * supervisor.start();
 * await supervisor.close();
 * ```
 */
export class EngineSupervisor {
  readonly #engines: SupervisedEngine[];
  #closed: Promise<void> | null = null;

  /** Creates the supervisor; nothing runs before {@linkcode EngineSupervisor.start}. */
  constructor(options: EngineSupervisorOptions) {
    this.#engines = options.engines.map((spec) => new SupervisedEngine(spec, options));
  }

  /** Starts every engine's Worker. */
  start(): void {
    for (const engine of this.#engines) engine.start();
  }

  /** Each engine's name, failure count and whether it runs. */
  status(): EngineStatus[] {
    return this.#engines.map((e) => ({
      name: e.spec.name,
      failures: e.failures,
      running: e.running,
    }));
  }

  /** Stops every engine (all at once) and waits until their Workers are gone. */
  close(): Promise<void> {
    this.#closed ??= Promise.all(this.#engines.map((e) => e.close())).then(() => {});
    return this.#closed;
  }
}
