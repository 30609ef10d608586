/**
 * Salt's reactor `ThreadPool` (spec §12.8): at most `workers` tasks run at
 * once, up to `queueSize` more wait (`0`: unbounded); `fireAsync` refuses a
 * task when the queue is full.
 *
 * @module
 */

/**
 * A bounded pool of async tasks.
 *
 * @example
 * ```ts
 * import { TaskPool } from "./task_pool.ts";
 * const pool = new TaskPool(10, 10000);
 * pool.fireAsync(async () => {}); // true
 * await pool.drain();
 * ```
 */
export class TaskPool {
  readonly #workers: number;
  readonly #queueSize: number;
  readonly #queue: (() => Promise<void>)[] = [];
  #running = 0;
  #idle: (() => void)[] = [];

  /** `workers` (`reactor_worker_threads`), `queueSize` (`reactor_worker_hwm`, 0 unbounded). */
  constructor(workers: number, queueSize: number) {
    this.#workers = Math.max(1, workers);
    this.#queueSize = queueSize;
  }

  /** Queues `task`; `false` (and not queued) when the queue is full. */
  fireAsync(task: () => Promise<void>): boolean {
    if (this.#running < this.#workers) {
      this.#run(task);
      return true;
    }
    if (this.#queueSize > 0 && this.#queue.length >= this.#queueSize) return false;
    this.#queue.push(task);
    return true;
  }

  #run(task: () => Promise<void>): void {
    this.#running++;
    task().catch(() => {}).finally(() => {
      this.#running--;
      const next = this.#queue.shift();
      if (next) this.#run(next);
      else if (this.#running === 0) { for (const wake of this.#idle.splice(0)) wake(); }
    });
  }

  /** Resolves once nothing runs and nothing waits. */
  drain(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }
}
