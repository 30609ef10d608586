/**
 * The API's one subscriber of the bus: reads frames from a
 * {@linkcode Connector} (the in-process broker's ports inside `master`, the
 * bus's Unix sockets for `cli.ts api`), turns each event into SSE text once
 * (msgpack straight to JSON bytes, without building objects), keeps it in
 * the history and hands the same bytes to every connected client.
 *
 * @module
 */
import { Backoff } from "../bus/async.ts";
import { decodeTag } from "../bus/event_codec.ts";
import { FrameScanner, type FrameSink } from "../bus/frame.ts";
import type { Logger } from "../bus/log.ts";
import { unpackData } from "../bus/msgpack.ts";
import type { ByteChannel, Connector } from "../bus/transport.ts";
import { History, type HistoryEntry, type HistoryStore } from "./history.ts";
import { pythonJsonDumps } from "../output/python_json.ts";
import { ByteWriter, msgpackToJson, writeJsonString } from "./msgpack_json.ts";
import { sseTagLine } from "./sse_tag_line.ts";

const decoder = new TextDecoder();
const EMPTY = new Uint8Array();

/**
 * One event as clients receive it: its SSE bytes, and on demand the JSON of
 * `{"data": …, "tag": …}` as text and the decoded data (for WebSocket
 * clients only: SSE clients get the bytes as they are).
 *
 * @example
 * ```ts
 * import type { LiveEvent } from "./event_hub.ts";
 * declare const event: LiveEvent;
 * console.log(event.id, event.tag, event.json);
 * ```
 */
export class LiveEvent implements HistoryEntry {
  /** Its SSE text (`tag:`, `data:`, `id:` lines and a blank line), UTF-8. */
  sse: Uint8Array = EMPTY;

  /** @internal Made by the hub. */
  constructor(
    /** Its SSE id. */
    readonly id: number,
    /** Its tag. */
    readonly tag: string,
    private readonly jsonStart: number,
    private readonly jsonEnd: number,
    private readonly frame: Uint8Array,
    private readonly dataStart: number,
    private readonly dataEnd: number,
  ) {}

  #json: string | undefined;
  #data: unknown;
  #decoded = false;

  /** `{"data": …, "tag": …}` as salt-api writes it (Python's separators); made once. */
  get json(): string {
    return this.#json ??= decoder.decode(this.sse.subarray(this.jsonStart, this.jsonEnd));
  }

  /** The decoded data; decoded once, on first use. */
  get data(): unknown {
    if (!this.#decoded) {
      this.#data = unpackData(this.frame.subarray(this.dataStart, this.dataEnd));
      this.#decoded = true;
    }
    return this.#data;
  }
}

/** The events read from one chunk of the bus stream, in order. */
export interface EventBatch {
  /** The events. */
  events: LiveEvent[];
  /** Their SSE texts joined: what an unfiltered stream writes. */
  sse: Uint8Array;
}

/** A client of the hub: gets every batch, synchronously, in order. */
export interface HubClient {
  /** Takes a batch; must not throw and must not block. */
  deliver(batch: EventBatch): void;
}

/** Options of {@linkcode EventHub}. */
export interface EventHubOptions {
  /** Events kept for resuming. */
  historySize: number;
  /** Bytes of SSE text kept for resuming. */
  historyBytes: number;
  /** Largest frame accepted from the bus. */
  maxFrameSize: number;
  /** Where the history is kept durably (`api_history_file`); ids continue from it. */
  journal?: HistoryStore | null;
  /** Where to log. */
  log: Logger;
}

/** Starting size of a batch's output buffer. */
const OUT_CAPACITY = 128 * 1024;

/**
 * Reads the bus and fans events out to clients. Reconnects when the bus
 * stream closes (a broker restart), until closed.
 *
 * @example
 * ```ts
 * import { startBus } from "../broker/start_bus.ts";
 * import { silentLogger } from "../bus/log.ts";
 * import { EventHub } from "./event_hub.ts";
 * await using bus = await startBus({ sockDir: await Deno.makeTempDir() });
 * const hub = new EventHub(bus.connector, {
 *   historySize: 100, historyBytes: 1 << 20, maxFrameSize: 1 << 24, log: silentLogger,
 * });
 * hub.attach({ deliver: (batch) => console.log(batch.events.map((e) => e.tag)) });
 * hub.start();
 * await hub.close();
 * ```
 */
export class EventHub {
  /** The kept events. */
  readonly history: History;
  readonly #connector: Connector;
  readonly #options: EventHubOptions;
  readonly #clients = new Set<HubClient>();
  #channel: ByteChannel | null = null;
  #closed = false;
  #running: Promise<void> | null = null;
  #connected = Promise.withResolvers<void>();
  #batch: LiveEvent[] = [];
  #offsets: number[] = [];
  #out = new ByteWriter(OUT_CAPACITY);
  #lastId = 0;
  readonly #stop = new AbortController();

  /** Creates a hub for `connector`'s bus; {@linkcode start} starts reading it. */
  constructor(connector: Connector, options: EventHubOptions) {
    this.#connector = connector;
    this.#options = options;
    this.history = new History(
      options.historySize,
      options.historyBytes,
      options.journal ?? null,
      (err) =>
        options.log.error(
          `API: cannot write the event history to api_history_file, keeping it in memory only: ${
            (err as Error)?.message ?? err
          }`,
        ),
    );
    this.#lastId = this.history.lastId;
  }

  /** Starts reading the bus (once), reconnecting until closed. */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Resolves once connected to the bus the first time. */
  connected(): Promise<void> {
    return this.#connected.promise;
  }

  /** Number of attached clients. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Adds a client; it gets every batch from now on. */
  attach(client: HubClient): void {
    this.#clients.add(client);
  }

  /** Removes a client. */
  detach(client: HubClient): void {
    this.#clients.delete(client);
  }

  /** Stops reading the bus. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#channel?.close();
    this.#stop.abort();
    await this.#running;
    this.#clients.clear();
  }

  async #run(): Promise<void> {
    const { log } = this.#options;
    const backoff = new Backoff({ initialMs: 50, maxMs: 1000 });
    let warned = false;
    while (!this.#closed) {
      let channel: ByteChannel;
      try {
        channel = await this.#connector.connectPub();
      } catch (err) {
        if (!warned) {
          log.warning(
            `API: cannot listen on ${this.#connector.describe()} (${
              (err as Error)?.message ?? err
            }); retrying`,
          );
          warned = true;
        }
        await backoff.wait({ signal: this.#stop.signal });
        continue;
      }
      if (this.#closed) {
        channel.close();
        break;
      }
      this.#channel = channel;
      backoff.reset();
      warned = false;
      log.info(`API: listening on ${this.#connector.describe()}`);
      this.#connected.resolve();
      const scanner = new FrameScanner({ maxFrameSize: this.#options.maxFrameSize });
      const sink: FrameSink = {
        frame: (buffer, _start, _end, bodyStart, tagEnd, bodyEnd) =>
          this.#event(buffer, bodyStart, tagEnd, bodyEnd),
      };
      try {
        while (true) {
          const chunk = await channel.read();
          if (chunk === null) break;
          scanner.push(chunk, sink);
          this.#flush();
        }
      } catch (err) {
        if (!this.#closed) log.warning(`API: bus stream failed: ${(err as Error)?.message ?? err}`);
      }
      this.#flush();
      channel.close();
      this.#channel = null;
      if (!this.#closed) log.warning(`API: the bus stream closed; reconnecting`);
    }
  }

  #event(buffer: Uint8Array, bodyStart: number, tagEnd: number, bodyEnd: number): void {
    const tag = decodeTag(buffer, bodyStart, tagEnd);
    const w = this.#out;
    const mark = w.length;
    const id = this.#lastId + 1;
    w.ascii("tag: ");
    if (/[\r\n]/.test(tag)) w.text(sseTagLine(tag));
    else w.raw(buffer.subarray(bodyStart, tagEnd));
    w.ascii("\ndata: ");
    const jsonStart = w.length;
    w.ascii(`{"data": `);
    const dataAt = w.length;
    if (!msgpackToJson(buffer, tagEnd + 2, bodyEnd, w)) {
      // The slow path: decode, then Python-style JSON of the objects.
      w.length = dataAt;
      try {
        w.text(pythonJsonDumps(unpackData(buffer.subarray(tagEnd + 2, bodyEnd))));
      } catch (err) {
        w.length = mark;
        this.#options.log.warning(
          `API: skipping event ${JSON.stringify(tag)}: ${(err as Error)?.message ?? err}`,
        );
        return;
      }
    }
    w.ascii(`, "tag": `);
    writeJsonString(w, buffer, bodyStart, tagEnd);
    w.ascii("}");
    const jsonEnd = w.length;
    w.ascii(`\nid: ${id}\n\n`);
    this.#lastId = id;
    this.#batch.push(
      new LiveEvent(id, tag, jsonStart - mark, jsonEnd - mark, buffer, tagEnd + 2, bodyEnd),
    );
    this.#offsets.push(mark);
  }

  #flush(): void {
    const events = this.#batch;
    if (events.length === 0) return;
    const w = this.#out;
    const sse = w.bytes();
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      event.sse = sse.subarray(this.#offsets[i], this.#offsets[i + 1] ?? w.length);
      this.history.push(event);
    }
    this.history.flush();
    this.#batch = [];
    this.#offsets = [];
    this.#out = new ByteWriter(Math.max(OUT_CAPACITY, w.buf.length));
    const batch: EventBatch = { events, sse };
    for (const client of this.#clients) client.deliver(batch);
  }
}
