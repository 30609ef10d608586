/**
 * The `engines` option (spec §13.1): a list of engine names or one-key
 * `{name: options}` maps (a mapping is accepted too, one entry per engine,
 * in order); `engine_module` in the options picks the module, and the name
 * is then only a label, so one engine can run several times. Also the
 * supervisor's restart options.
 *
 * @module
 */
import { ConfigError } from "../bus/errors.ts";
import { isMapping } from "../bus/mapping.ts";

/** One configured engine. */
export interface EngineSpec {
  /** Its label: the configured name (the alias when `engine_module` is given). */
  readonly name: string;
  /** The engine module to run (`engine_module`, else the name). */
  readonly module: string;
  /** The keyword arguments of its `start()` (without `engine_module`). */
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * Reads the `engines` option. Absent, `null`, `[]` and `{}` give no engines.
 *
 * @param value the `engines` option.
 * @param where the config file, for messages.
 * @throws {ConfigError} naming `engines` (and the file) for a wrong shape.
 * @example
 * ```ts
 * import { parseEngines } from "./config.ts";
 * parseEngines(["test", { prod: { engine_module: "http_logstash", url: "http://x" } }]);
 * // [{ name: "test", module: "test", options: {} },
 * //  { name: "prod", module: "http_logstash", options: { url: "http://x" } }]
 * ```
 */
export function parseEngines(value: unknown, where?: string): EngineSpec[] {
  const at = where === undefined ? "" : ` in ${where}`;
  if (value === undefined || value === null) return [];
  let items: unknown[];
  if (Array.isArray(value)) items = value;
  else if (isMapping(value)) items = Object.entries(value).map(([k, v]) => ({ [k]: v }));
  else {
    throw new ConfigError(
      `engines${at}: expected a list of engine names or {name: options} maps, not ${typeof value}`,
    );
  }
  const specs: EngineSpec[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    let name: string;
    let raw: unknown;
    if (typeof item === "string") {
      name = item;
      raw = null;
    } else if (isMapping(item) && Object.keys(item).length === 1) {
      [[name, raw]] = Object.entries(item);
    } else {
      throw new ConfigError(
        `engines[${i}]${at}: expected an engine name or a one-key {name: options} map`,
      );
    }
    if (name === "") throw new ConfigError(`engines[${i}]${at}: empty engine name`);
    if (raw !== null && raw !== undefined && !isMapping(raw)) {
      throw new ConfigError(`engines[${i}] (${name})${at}: the options must be a mapping`);
    }
    const options: Record<string, unknown> = { ...(raw ?? {}) };
    let module = name;
    if (options.engine_module !== undefined) {
      if (typeof options.engine_module !== "string" || options.engine_module === "") {
        throw new ConfigError(
          `engines[${i}] (${name})${at}: engine_module must be an engine name`,
        );
      }
      module = options.engine_module;
      delete options.engine_module;
    }
    if (seen.has(name)) {
      throw new ConfigError(
        `engines[${i}]${at}: '${name}' is configured twice; give one an alias with engine_module`,
      );
    }
    seen.add(name);
    specs.push({ name, module, options });
  });
  return specs;
}

/**
 * Reads `engines_dirs`: a list of directories (or one path).
 *
 * @throws {ConfigError} naming `engines_dirs` for a wrong shape.
 * @example
 * ```ts
 * import { parseEnginesDirs } from "./config.ts";
 * parseEnginesDirs(["/srv/engines"]); // ["/srv/engines"]
 * parseEnginesDirs("/srv/engines"); // ["/srv/engines"]
 * ```
 */
export function parseEnginesDirs(value: unknown, where?: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((d) => typeof d === "string")) return [...value];
  const at = where === undefined ? "" : ` in ${where}`;
  throw new ConfigError(`engines_dirs${at}: expected a list of directories`);
}

/** The supervisor's restart delays, in ms. */
export interface RestartPolicy {
  /** First delay after a failure (`engine_restart_delay`, seconds, default 1). */
  readonly initialMs: number;
  /** Longest delay (`engine_restart_max_delay`, seconds, default 60). */
  readonly maxMs: number;
  /** An engine that ran this long before failing starts again at `initialMs` (= `maxMs`). */
  readonly resetAfterMs: number;
}

/**
 * Reads `engine_restart_delay` and `engine_restart_max_delay` (seconds).
 *
 * @throws {ConfigError} for a value that is not a positive number.
 * @example
 * ```ts
 * import { restartPolicy } from "./config.ts";
 * restartPolicy({}); // { initialMs: 1000, maxMs: 60000, resetAfterMs: 60000 }
 * ```
 */
export function restartPolicy(config: Record<string, unknown>, where?: string): RestartPolicy {
  const seconds = (option: string, fallback: number) => {
    const v = config[option];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number" || !(v > 0)) {
      const at = where === undefined ? "" : ` in ${where}`;
      throw new ConfigError(`${option}${at}: expected a positive number of seconds`);
    }
    return v;
  };
  const initialMs = seconds("engine_restart_delay", 1) * 1000;
  const maxMs = Math.max(initialMs, seconds("engine_restart_max_delay", 60) * 1000);
  return { initialMs, maxMs, resetAfterMs: maxMs };
}
