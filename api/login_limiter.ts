/**
 * Failed-login throttling for `POST /login`, per user and per address.
 *
 * Each key (a user, an address) may fail `allowed` times freely. After
 * that it is locked for a delay that doubles with every further failure
 * (1 s, 2 s, 4 s … up to `maxDelayMs`), and while a key is past its free
 * failures only one attempt at a time is let through, so concurrent
 * guesses cannot slip in before the first failure is counted. Locked
 * attempts are refused without checking the password (no PBKDF2 work).
 * A success clears the user's key; an address's key only decays (after
 * `forgetMs` without failures), so a valid account cannot be used to reset
 * an address that guesses at others. Memory is bounded: at most
 * `maxKeys` keys, the least recently failed forgotten first.
 *
 * @module
 */
import { createHmac } from "node:crypto";

/** Options of {@linkcode LoginLimiter}. */
export interface LoginLimiterOptions {
  /** Failures per key before delays start. @default 5 */
  allowed?: number;
  /** The first delay, in ms. @default 1000 */
  initialDelayMs?: number;
  /** The longest delay, in ms. @default 60000 */
  maxDelayMs?: number;
  /** A key with no failure for this long starts afresh, in ms. @default 900000 */
  forgetMs?: number;
  /** Keys kept at most. @default 10000 */
  maxKeys?: number;
  /** The clock (for tests). */
  now?: () => number;
}

interface KeyState {
  failures: number;
  lockedUntil: number;
  inflight: number;
  lastFailure: number;
}

/** What {@linkcode LoginLimiter.begin} answers. */
export type LoginAdmission =
  | {
    ok: true;
    /** Records the outcome; call exactly once. Resolves the lock it caused, if any. */
    finish(success: boolean): LoginLock | null;
  }
  | {
    ok: false;
    /** How long until an attempt may be made again, in ms. */
    retryAfterMs: number;
    /** Which key is locked: `user` or `address`. */
    by: "user" | "address";
  };

/** A lock that a failure started or lengthened, for the log. */
export interface LoginLock {
  /** `user` or `address`. */
  by: "user" | "address";
  /** Consecutive failures of that key. */
  failures: number;
  /** For how long it is locked, in ms. */
  delayMs: number;
}

/**
 * A short keyed hash of a user name, for log lines and limiter keys: the
 * same name gives the same 8 hex digits within one process, but the digits
 * cannot be turned back into the name (a password typed into the user
 * field stays secret).
 *
 * @example
 * ```ts
 * import { userTag } from "./login_limiter.ts";
 * userTag("alice"); // e.g. "3fa2c91b" (stable until the process restarts)
 * ```
 */
export function userTag(name: string): string {
  return createHmac("sha256", TAG_KEY).update(name).digest("hex").slice(0, 8);
}

const TAG_KEY = crypto.getRandomValues(new Uint8Array(32));

/**
 * Throttles failed logins per user and per address.
 *
 * @example
 * ```ts
 * import { LoginLimiter } from "./login_limiter.ts";
 * const limiter = new LoginLimiter({ allowed: 5 });
 * const admission = limiter.begin("alice", "127.0.0.1");
 * if (admission.ok) admission.finish(false);
 * ```
 */
export class LoginLimiter {
  readonly #allowed: number;
  readonly #initial: number;
  readonly #max: number;
  readonly #forget: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #keys = new Map<string, KeyState>();

  /** Creates a limiter. */
  constructor(options: LoginLimiterOptions = {}) {
    this.#allowed = options.allowed ?? 5;
    this.#initial = options.initialDelayMs ?? 1000;
    this.#max = options.maxDelayMs ?? 60_000;
    this.#forget = options.forgetMs ?? 900_000;
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Keys held now. */
  get size(): number {
    return this.#keys.size;
  }

  #state(key: string, now: number): KeyState | undefined {
    const state = this.#keys.get(key);
    if (state && state.inflight === 0 && now - state.lastFailure > this.#forget) {
      this.#keys.delete(key);
      return undefined;
    }
    return state;
  }

  #blocked(state: KeyState | undefined, now: number): number {
    if (state === undefined) return 0;
    if (now < state.lockedUntil) return state.lockedUntil - now;
    // Past the free failures: one attempt at a time.
    if (state.failures + state.inflight >= this.#allowed && state.inflight > 0) {
      return Math.max(this.#initial, 1);
    }
    return 0;
  }

  /**
   * Asks to try a login for `user` from `address` (synchronous, so that
   * concurrent attempts are counted before any password is checked).
   */
  begin(user: string, address: string): LoginAdmission {
    const now = this.#now();
    const keys = { user: `u:${userTag(user)}`, address: `a:${address}` } as const;
    for (const by of ["user", "address"] as const) {
      const wait = this.#blocked(this.#state(keys[by], now), now);
      if (wait > 0) return { ok: false, retryAfterMs: wait, by };
    }
    const states = {
      user: this.#touch(keys.user),
      address: this.#touch(keys.address),
    };
    states.user.inflight++;
    states.address.inflight++;
    this.#prune();
    let finished = false;
    return {
      ok: true,
      finish: (success: boolean): LoginLock | null => {
        if (finished) return null;
        finished = true;
        states.user.inflight--;
        states.address.inflight--;
        if (success) {
          this.#keys.delete(keys.user);
          this.#dropIfClean(keys.address, states.address);
          return null;
        }
        let lock: LoginLock | null = null;
        for (const by of ["user", "address"] as const) {
          const state = states[by];
          const at = this.#now();
          state.failures++;
          state.lastFailure = at;
          this.#keys.delete(keys[by]); // most recently failed last
          this.#keys.set(keys[by], state);
          if (state.failures >= this.#allowed) {
            const delayMs = Math.min(
              this.#max,
              this.#initial * 2 ** (state.failures - this.#allowed),
            );
            state.lockedUntil = at + delayMs;
            if (lock === null || delayMs > lock.delayMs) {
              lock = { by, failures: state.failures, delayMs };
            }
          }
        }
        this.#prune();
        return lock;
      },
    };
  }

  #touch(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = { failures: 0, lockedUntil: 0, inflight: 0, lastFailure: this.#now() };
      this.#keys.set(key, state);
    }
    return state;
  }

  #dropIfClean(key: string, state: KeyState): void {
    if (state.failures === 0 && state.inflight === 0) this.#keys.delete(key);
  }

  #prune(): void {
    for (const [key, state] of this.#keys) {
      if (this.#keys.size <= this.#maxKeys) break;
      if (state.inflight === 0) this.#keys.delete(key);
    }
  }
}
