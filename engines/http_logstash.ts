/**
 * The `http_logstash` engine (Salt's `salt/engines/http_logstash.py`):
 * POSTs the data of every event that passes `tags` (fnmatch globs) and
 * `funs` to `url` as JSON (the tag is not sent, as in Salt).
 *
 * Beyond Salt, which sends each event once and forgets failures: events
 * wait in a bounded queue (`queue_max`, default 10000) while the target is
 * down and are retried with back-off (1 s doubling to 30 s) until it answers
 * 2xx; when the queue is full the oldest event is dropped, and drops are
 * counted and logged. `batch` (default 1, Salt's one object per request)
 * sends up to that many events per request, as a JSON array.
 *
 * @module
 */
import { Backoff } from "../bus/async.ts";
import { isMapping } from "../bus/mapping.ts";
import { fnmatch } from "../bus/tag_match.ts";
import type { EngineContext } from "./engine_context.ts";

/** Options of the http_logstash engine. */
export interface HttpLogstashOptions {
  /** The URL events are POSTed to (required). */
  url: string;
  /** Only job events of these functions (events without `fun` all pass). */
  funs?: string[] | null;
  /** Only events whose tag matches one of these globs. */
  tags?: string[] | null;
  /** Events per request: 1 (default) posts an object, more posts an array. */
  batch?: number;
  /** Events held while the target is down (default 10000); the oldest are dropped past it. */
  queue_max?: number;
  /** Seconds a request may take (default 10). */
  timeout?: number;
}

/**
 * Whether an event passes `tags` and `funs` (Salt's rules).
 *
 * @example
 * ```ts
 * import { passes } from "./http_logstash.ts";
 * passes("salt/job/1/ret/web1", { fun: "test.ping" }, ["salt/job/*"], ["test.ping"]); // true
 * passes("myco/x", {}, ["salt/job/*"], null); // false
 * ```
 */
export function passes(
  tag: string,
  data: unknown,
  tags: readonly string[] | null | undefined,
  funs: readonly string[] | null | undefined,
): boolean {
  if (Array.isArray(tags) && !tags.some((glob) => fnmatch(tag, glob))) return false;
  if (Array.isArray(funs) && funs.length > 0 && isMapping(data) && "fun" in data) {
    return funs.includes(String(data.fun));
  }
  return true;
}

/**
 * Exports events until `ctx.signal` aborts; then makes one last attempt to
 * send what is queued, and logs what is left.
 *
 * @example
 * ```ts
 * import { start } from "./http_logstash.ts";
 * import type { EngineContext } from "./engine_context.ts";
 * declare const ctx: EngineContext;
 * await start({ url: "http://logstash:8080", tags: ["salt/job/*"] }, ctx);
 * ```
 */
export async function start(options: HttpLogstashOptions, ctx: EngineContext): Promise<void> {
  const url = options.url;
  if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
    throw new Error(`http_logstash: url must be an http(s) URL, not ${JSON.stringify(url)}`);
  }
  const batch = Math.max(1, Math.floor(options.batch ?? 1));
  const queueMax = Math.max(1, Math.floor(options.queue_max ?? 10000));
  const timeoutMs = (options.timeout ?? 10) * 1000;
  const queue: unknown[] = [];
  let dropped = 0;
  const waker: { wake: (() => void) | null } = { wake: null };
  const events = ctx.events();
  await events.connected(5);

  const reader = (async () => {
    for await (
      const event of events.iterEvents({ full: true, autoReconnect: true, signal: ctx.signal })
    ) {
      if (!passes(event.tag, event.data, options.tags, options.funs)) continue;
      if (queue.length >= queueMax) {
        queue.shift();
        dropped++;
        if (dropped === 1 || dropped % 1000 === 0) {
          ctx.log.warning(
            `http_logstash: queue full (queue_max ${queueMax}); dropped ${dropped} event(s) so far`,
          );
        }
      }
      queue.push(event.data);
      waker.wake?.();
    }
  })();

  const post = async (items: unknown[]): Promise<boolean> => {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(batch === 1 ? items[0] : items),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
      if (response.ok) return true;
      ctx.log.warning(`http_logstash: ${url} answered ${response.status}; will retry`);
    } catch (err) {
      ctx.log.warning(`http_logstash: POST ${url} failed: ${err}; will retry`);
    }
    return false;
  };

  const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
  ctx.signal.addEventListener("abort", () => waker.wake?.(), { once: true });
  while (!ctx.signal.aborted) {
    if (queue.length === 0) {
      await new Promise<void>((resolve) => waker.wake = resolve);
      waker.wake = null;
      continue;
    }
    const items = queue.slice(0, batch);
    if (await post(items)) {
      queue.splice(0, items.length);
      backoff.reset();
    } else {
      await backoff.wait({ signal: ctx.signal }).catch(() => {});
    }
  }
  await reader;
  // One last try for what is queued, then count what is lost.
  while (queue.length > 0 && await post(queue.slice(0, batch))) queue.splice(0, batch);
  if (queue.length > 0 || dropped > 0) {
    ctx.log.warning(
      `http_logstash: stopping with ${queue.length} event(s) unsent; ${dropped} dropped in all`,
    );
  }
}
