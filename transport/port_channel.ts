/**
 * {@linkcode ByteChannel} on a MessagePort, with one batch in flight per
 * direction: a write resolves when the other side has taken the bytes, and
 * the reader acknowledges each chunk it takes. Both sides of an in-process
 * actor connection use it.
 *
 * @module
 */
import type { ByteChannel } from "../bus/transport.ts";

/**
 * On an actor's MessagePort, either way: `d` carries bytes, `a` acknowledges
 * the last `d` (flow control: one batch in flight), `c` closes.
 */
export type PortMessage =
  | { t: "d"; b: Uint8Array }
  | { t: "a" }
  | { t: "c"; reason?: string };

/** Bytes a writer may have posted and not yet taken by the peer before `write` waits. */
export const WRITE_WINDOW = 1024 * 1024;

/**
 * A byte stream over a MessagePort.
 *
 * @example
 * ```ts
 * import { PortChannel } from "./port_channel.ts";
 * const { port1, port2 } = new MessageChannel();
 * const a = new PortChannel(port1, true);
 * const b = new PortChannel(port2);
 * const written = a.write(new Uint8Array([1, 2]));
 * console.log(await b.read()); // Uint8Array(2) [ 1, 2 ]
 * await written;
 * a.close();
 * b.close();
 * ```
 */
export class PortChannel implements ByteChannel {
  #inbox: Uint8Array[] = [];
  #reader: ((chunk: Uint8Array | null) => void) | null = null;
  #writeDone: { resolve: () => void; reject: (e: Error) => void } | null = null;
  /** Sizes of the chunks posted and not yet taken by the peer, oldest first. */
  #inFlight: number[] = [];
  #inFlightBytes = 0;
  #closed = false;
  #closeReason = "";

  /**
   * Wraps `port`; the channel owns it from now on. With `transferWrites`,
   * written bytes that fill their buffer are transferred (zero copy) and the
   * caller must not touch them again; otherwise they are copied (the broker
   * hands the same bytes to several subscribers, so it must copy).
   */
  constructor(readonly port: MessagePort, readonly transferWrites = false) {
    port.onmessage = (e: MessageEvent<PortMessage>) => this.#receive(e.data);
    port.start();
  }

  /** True once either side closed the channel. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Why the peer closed, when it said. */
  get closeReason(): string {
    return this.#closeReason;
  }

  /** Next chunk, or `null` once closed. */
  read(): Promise<Uint8Array | null> {
    const chunk = this.#inbox.shift();
    if (chunk !== undefined) {
      this.#post({ t: "a" });
      return Promise.resolve(chunk);
    }
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#reader = resolve;
    });
  }

  /**
   * Sends `bytes`; resolves at once while less than {@linkcode WRITE_WINDOW}
   * bytes wait for the peer to take them (several batches in flight), else
   * when the peer has taken enough of them.
   */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#closed) return Promise.reject(new Deno.errors.BrokenPipe("port channel closed"));
    const whole = this.transferWrites && bytes.byteOffset === 0 &&
      bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const message: PortMessage = { t: "d", b: whole ? bytes : bytes.slice() };
    const size = message.b.byteLength;
    this.port.postMessage(message, [message.b.buffer as ArrayBuffer]);
    this.#inFlight.push(size);
    this.#inFlightBytes += size;
    if (this.#inFlightBytes <= WRITE_WINDOW) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#writeDone = { resolve, reject };
    });
  }

  /** Closes both sides (idempotent); `reason` is passed on to the peer. */
  close(reason?: string): void {
    if (this.#closed) return;
    this.#post(reason === undefined ? { t: "c" } : { t: "c", reason });
    this.#shutdown(reason ?? "closed");
  }

  /** Marks the channel closed without telling the peer (the peer is gone). */
  abandon(reason: string): void {
    this.#shutdown(reason);
  }

  #receive(message: PortMessage): void {
    if (message.t === "d") {
      if (this.#reader) {
        const reader = this.#reader;
        this.#reader = null;
        this.#post({ t: "a" });
        reader(message.b);
      } else {
        this.#inbox.push(message.b);
      }
    } else if (message.t === "a") {
      this.#inFlightBytes -= this.#inFlight.shift() ?? 0;
      if (this.#writeDone && this.#inFlightBytes <= WRITE_WINDOW) {
        const done = this.#writeDone;
        this.#writeDone = null;
        done.resolve();
      }
    } else {
      this.#closeReason = message.reason ?? "closed by peer";
      this.#shutdown(this.#closeReason);
    }
  }

  #post(message: PortMessage): void {
    if (!this.#closed) this.port.postMessage(message);
  }

  #shutdown(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.port.onmessage = null;
    this.port.close();
    this.#reader?.(null);
    this.#reader = null;
    this.#writeDone?.reject(new Deno.errors.BrokenPipe(reason));
    this.#writeDone = null;
  }
}
