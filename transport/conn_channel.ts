/**
 * {@linkcode ByteChannel} on any `Deno.Conn`: a Unix socket, TCP or TLS.
 *
 * @module
 */
import type { ByteChannel } from "../bus/transport.ts";

/** Read size: Salt reads 4 KiB; larger reads cost fewer wake-ups. */
const READ_SIZE = 64 * 1024;

/**
 * First read size: a connection reads 64 KiB at a time once a read has
 * filled more than half of this. Connections that send little (most, and
 * all of a connect/close churn) then cost 4 KiB, not 64 KiB: in a Worker
 * (the broker's), memory read into per-connection buffers is not given back
 * to the system, and 64 KiB each made RSS grow past 1 GB over 70k
 * short connections (about 280 MiB, flat, with this).
 */
const FIRST_READ_SIZE = 4 * 1024;

/**
 * Wraps a connected socket as a {@linkcode ByteChannel}.
 *
 * @example
 * ```ts
 * import { ConnChannel } from "./conn_channel.ts";
 * const conn = await Deno.connect({ transport: "unix", path: "/tmp/x/master_event_pub.ipc" });
 * const channel = new ConnChannel(conn);
 * console.log(await channel.read());
 * channel.close();
 * ```
 */
export class ConnChannel implements ByteChannel {
  #closed = false;
  #buffer = new Uint8Array(FIRST_READ_SIZE);

  /** Wraps `conn`; the channel owns it from now on. */
  constructor(readonly conn: Deno.Conn) {}

  /** Next chunk, or `null` at end of stream or after close. */
  async read(): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    const buffer = this.#buffer;
    try {
      const n = await this.conn.read(buffer);
      if (n === null) return null;
      // The caller keeps what it gets (the broker queues views of it for
      // subscribers), so a mostly empty 64 KiB buffer must not be handed out:
      // copy small reads and reuse the buffer; give away well-filled ones.
      if (n <= buffer.length / 2) return buffer.slice(0, n);
      this.#buffer = new Uint8Array(READ_SIZE);
      return buffer.subarray(0, n);
    } catch (err) {
      if (this.#closed || isDisconnect(err)) return null;
      throw err;
    }
  }

  /** Writes all of `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      at += await this.conn.write(at === 0 ? bytes : bytes.subarray(at));
    }
  }

  /** Lets a pending read keep the process alive (the default). */
  ref(): void {
    if (!this.#closed) this.conn.ref();
  }

  /** A pending read no longer keeps the process alive (idle clients in scripts). */
  unref(): void {
    if (!this.#closed) this.conn.unref();
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed by the runtime
    }
  }
}

/**
 * True for errors that just mean "the peer is gone".
 *
 * @example
 * ```ts
 * import { isDisconnect } from "./conn_channel.ts";
 * isDisconnect(new Deno.errors.BrokenPipe()); // true
 * ```
 */
export function isDisconnect(err: unknown): boolean {
  return err instanceof Deno.errors.BrokenPipe || err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted ||
    err instanceof Deno.errors.NotConnected || err instanceof Deno.errors.ConnectionAborted;
}
