/**
 * Salt's `NetapiClient` (spec §16.2): the lowstate clients `local`,
 * `local_async`, `local_batch`, `local_subset`, `runner`, `runner_async`,
 * `wheel` and `wheel_async`, with Salt's result shapes, gated by
 * `netapi_enable_clients`.
 *
 * saltbus's default differs from Salt 3006 on purpose: with no
 * `netapi_enable_clients` in the master config every client is enabled
 * (the API already needs `external_auth` users and a login, so an empty
 * default would only make the README's set-up fail); a list in the config
 * enables exactly those, as in Salt.
 *
 * @module
 */
import { parse as parseYaml } from "npm:yaml@2.9.1";
import type { BusConfig } from "../bus/config.ts";
import { BusUnreachableError, ConfigError, UsageError } from "../bus/errors.ts";
import { genJid } from "../bus/jid.ts";
import type { Logger } from "../bus/log.ts";
import { isMapping } from "../bus/mapping.ts";
import { saltStamp } from "../bus/stamp.ts";
import { batchSize } from "../jobs/batch_size.ts";
import { LocalClient } from "../jobs/local_client.ts";
import { TARGET_TYPES, type TargetType } from "../jobs/target.ts";
import { MasterRequestError } from "../link/master_link.ts";
import type { NodeServices } from "../link/node_services.ts";
import { callRunner, RunnerNotFoundError } from "../runners/registry.ts";
import { runWheel } from "../wheel/registry.ts";
import { apiRunnerContext } from "./resource_context.ts";
import { permitted } from "./perms.ts";

/** Salt's client names (`ssh` is Salt's too, but saltbus has no SSH client). */
export const NETAPI_CLIENTS: readonly string[] = Object.freeze([
  "local",
  "local_async",
  "local_batch",
  "local_subset",
  "runner",
  "runner_async",
  "wheel",
  "wheel_async",
]);

/**
 * A refused lowstate chunk with salt-api's status: 400
 * (`SaltInvocationError`), 401 (authentication), 503 (master down), 504
 * (runner timeout).
 *
 * @example
 * ```ts
 * import { NetapiError } from "./netapi_clients.ts";
 * new NetapiError(400, "Invalid client specified: 'foo'").status; // 400
 * ```
 */
export class NetapiError extends Error {
  /** The HTTP status. */
  readonly status: number;

  /** Creates the error. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "NetapiError";
    this.status = status;
  }
}

/** Lowstate keys that are never a runner's or wheel's keyword argument (Salt's `CLIENT_INTERNAL_KEYWORDS`, plus `arg`). */
const INTERNAL = new Set([
  "client",
  "cmd",
  "eauth",
  "fun",
  "kwarg",
  "arg",
  "match",
  "token",
  "__jid__",
  "__tag__",
  "__user__",
  "username",
  "password",
  "full_return",
  "print_event",
  "timeout",
]);

/**
 * The clients `netapi_enable_clients` enables; every client when the option is absent.
 *
 * @throws {ConfigError} when the option is not a list of client names.
 * @example
 * ```ts
 * import { enabledClients } from "./netapi_clients.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * enabledClients(resolveConfig("master", { netapi_enable_clients: ["local"] })); // ["local"]
 * ```
 */
export function enabledClients(config: BusConfig): string[] {
  const value = (config as Record<string, unknown>).netapi_enable_clients;
  if (value === undefined || value === null) return [...NETAPI_CLIENTS];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new ConfigError(
      `netapi_enable_clients must be a list of client names (${NETAPI_CLIENTS.join(", ")})`,
    );
  }
  return [...new Set(value as string[])].filter((c) => NETAPI_CLIENTS.includes(c) || c === "ssh")
    .sort();
}

/** Splits `key=value` words into keyword arguments (Salt's `parse_input`, values read as YAML). */
function splitArgs(
  arg: unknown,
  kwarg: unknown,
): { args: unknown[]; kwargs: Record<string, unknown> } {
  const args: unknown[] = [];
  const kwargs: Record<string, unknown> = {};
  for (const item of Array.isArray(arg) ? arg : arg === undefined || arg === null ? [] : [arg]) {
    const m = typeof item === "string" ? /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(item) : null;
    if (m === null) {
      args.push(item);
      continue;
    }
    let value: unknown = m[2];
    try {
      value = m[2] === "" ? "" : parseYaml(m[2]);
    } catch {
      // Not YAML: the raw string, as Salt's yamlify_arg.
    }
    kwargs[m[1]] = value;
  }
  if (isMapping(kwarg)) Object.assign(kwargs, kwarg);
  return { args, kwargs };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs lowstate chunks for the API. Close it to wait for the `*_async`
 * runner and wheel jobs still running.
 *
 * @example
 * ```ts
 * import { NetapiClients } from "./netapi_clients.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * import { createLogger } from "../bus/log.ts";
 * import { socketServices } from "../link/node_services.ts";
 * await using clients = new NetapiClients(resolveConfig("master", {}), socketServices, createLogger("info"));
 * await clients.run({ client: "runner", fun: "test.arg", arg: ["a", "b=1"] }, "alice");
 * ```
 */
export class NetapiClients implements AsyncDisposable {
  readonly #config: BusConfig;
  readonly #services: NodeServices;
  readonly #log: Logger;
  readonly #pending = new Set<Promise<unknown>>();
  /** One LocalClient for every local chunk: its bus listener and link stay open. */
  #localClient: LocalClient | null = null;
  /** The enabled clients, sorted. */
  readonly enabled: readonly string[];

  /**
   * Creates the clients.
   *
   * @throws {ConfigError} for a bad `netapi_enable_clients`.
   */
  constructor(config: BusConfig, services: NodeServices, log: Logger) {
    this.#config = config;
    this.#services = services;
    this.#log = log;
    this.enabled = enabledClients(config);
  }

  /**
   * Runs one chunk for `user`; resolves the elements it adds to `return`
   * (one, or one per batch for `local_batch`).
   *
   * @throws {NetapiError} with salt-api's status.
   */
  async run(
    low: Record<string, unknown>,
    user: string,
    perms: readonly unknown[] | null = null,
  ): Promise<unknown[]> {
    const client = low.client;
    if (typeof client !== "string" || !(NETAPI_CLIENTS.includes(client) || client === "ssh")) {
      throw new NetapiError(400, `Invalid client specified: '${client ?? "None"}'`);
    }
    if (!this.enabled.includes(client)) {
      throw new NetapiError(
        400,
        `Client disabled: '${client}'. Add to 'netapi_enable_clients' master config option to enable.`,
      );
    }
    if (client === "ssh") throw new NetapiError(400, "Client 'ssh' is not available in saltbus");
    if (typeof low.fun !== "string" || low.fun === "") {
      throw new NetapiError(400, `Missing 'fun' in the '${client}' lowstate`);
    }
    if (perms !== null) this.#checkPerms(client, low, user, perms);
    try {
      if (client.startsWith("local")) return await this.#local(client, low, user);
      if (client.startsWith("runner")) return [await this.#runner(client, low, user)];
      return [await this.#wheel(client, low, user)];
    } catch (err) {
      if (err instanceof NetapiError) throw err;
      if (err instanceof BusUnreachableError || err instanceof MasterRequestError) {
        const text = message(err);
        if (
          err instanceof MasterRequestError && !/no answer|went away|closed|not sent/.test(text)
        ) {
          throw new NetapiError(400, text);
        }
        this.#log.warning(`API: ${client} ${low.fun}: ${text}`);
        throw new NetapiError(503, "Salt Master is not available.");
      }
      if (err instanceof UsageError || err instanceof ConfigError) {
        throw new NetapiError(400, message(err));
      }
      throw err;
    }
  }

  async #local(client: string, low: Record<string, unknown>, user: string): Promise<unknown[]> {
    const { tgt, fun } = low as { tgt: unknown; fun: string };
    if (typeof tgt !== "string" && !Array.isArray(tgt)) {
      throw new NetapiError(400, `Missing 'tgt' in the '${client}' lowstate`);
    }
    const tgtType = String(low.tgt_type ?? low.expr_form ?? "glob") as TargetType;
    if (!TARGET_TYPES.includes(tgtType)) {
      throw new NetapiError(
        400,
        `tgt_type must be one of ${TARGET_TYPES.join(", ")}, not '${tgtType}'`,
      );
    }
    const { args, kwargs } = splitArgs(low.arg, low.kwarg);
    const timeout = typeof low.timeout === "number" && low.timeout > 0
      ? low.timeout
      : timeoutOf(this.#config);
    const ret = typeof low.ret === "string" && low.ret !== "" ? low.ret : undefined;
    const full = low.full_return === true;
    const lc = this.#localClient ??= new LocalClient({
      opts: this.#config as unknown as Record<string, unknown>,
      services: this.#services,
      log: this.#log,
    });
    const options = { tgtType, kwargs, user, ret };
    if (client === "local_async") {
      const job = await lc.publish(tgt as string, fun, args, options);
      return [job.minions.length === 0 ? {} : { jid: job.jid, minions: job.minions }];
    }
    const collect = async (target: string | string[], type: TargetType) => {
      const job = await lc.publish(target, fun, args, { ...options, tgtType: type });
      const out: Record<string, unknown> = {};
      for await (const r of lc.returns(job, timeout)) {
        if (r.missing !== undefined) continue;
        out[r.id] = full ? { ret: r.return, retcode: r.retcode, jid: job.jid } : r.return;
      }
      return out;
    };
    if (client === "local") return [await collect(tgt as string, tgtType)];
    // local_batch and local_subset first find the minions that answer, as Salt's batch does.
    const ping = await lc.publish(tgt as string, "test.ping", [], { tgtType, user });
    const up: string[] = [];
    for await (const r of lc.returns(ping, timeout)) if (r.missing === undefined) up.push(r.id);
    up.sort();
    if (client === "local_subset") {
      const n = Number(low.subset ?? 3);
      if (!Number.isInteger(n) || n < 1) {
        throw new NetapiError(400, "subset must be a whole number above 0");
      }
      const picked = [...up].sort(() => Math.random() - 0.5).slice(0, n).sort();
      return [picked.length === 0 ? {} : await collect(picked, "list")];
    }
    const size = batchSize(String(low.batch ?? ""), up.length);
    if (typeof size === "string") throw new NetapiError(400, size);
    const results: unknown[] = [];
    for (let i = 0; i < up.length; i += size) {
      results.push(await collect(up.slice(i, i + size), "list"));
    }
    return results;
  }

  /** Salt's eauth check of the chunk against the user's `perms`; 401 as salt-api. */
  #checkPerms(
    client: string,
    low: Record<string, unknown>,
    user: string,
    perms: readonly unknown[],
  ): void {
    const form = client.startsWith("local")
      ? "local"
      : client.startsWith("runner")
      ? "runner"
      : "wheel";
    const { args, kwargs } = splitArgs(low.arg, low.kwarg);
    const tgtType = (low.tgt_type ?? low.expr_form ?? "glob") as TargetType;
    const tgt = low.tgt as string | string[] | undefined;
    if (permitted(perms, { form, fun: low.fun as string, args, kwargs, tgt, tgtType })) return;
    this.#log.info(`API: ${user} may not run ${form} ${low.fun} (external_auth perms)`);
    throw new NetapiError(
      401,
      form === "local"
        ? "Authorization error occurred."
        : `Authentication failure of type "eauth" occurred for user ${user}.`,
    );
  }

  async #runner(client: string, low: Record<string, unknown>, user: string): Promise<unknown> {
    const fun = low.fun as string;
    const { args, kwargs } = splitArgs(low.arg, low.kwarg);
    for (const [k, v] of Object.entries(low)) if (!INTERNAL.has(k) && !(k in kwargs)) kwargs[k] = v;
    const jid = genJid();
    const tag = `salt/run/${jid}`;
    const job = this.#runRunner(fun, args, kwargs, jid, user);
    if (client === "runner_async") {
      this.#track(job);
      return { tag, jid };
    }
    const limit = restTimeout(this.#config);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), limit * 1000);
    });
    const event = await Promise.race([job, timedOut]).finally(() => clearTimeout(timer));
    if (event === null) {
      this.#track(job);
      throw new NetapiError(504, `Timed out waiting for runner ${fun} (rest_timeout ${limit} s)`);
    }
    return low.full_return === true ? event : event.data.return;
  }

  async #runRunner(
    fun: string,
    args: unknown[],
    kwargs: Record<string, unknown>,
    jid: string,
    user: string,
  ): Promise<{ tag: string; data: Record<string, unknown> }> {
    const tag = `salt/run/${jid}`;
    const head = {
      fun: `runner.${fun}`,
      jid,
      user,
      fun_args: [...args, ...(Object.keys(kwargs).length ? [kwargs] : [])],
    };
    const events = this.#services.eventClient(this.#config, this.#log, { listen: false });
    try {
      await events.fireEvent({ ...head, _stamp: saltStamp() }, `${tag}/new`).catch(() => false);
      let ret: unknown;
      let success = true;
      try {
        ret = await callRunner(
          fun,
          args,
          kwargs,
          apiRunnerContext(this.#config, this.#services, this.#log),
        );
      } catch (err) {
        success = false;
        ret = err instanceof RunnerNotFoundError
          ? err.saltMessage
          : err instanceof UsageError
          ? `Passed invalid arguments: ${err.message}`
          : `Exception occurred in runner ${fun}: ${
            err instanceof Error ? `${err.name}: ${err.message}` : String(err)
          }`;
      }
      const data = { ...head, _stamp: saltStamp(), return: ret, success };
      await events.fireEvent({ ...data }, `${tag}/ret`).catch(() => false);
      return { tag: `${tag}/ret`, data };
    } finally {
      await events.close();
    }
  }

  async #wheel(client: string, low: Record<string, unknown>, user: string): Promise<unknown> {
    const { args, kwargs } = splitArgs(low.arg, low.kwarg);
    for (const [k, v] of Object.entries(low)) if (!INTERNAL.has(k) && !(k in kwargs)) kwargs[k] = v;
    const jid = genJid();
    const ctx = apiRunnerContext(this.#config, this.#services, this.#log);
    const job = runWheel(low.fun as string, args, kwargs, ctx, { user, jid });
    if (client === "wheel") return await job;
    this.#track(job);
    return { tag: `salt/wheel/${jid}`, jid };
  }

  #track(job: Promise<unknown>): void {
    const settled = job.catch((err) => this.#log.error(`API: async job failed: ${message(err)}`))
      .finally(() => this.#pending.delete(settled));
    this.#pending.add(settled);
  }

  /** Waits for the async jobs still running, then closes the shared LocalClient. */
  async close(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    const lc = this.#localClient;
    this.#localClient = null;
    await lc?.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function timeoutOf(config: BusConfig): number {
  const timeout = (config as Record<string, unknown>).timeout;
  return typeof timeout === "number" && timeout > 0 ? timeout : 5;
}

function restTimeout(config: BusConfig): number {
  const value = (config as Record<string, unknown>).rest_timeout;
  return typeof value === "number" && value > 0 ? value : 300;
}
