/**
 * Runs one execution function for one device, as a salt-sproxy "standalone
 * proxy" does: load the device's proxy module, `init()`, `alive()`,
 * `grains()`, build the execution modules for the device (with `__proxy__`),
 * call the function, `shutdown()`. Everything the device does is bounded by
 * one timeout; whatever happens, the answer is a {@linkcode DeviceResult}.
 *
 * This runs inside the proxy Workers (workers/proxy_worker.ts), one
 * {@linkcode DeviceRunner} per Worker, but has no Worker code of its own.
 *
 * @module
 */
import type { Logger } from "../bus/log.ts";
import { ArgumentError, CommandNotFoundError } from "../modules/errors.ts";
import { type Loader, loadModules } from "../modules/loader.ts";
import { findPluginFile, importPlugin } from "../modules/plugin_files.ts";
import * as dummy from "./dummy.ts";
import * as net from "./modules/net.ts";
import type { DeviceOptions, ProxyContext, ProxyFunctions, ProxyModule } from "./proxy_module.ts";
import { isMapping } from "../bus/mapping.ts";

/**
 * What a proxy run does on every device: the function and its arguments,
 * the per-device timeout, the options (`opts`) and where proxy modules are.
 * Structured-cloneable, so it can be posted to Workers.
 *
 * @example
 * ```ts
 * import type { ProxyJob } from "./device_runner.ts";
 * const job: ProxyJob = {
 *   fun: "net.arp", args: [], kwargs: { interface: "Ethernet1" }, timeoutMs: 30_000,
 *   opts: { log_level: "warning" }, proxyModuleDirs: ["/srv/saltbus/proxy"],
 * };
 * ```
 */
export interface ProxyJob {
  /** The execution function, e.g. `test.ping`. */
  fun: string;
  /** Positional arguments. */
  args: unknown[];
  /** Keyword arguments. */
  kwargs: Record<string, unknown>;
  /** Milliseconds a device may take, from the start of `init()` to its return. */
  timeoutMs: number;
  /** The configuration every device's `opts` starts from (`module_dirs`, `log_level`, …). */
  opts: Record<string, unknown>;
  /** Directories searched for `<proxytype>.ts`; a file there wins over the built-in `dummy`. */
  proxyModuleDirs: string[];
}

/**
 * How a device ended: `ok`, `failed` (the function threw), `timeout`, or
 * `unreachable` (no proxy module, or `init()`/`alive()` failed).
 *
 * @example
 * ```ts
 * import type { DeviceStatus } from "./device_runner.ts";
 * const status: DeviceStatus = "timeout";
 * ```
 */
export type DeviceStatus = "ok" | "failed" | "timeout" | "unreachable";

/**
 * One device's answer, as it goes into `proxy/runner/<jid>/ret/<id>`.
 *
 * @example
 * ```ts
 * import type { DeviceResult } from "./device_runner.ts";
 * const r: DeviceResult = { id: "sw1", return: true, retcode: 0, success: true, status: "ok" };
 * ```
 */
export interface DeviceResult {
  /** The device id. */
  id: string;
  /** What the function returned, or the error text. */
  return: unknown;
  /** 0 when the function returned, 1 otherwise. */
  retcode: number;
  /** `retcode === 0`. */
  success: boolean;
  /** How it ended. */
  status: DeviceStatus;
}

/** An error as text: `TypeError: x`, but a plain `Error` as its message alone. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.name === "Error" ? err.message : `${err.name}: ${err.message}`;
}

/** A failure before the function ran: the device counts as unreachable. */
class Unreachable extends Error {}

/**
 * Builds the execution modules for one device: the built-ins, the `net`
 * module of proxy runs, then `module_dirs` (custom modules win, also over
 * `net`). `opts.__proxy__` carries the device's proxy functions.
 *
 * @example
 * ```ts
 * import { buildProxyLoader } from "./device_runner.ts";
 * await using loader = await buildProxyLoader({ opts: { id: "sw1" }, grains: {} });
 * loader.has("net.arp"); // true
 * ```
 */
export async function buildProxyLoader(options: {
  opts: Record<string, unknown>;
  grains: Record<string, unknown>;
  pillar?: Record<string, unknown>;
  log?: Logger;
}): Promise<Loader> {
  const loader = await loadModules(options);
  const missing = Object.entries(net).filter(([name]) => !loader.has(`net.${name}`));
  await loader.addModule({
    name: "net",
    url: new URL("./modules/net.ts", import.meta.url).href,
    exports: Object.fromEntries(missing),
  });
  return loader;
}

/**
 * Runs a {@linkcode ProxyJob} on devices, one {@linkcode DeviceRunner.run}
 * per device (several may run at once). Proxy modules are imported once and
 * shared; each device gets its own {@linkcode ProxyContext} and loader.
 *
 * @example
 * ```ts
 * import { DeviceRunner } from "./device_runner.ts";
 * import { createLogger } from "../bus/log.ts";
 * const runner = new DeviceRunner({
 *   fun: "test.ping", args: [], kwargs: {}, timeoutMs: 5000, opts: {}, proxyModuleDirs: [],
 * }, createLogger("warning"));
 * await runner.run("sw1", { proxytype: "dummy" });
 * // { id: "sw1", return: true, retcode: 0, success: true, status: "ok" }
 * ```
 */
export class DeviceRunner {
  readonly #job: ProxyJob;
  readonly #log: Logger;
  readonly #modules = new Map<string, Promise<ProxyModule>>();

  /** A runner for `job`; `log` is where devices and modules log. */
  constructor(job: ProxyJob, log: Logger) {
    this.#job = job;
    this.#log = log;
  }

  /** Runs the job on device `id`; never throws. */
  async run(id: string, options: DeviceOptions): Promise<DeviceResult> {
    const seconds = this.#job.timeoutMs / 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<DeviceResult>((resolve) => {
      timer = setTimeout(
        () => resolve(result(id, `Timed out after ${seconds} s`, "timeout")),
        this.#job.timeoutMs,
      );
    });
    try {
      // A device that never answers is abandoned here; its Worker ends with the run.
      const device = this.#device(id, options).catch((err) =>
        result(id, `The minion function caused an exception: ${errorText(err)}`, "failed")
      );
      return await Promise.race([device, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #device(id: string, options: DeviceOptions): Promise<DeviceResult> {
    const opts = Object.freeze({ ...this.#job.opts, id, proxy: options });
    const context: ProxyContext = Object.freeze({ id, opts, state: {}, log: this.#log });
    const type = options.proxytype;
    let module: ProxyModule;
    let connected = false;
    let loader: Loader | undefined;
    try {
      try {
        module = await this.#module(type);
        await fn(module, "init")?.call(context, opts);
        connected = true;
        const alive = fn(module, "alive");
        if (alive !== undefined && (await alive.call(context, opts)) === false) {
          throw new Error(`${type}.alive() says the device is not alive`);
        }
        const grains = await fn(module, "grains")?.call(context);
        loader = await buildProxyLoader({
          opts: { ...opts, __proxy__: proxyMapping(type, module, context) },
          grains: { ...options.grains, ...(isMapping(grains) ? grains : {}), id },
          pillar: { proxy: options },
          log: this.#log,
        });
      } catch (err) {
        throw new Unreachable(errorText(err), { cause: err });
      }
      return result(id, await loader.call(this.#job.fun, this.#job.args, this.#job.kwargs), "ok");
    } catch (err) {
      if (err instanceof Unreachable) {
        return result(
          id,
          `Unable to connect to ${id} (${type} proxy): ${err.message}`,
          "unreachable",
        );
      }
      if (err instanceof CommandNotFoundError) return result(id, err.message, "failed");
      if (err instanceof ArgumentError) {
        return result(id, `Passed invalid arguments: ${err.message}`, "failed");
      }
      return result(id, `The minion function caused an exception: ${errorText(err)}`, "failed");
    } finally {
      await loader?.close();
      if (connected) {
        try {
          await fn(module!, "shutdown")?.call(context, opts);
        } catch (err) {
          this.#log.warning(`${id}: ${type}.shutdown() failed: ${errorText(err)}`);
        }
      }
    }
  }

  /** Imports the proxy module `type` once: `<dir>/<type>.ts` of the first dir that has it, else the built-in `dummy`. */
  #module(type: string): Promise<ProxyModule> {
    let module = this.#modules.get(type);
    if (module === undefined) {
      module = importProxyModule(type, this.#job.proxyModuleDirs);
      this.#modules.set(type, module);
    }
    return module;
  }
}

async function importProxyModule(type: string, dirs: readonly string[]): Promise<ProxyModule> {
  if (!/^[A-Za-z0-9_][\w.-]*$/.test(type)) {
    throw new Error(`invalid proxytype ${JSON.stringify(type)}`);
  }
  const path = await findPluginFile(dirs, type);
  if (path !== undefined) return await importPlugin(path) as ProxyModule;
  if (type === "dummy") return dummy as ProxyModule;
  throw new Error(
    `no proxy module ${type}: not built in, and no ${type}.ts in proxy_module_dirs` +
      (dirs.length > 0 ? ` (${dirs.join(", ")})` : " (none set; use --proxy-dir)"),
  );
}

function fn(module: ProxyModule, name: string): ((...args: unknown[]) => unknown) | undefined {
  const value = module[name];
  return typeof value === "function" ? value as (...args: unknown[]) => unknown : undefined;
}

/** Salt's `__proxy__`: every exported function as `"<type>.<name>"`, bound to the device. */
function proxyMapping(type: string, module: ProxyModule, context: ProxyContext): ProxyFunctions {
  const out: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === "function" && !name.startsWith("_")) {
      out[`${type}.${name}`] = async (...args) => await value.apply(context, args);
    }
  }
  return Object.freeze(out);
}

function result(id: string, value: unknown, status: DeviceStatus): DeviceResult {
  const retcode = status === "ok" ? 0 : 1;
  return { id, return: value, retcode, success: retcode === 0, status };
}
