/**
 * The broker's routing logic: every frame a publisher connection writes goes
 * to every subscriber, in order, body untouched. Bytes come in and go out
 * through small interfaces, so the logic runs without sockets.
 *
 * - Frames found in one chunk are forwarded as contiguous runs (no copy, no
 *   msgpack decode).
 * - Per subscriber, writes are coalesced: one write in flight, everything
 *   queued meanwhile goes out in the next one.
 * - Each subscriber has a bounded buffer; over it, the subscriber is sent a
 *   best-effort `saltbus/subscriber/dropped` event and disconnected. Nobody
 *   else waits for it, and publishers are never blocked.
 *
 * @module
 */
import { delay } from "./async.ts";
import { concatBytes } from "./bytes.ts";
import { encodeFrame, FrameScanner, type FrameSink } from "./frame.ts";
import { packEventFrame } from "./event_codec.ts";
import { packData } from "./msgpack.ts";
import { saltStamp } from "./stamp.ts";
import type { Logger } from "./log.ts";

/** Tag of the last event a dropped slow subscriber receives. */
export const DROPPED_TAG = "saltbus/subscriber/dropped";

/** A subscriber's outbound side, as the router sees it. */
export interface Outbound {
  /** Writes all of `bytes`; resolves when done, rejects when the peer is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the connection (idempotent). */
  close(): void;
}

/** Router settings. */
export interface RouterOptions {
  /** Per-subscriber outbound buffer in bytes (Salt's `ipc_write_buffer`). */
  writeBufferLimit: number;
  /** Largest accepted frame in bytes. */
  maxFrameSize: number;
  /** Most bytes coalesced into one write. Default 1 MiB. */
  maxWriteSize?: number;
  /** How long a dropped subscriber gets to take its notice, in ms. Default 1000. */
  dropNoticeTimeoutMs?: number;
  /** Where to log. */
  log: Logger;
}

/** Counters, for tests and monitoring. */
export interface RouterStats {
  /** Connected subscribers. */
  subscribers: number;
  /** Connected publishers. */
  publishers: number;
  /** Frames received from publishers. */
  framesIn: number;
  /** Subscribers disconnected for being too slow. */
  dropped: number;
  /** Publisher connections closed for bad input. */
  rejected: number;
}

/**
 * Memory a queued piece costs beyond its bytes (the piece and its view), so
 * that many tiny pieces cannot outgrow `ipc_write_buffer` unseen.
 */
const PIECE_OVERHEAD = 160;

/** A run of frames to send: bytes plus how many frames they hold. */
interface Piece {
  bytes: Uint8Array;
  frames: number;
}

/** One subscriber: its queue and its single in-flight write. */
class Subscriber {
  queue: Piece[] = [];
  queuedBytes = 0;
  queuedFrames = 0;
  inFlightBytes = 0;
  writing = false;
  flushScheduled = false;
  closed = false;
  delivered = 0;

  constructor(readonly id: number, readonly out: Outbound, readonly label: string) {}
}

/**
 * Routes frames from publishers to subscribers.
 *
 * @example
 * ```ts
 * import { Router } from "./router.ts";
 * import { silentLogger } from "./log.ts";
 * import { encodeFrame } from "./frame.ts";
 * const router = new Router({ writeBufferLimit: 1 << 20, maxFrameSize: 1 << 24, log: silentLogger });
 * const got: Uint8Array[] = [];
 * router.addSubscriber({ write: async (b) => void got.push(b), close() {} }, "test");
 * const publisher = router.addPublisher("test");
 * publisher.push(encodeFrame(new TextEncoder().encode("a\n\n\x80")));
 * ```
 */
export class Router {
  readonly #options: Required<RouterOptions>;
  readonly #subscribers = new Map<number, Subscriber>();
  #nextId = 1;
  #publishers = 0;
  #framesIn = 0;
  #dropped = 0;
  #rejected = 0;

  /** Creates a router. */
  constructor(options: RouterOptions) {
    this.#options = {
      ...options,
      maxWriteSize: options.maxWriteSize ?? 1 << 20,
      dropNoticeTimeoutMs: options.dropNoticeTimeoutMs ?? 1000,
    };
  }

  /** Current counters. */
  get stats(): RouterStats {
    return {
      subscribers: this.#subscribers.size,
      publishers: this.#publishers,
      framesIn: this.#framesIn,
      dropped: this.#dropped,
      rejected: this.#rejected,
    };
  }

  /**
   * Adds a subscriber; every frame published from now on is written to it.
   * Returns a function that removes it (call it when the peer goes away).
   */
  addSubscriber(out: Outbound, label: string): () => void {
    const sub = new Subscriber(this.#nextId++, out, label);
    this.#subscribers.set(sub.id, sub);
    this.#options.log.debug(`subscriber ${label} connected`);
    return () => this.#remove(sub);
  }

  /**
   * Adds a publisher connection. Feed it what the peer writes with `push`;
   * `push` throws a `FrameError` on bad input, after which the caller closes
   * that connection (frames before the bad one are still delivered).
   */
  addPublisher(label: string): PublisherInput {
    this.#publishers++;
    let open = true;
    return new PublisherInput(
      new FrameScanner({ maxFrameSize: this.#options.maxFrameSize }),
      (piece) => this.#fanOut(piece),
      () => {
        if (open) {
          open = false;
          this.#publishers--;
        }
      },
      (reason) => {
        this.#rejected++;
        this.#options.log.warning(`closing publisher ${label}: ${reason}`);
      },
    );
  }

  /** Disconnects every subscriber (for shutdown). */
  closeAll(): void {
    for (const sub of [...this.#subscribers.values()]) {
      this.#remove(sub);
      sub.out.close();
    }
  }

  #fanOut(piece: Piece): void {
    this.#framesIn += piece.frames;
    for (const sub of this.#subscribers.values()) this.#enqueue(sub, piece);
  }

  #enqueue(sub: Subscriber, piece: Piece): void {
    if (sub.closed) return;
    sub.queue.push(piece);
    sub.queuedBytes += piece.bytes.length + PIECE_OVERHEAD;
    sub.queuedFrames += piece.frames;
    if (sub.queuedBytes + sub.inFlightBytes > this.#options.writeBufferLimit) {
      this.#drop(sub);
      return;
    }
    if (!sub.writing && !sub.flushScheduled) {
      sub.flushScheduled = true;
      queueMicrotask(() => {
        sub.flushScheduled = false;
        void this.#flush(sub);
      });
    }
  }

  async #flush(sub: Subscriber): Promise<void> {
    if (sub.writing) return;
    sub.writing = true;
    try {
      while (sub.queue.length > 0 && !sub.closed) {
        const bytes = this.#takeBatch(sub);
        sub.inFlightBytes = bytes.length;
        await sub.out.write(bytes);
        sub.inFlightBytes = 0;
      }
    } catch (err) {
      if (!sub.closed) {
        this.#options.log.debug(`subscriber ${sub.label} went away: ${messageOf(err)}`);
        this.#remove(sub);
        sub.out.close();
      }
    } finally {
      sub.writing = false;
      sub.inFlightBytes = 0;
    }
  }

  /** Takes queued pieces up to maxWriteSize, as one buffer. */
  #takeBatch(sub: Subscriber): Uint8Array {
    const first = sub.queue[0];
    if (sub.queue.length === 1 || first.bytes.length >= this.#options.maxWriteSize) {
      sub.queue.shift();
      this.#dequeued(sub, first);
      return first.bytes;
    }
    let count = 0;
    let size = 0;
    while (count < sub.queue.length) {
      const next = sub.queue[count].bytes.length;
      if (count > 0 && size + next > this.#options.maxWriteSize) break;
      size += next;
      count++;
    }
    const pieces = sub.queue.splice(0, count);
    for (const piece of pieces) this.#dequeued(sub, piece);
    return concatBytes(pieces.map((piece) => piece.bytes), size);
  }

  #dequeued(sub: Subscriber, piece: Piece): void {
    sub.queuedBytes -= piece.bytes.length + PIECE_OVERHEAD;
    sub.queuedFrames -= piece.frames;
    sub.delivered += piece.frames;
  }

  /** Slow consumer: discard its queue, send a notice if it can still take one, close. */
  #drop(sub: Subscriber): void {
    const discardedEvents = sub.queuedFrames;
    const bufferedBytes = sub.queuedBytes + sub.inFlightBytes;
    this.#remove(sub);
    this.#dropped++;
    const limit = this.#options.writeBufferLimit;
    const reason =
      `outbound buffer over ipc_write_buffer (${bufferedBytes} > ${limit} bytes): the subscriber does not read fast enough`;
    this.#options.log.warning(`dropping subscriber ${sub.label}: ${reason}`);
    const notice = packEventFrame(
      DROPPED_TAG,
      packData({
        reason,
        discarded_events: discardedEvents,
        delivered_events: sub.delivered,
        buffered_bytes: bufferedBytes,
        ipc_write_buffer: limit,
        _stamp: saltStamp(),
      }),
    );
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      sub.out.close();
    }, this.#options.dropNoticeTimeoutMs);
    const sendNotice = async () => {
      try {
        while (sub.writing && !timedOut) await delay(5);
        if (timedOut) return;
        await sub.out.write(notice);
      } catch {
        // best effort: the peer may be gone or stuck
      } finally {
        clearTimeout(timer);
        sub.out.close();
      }
    };
    void sendNotice();
  }

  #remove(sub: Subscriber): void {
    if (sub.closed) return;
    sub.closed = true;
    sub.queue = [];
    this.#subscribers.delete(sub.id);
    this.#options.log.debug(`subscriber ${sub.label} removed`);
  }
}

/**
 * The input side of one publisher connection: feed it bytes as they arrive.
 *
 * @example
 * ```ts
 * import { Router } from "./router.ts";
 * import { silentLogger } from "./log.ts";
 * const router = new Router({ writeBufferLimit: 1 << 20, maxFrameSize: 1 << 24, log: silentLogger });
 * const input = router.addPublisher("pull#1");
 * try {
 *   input.push(Uint8Array.of(0x01));
 * } catch {
 *   input.close(); // bad frame: close that one connection
 * }
 * ```
 */
export class PublisherInput implements FrameSink {
  #runBuffer: Uint8Array | null = null;
  #runStart = 0;
  #runEnd = 0;
  #runFrames = 0;

  /** @internal Created by {@linkcode Router.addPublisher}. */
  constructor(
    readonly scanner: FrameScanner,
    readonly emit: (piece: Piece) => void,
    readonly onClose: () => void,
    readonly onReject: (reason: string) => void,
  ) {}

  /**
   * Feeds bytes written by the peer. The chunk must not be reused by the
   * caller: frames are forwarded as views into it.
   *
   * @throws {FrameError} on bad input; earlier frames were forwarded.
   */
  push(chunk: Uint8Array): void {
    try {
      this.scanner.push(chunk, this);
    } catch (err) {
      this.onReject(messageOf(err));
      throw err;
    } finally {
      this.#emitRun();
    }
  }

  /** Marks the connection closed; a partial frame it left is discarded. */
  close(): void {
    this.onClose();
  }

  /** @internal FrameSink: called by the scanner for each frame. */
  frame(
    buffer: Uint8Array,
    start: number,
    end: number,
    bodyStart: number,
    _tagEnd: number,
    bodyEnd: number,
    canonical: boolean,
  ): void {
    if (canonical) {
      if (this.#runBuffer === buffer && this.#runEnd === start) {
        this.#runEnd = end;
        this.#runFrames++;
        return;
      }
      this.#emitRun();
      this.#runBuffer = buffer;
      this.#runStart = start;
      this.#runEnd = end;
      this.#runFrames = 1;
      return;
    }
    this.#emitRun();
    this.emit({ bytes: encodeFrame(buffer.subarray(bodyStart, bodyEnd)), frames: 1 });
  }

  #emitRun(): void {
    if (this.#runBuffer === null) return;
    this.emit({
      bytes: this.#runBuffer.subarray(this.#runStart, this.#runEnd),
      frames: this.#runFrames,
    });
    this.#runBuffer = null;
    this.#runFrames = 0;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
