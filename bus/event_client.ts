/**
 * The event client: Salt's `SaltEvent` (§3) for TypeScript. It listens on a
 * bus's pub side and fires into its pull side through a
 * {@linkcode Connector} (Unix sockets or an in-process broker's ports).
 *
 * @module
 */
import { delay, raceDeadline, TIMED_OUT } from "./async.ts";
import { CoalescingWriter } from "./coalescing_writer.ts";
import type { BusConfig } from "./config.ts";
import { EventDataError, SaltbusError } from "./errors.ts";
import { decodeTag, packEventFrame, type SaltEvent, validateTag } from "./event_codec.ts";
import { FrameScanner, type FrameSink } from "./frame.ts";
import type { Logger } from "./log.ts";
import { packData, unpackData } from "./msgpack.ts";
import { permissionError } from "./permission.ts";
import { saltStamp } from "./stamp.ts";
import { getMatcher, type MatchType, type TagMatcher } from "./tag_match.ts";
import type { ByteChannel, Connector } from "./transport.ts";
import { trimToSize } from "./trim.ts";

/** Options of {@linkcode EventClient.getEvent}, as Salt's `get_event` (§3.3). */
export interface GetEventOptions {
  /** Seconds to wait for a matching event; `0` waits forever. Default 5. */
  wait?: number;
  /** Tag to match; `""` (default) matches everything. */
  tag?: string;
  /** Resolve the full event `{data, tag}` instead of the data. Default false. */
  full?: boolean;
  /** How `tag` is matched; default the `event_match_type` option (`startswith`). */
  matchType?: MatchType;
  /** Make exactly one read attempt and do not wait. Default false. */
  noBlock?: boolean;
  /** Reconnect when the bus closes the stream (e.g. a broker restart). Default false. */
  autoReconnect?: boolean;
  /** Stops waiting (resolves `null`) when aborted. */
  signal?: AbortSignal;
  /**
   * Whether waiting keeps the process alive. Default true; `false` for a
   * background reader that must not hold a script open.
   */
  keepAlive?: boolean;
}

/** Options of {@linkcode EventClient.iterEvents}, as Salt's `iter_events` (§3.6). */
export interface IterEventsOptions {
  /** Tag to match; `""` (default) matches everything. */
  tag?: string;
  /** Yield full events `{data, tag}` instead of data. Default false. */
  full?: boolean;
  /** How `tag` is matched; default the `event_match_type` option. */
  matchType?: MatchType;
  /** Reconnect when the bus closes the stream. Default false, as Salt. */
  autoReconnect?: boolean;
  /** Ends the iteration when aborted. */
  signal?: AbortSignal;
  /** Whether waiting keeps the process alive (default true; see {@linkcode GetEventOptions}). */
  keepAlive?: boolean;
}

/** Options of {@linkcode EventClient.fireEvent}. */
export interface FireEventOptions {
  /** Milliseconds to try connecting to the bus (Salt's `timeout`). Default 1000. */
  timeout?: number;
}

/** Options of {@linkcode EventClient}. */
export interface EventClientOptions {
  /** Connect the listening side now (Salt's `listen`). Default true. */
  listen?: boolean;
  /** Throw when the stream closes instead of resolving `null` (Salt's `raise_errors`). */
  raiseErrors?: boolean;
}

/** The stream to the bus closed while reading (only with `raiseErrors`). */
export class StreamClosedError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StreamClosedError";
  }
}

/** One received event: tag decoded, data decoded on first use. */
class ReceivedEvent {
  #data: unknown = undefined;
  #decoded = false;

  constructor(
    readonly tag: string,
    readonly buffer: Uint8Array,
    readonly dataStart: number,
    readonly end: number,
  ) {}

  get data(): unknown {
    if (!this.#decoded) {
      this.#data = unpackData(this.buffer.subarray(this.dataStart, this.end));
      this.#decoded = true;
    }
    return this.#data;
  }
}

const CLOSED = Symbol("closed");

/**
 * A connection to one event bus: `getEvent`, `iterEvents`, `fireEvent`,
 * `fireMaster`, `subscribe`, `unsubscribe`. Created by `getEvent()` in
 * mod.ts or by a bus handle; closes with `close()` or `await using`.
 *
 * @example
 * ```ts
 * import { getEvent } from "../mod.ts";
 * await using ev = getEvent("master", { sockDir: "/tmp/saltbus-test" });
 * await ev.fireEvent({ a: 1 }, "my/tag");
 * const data = await ev.getEvent({ wait: 5, tag: "my/" });
 * ```
 */
export class EventClient implements AsyncDisposable {
  readonly #connector: Connector;
  readonly #config: BusConfig;
  readonly #log: Logger;
  readonly #raiseErrors: boolean;

  #pub: ByteChannel | null = null;
  #pubConnecting: Promise<ByteChannel | null> | null = null;
  #pendingRead: Promise<Uint8Array | null> | null = null;
  #scanner = new FrameScanner();
  #inbox: ReceivedEvent[] = [];
  #inboxHead = 0;
  readonly #sink: FrameSink;

  #pull: CoalescingWriter | null = null;
  #pullConnecting: Promise<CoalescingWriter | null> | null = null;
  #pullWatch: Promise<void> | null = null;

  /** Salt's `pending_tags`: subscriptions, each with its matcher. */
  readonly #subscriptions: { tag: string; matchType: MatchType; matcher: TagMatcher }[] = [];
  /** Salt's `pending_events`: events kept for a later `getEvent`. */
  #pendingEvents: ReceivedEvent[] = [];
  #closed = false;

  /**
   * Creates a client; with `listen` (default) it starts connecting to the
   * pub side at once, so events fired from now on are seen.
   */
  constructor(
    connector: Connector,
    config: BusConfig,
    log: Logger,
    options: EventClientOptions = {},
  ) {
    this.#connector = connector;
    this.#config = config;
    this.#log = log;
    this.#raiseErrors = options.raiseErrors ?? false;
    this.#sink = {
      frame: (buffer, _start, _end, bodyStart, tagEnd, bodyEnd) => {
        this.#inbox.push(
          new ReceivedEvent(decodeTag(buffer, bodyStart, tagEnd), buffer, tagEnd + 2, bodyEnd),
        );
      },
    };
    // A permission refusal here surfaces from connected(), getEvent() and iterEvents().
    if (options.listen ?? true) this.#connectPub().catch(() => {});
  }

  /** The configuration this client uses (Salt's `opts`). */
  get opts(): Readonly<BusConfig> {
    return this.#config;
  }

  /** Where the bus is, for messages. */
  get location(): string {
    return this.#connector.describe();
  }

  /**
   * Resolves when the listening side is connected: `true`, or `false` when
   * the bus could not be reached within `wait` seconds.
   */
  async connected(wait = 5): Promise<boolean> {
    return (await this.#ensurePub(Date.now() + wait * 1000)) !== null;
  }

  /**
   * Waits for the next event whose tag matches (§3.3) and resolves its data
   * (or the full event with `full: true`), or `null` when `wait` seconds pass.
   * Events that match neither this call nor a subscription are dropped;
   * those matching a subscription are kept for a later call.
   *
   * @example
   * ```ts
   * import { getEvent } from "../mod.ts";
   * await using ev = getEvent("master", { sockDir: "/tmp/saltbus-test" });
   * const ret = await ev.getEvent({ tag: "salt/job/*\/ret/*", matchType: "fnmatch", full: true });
   * ```
   */
  getEvent<T = Record<string, unknown>>(
    options: GetEventOptions & { full: true },
  ): Promise<SaltEvent<T> | null>;
  /** Waits for the next matching event and resolves its data. */
  getEvent<T = Record<string, unknown>>(options?: GetEventOptions): Promise<T | null>;
  /** Implementation of both forms. */
  async getEvent(options: GetEventOptions = {}): Promise<unknown> {
    const tag = options.tag ?? "";
    const matcher = getMatcher(options.matchType ?? this.#config.event_match_type);
    const full = options.full ?? false;

    const ready = this.#nextReady(tag, matcher);
    if (ready) return this.#result(ready, full);

    const wait = options.wait ?? 5;
    const deadline = options.noBlock
      ? Date.now()
      : wait === 0
      ? Infinity
      : Date.now() + wait * 1000;
    while (true) {
      if (options.signal?.aborted || this.#closed) return null;
      const event = await this.#next(deadline, options.signal, options.keepAlive ?? true);
      if (event === TIMED_OUT) return null;
      if (event === CLOSED) {
        if (options.autoReconnect && !this.#closed) {
          this.#log.debug(`event stream from ${this.location} closed; reconnecting`);
          continue;
        }
        if (this.#raiseErrors) {
          throw new StreamClosedError(`the event stream from ${this.location} closed`);
        }
        return null;
      }
      if (matcher(event.tag, tag) && this.#subproxyMatches(event)) {
        return this.#result(event, full);
      }
      if (this.#subscribed(event.tag)) this.#pendingEvents.push(event);
    }
  }

  /**
   * Yields matching events forever (§3.6): `getEvent` with 5 s waits, `null`
   * results skipped. Ends when `signal` aborts or the client closes.
   *
   * @example
   * ```ts
   * import { getEvent } from "../mod.ts";
   * await using ev = getEvent("master", { sockDir: "/tmp/saltbus-test" });
   * for await (const e of ev.iterEvents({ tag: "custom/.*", matchType: "regex", full: true })) {
   *   console.log(e.tag, e.data);
   * }
   * ```
   */
  iterEvents<T = Record<string, unknown>>(
    options: IterEventsOptions & { full: true },
  ): AsyncGenerator<SaltEvent<T>>;
  /** Yields the data of matching events. */
  iterEvents<T = Record<string, unknown>>(options?: IterEventsOptions): AsyncGenerator<T>;
  /** Implementation of both forms. */
  async *iterEvents(options: IterEventsOptions = {}): AsyncGenerator<unknown> {
    const { signal } = options;
    const tag = options.tag ?? "";
    const matcher = getMatcher(options.matchType ?? this.#config.event_match_type);
    const full = options.full ?? false;
    while (!this.#closed && !signal?.aborted) {
      // Events already received are yielded without a getEvent round each.
      const ready = this.#nextReady(tag, matcher);
      if (ready) {
        const result = this.#result(ready, full);
        if (result !== null) yield result;
        continue;
      }
      const event = await this.getEvent({ ...options, wait: 5 });
      if (event !== null) yield event;
      else if (!options.autoReconnect && this.#pub === null && !this.#closed) {
        // Not connected: do not spin; getEvent retries connecting within its wait.
        await delay(100, { signal, unref: options.keepAlive === false });
      }
    }
  }

  /**
   * Fires `data` under `tag` (§3.9): adds `_stamp`, trims to
   * `max_event_size`, writes to the bus. Resolves `true` once handed to the
   * socket layer, `false` when the bus cannot be reached within
   * `options.timeout` ms (the event is lost, as in Salt).
   *
   * @throws {EventDataError} for an empty tag, a tag with `"\n\n"`, or data
   * that is not a mapping.
   * @example
   * ```ts
   * import { getEvent } from "../mod.ts";
   * await using ev = getEvent("master", { sockDir: "/tmp/saltbus-test", listen: false });
   * const ok = await ev.fireEvent({ success: true }, "myco/mytag/success");
   * ```
   */
  async fireEvent(
    data: Record<string, unknown>,
    tag: string,
    options: FireEventOptions = {},
  ): Promise<boolean> {
    if (this.#closed) throw new SaltbusError("fireEvent() on a closed event client");
    validateTag(tag);
    const event = toMapping(data);
    if (this.#config.subproxy) event.proxy_target = this.#config.id;
    event._stamp = saltStamp();
    const writer = this.#pull ?? await this.#connectPull(options.timeout ?? 1000);
    if (writer === null) return false;
    const limit = this.#config.max_event_size;
    const queued = writer.enqueueEvent(tag, event, limit);
    if (queued !== null) return await queued;
    return await writer.enqueue(packEventFrame(tag, this.#trimmed(event, tag, limit)));
  }

  /**
   * Fires on this bus the tag `fire_master` with
   * `{tag, data, events: null, pretag: null}` (§3.11), which a minion daemon
   * forwards to its master.
   *
   * @example
   * ```ts
   * import { getEvent } from "../mod.ts";
   * await using ev = getEvent("minion", { sockDir: "/tmp/m", opts: { id: "web1" }, listen: false });
   * await ev.fireMaster({ x: 1 }, "my/tag");
   * ```
   */
  fireMaster(
    data: Record<string, unknown>,
    tag: string,
    options: FireEventOptions = {},
  ): Promise<boolean> {
    return this.fireEvent({ tag, data, events: null, pretag: null }, "fire_master", options);
  }

  /**
   * Keeps events matching `tag` for later `getEvent` calls (§3.4). Without a
   * tag this does nothing, as in Salt.
   *
   * @example
   * ```ts
   * import { getEvent } from "../mod.ts";
   * await using ev = getEvent("master", { sockDir: "/tmp/saltbus-test" });
   * ev.subscribe("evt1");
   * ```
   */
  subscribe(tag?: string | null, matchType?: MatchType): void {
    if (tag === undefined || tag === null) return;
    const type = matchType ?? this.#config.event_match_type;
    this.#subscriptions.push({ tag, matchType: type, matcher: getMatcher(type) });
  }

  /**
   * Removes one equal subscription (no error when absent) and drops kept
   * events no subscription matches any more.
   *
   * @example
   * ```ts
   * import { getEvent } from "../mod.ts";
   * await using ev = getEvent("master", { sockDir: "/tmp/saltbus-test" });
   * ev.subscribe("evt1");
   * ev.unsubscribe("evt1");
   * ```
   */
  unsubscribe(tag?: string | null, matchType?: MatchType): void {
    if (tag === undefined || tag === null) return;
    const type = matchType ?? this.#config.event_match_type;
    const index = this.#subscriptions.findIndex((s) => s.tag === tag && s.matchType === type);
    if (index >= 0) this.#subscriptions.splice(index, 1);
    this.#pendingEvents = this.#pendingEvents.filter((event) => this.#subscribed(event.tag));
  }

  /** Waits until everything fired so far has been written to the bus. */
  async flush(): Promise<void> {
    await this.#pull?.drain();
  }

  /** Flushes fired events, then closes both connections (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pullConnecting;
    if (this.#pull) {
      await this.#pull.drain();
      this.#pull.channel.close();
      this.#pull = null;
    }
    await this.#pullWatch;
    this.#pub?.close();
    const connecting = this.#pubConnecting;
    this.#pub = null;
    (await connecting)?.close();
    await this.#pendingRead?.catch(() => null);
    this.#pendingRead = null;
    this.#pendingEvents = [];
    this.#inbox = [];
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------- reading

  /**
   * The next matching event among those kept and those received and not
   * looked at yet, without waiting; as getEvent would take it (kept events
   * first; received ones that match only a subscription are kept).
   */
  #nextReady(tag: string, matcher: TagMatcher): ReceivedEvent | null {
    const cached = this.#takePending(tag, matcher);
    if (cached) return cached;
    for (let event = this.#shiftInbox(); event; event = this.#shiftInbox()) {
      if (matcher(event.tag, tag) && this.#subproxyMatches(event)) return event;
      if (this.#subscribed(event.tag)) this.#pendingEvents.push(event);
    }
    return null;
  }

  /** The oldest received event not looked at yet, or `undefined`. */
  #shiftInbox(): ReceivedEvent | undefined {
    if (this.#inboxHead >= this.#inbox.length) return undefined;
    const event = this.#inbox[this.#inboxHead++];
    if (this.#inboxHead === this.#inbox.length) {
      this.#inbox = [];
      this.#inboxHead = 0;
    }
    return event;
  }

  #takePending(tag: string, matcher: TagMatcher): ReceivedEvent | null {
    if (this.#pendingEvents.length === 0) return null;
    let taken: ReceivedEvent | null = null;
    const kept: ReceivedEvent[] = [];
    for (const event of this.#pendingEvents) {
      if (taken === null && matcher(event.tag, tag)) taken = event;
      else if (this.#subscribed(event.tag)) kept.push(event);
    }
    this.#pendingEvents = kept;
    return taken;
  }

  #subscribed(tag: string): boolean {
    for (const s of this.#subscriptions) if (s.matcher(tag, s.tag)) return true;
    return false;
  }

  #subproxyMatches(event: ReceivedEvent): boolean {
    if (!this.#config.subproxy) return true;
    const data = event.data as Record<string, unknown> | null;
    return data?.proxy_target === this.#config.id;
  }

  #result(event: ReceivedEvent, full: boolean): unknown {
    let data: unknown;
    try {
      data = event.data;
    } catch (err) {
      this.#log.error(
        `Unable to deserialize received event ${JSON.stringify(event.tag)}: ${
          err instanceof Error ? err.message : err
        }`,
      );
      return null;
    }
    return full ? { data, tag: event.tag } : data;
  }

  /** Next received event, or TIMED_OUT at the deadline, or CLOSED when the stream ended. */
  async #next(
    deadline: number,
    signal: AbortSignal | undefined,
    keepAlive: boolean,
  ): Promise<ReceivedEvent | typeof TIMED_OUT | typeof CLOSED> {
    while (true) {
      const event = this.#shiftInbox();
      if (event) return event;
      const channel = this.#pub ?? await this.#ensurePub(deadline, signal, keepAlive);
      if (channel === null) return TIMED_OUT;
      this.#pendingRead ??= channel.read();
      // An idle listener never holds a script open; a wait with no deadline
      // (no timer of its own) keeps the read referenced while it waits.
      const holdOpen = keepAlive && deadline === Infinity;
      if (holdOpen) channel.ref?.();
      const chunk = await raceDeadline(this.#pendingRead, deadline, signal, { unref: !keepAlive })
        .catch((err) => {
          this.#log.debug(`reading from ${this.location} failed: ${err?.message ?? err}`);
          return null;
        });
      if (holdOpen) channel.unref?.();
      if (chunk === TIMED_OUT) return TIMED_OUT;
      this.#pendingRead = null;
      if (chunk === null) {
        this.#dropPub();
        return CLOSED;
      }
      try {
        this.#scanner.push(chunk, this.#sink);
      } catch (err) {
        this.#log.error(
          `bad frame from ${this.location}: ${err instanceof Error ? err.message : err}`,
        );
        this.#dropPub();
        return CLOSED;
      }
    }
  }

  #dropPub(): void {
    this.#pub?.close();
    this.#pub = null;
    this.#scanner = new FrameScanner();
  }

  async #ensurePub(
    deadline: number,
    signal?: AbortSignal,
    keepAlive = true,
  ): Promise<ByteChannel | null> {
    while (!this.#closed) {
      if (this.#pub) return this.#pub;
      const channel = await this.#connectPub();
      if (channel) return channel;
      if (Date.now() >= deadline || signal?.aborted) return null;
      await delay(Math.min(100, Math.max(0, deadline - Date.now())), {
        signal,
        unref: !keepAlive,
      });
    }
    return null;
  }

  #connectPub(): Promise<ByteChannel | null> {
    this.#pubConnecting ??= this.#connector.connectPub().then(
      (channel) => {
        this.#pubConnecting = null;
        if (this.#closed) {
          channel.close();
          return null;
        }
        channel.unref?.();
        this.#pub = channel;
        return channel;
      },
      (err) => {
        this.#pubConnecting = null;
        const denied = permissionError(err, `listening on ${this.location}`);
        if (denied) throw denied;
        this.#log.debug(`cannot listen on ${this.location}: ${err?.message ?? err}`);
        return null;
      },
    );
    return this.#pubConnecting;
  }

  // ----------------------------------------------------------------- firing

  #connectPull(timeoutMs: number): Promise<CoalescingWriter | null> {
    this.#pullConnecting ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      try {
        while (!this.#closed) {
          try {
            const channel = await this.#connector.connectPull();
            if (this.#closed) {
              channel.close();
              return null;
            }
            channel.unref?.();
            const writer = new CoalescingWriter(channel, (err) => {
              this.#log.debug(`Publisher send failed with exception: ${err}`);
              if (this.#pull === writer) this.#pull = null;
              channel.close();
            });
            this.#pull = writer;
            // The bus never writes on the pull side: end of stream there means
            // the broker went away, so the next fireEvent reconnects.
            this.#pullWatch = channel.read().catch(() => null).then(() => {
              if (this.#pull === writer) this.#pull = null;
              channel.close();
            });
            return writer;
          } catch (err) {
            const denied = permissionError(err, `firing on ${this.location}`);
            if (denied) throw denied;
            if (Date.now() >= deadline) {
              this.#log.debug(`Unable to connect pusher: ${(err as Error)?.message ?? err}`);
              return null;
            }
            await delay(Math.min(50, deadline - Date.now()));
          }
        }
        return null;
      } finally {
        this.#pullConnecting = null;
      }
    })();
    return this.#pullConnecting;
  }

  /** The packed data of an event over `max_event_size`, trimmed as Salt trims it. */
  #trimmed(event: Record<string, unknown>, tag: string, limit: number): Uint8Array {
    const packed = packData(event);
    const result = trimToSize(event, packed, limit);
    this.#log.warning(
      `event ${JSON.stringify(tag)} data is ${packed.length} bytes, over max_event_size ` +
        `(${limit}): trimmed ${
          result.trimmed.join(", ") || "nothing"
        } to ${result.packed.length} bytes`,
    );
    return result.packed;
  }
}

/** Copies event data into a fresh plain object, or throws Salt's error for non-mappings. */
function toMapping(data: unknown): Record<string, unknown> {
  if (data instanceof Map) return Object.fromEntries(data);
  if (
    typeof data !== "object" || data === null || Array.isArray(data) ||
    ArrayBuffer.isView(data) || data instanceof Date || data instanceof Set
  ) {
    const shown = typeof data === "string" ? data : JSON.stringify(data) ?? String(data);
    throw new EventDataError(`Dict object expected, not '${shown}'.`);
  }
  return { ...(data as Record<string, unknown>) };
}
