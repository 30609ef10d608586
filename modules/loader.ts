/**
 * The execution-module loader (Salt's `salt.loader.minion_mods`): reads the
 * built-in modules and every module file of `module_dirs`, and builds the
 * `salt` mapping (Salt's `__salt__`) of `"<module>.<function>"` names.
 *
 * @module
 */
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../bus/errors.ts";
import { createLogger, isLogLevel, type Logger } from "../bus/log.ts";
import { type NodeServices, socketServices } from "../link/node_services.ts";
import { BUILTIN_MODULES, type ModuleSource } from "./builtin.ts";
import type { LoaderResources, ModuleContext, SaltFunction, SaltFunctions } from "./context.ts";
import { CommandNotFoundError, LoaderClosedError } from "./errors.ts";
import { coreGrains } from "./grains_core.ts";
import { INTROSPECT, type LoaderIntrospection } from "./introspect.ts";
import { jsDocsOfUrl } from "./jsdoc.ts";
import { splitKwargs } from "./kwargs.ts";
import {
  importPlugin,
  listPluginFiles,
  listPythonFiles,
  PLUGIN_EXTENSIONS,
  pluginName,
} from "./plugin_files.ts";
import { selectFunctions } from "./select_functions.ts";
import { type AnyFunction, bindArguments, signatureOf } from "./signature.ts";

/** Options of {@linkcode loadModules}. */
export interface LoaderOptions {
  /** Salt's `__opts__`: the resolved minion configuration (Salt option names). */
  opts: Record<string, unknown>;
  /** Directories of custom modules (default: `opts.module_dirs`, a list or one path). */
  moduleDirs?: readonly string[] | string;
  /** The grains (default: this host's core grains, then `opts.grains` over them). */
  grains?: Record<string, unknown>;
  /** The pillar (default: `opts.pillar`, else `{}`). */
  pillar?: Record<string, unknown>;
  /** Where to log (default: standard error at `opts.log_level`, else warnings). */
  log?: Logger;
  /** How modules reach buses and the master (default: over sockets). */
  services?: NodeServices;
}

/**
 * A module file that could not be loaded: its path and the error message.
 *
 * @example
 * ```ts
 * import type { ModuleLoadError } from "./loader.ts";
 * const e: ModuleLoadError = { path: "/srv/modules/bad.ts", error: "SyntaxError: Unexpected token" };
 * ```
 */
export interface ModuleLoadError {
  /** The file (or directory) that failed. */
  readonly path: string;
  /** What went wrong. */
  readonly error: string;
}

interface LoadedModule {
  readonly name: string;
  readonly url: string | undefined;
  readonly exports: Readonly<Record<string, unknown>>;
  docs?: Record<string, string>;
}

interface Entry {
  readonly fun: string;
  readonly name: string;
  readonly fn: AnyFunction;
  readonly module: LoadedModule;
  readonly context: ModuleContext;
  readonly wrapper: SaltFunction;
}

function message(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function isFunctionExport(value: unknown): value is AnyFunction {
  return typeof value === "function" &&
    !Function.prototype.toString.call(value).startsWith("class");
}

/** Resources keyed by name, disposed in reverse creation order. */
class ResourcePool implements LoaderResources {
  #items = new Map<string, AsyncDisposable>();
  #closed = false;

  get<T extends AsyncDisposable>(key: string, create: () => T): T {
    if (this.#closed) throw new LoaderClosedError("the loader is closed: its resources are gone");
    let item = this.#items.get(key);
    if (item === undefined) {
      item = create();
      this.#items.set(key, item);
    }
    return item as T;
  }

  async close(log: Logger): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const items = [...this.#items.entries()].reverse();
    this.#items.clear();
    for (const [key, item] of items) {
      try {
        await item[Symbol.asyncDispose]();
      } catch (err) {
        log.warning(`closing loader resource ${key} failed: ${message(err)}`);
      }
    }
  }
}

/**
 * The loaded execution modules: the `salt` mapping, the data every function
 * sees (`opts`, `grains`, `pillar`), the modules that failed to load, and
 * {@linkcode Loader.call}, the entry point of `call` and the job runner.
 * Make one with {@linkcode loadModules}; close it to release the shared
 * resources (e.g. the event module's bus client).
 *
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({ opts: { id: "web1", module_dirs: ["/srv/modules"] } });
 * console.log(await loader.call("test.echo", ["hello"])); // "hello"
 * console.log(await loader.salt["test.ping"]()); // true
 * for (const e of loader.errors) console.error(e.path, e.error);
 * ```
 */
export class Loader implements AsyncDisposable {
  /** Salt's `__salt__`: every function by `"<module>.<function>"`. */
  readonly salt: SaltFunctions;
  /** Salt's `__opts__`. */
  readonly opts: Readonly<Record<string, unknown>>;
  /** Salt's `__grains__`. */
  readonly grains: Readonly<Record<string, unknown>>;
  /** Salt's `__pillar__`. */
  readonly pillar: Readonly<Record<string, unknown>>;
  /** Module files that failed to load, each with its path and error. */
  readonly errors: readonly ModuleLoadError[];
  /** The loader's logger. */
  readonly log: Logger;
  /** How modules reach buses and the master. */
  readonly services: NodeServices;
  readonly #entries = new Map<string, Entry>();
  readonly #errors: ModuleLoadError[] = [];
  readonly #resources = new ResourcePool();
  #sorted: string[] | undefined;
  #closed = false;

  /** Use {@linkcode loadModules}: the constructor makes an empty loader. */
  constructor(options: {
    opts: Readonly<Record<string, unknown>>;
    grains: Readonly<Record<string, unknown>>;
    pillar: Readonly<Record<string, unknown>>;
    log: Logger;
    services?: NodeServices;
  }) {
    this.services = options.services ?? socketServices;
    this.opts = options.opts;
    this.grains = options.grains;
    this.pillar = options.pillar;
    this.log = options.log;
    this.errors = this.#errors;
    const entries = this.#entries;
    const introspection: LoaderIntrospection = {
      functions: () => this.functions(),
      modules: () => this.modules(),
      docOf: (fun) => this.#docOf(fun),
    };
    this.salt = new Proxy(Object.create(null) as Record<string, SaltFunction>, {
      get(_target, key) {
        if (typeof key === "symbol") return key === INTROSPECT ? introspection : undefined;
        const entry = entries.get(key);
        if (entry !== undefined) return entry.wrapper;
        // Only "mod.fun" names are functions; other probes (then, toJSON,
        // constructor, …) find nothing, so the mapping is not a thenable.
        if (!key.includes(".")) return undefined;
        throw new CommandNotFoundError(key);
      },
      has(_target, key) {
        return typeof key === "string" ? entries.has(key) : key === INTROSPECT;
      },
      ownKeys() {
        return [...entries.keys()];
      },
      getOwnPropertyDescriptor(_target, key) {
        const entry = typeof key === "string" ? entries.get(key) : undefined;
        if (entry === undefined) return undefined;
        return { value: entry.wrapper, enumerable: true, configurable: true, writable: false };
      },
      set() {
        return false;
      },
      defineProperty() {
        return false;
      },
      deleteProperty() {
        return false;
      },
    }) as SaltFunctions;
  }

  /**
   * Adds a module's functions (used by {@linkcode loadModules}); functions of
   * the same name replace earlier ones. Runs `__virtual__`. Returns the name
   * the module was loaded under, or `undefined` when it disabled itself.
   */
  async addModule(source: ModuleSource, path?: string): Promise<string | undefined> {
    const where = path ?? source.url ?? source.name;
    let name = typeof source.exports.__virtualname__ === "string" &&
        source.exports.__virtualname__ !== ""
      ? source.exports.__virtualname__
      : source.name;
    const module: LoadedModule = { name, url: source.url, exports: source.exports };
    const virtual = source.exports.__virtual__;
    if (typeof virtual === "function") {
      let result: unknown;
      try {
        result = await virtual.call(this.#context(`${name}.__virtual__`));
      } catch (err) {
        this.#fail(where, `__virtual__() failed: ${message(err)}`);
        return undefined;
      }
      let reason: unknown;
      if (Array.isArray(result)) [result, reason] = result;
      if (result === false) {
        this.log.info(
          `module ${name} (${where}) is disabled by __virtual__()` +
            (reason !== undefined ? `: ${reason}` : ""),
        );
        return undefined;
      }
      if (typeof result === "string" && result !== "") name = result;
    }
    const final: LoadedModule = name === module.name ? module : { ...module, name };
    for (const key of Object.keys(source.exports)) {
      const fn = source.exports[key];
      if (key.startsWith("_") || key === "default" || !isFunctionExport(fn)) continue;
      const fun = `${name}.${key}`;
      const context = this.#context(fun);
      const entry: Entry = {
        fun,
        name: key,
        fn,
        module: final,
        context,
        wrapper: (...args: unknown[]) => {
          const split = splitKwargs(args);
          return this.call(fun, split.args, split.kwargs);
        },
      };
      if (this.#entries.has(fun)) this.log.debug(`${fun} from ${where} replaces the earlier one`);
      this.#entries.set(fun, entry);
    }
    this.#sorted = undefined;
    return name;
  }

  /** Records a module that failed to load and logs it as a warning. */
  #fail(path: string, error: string): void {
    this.#errors.push(Object.freeze({ path, error }));
    this.log.warning(`failed to load execution module ${path}: ${error}`);
  }

  /**
   * Loads every module file (`*.ts`, `*.js`, `*.mts`, `*.mjs`; not `*.d.ts`,
   * nor names starting with `.` or `_`) of `dir`, in name order. Failures are
   * recorded in {@linkcode Loader.errors}.
   */
  async addModuleDir(dir: string): Promise<void> {
    let paths: string[];
    try {
      paths = await listPluginFiles(dir);
    } catch (err) {
      this.#fail(resolve(dir), `cannot read module directory: ${message(err)}`);
      return;
    }
    const python = await listPythonFiles(dir);
    if (python.length > 0) {
      this.log.warning(
        `module_dirs: ${resolve(dir)} has Python modules (${python.join(", ")}); saltbus loads ` +
          `only TypeScript and JavaScript modules (${PLUGIN_EXTENSIONS.join(", ")})`,
      );
    }
    for (const path of paths) {
      let exports: Record<string, unknown>;
      try {
        exports = await importPlugin(path);
      } catch (err) {
        this.#fail(path, message(err));
        continue;
      }
      const name = pluginName(basename(path))!;
      await this.addModule({ name, url: pathToFileURL(path).href, exports }, path);
    }
  }

  #context(fun: string): ModuleContext {
    return Object.freeze({
      opts: this.opts,
      grains: this.grains,
      pillar: this.pillar,
      salt: this.salt,
      log: this.log,
      services: this.services,
      fun,
      resources: this.#resources,
    });
  }

  /**
   * Whether the function `fun` (`"mod.fun"`) is loaded.
   *
   * @example
   * ```ts
   * import { loadModules } from "./loader.ts";
   * await using loader = await loadModules({ opts: {} });
   * loader.has("test.ping"); // true
   * ```
   */
  has(fun: string): boolean {
    return this.#entries.has(fun);
  }

  /**
   * Every function name, sorted.
   *
   * @example
   * ```ts
   * import { loadModules } from "./loader.ts";
   * await using loader = await loadModules({ opts: {} });
   * loader.functions().filter((f) => f.startsWith("test.")); // ["test.arg", "test.echo", …]
   * ```
   */
  functions(): string[] {
    this.#sorted ??= [...this.#entries.keys()].sort();
    return [...this.#sorted];
  }

  /**
   * Every module name, sorted.
   *
   * @example
   * ```ts
   * import { loadModules } from "./loader.ts";
   * await using loader = await loadModules({ opts: {} });
   * loader.modules(); // ["event", "grains", "sys", "test", …]
   * ```
   */
  modules(): string[] {
    const names = new Set<string>();
    for (const entry of this.#entries.values()) names.add(entry.module.name);
    return [...names].sort();
  }

  #docOf(fun: string): string {
    const entry = this.#entries.get(fun);
    if (entry === undefined) return "";
    const own = (entry.fn as { __doc__?: unknown }).__doc__;
    if (typeof own === "string") return own;
    const map = entry.module.exports.__doc__;
    if (typeof map === "object" && map !== null && Object.hasOwn(map, entry.name)) {
      const text = (map as Record<string, unknown>)[entry.name];
      if (typeof text === "string") return text;
    }
    entry.module.docs ??= jsDocsOfUrl(entry.module.url);
    return Object.hasOwn(entry.module.docs, entry.name) ? entry.module.docs[entry.name] : "";
  }

  /**
   * Documentation as `{"mod.fun": text}`: of every function, or of those
   * `fun` selects as `sys.doc` does (a function, a module, or a glob). The
   * text is the function's `__doc__` property, else the module's `__doc__`
   * mapping entry, else its JSDoc read from the module's source, else `""`.
   *
   * @example
   * ```ts
   * import { loadModules } from "./loader.ts";
   * await using loader = await loadModules({ opts: {} });
   * console.log(loader.doc("test.ping")["test.ping"]);
   * ```
   */
  doc(fun?: string): Record<string, string> {
    const out: Record<string, string> = {};
    const names = fun === undefined ? [] : [fun];
    for (const name of selectFunctions(this.functions(), names)) out[name] = this.#docOf(name);
    return out;
  }

  /**
   * Whether `fun` takes arbitrary keyword arguments (a `kwargs` parameter,
   * Salt's `**kwargs`): callers such as `call` then add `__pub_*` keywords.
   *
   * @throws {CommandNotFoundError} when `fun` is not loaded.
   * @example
   * ```ts
   * import { loadModules } from "./loader.ts";
   * await using loader = await loadModules({ opts: {} });
   * loader.acceptsKwargs("test.arg"); // true
   * loader.acceptsKwargs("test.ping"); // false
   * ```
   */
  acceptsKwargs(fun: string): boolean {
    const entry = this.#entries.get(fun);
    if (entry === undefined) throw new CommandNotFoundError(fun);
    return signatureOf(entry.fn).kwargs;
  }

  /**
   * Calls `fun` with positional `args` and keyword `kwargs`, bound to its
   * parameters by Salt's rules, with `this` set to the function's
   * {@linkcode ModuleContext}; resolves to what it returns. No `__pub_*`
   * keys are added. Errors thrown by the function propagate.
   *
   * @throws {CommandNotFoundError} `'foo.bar' is not available.`
   * @throws {ArgumentError} when the arguments do not fit.
   * @example
   * ```ts
   * import { loadModules } from "./loader.ts";
   * await using loader = await loadModules({ opts: {} });
   * await loader.call("test.arg", [1, 2], { a: "b" }); // { args: [1, 2], kwargs: { a: "b" } }
   * ```
   */
  async call(
    fun: string,
    args: readonly unknown[] = [],
    kwargs: Readonly<Record<string, unknown>> = {},
  ): Promise<unknown> {
    const entry = this.#entries.get(fun);
    if (entry === undefined) throw new CommandNotFoundError(fun);
    const bound = bindArguments(fun, entry.fn, args, kwargs);
    return await entry.fn.apply(entry.context, bound);
  }

  /**
   * Closes the loader: disposes every shared resource (awaiting each
   * `[Symbol.asyncDispose]()`). Idempotent.
   *
   * @example
   * ```ts
   * import { loadModules } from "./loader.ts";
   * const loader = await loadModules({ opts: {} });
   * await loader.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#resources.close(this.log);
  }

  /** Same as {@linkcode Loader.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function moduleDirsOf(value: unknown): string[] {
  if (value === undefined || value === null || value === "") return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string" || v === null)) {
    return value.filter((v) => v !== null && v !== "");
  }
  throw new ConfigError(
    `module_dirs: expected a directory or a list of directories, got ${JSON.stringify(value)}`,
  );
}

function mapping(option: string, value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new ConfigError(`${option}: expected a mapping, got ${JSON.stringify(value)}`);
}

/**
 * Loads the execution modules: the built-ins (`event`, `grains`, `sys`,
 * `test`), then every module file of each `module_dirs` directory, with
 * dynamic `import()`. A custom module with a built-in's name replaces the
 * built-in functions of the same name and adds its others. A file that fails
 * to load (missing directory, syntax error, throws on import) is logged as a
 * warning and listed in `loader.errors`; the others still load.
 *
 * A module's name is its file name without the extension, or its
 * `__virtualname__` export. An exported `__virtual__()` returning `false`
 * (or `[false, reason]`) disables the module; returning a string renames it
 * (Salt's rules). Exports whose name starts with `_`, and exports that are
 * not functions, are not execution functions.
 *
 * @throws {ConfigError} when `module_dirs`, `grains` or `pillar` has the wrong shape.
 * @example
 * ```ts
 * import { loadModules } from "./loader.ts";
 * await using loader = await loadModules({
 *   opts: { id: "web1", module_dirs: ["/srv/saltbus/modules"], grains: { role: "web" } },
 * });
 * console.log(loader.functions());
 * console.log(await loader.call("grains.get", ["role"])); // "web"
 * ```
 */
export async function loadModules(options: LoaderOptions): Promise<Loader> {
  const opts = Object.freeze({ ...options.opts });
  const grains = Object.freeze(
    options.grains !== undefined
      ? { ...options.grains }
      : { ...coreGrains(opts), ...mapping("grains", opts.grains) },
  );
  const pillar = Object.freeze({ ...(options.pillar ?? mapping("pillar", opts.pillar)) });
  const log = options.log ??
    createLogger(isLogLevel(opts.log_level) ? opts.log_level : "warning");
  const loader = new Loader({ opts, grains, pillar, log, services: options.services });
  for (const source of BUILTIN_MODULES) await loader.addModule(source);
  const dirs = options.moduleDirs !== undefined
    ? moduleDirsOf(options.moduleDirs)
    : moduleDirsOf(opts.module_dirs);
  for (const dir of dirs) await loader.addModuleDir(dir);
  return loader;
}
