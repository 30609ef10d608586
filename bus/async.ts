/**
 * The one copy of saltbus's timing mechanisms: {@linkcode delay}, deadlines
 * ({@linkcode raceDeadline}, {@linkcode TIMED_OUT}) and reconnection back-off
 * with jitter ({@linkcode Backoff}). Every wait can be cancelled with an
 * `AbortSignal`, and waits that only serve an idle client can be `unref`'d so
 * they never hold a script's process open.
 *
 * @module
 */

/** Options of {@linkcode delay}. */
export interface DelayOptions {
  /** Ends the wait early (it resolves, it does not reject). */
  signal?: AbortSignal;
  /** Let the process exit during the wait (for background reconnects). Default false. */
  unref?: boolean;
}

/**
 * Resolves after `ms` milliseconds, or at once when `signal` aborts.
 *
 * @example
 * ```ts
 * import { delay } from "./async.ts";
 * await delay(10);
 * await delay(60_000, { signal: AbortSignal.timeout(5), unref: true }); // back after 5 ms
 * ```
 */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { signal } = options;
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    if (options.unref) Deno.unrefTimer(timer);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** What {@linkcode raceDeadline} resolves when the deadline passes or the signal aborts. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Resolves `promise`'s value, or {@linkcode TIMED_OUT} at `deadline` (a
 * `Date.now()` time; `Infinity` for none) or when `signal` aborts. A
 * rejection of `promise` before then rejects. With `unref`, the deadline's
 * timer does not hold the process open.
 *
 * @example
 * ```ts
 * import { raceDeadline, TIMED_OUT } from "./async.ts";
 * const never = new Promise<number>(() => {});
 * console.log(await raceDeadline(never, Date.now() + 10) === TIMED_OUT); // true
 * ```
 */
export function raceDeadline<T>(
  promise: Promise<T>,
  deadline: number,
  signal?: AbortSignal,
  options: { unref?: boolean } = {},
): Promise<T | typeof TIMED_OUT> {
  if (deadline === Infinity && !signal) return promise;
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanUp = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      cleanUp();
      resolve(TIMED_OUT);
    };
    if (signal?.aborted) return onAbort();
    if (deadline !== Infinity) {
      timer = setTimeout(onAbort, Math.max(0, deadline - Date.now()));
      if (options.unref) Deno.unrefTimer(timer);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then((value) => {
      cleanUp();
      resolve(value);
    }, (err) => {
      cleanUp();
      reject(err);
    });
  });
}

/** Options of {@linkcode Backoff}. */
export interface BackoffOptions {
  /** The first delay, in ms. */
  initialMs: number;
  /** The longest delay, in ms; each attempt doubles the delay up to it. */
  maxMs: number;
  /**
   * Fraction of each delay drawn at random, so that many clients that lost
   * the same server do not come back in step. Default 0.2 (±10 %).
   */
  jitter?: number;
}

/**
 * Exponential back-off with jitter for reconnection loops: `wait()` sleeps
 * the current delay and doubles it (up to `maxMs`); `reset()` after a
 * success.
 *
 * @example
 * ```ts
 * import { Backoff } from "./async.ts";
 * const backoff = new Backoff({ initialMs: 250, maxMs: 2000 });
 * const signal = AbortSignal.timeout(1000);
 * while (!signal.aborted) {
 *   try {
 *     await Deno.connect({ port: 4506 });
 *     backoff.reset();
 *     break;
 *   } catch {
 *     await backoff.wait({ signal });
 *   }
 * }
 * ```
 */
export class Backoff {
  readonly #options: BackoffOptions;
  #next: number;

  /** Creates the back-off at its first delay. */
  constructor(options: BackoffOptions) {
    this.#options = options;
    this.#next = options.initialMs;
  }

  /** The delay the next `wait()` will sleep, before jitter, in ms. */
  get nextMs(): number {
    return this.#next;
  }

  /** Sleeps the current delay (with jitter), then doubles it up to `maxMs`. */
  async wait(options: DelayOptions = {}): Promise<void> {
    const jitter = this.#options.jitter ?? 0.2;
    const ms = this.#next * (1 + jitter * (Math.random() - 0.5));
    this.#next = Math.min(this.#next * 2, this.#options.maxMs);
    await delay(ms, options);
  }

  /** Back to the first delay (after a success). */
  reset(): void {
    this.#next = this.#options.initialMs;
  }
}
