/**
 * The minion's returners for `--return` and `ext_job_cache` (spec §14.3):
 * after a job's return went to the master, the minion calls
 * `returner(ret)` of each returner the publication's `ret` names (comma
 * separated, as Salt), plus the minion's own `return` option (Salt's
 * minion option: returners for every job it runs). Each returner is opened once per minion process with
 * the minion's own configuration (built-ins and `returner_dirs`) and closed
 * when the minion stops. Failures are logged with the returner's name, as
 * Salt's minion does, and never reach the job or the master return.
 *
 * @module
 */
import type { Logger } from "../bus/log.ts";
import { openReturner } from "../returners/registry.ts";
import type { Returner, ReturnLoad } from "../returners/returner.ts";

/**
 * The returner names of a publication's `ret` (`"a,b"` → `["a", "b"]`,
 * duplicates and blanks dropped).
 *
 * @example
 * ```ts
 * import { returnerNames } from "./job_returners.ts";
 * returnerNames("sqlite, custom,sqlite"); // ["sqlite", "custom"]
 * ```
 */
export function returnerNames(ret: unknown): string[] {
  if (typeof ret !== "string") return [];
  return [...new Set(ret.split(",").map((n) => n.trim()).filter((n) => n !== ""))];
}

/**
 * The returners one minion process uses, opened on first use.
 *
 * @example
 * ```ts
 * import { MinionReturners } from "./job_returners.ts";
 * import { createLogger } from "../bus/log.ts";
 * const returners = new MinionReturners({ id: "web1", cachedir: "/tmp/web1" }, createLogger("info"));
 * await returners.send("sqlite", { id: "web1", jid: "20240501123456789012", fun: "test.ping", return: true });
 * await returners.close();
 * ```
 */
export class MinionReturners {
  readonly #config: Record<string, unknown>;
  readonly #log: Logger;
  readonly #open = new Map<string, Promise<Returner>>();
  #closed = false;

  /** Creates the set for a minion's configuration. */
  constructor(config: Record<string, unknown>, log: Logger) {
    this.#config = config;
    this.#log = log;
  }

  /**
   * Calls `returner(load)` of each returner `ret` names; resolves when all
   * have stored or failed (failures are logged, never thrown).
   */
  async send(ret: unknown, load: Record<string, unknown>): Promise<void> {
    const own = this.#config.return;
    const names = returnerNames(
      typeof own === "string" && own !== "" ? (ret ? `${ret},${own}` : own) : ret,
    );
    if (names.length === 0 || this.#closed) return;
    const { cmd: _cmd, ...rest } = load;
    const data = { ...rest, id: this.#config.id ?? rest.id } as ReturnLoad;
    await Promise.all(names.map(async (name) => {
      let store: Returner;
      try {
        store = await this.#get(name);
      } catch (err) {
        this.#log.error(
          `Returner ${name}.returner could not be loaded: ${
            err instanceof Error ? err.message : err
          }`,
        );
        return;
      }
      try {
        await store.returner(data);
      } catch (err) {
        this.#log.error(
          `The return failed for job ${data.jid} (returner ${name}): ${
            err instanceof Error ? err.message : err
          }`,
        );
      }
    }));
  }

  /** Closes every returner opened so far. */
  async close(): Promise<void> {
    this.#closed = true;
    const opened = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(opened.map(async (p) => {
      try {
        await (await p).close();
      } catch {
        // failed to open or to close: nothing more to do
      }
    }));
  }

  #get(name: string): Promise<Returner> {
    let store = this.#open.get(name);
    if (store === undefined) {
      store = openReturner(name, { ...this.#config, node: "minion" }, "--return");
      this.#open.set(name, store);
      // A returner that failed to open is tried again by the next job.
      store.catch(() => this.#open.get(name) === store && this.#open.delete(name));
    }
    return store;
  }
}
