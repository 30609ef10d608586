/**
 * The master's registry of published jobs: which minions each job was sent
 * to and which of them have not returned yet. The link accepts a minion's
 * `_return` only for a job published to that minion (once), refuses a
 * client's `_return` for any job it published, and tells the publisher of a
 * job at once when one of its pending minions disconnects. The registry is
 * bounded: entries expire, and past its limits the oldest jobs are
 * forgotten first (their late returns are then refused, and counted).
 *
 * @module
 */

/** Default time a published job stays in the registry: 24 hours (Salt's `keep_jobs`). */
export const DEFAULT_PUBLISHED_JOB_TTL_MS = 24 * 60 * 60 * 1000;

/** Default number of jobs the registry holds. */
export const DEFAULT_PUBLISHED_JOBS_MAX = 10_000;

/** Default total of pending (job, minion) pairs the registry holds. */
export const DEFAULT_PENDING_RETURNS_MAX = 1_000_000;

/** Who published a job and wants to hear of minions that leave before returning. */
export interface JobPublisher {
  /** True once its connection is gone. */
  readonly closed: boolean;
  /** Sends it a message; `false` when it is gone. */
  send(tag: string, data: Record<string, unknown>): boolean;
}

/** Options of {@linkcode PublishedJobs}. */
export interface PublishedJobsOptions {
  /**
   * How long a job is kept, in ms.
   *
   * @default {24 hours}
   */
  ttlMs?: number;
  /**
   * Most jobs kept.
   *
   * @default {10000}
   */
  maxJobs?: number;
  /**
   * Most pending (job, minion) pairs kept, over all jobs.
   *
   * @default {1000000}
   */
  maxPending?: number;
  /** The clock (for tests). Default `Date.now`. */
  now?: () => number;
}

/** Counters of a {@linkcode PublishedJobs}. */
export interface PublishedJobsStats {
  /** Jobs held now. */
  jobs: number;
  /** Pending (job, minion) pairs held now. */
  pending: number;
  /** Jobs forgotten before their time because a limit was reached, since start. */
  evicted: number;
  /** Jobs forgotten because they expired, since start. */
  expired: number;
}

/** What {@linkcode PublishedJobs.lost} reports: a pending minion of a watched job left. */
export interface LostMinion {
  /** The job. */
  jid: string;
  /** Who published it. */
  publisher: JobPublisher;
}

interface Entry {
  readonly jid: string;
  readonly pending: Set<string>;
  readonly expires: number;
  publisher: JobPublisher | null;
}

/**
 * Published jobs and the returns still expected for them.
 *
 * @example
 * ```ts
 * import { PublishedJobs } from "./published_jobs.ts";
 * const jobs = new PublishedJobs();
 * jobs.add("20240501123456789012", ["web1", "web2"]);
 * jobs.acceptReturn("20240501123456789012", "web1"); // true
 * jobs.acceptReturn("20240501123456789012", "web1"); // false: it returned already
 * jobs.acceptReturn("20240501123456789012", "db1"); // false: not published to db1
 * jobs.isPublished("20240501123456789012"); // true
 * ```
 */
export class PublishedJobs {
  readonly #ttlMs: number;
  readonly #maxJobs: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  readonly #jobs = new Map<string, Entry>();
  readonly #watched = new Set<Entry>();
  #pending = 0;
  #evicted = 0;
  #expired = 0;

  /** Creates an empty registry. */
  constructor(options: PublishedJobsOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_PUBLISHED_JOB_TTL_MS;
    this.#maxJobs = options.maxJobs ?? DEFAULT_PUBLISHED_JOBS_MAX;
    this.#maxPending = options.maxPending ?? DEFAULT_PENDING_RETURNS_MAX;
    this.#now = options.now ?? Date.now;
  }

  /** Counters: jobs, pending, evicted, expired. */
  get stats(): PublishedJobsStats {
    this.#sweep();
    return {
      jobs: this.#jobs.size,
      pending: this.#pending,
      evicted: this.#evicted,
      expired: this.#expired,
    };
  }

  /**
   * Records job `jid`, sent to `minions`; `publisher` (optional) hears
   * `lost()` reports for it. Resolves how many older jobs were forgotten to
   * make room (0 normally).
   */
  add(jid: string, minions: Iterable<string>, publisher: JobPublisher | null = null): number {
    this.#sweep();
    this.#remove(this.#jobs.get(jid));
    const entry: Entry = {
      jid,
      pending: new Set(minions),
      expires: this.#now() + this.#ttlMs,
      publisher,
    };
    this.#jobs.set(jid, entry);
    this.#pending += entry.pending.size;
    if (publisher !== null && entry.pending.size > 0) this.#watched.add(entry);
    let evicted = 0;
    while (
      this.#jobs.size > 1 &&
      (this.#jobs.size > this.#maxJobs || this.#pending > this.#maxPending)
    ) {
      const oldest = this.#jobs.values().next().value!;
      if (oldest === entry) break;
      this.#remove(oldest);
      evicted++;
    }
    this.#evicted += evicted;
    return evicted;
  }

  /** True when the master published `jid` (and has not forgotten it yet). */
  isPublished(jid: string): boolean {
    return this.#live(jid) !== undefined;
  }

  /**
   * True, once, when job `jid` was published to minion `id` and it has not
   * returned yet; the minion is no longer pending afterwards.
   */
  acceptReturn(jid: string, id: string): boolean {
    const entry = this.#live(jid);
    if (entry === undefined || !entry.pending.delete(id)) return false;
    this.#pending--;
    if (entry.pending.size === 0) this.#watched.delete(entry);
    return true;
  }

  /** True when job `jid` still waits for a return from minion `id`. */
  isPending(jid: string, id: string): boolean {
    return this.#live(jid)?.pending.has(id) ?? false;
  }

  /**
   * The watched jobs still waiting for minion `id`, which has just
   * disconnected: their publishers should hear it at once. The minion stays
   * pending (it may come back and return).
   */
  lost(id: string): LostMinion[] {
    this.#sweep();
    const out: LostMinion[] = [];
    for (const entry of this.#watched) {
      const publisher = entry.publisher!;
      if (publisher.closed) {
        entry.publisher = null;
        this.#watched.delete(entry);
        continue;
      }
      if (entry.pending.has(id)) out.push({ jid: entry.jid, publisher });
    }
    return out;
  }

  #live(jid: string): Entry | undefined {
    const entry = this.#jobs.get(jid);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.#now()) {
      this.#remove(entry);
      this.#expired++;
      return undefined;
    }
    return entry;
  }

  /** Drops expired jobs from the front (the map is in publishing order). */
  #sweep(): void {
    const now = this.#now();
    for (const entry of this.#jobs.values()) {
      if (entry.expires > now) break;
      this.#remove(entry);
      this.#expired++;
    }
  }

  #remove(entry: Entry | undefined): void {
    if (entry === undefined) return;
    this.#jobs.delete(entry.jid);
    this.#watched.delete(entry);
    this.#pending -= entry.pending.size;
  }
}
