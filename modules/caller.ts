/**
 * `Caller`: run execution functions from any script on a minion host, as
 * Salt's `salt.client.Caller().cmd(…)`.
 *
 * @module
 */
import { loadConfig } from "../bus/config.ts";
import type { Logger } from "../bus/log.ts";
import { LoaderClosedError } from "./errors.ts";
import { splitKwargs } from "./kwargs.ts";
import { type Loader, loadModules } from "./loader.ts";

/** Options of {@linkcode Caller}. */
export interface CallerOptions {
  /** The minion config file (YAML, Salt's option names). Without it: defaults. */
  config?: string;
  /** Options with Salt's names; they win over the file (`id`, `sock_dir`, `module_dirs`, …). */
  opts?: Record<string, unknown>;
  /** Custom module directories; win over `module_dirs` from the config. */
  moduleDirs?: string[];
  /** Where to log (default: standard error at the config's `log_level`). */
  log?: Logger;
}

/**
 * Calls execution functions in this process, as Salt's `salt.client.Caller`:
 * the minion config and the modules are loaded on the first call (once;
 * concurrent first calls share the load). `cmd` returns what the function
 * returns; no `__pub_*` keys are added, and `opts.__cli` is not
 * `"salt-call"`. Close it (or `await using`) to release the modules' shared
 * resources, such as the event module's bus connection.
 *
 * @example
 * ```ts
 * import { Caller, kwargs } from "./mod.ts";
 * await using caller = new Caller({ config: "/etc/saltbus/minion" });
 * // a trailing plain object is the positional `data` argument of event.send
 * const ok = await caller.cmd("event.send", "myco/event/success", { success: true, message: "It works!" });
 * // keyword arguments are marked: kwargs({...}) or {..., __kwarg__: true}
 * await caller.cmd("event.send", "myco/event/env", kwargs({ with_env: ["GIT_COMMIT"], with_grains: true }));
 * ```
 */
export class Caller implements AsyncDisposable {
  readonly #options: CallerOptions;
  #loading: Promise<Loader> | undefined;
  #loader: Loader | undefined;
  #closed = false;

  /** Creates the caller; nothing is read until the first call. */
  constructor(options: CallerOptions = {}) {
    this.#options = { ...options };
  }

  /**
   * The loader, loading the config and modules on first use. A failed load
   * (e.g. a bad config file) rejects every call waiting for it; the next
   * call tries again.
   *
   * @throws {ConfigError} when the config file cannot be read or is invalid.
   * @throws {LoaderClosedError} after `close()`.
   * @example
   * ```ts
   * import { Caller } from "./mod.ts";
   * await using caller = new Caller({ opts: { id: "web1" } });
   * const loader = await caller.loader();
   * console.log(loader.grains.id); // "web1"
   * ```
   */
  loader(): Promise<Loader> {
    if (this.#closed) return Promise.reject(new LoaderClosedError("the Caller is closed"));
    if (this.#loader !== undefined) return Promise.resolve(this.#loader);
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async #load(): Promise<Loader> {
    try {
      const config = await loadConfig("minion", this.#options.config, this.#options.opts ?? {});
      const loader = await loadModules({
        opts: config,
        moduleDirs: this.#options.moduleDirs,
        log: this.#options.log,
      });
      if (this.#closed) {
        await loader.close();
        throw new LoaderClosedError("the Caller was closed while loading");
      }
      this.#loader = loader;
      return loader;
    } catch (err) {
      this.#loading = undefined;
      throw err;
    }
  }

  /**
   * Calls the execution function `fun` (`"event.send"`) with `args`; a
   * trailing `kwargs({...})` or `{..., __kwarg__: true}` holds keyword
   * arguments. Resolves to the function's return value.
   *
   * @throws {CommandNotFoundError} `'foo.bar' is not available.`
   * @throws {ArgumentError} when the arguments do not fit the function.
   * @throws {ConfigError} when the config cannot be loaded.
   * @example
   * ```ts
   * import { Caller } from "./mod.ts";
   * await using caller = new Caller({ config: "/etc/saltbus/minion" });
   * await caller.cmd("test.ping"); // true
   * await caller.cmd("grains.get", "os"); // "Debian"
   * ```
   */
  async cmd(fun: string, ...args: unknown[]): Promise<unknown> {
    const loader = this.#loader ?? await this.loader();
    if (this.#closed) throw new LoaderClosedError("the Caller is closed");
    const split = splitKwargs(args);
    return await loader.call(fun, split.args, split.kwargs);
  }

  /**
   * Every loaded function name, sorted.
   *
   * @example
   * ```ts
   * import { Caller } from "./mod.ts";
   * await using caller = new Caller();
   * console.log(await caller.functions()); // ["event.fire", …, "test.version"]
   * ```
   */
  async functions(): Promise<string[]> {
    return (await this.loader()).functions();
  }

  /**
   * Closes the modules' shared resources. Idempotent; calls after it throw
   * `LoaderClosedError`.
   *
   * @example
   * ```ts
   * import { Caller } from "./mod.ts";
   * const caller = new Caller();
   * await caller.cmd("test.ping");
   * await caller.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const loader = this.#loader;
    this.#loader = undefined;
    if (loader !== undefined) {
      await loader.close();
    } else if (this.#loading !== undefined) {
      await this.#loading.then((l) => l.close(), () => {});
    }
  }

  /** Same as {@linkcode Caller.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
