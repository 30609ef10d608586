/**
 * `GET /events`: Server-Sent Events in salt-api's exact bytes (§6.1), plus
 * an `id:` line per event, resume from the history, server-side tag
 * filters, keep-alive comments and a bounded queue per client.
 *
 * @module
 */
import { concatBytes } from "../bus/bytes.ts";
import type { Logger } from "../bus/log.ts";
import { saltStamp } from "../bus/stamp.ts";
import type { TagMatcher } from "../bus/tag_match.ts";
import { pythonJsonDumps } from "../output/python_json.ts";
import { type TokenRecord, TokenStore } from "./auth.ts";
import type { EventBatch, EventHub, HubClient } from "./event_hub.ts";
import type { HistoryEntry } from "./history.ts";
import { sseTagLine } from "./sse_tag_line.ts";

/** The first bytes of every stream, as salt-api: `retry: 400` and a newline. */
export const SSE_PREAMBLE = "retry: 400\n";

/** Tag of the first event of a resumed stream when events were lost. */
export const MISSED_TAG = "saltbus/api/missed";

/** Tag of the last event sent to a client dropped for reading too slowly. */
export const CLIENT_DROPPED_TAG = "saltbus/api/dropped";

/** Headers of an event stream (§6.1). */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "text/event-stream;charset=utf-8",
  "cache-control": "no-cache",
  "connection": "keep-alive",
  "x-accel-buffering": "no",
});

const encoder = new TextEncoder();

/**
 * The JSON of a full event as salt-api writes it: `{"data": …, "tag": …}`,
 * one line, Python's separators, key order kept. Bytes become strings
 * (UTF-8, invalid sequences replaced), dates ISO strings, bigints digits.
 *
 * @example
 * ```ts
 * import { eventJson } from "./sse.ts";
 * eventJson("salt/auth", { a: 1 }); // '{"data": {"a": 1}, "tag": "salt/auth"}'
 * ```
 */
export function eventJson(tag: string, data: unknown): string {
  return `{"data": ${pythonJsonDumps(data)}, "tag": ${pythonJsonDumps(tag)}}`;
}

/**
 * The SSE text of an event the API makes itself (no `id:` line: it is not
 * in the history): `tag:` and `data:` lines as salt-api, then a blank line.
 * Bus events get the same lines plus `id:` from the hub, which writes them
 * as bytes.
 *
 * @example
 * ```ts
 * import { sseEvent } from "./sse.ts";
 * sseEvent("saltbus/api/missed", '{"data": {}, "tag": "saltbus/api/missed"}');
 * // 'tag: saltbus/api/missed\ndata: {"data": {}, "tag": "saltbus/api/missed"}\n\n'
 * ```
 */
export function sseEvent(tag: string, json: string): string {
  return `tag: ${sseTagLine(tag)}\ndata: ${json}\n\n`;
}

/** An event made by the API itself, as bytes. */
function noticeBytes(tag: string, data: Record<string, unknown>): Uint8Array {
  return encoder.encode(sseEvent(tag, eventJson(tag, { ...data, _stamp: saltStamp() })));
}

/** A server-side tag filter: `?tag=<pattern>&match_type=<type>`. */
export interface TagFilter {
  /** The pattern. */
  tag: string;
  /** Its matcher. */
  matcher: TagMatcher;
}

/** Options of {@linkcode SseStream}. */
export interface SseStreamOptions {
  /** Where events come from. */
  hub: EventHub;
  /** The token's record: the stream ends when it expires or is revoked. */
  token: TokenRecord;
  /** Only events whose tag matches; `null`: all. */
  filter: TagFilter | null;
  /** Resume after this id (`Last-Event-ID` or `?since=`); `null`: live events only. */
  since: number | null;
  /** Milliseconds between keep-alive comments on a quiet stream; 0: none. */
  keepaliveMs: number;
  /** Bytes queued for this client before it is dropped. */
  bufferLimit: number;
  /** Who the client is, for log lines. */
  peer: string;
  /** Where to log. */
  log: Logger;
  /** Called once when the stream ends, whatever the reason. */
  onEnd?: () => void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const DROP_GRACE_MS = 5000;

/**
 * One `/events` stream. Its {@linkcode body} is the response body; the
 * queue behind it holds at most `bufferLimit` bytes: a client that falls
 * further behind gets a final `saltbus/api/dropped` event and is
 * disconnected, and nobody else notices.
 *
 * @example
 * ```ts
 * import { SseStream } from "./sse.ts";
 * import type { SseStreamOptions } from "./sse.ts";
 * declare const options: SseStreamOptions;
 * const stream = new SseStream(options);
 * const response = new Response(stream.body);
 * ```
 */
export class SseStream implements HubClient {
  /** The response body. */
  readonly body: ReadableStream<Uint8Array>;
  readonly #options: SseStreamOptions;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  #dropTimer: ReturnType<typeof setTimeout> | undefined;
  #wrote = false;
  #ended = false;
  #finished = false;

  /** Opens the stream: preamble, replay, then live events. */
  constructor(options: SseStreamOptions) {
    this.#options = options;
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        this.#open();
      },
      cancel: () => {
        this.#detach();
        clearTimeout(this.#dropTimer);
        this.#finish();
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: options.bufferLimit }));
  }

  /** Takes a batch from the hub. */
  deliver(batch: EventBatch): void {
    if (this.#ended) return;
    if (!TokenStore.valid(this.#options.token)) return this.end();
    const { filter } = this.#options;
    let bytes: Uint8Array;
    if (filter === null) bytes = batch.sse;
    else {
      const parts: Uint8Array[] = [];
      for (const event of batch.events) {
        if (filter.matcher(event.tag, filter.tag)) parts.push(event.sse);
      }
      if (parts.length === 0) return;
      bytes = parts.length === 1 ? parts[0] : concatBytes(parts);
    }
    this.#write(bytes);
  }

  /** Ends the stream when its token is no longer valid (after a logout). */
  revalidate(): void {
    if (!TokenStore.valid(this.#options.token)) this.end();
  }

  /** Ends the stream (token expired, logout, server closing); idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#detach();
    try {
      this.#controller.close();
    } catch { /* already closed or cancelled */ }
    this.#finish();
  }

  #open(): void {
    const { hub, since, filter, token, keepaliveMs, bufferLimit } = this.#options;
    this.#controller.enqueue(encoder.encode(SSE_PREAMBLE));
    if (since !== null) {
      const resume = hub.history.since(since);
      let entries: HistoryEntry[] = resume.entries;
      if (filter !== null) entries = entries.filter((e) => filter.matcher(e.tag, filter.tag));
      // Replay at most half the client's buffer, newest events first kept.
      let bytes = 0;
      let first = entries.length;
      while (first > 0 && bytes + entries[first - 1].sse.length <= bufferLimit / 2) {
        bytes += entries[--first].sse.length;
      }
      let missed = resume.missed;
      if (first > 0 && missed !== null) missed += first;
      if (missed !== 0) {
        this.#controller.enqueue(noticeBytes(MISSED_TAG, {
          missed,
          since,
          oldest: entries[first]?.id ?? hub.history.lastId + 1,
          ...(missed === null ? { reason: `unknown event id ${since}: the API restarted` } : {}),
        }));
      }
      if (first < entries.length) {
        this.#controller.enqueue(concatBytes(entries.slice(first).map((e) => e.sse), bytes));
      }
    }
    hub.attach(this);
    this.#armExpiry(token);
    if (keepaliveMs > 0) {
      this.#keepaliveTimer = setInterval(() => {
        if (!this.#wrote) this.#write(encoder.encode(": keep-alive\n\n"));
        this.#wrote = false;
      }, keepaliveMs);
    }
  }

  #armExpiry(token: TokenRecord): void {
    const ms = token.expire * 1000 - Date.now();
    this.#expiryTimer = setTimeout(() => {
      if (TokenStore.valid(token)) this.#armExpiry(token);
      else this.end();
    }, Math.max(0, Math.min(ms, MAX_TIMER_MS)));
  }

  #write(bytes: Uint8Array): void {
    this.#wrote = true;
    this.#controller.enqueue(bytes);
    if (this.#controller.desiredSize! < 0) this.#drop();
  }

  #drop(): void {
    const { bufferLimit, peer, log } = this.#options;
    const queued = bufferLimit - this.#controller.desiredSize!;
    log.warning(
      `API: dropping /events client ${peer}: ${queued} bytes queued, over api_client_buffer (${bufferLimit})`,
    );
    this.#detach();
    this.#controller.enqueue(noticeBytes(CLIENT_DROPPED_TAG, {
      reason: "the client read too slowly: its queue went over api_client_buffer",
      api_client_buffer: bufferLimit,
      queued_bytes: queued,
    }));
    this.#controller.close();
    // A client that reads nothing at all would pin its queue: cut it off.
    this.#dropTimer = setTimeout(() => this.#abort(), DROP_GRACE_MS);
  }

  /** Discards what is queued and aborts the response. */
  #abort(): void {
    clearTimeout(this.#dropTimer);
    this.#dropTimer = undefined;
    try {
      this.#controller.error(new Error("client dropped"));
    } catch { /* drained and closed meanwhile */ }
    this.#finish();
  }

  #detach(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#options.hub.detach(this);
    clearTimeout(this.#expiryTimer);
    clearInterval(this.#keepaliveTimer);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#options.onEnd?.();
  }

  /** Ends the stream now, dropping anything still queued (server shutdown). */
  dispose(): void {
    if (this.#dropTimer !== undefined) this.#abort();
    else this.end();
  }
}
