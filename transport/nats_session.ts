/**
 * One link connection carried over NATS: a reliable, ordered byte stream
 * (a {@linkcode ByteChannel}) on top of NATS core messages, which are
 * dropped without a word while a client is disconnected.
 *
 * Every frame carries a 16-byte session id, a sequence number and the
 * sender's cumulative acknowledgement of what it received. The sender keeps
 * what is not acknowledged in a bounded outbox and sends it again after a
 * NATS reconnection (both sides then send `SYNC` with what they have), when
 * the receiver sees a gap, or when nothing was acknowledged for a while;
 * the receiver drops duplicates. So a NATS server restart loses and doubles
 * nothing. What does not fit the outbox is dropped whole (never part of a
 * frame), counted and logged. `FIN` ends the stream in order; a session
 * that hears nothing for `idleMs` (heartbeats keep it alive) ends too.
 *
 * @module
 */
import type { Logger } from "../bus/log.ts";
import type { ByteChannel } from "../bus/transport.ts";

/** Frame types. */
export const FRAME = { DATA: 1, ACK: 2, FIN: 3, SYNC: 4, RESET: 5 } as const;

/** Bytes before a frame's payload: type, session id, seq, ack. */
export const HEADER_SIZE = 1 + 16 + 8 + 8;

/** Default outbox bound, in bytes. */
export const DEFAULT_OUTBOX_BYTES = 64 * 1024 * 1024;

/** A decoded frame header. */
export interface FrameHeader {
  /** One of {@linkcode FRAME}. */
  type: number;
  /** The session id, as 32 hex digits. */
  session: string;
  /** The frame's sequence number (DATA, FIN). */
  seq: number;
  /** The sender's cumulative acknowledgement. */
  ack: number;
}

/**
 * Encodes a frame.
 *
 * @example
 * ```ts
 * import { encodeFrame, FRAME, sessionIdBytes } from "./nats_session.ts";
 * const frame = encodeFrame(FRAME.DATA, sessionIdBytes("00".repeat(16)), 1, 0, new Uint8Array([1]));
 * frame.length; // 34
 * ```
 */
export function encodeFrame(
  type: number,
  session: Uint8Array,
  seq: number,
  ack: number,
  payload?: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + (payload?.length ?? 0));
  const view = new DataView(out.buffer);
  out[0] = type;
  out.set(session, 1);
  view.setUint32(17, Math.floor(seq / 2 ** 32));
  view.setUint32(21, seq >>> 0);
  view.setUint32(25, Math.floor(ack / 2 ** 32));
  view.setUint32(29, ack >>> 0);
  if (payload) out.set(payload, HEADER_SIZE);
  return out;
}

/**
 * Decodes a frame's header; `null` for bytes that are not a frame.
 *
 * @example
 * ```ts
 * import { decodeHeader, encodeFrame, FRAME, sessionIdBytes } from "./nats_session.ts";
 * decodeHeader(encodeFrame(FRAME.ACK, sessionIdBytes("ab".repeat(16)), 0, 7))?.ack; // 7
 * ```
 */
export function decodeHeader(bytes: Uint8Array): FrameHeader | null {
  if (bytes.length < HEADER_SIZE || bytes[0] < 1 || bytes[0] > 5) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return {
    type: bytes[0],
    session: hex(bytes.subarray(1, 17)),
    seq: view.getUint32(17) * 2 ** 32 + view.getUint32(21),
    ack: view.getUint32(25) * 2 ** 32 + view.getUint32(29),
  };
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * The 16 bytes of a session id given as hex.
 *
 * @example
 * ```ts
 * import { sessionIdBytes } from "./nats_session.ts";
 * sessionIdBytes("ff".repeat(16))[0]; // 255
 * ```
 */
export function sessionIdBytes(id: string): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(id.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * A new random session id, as hex.
 *
 * @example
 * ```ts
 * import { newSessionId } from "./nats_session.ts";
 * newSessionId().length; // 32
 * ```
 */
export function newSessionId(): string {
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

/** Options of a {@linkcode NatsSession}. */
export interface NatsSessionOptions {
  /** The session id, as hex. */
  id: string;
  /** Sends a frame to the peer (a NATS publish; may drop it silently). */
  publish: (frame: Uint8Array) => void;
  /** Largest payload of one frame (the server's `max_payload` less the header). */
  maxPayload: number;
  /** Where to log. */
  log: Logger;
  /** Names the session in messages (`minion web1`). */
  label: string;
  /** Outbox bound in bytes. @default {64 MiB} */
  outboxBytes?: number;
  /** End the session after this long without a frame from the peer, in ms; 0: never. */
  idleMs?: number;
  /** Resend what is unacknowledged after this long without progress, in ms. @default {1000} */
  retransmitMs?: number;
  /** The minion id NATS authenticated on the other end (the master's sessions). */
  authenticatedId?: string;
  /** Called once when the session ends. */
  onEnd?: () => void;
}

interface Unacked {
  seq: number;
  frame: Uint8Array;
  fin: boolean;
}

/**
 * A reliable byte stream over NATS frames.
 *
 * @example
 * ```ts
 * import { NatsSession, newSessionId } from "./nats_session.ts";
 * import { silentLogger } from "../bus/log.ts";
 * const session = new NatsSession({
 *   id: newSessionId(), publish: (frame) => console.log(frame.length), maxPayload: 1 << 20,
 *   log: silentLogger, label: "test",
 * });
 * await session.write(new Uint8Array([1, 2, 3]));
 * session.close();
 * ```
 */
export class NatsSession implements ByteChannel {
  /** The session id, as hex. */
  readonly id: string;
  /** The minion id NATS authenticated on the other end, when known. */
  readonly authenticatedId?: string;
  readonly #sid: Uint8Array;
  readonly #options: NatsSessionOptions;
  readonly #outboxLimit: number;
  #nextSeq = 1;
  #received = 0; // highest contiguous seq received
  #ackedByPeer = 0;
  #unacked: Unacked[] = [];
  #unackedBytes = 0;
  #lastProgress = Date.now();
  #lastHeard = Date.now();
  #heard = 0; // frames received, for probes
  #pendingAck = 0;
  #ackTimer: ReturnType<typeof setTimeout> | null = null;
  #lastSync = 0;
  #chunks: Uint8Array[] = [];
  #reader: ((chunk: Uint8Array | null) => void) | null = null;
  #ended = false;
  #finished = false;
  #timer: ReturnType<typeof setInterval>;
  #dropped = { writes: 0, bytes: 0 };

  /** Creates the session; it sends nothing until written to. */
  constructor(options: NatsSessionOptions) {
    this.id = options.id;
    this.authenticatedId = options.authenticatedId;
    this.#sid = sessionIdBytes(options.id);
    this.#options = options;
    this.#outboxLimit = options.outboxBytes ?? DEFAULT_OUTBOX_BYTES;
    this.#timer = setInterval(() => this.#tick(), Math.min(options.retransmitMs ?? 1000, 1000));
    Deno.unrefTimer(this.#timer);
  }

  /** Bytes sent and not acknowledged yet. */
  get unackedBytes(): number {
    return this.#unackedBytes;
  }

  /** Writes dropped because the outbox was full, and their bytes. */
  get dropped(): { writes: number; bytes: number } {
    return { ...this.#dropped };
  }

  /** True once the session ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Reads what the peer sent next; `null` once the session ended. */
  read(): Promise<Uint8Array | null> {
    if (this.#chunks.length > 0) return Promise.resolve(this.#take());
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => this.#reader = resolve);
  }

  /**
   * Sends `bytes` (split into frames), keeping them until acknowledged.
   * Rejects once the session ended; a write that does not fit the outbox is
   * dropped whole, counted and logged.
   */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#ended) return Promise.reject(new Error(`${this.#options.label}: session ended`));
    if (this.#unackedBytes + bytes.length > this.#outboxLimit) {
      this.#dropped.writes++;
      this.#dropped.bytes += bytes.length;
      if (this.#dropped.writes === 1 || this.#dropped.writes % 1000 === 0) {
        this.#options.log.error(
          `${this.#options.label}: NATS outbox full (${this.#unackedBytes} bytes unacknowledged): ` +
            `dropped ${this.#dropped.writes} writes (${this.#dropped.bytes} bytes) of link messages so far`,
        );
      }
      return Promise.resolve();
    }
    const max = Math.max(1024, this.#options.maxPayload - HEADER_SIZE);
    for (let at = 0; at < bytes.length; at += max) {
      this.#send(FRAME.DATA, bytes.subarray(at, Math.min(bytes.length, at + max)));
    }
    return Promise.resolve();
  }

  /** Ends the session: sends `FIN` after what is written; pending reads get `null`. */
  close(): void {
    if (this.#ended) return;
    this.#send(FRAME.FIN);
    this.#end();
  }

  /** After a NATS reconnection: tells the peer what arrived, so it resends the rest. */
  resync(): void {
    if (this.#ended) return;
    this.#lastSync = Date.now();
    this.#options.publish(encodeFrame(FRAME.SYNC, this.#sid, 0, this.#received));
    this.#resend(); // the peer may have lost what we sent while it was away
  }

  /** Takes a frame addressed to this session. */
  receive(header: FrameHeader, payload: Uint8Array): void {
    if (this.#ended && header.type !== FRAME.SYNC) return;
    this.#lastHeard = Date.now();
    this.#heard++;
    this.#acknowledged(header.ack);
    switch (header.type) {
      case FRAME.DATA:
      case FRAME.FIN:
        if (header.seq <= this.#received) {
          this.#scheduleAck(true); // a duplicate: say again what we have
          return;
        }
        if (header.seq !== this.#received + 1) {
          // A gap: what came between was lost; ask for it (not too often).
          if (Date.now() - this.#lastSync > 200) {
            this.#lastSync = Date.now();
            this.#options.publish(encodeFrame(FRAME.SYNC, this.#sid, 0, this.#received));
          }
          return;
        }
        this.#received = header.seq;
        if (header.type === FRAME.FIN) {
          this.#flushAck();
          this.#end();
          return;
        }
        this.#deliver(payload.slice());
        this.#scheduleAck(false);
        return;
      case FRAME.SYNC:
        this.#resend();
        this.#flushAck(); // also the answer to a probe: "I am here"
        return;
      case FRAME.RESET:
        this.#options.log.info(`${this.#options.label}: the peer does not know this session`);
        this.#end();
        return;
    }
  }

  /**
   * Asks the peer whether it is still there (a `SYNC`, which a live peer
   * answers at once); ends the session when nothing is heard within `ms`.
   * The master probes a minion's old sessions when it opens a new one: a
   * minion that died without `FIN` is then replaced in a second, not after
   * its missed heartbeats.
   */
  probe(ms: number): void {
    if (this.#ended) return;
    const before = this.#heard;
    this.#options.publish(encodeFrame(FRAME.SYNC, this.#sid, 0, this.#received));
    const timer = setTimeout(() => {
      if (!this.#ended && this.#heard === before) this.abort("no answer to a probe");
    }, ms);
    Deno.unrefTimer(timer);
  }

  /** Stops resending (once the NATS connection is closing); ends the session too. */
  dispose(): void {
    this.#end();
    clearInterval(this.#timer);
  }

  /** Ends the session at once without `FIN` (the peer reset it, or the connection is gone). */
  abort(reason: string): void {
    if (this.#ended) return;
    if (this.#unackedBytes > 0) {
      this.#options.log.warning(
        `${this.#options.label}: session ended (${reason}) with ${this.#unackedBytes} bytes ` +
          "unacknowledged",
      );
    }
    this.#end();
  }

  #send(type: number, payload?: Uint8Array): void {
    const seq = this.#nextSeq++;
    const frame = encodeFrame(type, this.#sid, seq, this.#received, payload);
    if (this.#unacked.length === 0) this.#lastProgress = Date.now();
    this.#unacked.push({ seq, frame, fin: type === FRAME.FIN });
    this.#unackedBytes += frame.length;
    this.#pendingAck = 0;
    this.#options.publish(frame);
  }

  #acknowledged(ack: number): void {
    if (ack <= this.#ackedByPeer) return;
    this.#ackedByPeer = ack;
    let n = 0;
    while (n < this.#unacked.length && this.#unacked[n].seq <= ack) {
      this.#unackedBytes -= this.#unacked[n].frame.length;
      n++;
    }
    if (n > 0) {
      this.#unacked.splice(0, n);
      this.#lastProgress = Date.now();
    }
    if (this.#finished && this.#unacked.length === 0) clearInterval(this.#timer);
  }

  #resend(): void {
    for (const entry of this.#unacked) {
      // The ack in a resent frame is refreshed to what we have now.
      const view = new DataView(entry.frame.buffer, entry.frame.byteOffset);
      view.setUint32(25, Math.floor(this.#received / 2 ** 32));
      view.setUint32(29, this.#received >>> 0);
      this.#options.publish(entry.frame);
    }
    this.#lastProgress = Date.now();
  }

  #scheduleAck(now: boolean): void {
    this.#pendingAck++;
    if (now || this.#pendingAck >= 64) {
      this.#flushAck();
      return;
    }
    this.#ackTimer ??= setTimeout(() => this.#flushAck(), 20);
  }

  #flushAck(): void {
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    this.#pendingAck = 0;
    this.#options.publish(encodeFrame(FRAME.ACK, this.#sid, 0, this.#received));
  }

  #tick(): void {
    const now = Date.now();
    if (
      this.#unacked.length > 0 && now - this.#lastProgress > (this.#options.retransmitMs ?? 1000)
    ) {
      this.#resend();
    }
    const idle = this.#options.idleMs ?? 0;
    if (!this.#ended && idle > 0 && now - this.#lastHeard > idle) {
      this.#options.log.warning(
        `${this.#options.label}: nothing heard for ${
          Math.round(idle / 1000)
        } s: ending the session`,
      );
      this.#end();
    }
    // Once ended, keep resending FIN and the rest a while, then stop.
    if (this.#finished && (this.#unacked.length === 0 || now - this.#lastHeard > 10_000)) {
      clearInterval(this.#timer);
    }
  }

  #deliver(chunk: Uint8Array): void {
    if (this.#reader) {
      const reader = this.#reader;
      this.#reader = null;
      reader(chunk);
      return;
    }
    this.#chunks.push(chunk);
  }

  #take(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks.pop()!;
    let size = 0;
    for (const c of this.#chunks) size += c.length;
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.#chunks = [];
    return out;
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#finished = true;
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    if (this.#unacked.length === 0) clearInterval(this.#timer);
    if (this.#reader && this.#chunks.length === 0) {
      const reader = this.#reader;
      this.#reader = null;
      reader(null);
    }
    this.#options.onEnd?.();
  }
}
