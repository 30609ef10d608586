/**
 * The broker's routing logic: every frame a publisher connection writes goes
 * to every subscriber, in order, body untouched. Bytes come in and go out
 * through small interfaces, so the logic runs without sockets.
 *
 * - Frames found in one chunk are forwarded as contiguous runs (no copy, no
 *   msgpack decode). Frames cut by a chunk boundary are copied once, into a
 *   buffer of their own size; an incomplete frame is never scanned again from
 *   its start.
 * - Published runs go into one shared log. Each subscriber is a cursor into
 *   it, so N subscribers lagging behind the same events hold one copy of
 *   them. Per subscriber one write is in flight; runs that piled up meanwhile
 *   go out as views (large ones) or coalesced (small ones) in the next write.
 * - A subscriber more than `ipc_write_buffer` behind has its oldest unsent
 *   events discarded and is sent a `saltbus/subscriber/missed` notice, right
 *   where the gap is, counting them; it goes on receiving (`overflow:
 *   "skip"`, the default). With `overflow: "disconnect"` (Salt's behaviour)
 *   it is sent `saltbus/subscriber/dropped` after what was already in flight,
 *   and closed.
 * - A subscriber whose write makes no progress for `stallTimeoutMs` is
 *   closed, with what it was sent and missed logged.
 * - The memory held for incomplete frames across all publisher connections
 *   is bounded (`partialFramesLimit`): over it, the connection holding the
 *   largest one is closed, with a logged reason.
 *
 * Publishers are never blocked by subscribers, and no subscriber waits for
 * another.
 *
 * @module
 */
import { concatBytes } from "./bytes.ts";
import { FrameError } from "./errors.ts";
import { encodeFrame, FrameScanner, type FrameSink } from "./frame.ts";
import { packEventFrame } from "./event_codec.ts";
import { packData } from "./msgpack.ts";
import { saltStamp } from "./stamp.ts";
import type { Logger } from "./log.ts";

/** Tag of the last event a subscriber receives before it is disconnected for lagging (`overflow: "disconnect"`). */
export const DROPPED_TAG = "saltbus/subscriber/dropped";

/**
 * Tag of the notice a lagging subscriber receives where its oldest unsent
 * events were discarded (`overflow: "skip"`). Its data counts them:
 * `missed_events`, `missed_bytes`, `total_missed_events`, `delivered_events`,
 * `ipc_write_buffer`, `reason`, `_stamp`.
 */
export const SUBSCRIBER_MISSED_TAG = "saltbus/subscriber/missed";

/**
 * What happens to a subscriber more than `ipc_write_buffer` behind:
 * `"skip"` discards its oldest unsent events, sends it a
 * `saltbus/subscriber/missed` notice counting them, and goes on;
 * `"disconnect"` sends it `saltbus/subscriber/dropped` and closes it
 * (Salt 3006).
 */
export type OverflowPolicy = "skip" | "disconnect";

/** The overflow policies, for validation. */
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ["skip", "disconnect"];

/** Default `partialFramesLimit`: 64 MiB. */
export const DEFAULT_PARTIAL_FRAMES_LIMIT = 64 * 1024 * 1024;

/** Default `stallTimeoutMs`: 60 s. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/** A subscriber's outbound side, as the router sees it. */
export interface Outbound {
  /** Writes all of `bytes`; resolves when done, rejects when the peer is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the connection (idempotent). */
  close(): void;
}

/** Router settings. */
export interface RouterOptions {
  /** Per-subscriber backlog limit in bytes (Salt's `ipc_write_buffer`). */
  writeBufferLimit: number;
  /** Largest accepted frame in bytes. */
  maxFrameSize: number;
  /**
   * Most bytes held for incomplete frames across all publisher connections;
   * over it, the connection holding the largest is closed.
   * @default {max(64 MiB, 2 × maxFrameSize)}
   */
  partialFramesLimit?: number;
  /**
   * What to do with a subscriber more than `writeBufferLimit` behind.
   * @default {"skip"}
   */
  overflow?: OverflowPolicy;
  /**
   * A subscriber whose pending write has not completed for this long is
   * closed; 0 never closes one.
   * @default {60000}
   */
  stallTimeoutMs?: number;
  /**
   * Most bytes per write to a subscriber (at most a quarter of
   * `writeBufferLimit`).
   * @default {65536}
   */
  maxWriteSize?: number;
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
  /** Bytes received from publishers. */
  bytesIn: number;
  /** Subscribers disconnected for lagging (`overflow: "disconnect"`). */
  dropped: number;
  /** Events discarded from lagging subscribers' backlogs (`overflow: "skip"`), all subscribers together. */
  missedEvents: number;
  /** `saltbus/subscriber/missed` notices written. */
  missedNotices: number;
  /** Subscribers closed for making no progress. */
  stalled: number;
  /** Publisher connections closed for bad input (the partial-frame limit included). */
  rejected: number;
  /** Publisher connections closed because the partial-frame limit was reached. */
  evicted: number;
  /** Bytes held now for incomplete frames, all publishers together. */
  partialBytes: number;
  /** Bytes scanned by the publishers' frame scanners (see `FrameScanner.scannedBytes`). */
  scannedBytes: number;
  /** Bytes of the shared log held now for subscribers that lag (held once however many lag). */
  bufferedBytes: number;
  /** The subscribers' backlogs added up (what they would cost if each had its own copy). */
  backlogBytes: number;
}

/**
 * Memory a piece of the log costs beyond its bytes (the piece and its view),
 * so that many tiny pieces cannot outgrow `ipc_write_buffer` unseen.
 */
const PIECE_OVERHEAD = 160;

/** Pieces smaller than this are copied together into one write; larger ones are written as they are. */
const COALESCE_BELOW = 16 * 1024;

/** How often (at most) a lagging subscriber's discards are logged at warning level. */
const WARN_INTERVAL_MS = 10_000;

/**
 * One run of frames in the shared log, or (with `bytes` null) the empty
 * place where the next run goes. Each piece knows the totals before it, so a
 * subscriber's lag is a subtraction.
 */
class Piece {
  bytes: Uint8Array | null = null;
  frames = 0;
  next: Piece | null = null;
  constructor(
    /** Bytes plus overheads of all pieces before this one. */
    readonly costBefore: number,
    /** Frames before this one. */
    readonly framesBefore: number,
    /** Bytes before this one. */
    readonly bytesBefore: number,
  ) {}
}

/** A piece that is not in the log: nothing more to send. */
const NOTHING = new Piece(0, 0, 0);

/** One subscriber: where it is in the log, and its single in-flight write. */
class Subscriber {
  /** The next piece to send (the log's empty tail when caught up). */
  cursor: Piece;
  /** Bytes of `cursor` already written. */
  offset = 0;
  /** The rest of a piece cut by a discard: sent before anything else. */
  remainder: Uint8Array | null = null;
  remainderFrames = 0;
  inFlight = 0;
  writing = false;
  writeStartedAt = 0;
  /** Removed: nothing more is written. */
  closed = false;
  /** Disconnect mode: the final notice, then close. */
  finalNotice: Uint8Array | null = null;
  closing = false;
  /** Frames handed to writes. */
  delivered = 0;
  /** Discarded for this subscriber, in all and not yet announced. */
  missedEvents = 0;
  missedBytes = 0;
  unannouncedEvents = 0;
  unannouncedBytes = 0;
  lastWarnAt = -Infinity;

  constructor(readonly id: number, readonly out: Outbound, readonly label: string, at: Piece) {
    this.cursor = at;
  }
}

/** What a {@linkcode PublisherInput} reports to its router. */
interface PublisherHooks {
  emit(bytes: Uint8Array, frames: number): void;
  account(input: PublisherInput, bytes: number, scanned: number, memoryDelta: number): void;
  reject(input: PublisherInput, reason: string): void;
  closed(input: PublisherInput): void;
}

/** Options of {@linkcode Router.addPublisher}. */
export interface PublisherOptions {
  /**
   * Closes the connection at once when the router must drop it (the
   * partial-frame limit); without it, the connection's held bytes are
   * released at once and its next `push` throws.
   */
  close?: () => void;
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
 * const remove = router.addSubscriber({ write: async (b) => void got.push(b), close() {} }, "test");
 * const publisher = router.addPublisher("test");
 * publisher.push(encodeFrame(new TextEncoder().encode("a\n\n\x80")));
 * publisher.close();
 * remove();
 * ```
 */
export class Router {
  readonly #limit: number;
  readonly #maxFrameSize: number;
  readonly #partialLimit: number;
  readonly #overflow: OverflowPolicy;
  readonly #stallMs: number;
  readonly #writeSize: number;
  readonly #log: Logger;
  readonly #subscribers = new Map<number, Subscriber>();
  /** Dropped subscribers still taking their last bytes and notice. */
  readonly #closing = new Set<Subscriber>();
  /** Publishers holding an incomplete frame. */
  readonly #holders = new Set<PublisherInput>();
  #tail = new Piece(0, 0, 0);
  #sweepScheduled = false;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #nextId = 1;
  #publishers = 0;
  #bytesIn = 0;
  #dropped = 0;
  #missedEvents = 0;
  #missedNotices = 0;
  #stalled = 0;
  #rejected = 0;
  #evicted = 0;
  #partialBytes = 0;
  #scanned = 0;

  /** Creates a router. */
  constructor(options: RouterOptions) {
    this.#limit = options.writeBufferLimit;
    this.#maxFrameSize = options.maxFrameSize;
    this.#partialLimit = options.partialFramesLimit ??
      Math.max(DEFAULT_PARTIAL_FRAMES_LIMIT, 2 * options.maxFrameSize);
    this.#overflow = options.overflow ?? "skip";
    this.#stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.#writeSize = Math.max(
      1,
      Math.min(options.maxWriteSize ?? 64 * 1024, Math.floor(this.#limit / 4)),
    );
    this.#log = options.log;
    this.#log.debug(
      `routing: ipc_write_buffer ${this.#limit} bytes per subscriber (over it: ${this.#overflow}), ` +
        `partial_frames_limit ${this.#partialLimit} bytes, subscriber_stall_timeout ${this.#stallMs} ms`,
    );
  }

  /** Current counters. */
  get stats(): RouterStats {
    const tail = this.#tail;
    let oldest = tail.bytesBefore;
    let backlog = 0;
    for (const sub of this.#subscribers.values()) {
      const at = sub.cursor.bytesBefore + sub.offset;
      if (at < oldest) oldest = at;
      backlog += tail.bytesBefore - at + (sub.remainder?.length ?? 0) + sub.inFlight;
    }
    return {
      subscribers: this.#subscribers.size,
      publishers: this.#publishers,
      framesIn: tail.framesBefore,
      bytesIn: this.#bytesIn,
      dropped: this.#dropped,
      missedEvents: this.#missedEvents,
      missedNotices: this.#missedNotices,
      stalled: this.#stalled,
      rejected: this.#rejected,
      evicted: this.#evicted,
      partialBytes: this.#partialBytes,
      scannedBytes: this.#scanned,
      bufferedBytes: tail.bytesBefore - oldest,
      backlogBytes: backlog,
    };
  }

  /**
   * Adds a subscriber; every frame published from now on is written to it.
   * Returns a function that removes it (call it when the peer goes away).
   */
  addSubscriber(out: Outbound, label: string): () => void {
    const sub = new Subscriber(this.#nextId++, out, label, this.#tail);
    this.#subscribers.set(sub.id, sub);
    this.#log.debug(`subscriber ${label} connected`);
    return () => this.#remove(sub);
  }

  /**
   * Adds a publisher connection. Feed it what the peer writes with `push`;
   * `push` throws a `FrameError` on bad input (or once the connection was
   * dropped for the partial-frame limit), after which the caller closes that
   * connection (frames before the bad one are still delivered).
   */
  addPublisher(label: string, options: PublisherOptions = {}): PublisherInput {
    this.#publishers++;
    return new PublisherInput(
      label,
      new FrameScanner({ maxFrameSize: this.#maxFrameSize }),
      this.#hooks,
      options.close,
    );
  }

  /** Disconnects every subscriber (for shutdown). */
  closeAll(): void {
    for (const sub of [...this.#subscribers.values(), ...this.#closing]) {
      this.#remove(sub);
      sub.out.close();
    }
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }

  readonly #hooks: PublisherHooks = {
    emit: (bytes, frames) => this.#append(bytes, frames),
    account: (input, bytes, scanned, memoryDelta) => {
      this.#bytesIn += bytes;
      this.#scanned += scanned;
      if (memoryDelta !== 0) this.#partialChanged(input, memoryDelta);
    },
    reject: (input, reason) => {
      this.#rejected++;
      this.#log.warning(`closing publisher ${input.label}: ${reason}`);
    },
    closed: (input) => {
      this.#publishers--;
      this.#log.debug(
        `publisher ${input.label} closed: ${input.frames} frames and ${input.bytes} bytes in, ` +
          `${input.scanner.scannedBytes} bytes scanned`,
      );
    },
  };

  // ---------------------------------------------------------------- pull side

  #partialChanged(input: PublisherInput, delta: number): void {
    this.#partialBytes += delta;
    if (input.memory > 0) this.#holders.add(input);
    else this.#holders.delete(input);
    while (this.#partialBytes > this.#partialLimit && this.#holders.size > 0) {
      let largest: PublisherInput | null = null;
      for (const holder of this.#holders) {
        if (largest === null || holder.memory > largest.memory) largest = holder;
      }
      const held = largest!.memory;
      const reason =
        `incomplete frames on all publisher connections hold ${this.#partialBytes} bytes, ` +
        `over partial_frames_limit (${this.#partialLimit} bytes), and this connection's holds the most ` +
        `(${held} bytes)`;
      this.#partialBytes -= held;
      this.#holders.delete(largest!);
      this.#evicted++;
      this.#rejected++;
      this.#log.warning(`closing publisher ${largest!.label}: ${reason}`);
      largest!.evict(reason);
    }
  }

  // ---------------------------------------------------------------- the log

  #append(bytes: Uint8Array, frames: number): void {
    const piece = this.#tail;
    piece.bytes = bytes;
    piece.frames = frames;
    const next = new Piece(
      piece.costBefore + bytes.length + PIECE_OVERHEAD,
      piece.framesBefore + frames,
      piece.bytesBefore + bytes.length,
    );
    piece.next = next;
    this.#tail = next;
    if (!this.#sweepScheduled) {
      this.#sweepScheduled = true;
      queueMicrotask(this.#sweep);
    }
  }

  /** After appends: enforce the limit on each subscriber and start the idle ones. */
  readonly #sweep = (): void => {
    this.#sweepScheduled = false;
    const tail = this.#tail;
    for (const sub of this.#subscribers.values()) {
      if (this.#lag(sub, tail) > this.#limit) {
        if (this.#overflow === "skip") this.#skip(sub, tail);
        else this.#drop(sub, tail);
      }
      if (!sub.writing) void this.#flush(sub);
    }
  };

  /** What `sub` holds back, in the log's cost units: unsent pieces, a remainder, the write in flight. */
  #lag(sub: Subscriber, tail: Piece): number {
    return tail.costBefore - sub.cursor.costBefore - sub.offset +
      (sub.remainder === null ? 0 : sub.remainder.length) + sub.inFlight;
  }

  /** Turns the rest of a half-written piece into `sub.remainder`, so the cursor is on a boundary. */
  #cutRemainder(sub: Subscriber): void {
    if (sub.offset === 0) return;
    const piece = sub.cursor;
    sub.remainder = piece.bytes!.subarray(sub.offset);
    sub.remainderFrames = piece.frames;
    sub.cursor = piece.next!;
    sub.offset = 0;
  }

  /** Skip mode: discards the oldest unsent pieces until `sub` is ¾ of the limit behind. */
  #skip(sub: Subscriber, tail: Piece): void {
    this.#cutRemainder(sub);
    const target = this.#limit - Math.floor(this.#limit / 4);
    let lag = this.#lag(sub, tail);
    let piece = sub.cursor;
    let frames = 0;
    let bytes = 0;
    while (lag > target && piece.bytes !== null) {
      lag -= piece.bytes.length + PIECE_OVERHEAD;
      frames += piece.frames;
      bytes += piece.bytes.length;
      piece = piece.next!;
    }
    sub.cursor = piece;
    if (frames === 0) return;
    sub.missedEvents += frames;
    sub.missedBytes += bytes;
    sub.unannouncedEvents += frames;
    sub.unannouncedBytes += bytes;
    this.#missedEvents += frames;
    const now = Date.now();
    const message =
      `subscriber ${sub.label} is more than ipc_write_buffer (${this.#limit} bytes) ` +
      `behind: discarded its oldest ${frames} unsent events (${bytes} bytes); ${sub.missedEvents} ` +
      `missed in all, announced to it with ${SUBSCRIBER_MISSED_TAG}`;
    if (now - sub.lastWarnAt >= WARN_INTERVAL_MS) {
      sub.lastWarnAt = now;
      this.#log.warning(message);
    } else {
      this.#log.debug(message);
    }
  }

  /** Disconnect mode: discards the backlog; the dropped notice follows what is in flight, then close. */
  #drop(sub: Subscriber, tail: Piece): void {
    const buffered = this.#lag(sub, tail);
    this.#cutRemainder(sub);
    const discarded = tail.framesBefore - sub.cursor.framesBefore;
    sub.cursor = NOTHING;
    this.#subscribers.delete(sub.id);
    this.#closing.add(sub);
    sub.closing = true;
    this.#dropped++;
    const reason =
      `outbound buffer over ipc_write_buffer (${buffered} > ${this.#limit} bytes): the subscriber does not read fast enough`;
    this.#log.warning(`dropping subscriber ${sub.label}: ${reason}`);
    sub.finalNotice = packEventFrame(
      DROPPED_TAG,
      packData({
        reason,
        discarded_events: discarded,
        delivered_events: sub.delivered + sub.remainderFrames,
        buffered_bytes: buffered,
        ipc_write_buffer: this.#limit,
        _stamp: saltStamp(),
      }),
    );
  }

  // ---------------------------------------------------------------- writing

  async #flush(sub: Subscriber): Promise<void> {
    if (sub.writing || sub.closed) return;
    sub.writing = true;
    try {
      while (!sub.closed) {
        const bytes = this.#take(sub);
        if (bytes === null) break;
        sub.inFlight = bytes.length;
        sub.writeStartedAt = Date.now();
        if (this.#stallTimer === undefined) this.#armStallTimer();
        await sub.out.write(bytes);
        sub.inFlight = 0;
      }
    } catch (err) {
      if (!sub.closed) {
        this.#log.debug(`subscriber ${sub.label} went away: ${messageOf(err)}`);
        this.#remove(sub);
        sub.out.close();
      }
    } finally {
      sub.writing = false;
      sub.inFlight = 0;
    }
    if (sub.closing && !sub.closed) {
      this.#remove(sub);
      sub.out.close();
    }
  }

  /**
   * The next write for `sub`, in order: the rest of a cut piece, a missed
   * notice, the final dropped notice, then log pieces (large ones as views,
   * small ones copied together). Null when there is nothing to send.
   */
  #take(sub: Subscriber): Uint8Array | null {
    const max = this.#writeSize;
    const remainder = sub.remainder;
    if (remainder !== null) {
      if (remainder.length > max) {
        sub.remainder = remainder.subarray(max);
        return remainder.subarray(0, max);
      }
      sub.remainder = null;
      sub.delivered += sub.remainderFrames;
      sub.remainderFrames = 0;
      return remainder;
    }
    if (sub.unannouncedEvents > 0) return this.#missedNotice(sub);
    if (sub.finalNotice !== null) {
      const notice = sub.finalNotice;
      sub.finalNotice = null;
      return notice;
    }
    const piece = sub.cursor;
    const bytes = piece.bytes;
    if (bytes === null) return null;
    const offset = sub.offset;
    const available = bytes.length - offset;
    if (available > max) {
      sub.offset = offset + max;
      return bytes.subarray(offset, offset + max);
    }
    let next = piece.next!;
    const first = offset === 0 ? bytes : bytes.subarray(offset);
    if (
      available >= COALESCE_BELOW || next.bytes === null || next.bytes.length >= COALESCE_BELOW ||
      available + next.bytes.length > max
    ) {
      sub.cursor = next;
      sub.offset = 0;
      sub.delivered += piece.frames;
      return first;
    }
    const parts = [first];
    let size = available;
    let frames = piece.frames;
    while (
      next.bytes !== null && next.bytes.length < COALESCE_BELOW && size + next.bytes.length <= max
    ) {
      parts.push(next.bytes);
      size += next.bytes.length;
      frames += next.frames;
      next = next.next!;
    }
    sub.cursor = next;
    sub.offset = 0;
    sub.delivered += frames;
    return concatBytes(parts, size);
  }

  #missedNotice(sub: Subscriber): Uint8Array {
    const events = sub.unannouncedEvents;
    const bytes = sub.unannouncedBytes;
    sub.unannouncedEvents = 0;
    sub.unannouncedBytes = 0;
    this.#missedNotices++;
    return packEventFrame(
      SUBSCRIBER_MISSED_TAG,
      packData({
        reason:
          `more than ipc_write_buffer (${this.#limit} bytes) was waiting for this subscriber: its oldest unsent events were discarded`,
        missed_events: events,
        missed_bytes: bytes,
        total_missed_events: sub.missedEvents,
        delivered_events: sub.delivered,
        ipc_write_buffer: this.#limit,
        _stamp: saltStamp(),
      }),
    );
  }

  // ---------------------------------------------------------------- stalls

  #armStallTimer(): void {
    if (this.#stallMs <= 0) return;
    const every = Math.min(1000, Math.max(5, Math.floor(this.#stallMs / 4)));
    this.#stallTimer = setTimeout(this.#checkStalls, every);
  }

  readonly #checkStalls = (): void => {
    this.#stallTimer = undefined;
    const now = Date.now();
    let writing = false;
    for (const sub of [...this.#subscribers.values(), ...this.#closing]) {
      if (!sub.writing || sub.closed) continue;
      if (now - sub.writeStartedAt >= this.#stallMs) this.#closeStalled(sub, now);
      else writing = true;
    }
    if (writing) this.#armStallTimer();
  };

  #closeStalled(sub: Subscriber, now: number): void {
    this.#stalled++;
    const seconds = Math.round(now - sub.writeStartedAt) / 1000;
    this.#log.warning(
      `closing subscriber ${sub.label}: no progress for ${seconds} s (subscriber_stall_timeout ` +
        `${this.#stallMs / 1000} s), a write of ${sub.inFlight} bytes still pending; it was sent ` +
        `${sub.delivered} events and missed ${sub.missedEvents} (${sub.missedBytes} bytes), ` +
        `${sub.unannouncedEvents} of them not announced to it yet`,
    );
    this.#remove(sub);
    sub.out.close();
  }

  #remove(sub: Subscriber): void {
    if (sub.closed) return;
    sub.closed = true;
    sub.cursor = NOTHING;
    sub.offset = 0;
    sub.remainder = null;
    sub.finalNotice = null;
    this.#subscribers.delete(sub.id);
    this.#closing.delete(sub);
    if (this.#subscribers.size === 0 && this.#closing.size === 0) {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = undefined;
    }
    this.#log.debug(`subscriber ${sub.label} removed`);
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
  /** Frames this connection sent. */
  frames = 0;
  /** Bytes this connection sent. */
  bytes = 0;
  #runBuffer: Uint8Array | null = null;
  #runStart = 0;
  #runEnd = 0;
  #runFrames = 0;
  #memory = 0;
  #evicted: string | null = null;
  #closed = false;

  /** @internal Created by {@linkcode Router.addPublisher}. */
  constructor(
    readonly label: string,
    readonly scanner: FrameScanner,
    readonly hooks: PublisherHooks,
    readonly closeConnection?: () => void,
  ) {}

  /** Memory held for this connection's incomplete frame, as the router counts it. */
  get memory(): number {
    return this.#memory;
  }

  /**
   * Feeds bytes written by the peer. The chunk must not be reused by the
   * caller: frames are forwarded as views into it.
   *
   * @throws {FrameError} on bad input, or when the router dropped this
   * connection for the partial-frame limit; earlier frames were forwarded.
   */
  push(chunk: Uint8Array): void {
    if (this.#evicted !== null) throw new FrameError(`connection dropped: ${this.#evicted}`);
    const scanned = this.scanner.scannedBytes;
    try {
      this.scanner.push(chunk, this);
    } catch (err) {
      this.hooks.reject(this, messageOf(err));
      throw err;
    } finally {
      this.#emitRun();
      this.bytes += chunk.length;
      const memory = this.scanner.memoryBytes;
      const delta = memory - this.#memory;
      this.#memory = memory;
      this.hooks.account(this, chunk.length, this.scanner.scannedBytes - scanned, delta);
    }
    if (this.#evicted !== null) throw new FrameError(`connection dropped: ${this.#evicted}`);
  }

  /** Marks the connection closed; a partial frame it left is discarded. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.scanner.discard();
    if (this.#memory !== 0) {
      const delta = -this.#memory;
      this.#memory = 0;
      this.hooks.account(this, 0, 0, delta);
    }
    this.hooks.closed(this);
  }

  /** @internal Called by the router (partial-frame limit): drops the held frame, closes. */
  evict(reason: string): void {
    this.#evicted = reason;
    this.scanner.discard();
    this.#memory = 0;
    this.closeConnection?.();
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
    this.frames++;
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
    this.hooks.emit(encodeFrame(buffer.subarray(bodyStart, bodyEnd)), 1);
  }

  #emitRun(): void {
    if (this.#runBuffer === null) return;
    this.hooks.emit(this.#runBuffer.subarray(this.#runStart, this.#runEnd), this.#runFrames);
    this.#runBuffer = null;
    this.#runFrames = 0;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
