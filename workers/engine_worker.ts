/**
 * An engine Worker: runs one engine's `start(options, ctx)` with its
 * {@linkcode EngineContext} (opts, execution modules, runners on a master,
 * bus clients, an abort signal), reports how it ended, and closes what the
 * engine opened. Speaks {@linkcode EngineCommand} and
 * {@linkcode EngineReport}; started by engines/supervisor.ts.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { delay } from "../bus/async.ts";
import { resolveConfig } from "../bus/config.ts";
import type { EventClient } from "../bus/event_client.ts";
import { createLogger, isLogLevel, type Logger } from "../bus/log.ts";
import { socketServices } from "../link/node_services.ts";
import type { SaltFunctions } from "../modules/context.ts";
import { type Loader, loadModules } from "../modules/loader.ts";
import { callRunner } from "../runners/registry.ts";
import { BUILTIN_ENGINES } from "../engines/builtin.ts";
import type { EngineContext, EngineModule, RunnerCall } from "../engines/engine_context.ts";
import type { EngineCommand, EngineReport } from "../engines/engine_protocol.ts";

const report = (message: EngineReport) => self.postMessage(message);
const abort = new AbortController();
let log: Logger = createLogger(
  "warning",
  (level, message) => report({ type: "log", level, message }),
);

self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  log.warning(`unhandled rejection in an engine: ${e.reason}`);
});

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}

async function run(command: Extract<EngineCommand, { type: "start" }>): Promise<void> {
  const level = command.config.log_level;
  log = createLogger(
    isLogLevel(level) ? level : "warning",
    (lvl, message) => report({ type: "log", level: lvl, message }),
  );
  const config = resolveConfig(command.role, command.config);
  const opts = Object.freeze({ ...config, __role: command.role });
  const clients: EventClient[] = [];
  let loader: Loader | null = null;
  let loading: Promise<Loader> | null = null;
  const { signal } = abort;
  // Infinity: until shutdown.
  const sleep = (ms: number) =>
    Number.isFinite(ms) ? delay(ms, { signal }) : new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  const getLoader = () =>
    loading ??= loadModules({ opts: { ...opts }, log, services: socketServices }).then((l) =>
      loader = l
    );
  // Salt's __salt__, loaded on first use (most engines never call it).
  const salt = new Proxy({} as SaltFunctions, {
    get(_t, key) {
      if (typeof key !== "string" || !key.includes(".")) return undefined;
      return async (...args: unknown[]) => (await getLoader()).salt[key](...args);
    },
  });
  let fireClient: EventClient | null = null;
  const fireLocal = (tag: string, data: Record<string, unknown>) => {
    fireClient ??= socketServices.eventClient(config, log, { listen: false });
    return fireClient.fireEvent(data, tag);
  };
  const runner: RunnerCall | null = command.role === "master"
    ? (fun, args = [], kwargs = {}) =>
      callRunner(fun, args, kwargs, {
        opts: config,
        configFor: (node, overrides) =>
          Promise.resolve(resolveConfig(node, { ...config, ...overrides })),
        log,
        services: socketServices,
        print: (line) => log.info(line),
        signal,
      })
    : null;
  const ctx: EngineContext = {
    name: command.name,
    role: command.role,
    opts,
    salt,
    runner,
    log,
    signal,
    events() {
      const client = socketServices.eventClient(config, log);
      clients.push(client);
      return client;
    },
    fire: command.role === "master"
      ? fireLocal
      : async (tag, data) => (await salt["event.send"](tag, data)) === true,
    fireLocal,
    sleep,
  };
  try {
    const module: EngineModule = command.url === null
      ? BUILTIN_ENGINES[command.module]
      : await import(command.url);
    if (typeof module?.start !== "function") {
      throw new Error(`engine module ${command.url ?? command.module} does not export start()`);
    }
    report({ type: "running" });
    await module.start({ ...command.options }, ctx);
    if (!signal.aborted) report({ type: "ended", outcome: "returned" });
  } catch (err) {
    if (!signal.aborted) report({ type: "ended", outcome: "threw", error: describe(err) });
  } finally {
    for (const client of clients) await client.close().catch(() => {});
    await (fireClient as EventClient | null)?.close().catch(() => {});
    await (loading as Promise<Loader> | null)?.catch(() => {});
    await (loader as Loader | null)?.close().catch(() => {});
    report({ type: "stopped" });
  }
}

self.onmessage = (e: MessageEvent<EngineCommand>) => {
  const command = e.data;
  if (command.type === "start") void run(command);
  else if (command.type === "stop") abort.abort();
};
