/**
 * `event_return` (spec §14.2): a component that stores the master bus's
 * events in the returners `event_return` names (a name or a list; saltbus
 * has `sqlite`). Salt's queue semantics: events that pass
 * `event_return_whitelist` / `event_return_blacklist` (fnmatch globs) are
 * queued, and the queue is flushed when it holds `event_return_queue`
 * events (default 0: at once — saltbus lets the events that arrived
 * together go in one flush) or when its oldest event is
 * `event_return_queue_max_seconds` old (default 0: no age limit), on a real
 * timer rather than on the next event. `salt/event_listen/start` is fired
 * at start, as Salt does.
 *
 * Beyond Salt, nothing is silently cleared: a returner whose write fails
 * keeps the events in its own buffer (at most `event_return_buffer_max`
 * events, default 100000) and retries with back-off (0.5 s doubling up to
 * 30 s); what overflows that buffer is dropped (the oldest first), counted
 * and logged (at most once per 10 s, with the running total). On
 * shutdown the queue is flushed and each returner gets one last attempt;
 * what is still unstored is logged as dropped.
 *
 * @module
 */
import { Backoff } from "../bus/async.ts";
import { ConfigError } from "../bus/errors.ts";
import { fnmatch } from "../bus/tag_match.ts";
import { openReturner } from "../returners/registry.ts";
import type { FullEvent, Returner } from "../returners/returner.ts";
import type { MasterComponent, MasterContext } from "./master_context.ts";

/** Default `event_return_buffer_max`: events kept per returner while its writes fail. */
export const DEFAULT_EVENT_RETURN_BUFFER_MAX = 100_000;

/** At shutdown: how long the bus must be quiet after the drain marker. */
const DRAIN_QUIET_MS = 200;

/** At shutdown: the longest wait for the drain. */
const DRAIN_MAX_MS = 5000;

/** Events per `event_return` call at most. */
const CHUNK = 5000;

/**
 * Salt's `EventReturn._filter`: `false` for a peer's event (`__peer_id`),
 * else allowed when `allow` is empty or a glob matches, and then refused
 * when a `deny` glob matches.
 *
 * @example
 * ```ts
 * import { eventReturnFilter } from "./event_return.ts";
 * eventReturnFilter({ tag: "salt/test", data: {} }, ["salt/*"], ["salt/test"]); // false
 * ```
 */
export function eventReturnFilter(
  event: FullEvent & { __peer_id?: unknown },
  allow: readonly string[],
  deny: readonly string[],
): boolean {
  if ("__peer_id" in event) return false;
  let ok = allow.length === 0 || allow.some((glob) => fnmatch(event.tag, glob));
  if (ok && deny.some((glob) => fnmatch(event.tag, glob))) ok = false;
  return ok;
}

/** One returner with its retry buffer. */
class Sink {
  readonly buffer: FullEvent[] = [];
  dropped = 0;
  #warnedAt = -Infinity;
  #running: Promise<void> | null = null;
  readonly #backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  readonly #stop = new AbortController();

  constructor(
    readonly returner: Returner,
    readonly max: number,
    readonly log: MasterContext["log"],
    readonly filter: { allow: readonly string[]; deny: readonly string[] } | null = null,
  ) {}

  push(events: readonly FullEvent[]): void {
    for (const e of events) this.buffer.push(e);
    const over = this.buffer.length - this.max;
    if (over > 0) {
      this.buffer.splice(0, over);
      this.dropped += over;
      if (Date.now() - this.#warnedAt < 10_000) return this.#kick();
      this.#warnedAt = Date.now();
      this.log.warning(
        `event_return ${this.returner.name}: buffer full (${this.max} events): dropped the ` +
          `${over} oldest; ${this.dropped} dropped so far`,
      );
    }
    this.#kick();
  }

  #kick(): void {
    this.#running ??= this.#drain().finally(() => (this.#running = null));
  }

  async #drain(): Promise<void> {
    let failing = false;
    while (this.buffer.length > 0 && !this.#stop.signal.aborted) {
      const chunk = this.buffer.slice(0, CHUNK);
      try {
        await this.returner.event_return(chunk);
        this.buffer.splice(0, chunk.length);
        if (failing) this.log.info(`event_return ${this.returner.name}: storing again`);
        failing = false;
        this.#backoff.reset();
      } catch (err) {
        if (!failing) {
          this.log.error(
            `Could not store events - returner '${this.returner.name}' raised exception: ` +
              `${
                err instanceof Error ? err.message : err
              }; ${this.buffer.length} event(s) kept, retrying`,
          );
        }
        failing = true;
        await this.#backoff.wait({ signal: this.#stop.signal });
      }
    }
  }

  /** Stops retrying, makes one last attempt, closes the returner; resolves what was lost. */
  async close(): Promise<number> {
    this.#stop.abort();
    await this.#running;
    if (this.buffer.length > 0) {
      try {
        for (let i = 0; i < this.buffer.length; i += CHUNK) {
          await this.returner.event_return(this.buffer.slice(i, i + CHUNK));
        }
        this.buffer.length = 0;
      } catch {
        this.dropped += this.buffer.length;
        this.buffer.length = 0;
      }
    }
    await this.returner.close().catch(() => {});
    return this.dropped;
  }
}

function globs(value: unknown, option: string): string[] {
  if (value === undefined || value === null || value === "") return [];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.some((g) => typeof g !== "string")) {
    throw new ConfigError(`${option}: expected a list of tag globs, got ${JSON.stringify(value)}`);
  }
  return list;
}

function seconds(value: unknown, option: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !(value >= 0)) {
    throw new ConfigError(`${option}: expected a number >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * One returner's own filters (beyond Salt, #54123), applied after the global
 * ones: `event_return_whitelist` / `event_return_blacklist` in a mapping named
 * after the returner (`pgjsonb: {event_return_whitelist: [...]}`), or as flat
 * keys `returner.<name>.event_return_whitelist`. `null` when it has none.
 *
 * @throws {ConfigError} when a list is not a list of globs.
 * @example
 * ```ts
 * import { returnerFilter } from "./event_return.ts";
 * returnerFilter({ pgjsonb: { event_return_whitelist: ["salt/job/*"] } }, "pgjsonb");
 * // { allow: ["salt/job/*"], deny: [] }
 * ```
 */
export function returnerFilter(
  config: Record<string, unknown>,
  name: string,
): { allow: string[]; deny: string[] } | null {
  const block = config[name];
  const nested = block !== null && typeof block === "object" && !Array.isArray(block)
    ? block as Record<string, unknown>
    : {};
  const pick = (list: string) => {
    const flat = `returner.${name}.${list}`;
    if (config[flat] !== undefined) return globs(config[flat], flat);
    return globs(nested[list], `${name}.${list}`);
  };
  const allow = pick("event_return_whitelist");
  const deny = pick("event_return_blacklist");
  return allow.length === 0 && deny.length === 0 ? null : { allow, deny };
}

/** Options of {@linkcode eventReturnComponent}. */
export interface EventReturnComponentOptions {
  /** Returners to use instead of opening those `event_return` names (for tests and embedding). */
  returners?: Returner[];
}

/**
 * The `event_return` component (nothing runs when `event_return` is empty).
 *
 * @example
 * ```ts
 * import { eventReturnComponent } from "./event_return.ts";
 * console.log(eventReturnComponent().name); // "event_return"
 * ```
 */
export function eventReturnComponent(options: EventReturnComponentOptions = {}): MasterComponent {
  const sinks: Sink[] = [];
  const abort = new AbortController();
  let loop: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let soon: ReturnType<typeof setTimeout> | null = null;
  let queue: FullEvent[] = [];
  let log: MasterContext["log"] | null = null;
  let events: MasterContext["events"] | null = null;
  // Shutdown drain: a marker fired at close comes after every event the bus
  // had taken in; once it is read, and the bus has been quiet for a moment,
  // nothing accepted before the shutdown is still on its way.
  let drainMarker: string | null = null;
  let markerSeen = false;
  let drained: () => void = () => {};
  let quiet: ReturnType<typeof setTimeout> | null = null;
  const stillDraining = () => {
    if (quiet !== null) clearTimeout(quiet);
    quiet = setTimeout(() => drained(), DRAIN_QUIET_MS);
  };
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    if (soon !== null) clearTimeout(soon);
    timer = soon = null;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    for (const sink of sinks) {
      const f = sink.filter;
      sink.push(f === null ? batch : batch.filter((e) => eventReturnFilter(e, f.allow, f.deny)));
    }
  };
  return {
    name: "event_return",
    async start(ctx: MasterContext) {
      const { config } = ctx;
      log = ctx.log;
      events = ctx.events;
      const raw = config.event_return;
      const names = raw === undefined || raw === null || raw === ""
        ? []
        : typeof raw === "string"
        ? [raw]
        : raw;
      if (!Array.isArray(names)) {
        throw new ConfigError(`event_return: expected a returner name or a list of them`);
      }
      if (names.length === 0 && options.returners === undefined) return;
      const allow = globs(config.event_return_whitelist, "event_return_whitelist");
      const deny = globs(config.event_return_blacklist, "event_return_blacklist");
      const size = seconds(config.event_return_queue, "event_return_queue", 0);
      const maxAge = seconds(
        config.event_return_queue_max_seconds,
        "event_return_queue_max_seconds",
        0,
      );
      const bufferMax = seconds(
        config.event_return_buffer_max,
        "event_return_buffer_max",
        DEFAULT_EVENT_RETURN_BUFFER_MAX,
      );
      const returners = options.returners ??
        await Promise.all(names.map((n) => openReturner(n, config, "event_return")));
      for (const r of returners) {
        sinks.push(new Sink(r, Math.max(1, bufferMax), ctx.log, returnerFilter(config, r.name)));
      }
      const listener = ctx.bus.getEvent();
      loop = (async () => {
        try {
          for await (
            const event of listener.iterEvents<Record<string, unknown>>({
              full: true,
              signal: abort.signal,
              autoReconnect: true,
              keepAlive: false,
            })
          ) {
            if (drainMarker !== null) {
              if (event.tag === drainMarker) markerSeen = true;
              if (markerSeen) stillDraining();
              if (event.tag === drainMarker) continue;
            }
            if (!eventReturnFilter(event, allow, deny)) continue;
            queue.push({ tag: event.tag, data: event.data });
            if (maxAge > 0) timer ??= setTimeout(flush, maxAge * 1000);
            if (queue.length >= size) soon ??= setTimeout(flush, 0);
          }
        } finally {
          await listener.close();
        }
      })();
      await ctx.events.fireEvent({}, "salt/event_listen/start");
      ctx.log.info(`event_return: ${returners.map((r) => r.name).join(", ")}`);
    },
    async close() {
      if (loop !== null && events !== null) {
        drainMarker = `saltbus/event_return/drain/${crypto.randomUUID()}`;
        const done = new Promise<void>((resolve) => (drained = resolve));
        const deadline = setTimeout(() => drained(), DRAIN_MAX_MS);
        await events.fireEvent({}, drainMarker).catch(() => drained());
        await done;
        clearTimeout(deadline);
        if (quiet !== null) clearTimeout(quiet);
      }
      abort.abort();
      await loop?.catch(() => {});
      flush();
      for (const sink of sinks) {
        const dropped = await sink.close();
        if (dropped > 0) {
          log?.error(
            `event_return ${sink.returner.name}: ${dropped} event(s) could not be stored and were dropped`,
          );
        }
      }
    },
  };
}
