/**
 * `?format_events`: salt-api's `SaltInfo` aggregate (§6.2). Job and key
 * events update a picture of jobs and minions; after each change the whole
 * `{"jobs": …}` or `{"minions": …}` object is sent.
 *
 * @module
 */

type Dict = Record<string, unknown>;

/** One job as the aggregate shows it. */
export interface JobInfo {
  /** Job id. */
  jid: unknown;
  /** `_stamp` of the job's `new` event. */
  start_time: unknown;
  /** Per minion: `success`, and once returned `return`, `retcode`. */
  minions: Record<string, Dict>;
  /** Function called. */
  fun: unknown;
  /** Target. */
  tgt: unknown;
  /** Target type. */
  tgt_type: unknown;
  /** `running`, or `complete` once every minion returned successfully. */
  state: "running" | "complete";
}

const isDict = (value: unknown): value is Dict =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The aggregate of one WebSocket client. As Salt's, it asks for a
 * `grains.items` job when `salt/presence/present` shows new minions (through
 * `onNewMinions`); the returns of that job fill in their grains.
 *
 * @example
 * ```ts
 * import { SaltInfo } from "./format_events.ts";
 * const info = new SaltInfo();
 * const out = info.process("salt/job/1/new", {
 *   jid: "1", minions: ["web1"], fun: "test.ping", tgt: "*", tgt_type: "glob", _stamp: "…",
 * });
 * // out: [{ jobs: { "1": { jid: "1", …, state: "running" } } }]
 * ```
 */
export class SaltInfo {
  /** Jobs by jid. */
  readonly jobs: Record<string, JobInfo> = {};
  /** Minions by id. */
  minions: Record<string, Dict> = {};
  readonly #onNewMinions: ((ids: string[]) => void) | undefined;

  /** `onNewMinions` is called with the ids a presence event shows for the first time. */
  constructor(options: { onNewMinions?: (ids: string[]) => void } = {}) {
    this.#onNewMinions = options.onNewMinions;
  }

  /** Feeds one event; returns the messages to send (zero or more objects). */
  process(tag: string, data: unknown): Dict[] {
    const parts = tag.split("/");
    if (parts.length < 2 || !isDict(data)) return [];
    const out: Dict[] = [];
    if (parts[1] === "job" && parts.length >= 4) {
      if (parts[3] === "new") {
        out.push(this.#newJob(data));
        if (data.fun === "grains.items") this.minions = {};
      } else if (parts[3] === "ret" && parts.length >= 5) {
        out.push(this.#jobReturn(parts[2], parts[4], data));
        if (data.fun === "grains.items") out.push(this.#minionGrains(parts[4], data));
      }
    } else if (parts[1] === "key") {
      if (data.act === "delete") delete this.minions[String(data.id)];
      else if (data.act === "accept") this.minions[String(data.id)] ??= {};
      out.push(this.#publishMinions());
    } else if (parts[1] === "presence" && Array.isArray(data.present)) {
      const present = new Set(data.present.map(String));
      let changed = false;
      for (const id of Object.keys(this.minions)) {
        if (!present.has(id)) {
          delete this.minions[id];
          changed = true;
        }
      }
      const fresh: string[] = [];
      for (const id of present) {
        if (!(id in this.minions)) {
          this.minions[id] = {};
          fresh.push(id);
        }
      }
      if (changed || fresh.length > 0) out.push(this.#publishMinions());
      if (fresh.length > 0) this.#onNewMinions?.(fresh);
    }
    return out;
  }

  #newJob(data: Dict): Dict {
    const minions: Record<string, Dict> = {};
    for (const id of Array.isArray(data.minions) ? data.minions : []) {
      minions[String(id)] = { success: false };
    }
    const jid = String(data.jid);
    this.jobs[jid] = {
      jid: data.jid,
      start_time: data._stamp,
      minions,
      fun: data.fun,
      tgt: data.tgt,
      tgt_type: data.tgt_type,
      state: "running",
    };
    return { jobs: this.jobs };
  }

  #jobReturn(jid: string, id: string, data: Dict): Dict {
    const job = (this.jobs[jid] ??= { minions: {} } as unknown as JobInfo);
    const minion = (job.minions[id] ??= {});
    minion.return = data.return;
    minion.retcode = data.retcode;
    minion.success = data.success;
    if (Object.values(job.minions).every((m) => m.success)) job.state = "complete";
    return { jobs: this.jobs };
  }

  #minionGrains(id: string, data: Dict): Dict {
    (this.minions[id] ??= {}).grains = data.return;
    return this.#publishMinions();
  }

  #publishMinions(): Dict {
    const minions: Record<string, Dict> = {};
    for (const [id, info] of Object.entries(this.minions)) minions[id] = { ...info, id };
    return { minions };
  }
}
