/**
 * Credit-based flow control between benchmark processes. saltbus never
 * blocks a publisher: a subscriber that falls more than `ipc_write_buffer`
 * behind is dropped. To measure the most a subscriber can take (rather than
 * how fast a publisher can overrun it), subscribers report how many frames
 * they have received on a side socket, and the publisher keeps at most a
 * window of frames in transit to the slowest of them.
 *
 * @module
 */

/**
 * The publisher's side: listens on a Unix socket for subscribers' progress
 * reports (each an 8-byte little-endian float64 frame count).
 *
 * @example
 * ```ts
 * import { CreditServer } from "./credit.ts";
 * const credits = new CreditServer("/tmp/credit.sock", 1);
 * await credits.connected();
 * await credits.admit(1000, 20_000);
 * credits.close();
 * ```
 */
export class CreditServer {
  readonly #listener: Deno.UnixListener;
  readonly #counts: number[] = [];
  readonly #conns: Deno.Conn[] = [];
  #waiters: (() => void)[] = [];
  #closed = false;

  /** Listens on `path` for `expected` subscriber connections. */
  constructor(readonly path: string, readonly expected: number) {
    this.#listener = Deno.listen({ transport: "unix", path });
    void this.#accept();
  }

  /** Resolves once `expected` subscribers have connected. */
  async connected(): Promise<void> {
    while (this.#counts.length < this.expected) await this.#changed();
  }

  /** The smallest count any subscriber reported. */
  get slowest(): number {
    let min = Infinity;
    for (const n of this.#counts) if (n < min) min = n;
    return min === Infinity ? 0 : min;
  }

  /**
   * Resolves when fewer than `window` frames are in transit, given `sent`
   * frames sent so far; returns `null` at once (no promise) when they are.
   */
  admit(sent: number, window: number): Promise<void> | null {
    if (sent - this.slowest < window) return null;
    return (async () => {
      while (sent - this.slowest >= window && !this.#closed) await this.#changed();
    })();
  }

  /** Stops listening and closes the subscribers' report connections. */
  close(): void {
    this.#closed = true;
    try {
      this.#listener.close();
    } catch { /* closed */ }
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    this.#wake();
    Deno.removeSync(this.path);
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const index = this.#counts.length;
        this.#counts.push(0);
        this.#conns.push(conn);
        this.#wake();
        void this.#read(conn, index);
      }
    } catch { /* closed */ }
  }

  async #read(conn: Deno.Conn, index: number): Promise<void> {
    const buffer = new Uint8Array(4096);
    const view = new DataView(buffer.buffer);
    let held = 0;
    try {
      while (true) {
        const n = await conn.read(buffer.subarray(held));
        if (n === null) break;
        held += n;
        const whole = held - (held % 8);
        if (whole > 0) {
          this.#counts[index] = view.getFloat64(whole - 8, true);
          buffer.copyWithin(0, whole, held);
          held -= whole;
          this.#wake();
        }
      }
    } catch { /* closed */ }
    // A subscriber that went away no longer holds the publisher back.
    this.#counts[index] = Infinity;
    this.#wake();
  }

  #changed(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** Frames a subscriber receives between two reports (the window is 20,000). */
export const CREDIT_STEP = 1024;

/**
 * The subscriber's side: reports its frame count, at most one write in
 * flight (the latest count wins).
 *
 * @example
 * ```ts
 * import { CreditReporter } from "./credit.ts";
 * const reporter = await CreditReporter.connect("/tmp/credit.sock");
 * reporter.update(327);
 * reporter.close();
 * ```
 */
export class CreditReporter {
  #latest = 0;
  #sent = 0;
  #writing = false;
  #closed = false;
  readonly #buffer = new Uint8Array(8);
  readonly #view = new DataView(this.#buffer.buffer);

  private constructor(readonly conn: Deno.Conn) {}

  /** Connects to the publisher's credit socket. */
  static async connect(path: string): Promise<CreditReporter> {
    return new CreditReporter(await Deno.connect({ transport: "unix", path }));
  }

  /**
   * Reports that `frames` frames have been received so far. Progress of
   * less than {@linkcode CREDIT_STEP} frames since the last report waits for
   * more (a report costs a write and a wake-up of the publisher, which
   * otherwise weigh on every scenario alike); the window is far larger.
   */
  update(frames: number): void {
    this.#latest = frames;
    if (!this.#writing && frames - this.#sent >= CREDIT_STEP) void this.#flush();
  }

  /** Closes the connection (the publisher then stops waiting for it). */
  close(): void {
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* closed */ }
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#sent !== this.#latest && !this.#closed) {
        this.#sent = this.#latest;
        this.#view.setFloat64(0, this.#sent, true);
        let at = 0;
        while (at < 8) at += await this.conn.write(this.#buffer.subarray(at));
      }
    } catch {
      /* publisher gone */
    } finally {
      this.#writing = false;
    }
  }
}
