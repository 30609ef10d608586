/**
 * The events of a proxy run (spec §7.4, salt-sproxy's), fired straight onto
 * the master bus: no `_minion_event` wrapper, no `__pub_*` keys. One JID for
 * every event of a run (salt-sproxy uses two).
 *
 * @module
 */
import { type BusConfig, configSocketPaths } from "../bus/config.ts";
import type { EventClient } from "../bus/event_client.ts";
import type { Logger } from "../bus/log.ts";
import { getEvent } from "../transport/get_event.ts";
import type { DeviceResult } from "./device_runner.ts";

/**
 * The `proxy/runner/<jid>/summary` data (and what `runProxy` resolves as
 * `summary`), salt-sproxy's fields in its order.
 *
 * @example
 * ```ts
 * import type { ProxySummary } from "./proxy_events.ts";
 * const s: Partial<ProxySummary> = { fun: "test.ping", retcode: 0, timeout_minions: [] };
 * ```
 */
export interface ProxySummary {
  /** The target as given. */
  tgt: string | readonly string[];
  /** The target type. */
  tgt_type: string;
  /** The function. */
  fun: string;
  /** Its arguments, keyword arguments as a trailing `{…, __kwarg__: true}`. */
  fun_args: unknown[];
  /** The run's JID. */
  jid: string;
  /** Who ran it. */
  user: string;
  /** 0 when every device succeeded, else 1. */
  retcode: number;
  /** Devices the target matched. */
  matched_minions: string[];
  /** Devices served by running proxy minions: always empty here. */
  existing_minions: string[];
  /** Devices run by this proxy run (all matched ones). */
  sproxy_minions: string[];
  /** Devices that timed out. */
  timeout_minions: string[];
  /** Running proxy minions that did not answer: always empty here. */
  down_minions: string[];
  /** Devices whose proxy module could not connect (`init`/`alive` failed, or none). */
  unreachable_devices: string[];
  /** Devices where the function threw. */
  failed_minions: string[];
}

/** The fields every event of a run repeats. */
export interface ProxyRunInfo {
  /** The run's JID. */
  jid: string;
  /** The function. */
  fun: string;
  /** Salt's argument list (positionals, then `{…, __kwarg__: true}`). */
  arg: unknown[];
  /** The target as given. */
  tgt: string | readonly string[];
  /** The target type. */
  tgt_type: string;
  /** Who ran it. */
  user: string;
}

/**
 * Fires a run's events on the master bus in order. {@linkcode ProxyEvents.open}
 * fires the first one and returns `null` (after one warning) when no master
 * bus listens, so a run without a master still works.
 *
 * @example
 * ```ts
 * import { ProxyEvents } from "./proxy_events.ts";
 * import { createLogger } from "../bus/log.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * const info = { jid: "20261123183000000000", fun: "test.ping", arg: [], tgt: "*", tgt_type: "glob", user: "ops" };
 * const config = resolveConfig("master", { sock_dir: "/tmp/saltbus/master" });
 * const events = await ProxyEvents.open(info, ["sw1"], { config, log: createLogger() });
 * events?.ret({ id: "sw1", return: true, retcode: 0, success: true, status: "ok" });
 * await events?.close();
 * ```
 */
export class ProxyEvents implements AsyncDisposable {
  readonly #client: EventClient;
  readonly #info: ProxyRunInfo;
  readonly #log: Logger;
  #pending: Promise<boolean>[] = [];
  #failed = false;

  private constructor(client: EventClient, info: ProxyRunInfo, log: Logger) {
    this.#client = client;
    this.#info = info;
    this.#log = log;
  }

  /**
   * Connects to the master bus of `config` (resolved, e.g. by `resolveConfig`) and fires `<jid>` with
   * `{minions}` and `proxy/runner/<jid>/new`; `null` when no bus listens.
   */
  static async open(
    info: ProxyRunInfo,
    minions: string[],
    options: { config: BusConfig; log: Logger },
  ): Promise<ProxyEvents | null> {
    const client = getEvent("master", { opts: options.config, listen: false, log: options.log });
    if (!(await client.fireEvent({ minions }, info.jid))) {
      await client.close();
      const pull = configSocketPaths(options.config).pull;
      options.log.warning(`--events: no master bus at ${pull}: events not sent`);
      return null;
    }
    const events = new ProxyEvents(client, info, options.log);
    events.#fire(`proxy/runner/${info.jid}/new`, {
      fun: info.fun,
      minions,
      arg: info.arg,
      jid: info.jid,
      tgt: info.tgt,
      tgt_type: info.tgt_type,
      user: info.user,
    });
    return events;
  }

  /** Fires `proxy/runner/<jid>/ret/<id>` for one device. */
  ret(result: DeviceResult): void {
    const { fun, arg, jid } = this.#info;
    this.#fire(`proxy/runner/${jid}/ret/${result.id}`, {
      fun,
      fun_args: arg,
      id: result.id,
      jid,
      return: result.return,
      retcode: result.retcode,
      success: result.success,
    });
  }

  /** Fires `proxy/runner/<jid>/summary`. */
  summary(summary: ProxySummary): void {
    this.#fire(`proxy/runner/${this.#info.jid}/summary`, { ...summary });
  }

  /** Waits for every event to be written, then closes the connection. */
  async close(): Promise<void> {
    await Promise.all(this.#pending);
    this.#pending = [];
    await this.#client.close();
  }

  /** Same as {@linkcode ProxyEvents.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Fires without waiting (one connection keeps the order); failures are logged once. */
  #fire(tag: string, data: Record<string, unknown>): void {
    const sent = this.#client.fireEvent(data, tag).catch((err) => {
      this.#log.warning(`event ${tag} not sent: ${err instanceof Error ? err.message : err}`);
      return false;
    }).then((ok) => {
      if (!ok && !this.#failed) {
        this.#failed = true;
        this.#log.warning("the master bus went away during the run: some events were not sent");
      }
      return ok;
    });
    this.#pending.push(sent);
  }
}
