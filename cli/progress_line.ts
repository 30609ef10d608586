/**
 * A progress line for long runs on a terminal: `[proxy] 523/1000 done, 2
 * failed`, rewritten in place on stderr and cleared at the end. Piped or
 * redirected output never sees it.
 *
 * @module
 */

/** Options of {@linkcode ProgressLine}. */
export interface ProgressLineOptions {
  /** Show it at all (default: when stderr is a terminal). */
  enabled?: boolean;
  /** Milliseconds before the first line, so short runs show none (default 300). */
  delayMs?: number;
  /** Least milliseconds between redraws (default 100). */
  intervalMs?: number;
  /** Where to write (default: stderr). */
  write?: (text: string) => void;
}

const encoder = new TextEncoder();

/**
 * The progress of `total` items.
 *
 * @example
 * ```ts
 * import { ProgressLine } from "./progress_line.ts";
 * const progress = new ProgressLine("proxy", 1000);
 * progress.update(523, 2); // "\r[proxy] 523/1000 done, 2 failed" once the delay has passed
 * progress.clear();
 * ```
 */
export class ProgressLine {
  readonly #label: string;
  readonly #total: number;
  readonly #enabled: boolean;
  readonly #showAfter: number;
  readonly #intervalMs: number;
  readonly #write: (text: string) => void;
  #lastDraw = -Infinity;
  #drawn = false;

  /** A progress line labelled `label` for `total` items. */
  constructor(label: string, total: number, options: ProgressLineOptions = {}) {
    this.#label = label;
    this.#total = total;
    this.#enabled = options.enabled ?? Deno.stderr.isTerminal();
    this.#showAfter = performance.now() + (options.delayMs ?? 300);
    this.#intervalMs = options.intervalMs ?? 100;
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
  }

  /** Reports `done` items, `failed` of them failed; redraws when due. */
  update(done: number, failed: number): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (now < this.#showAfter || (now - this.#lastDraw < this.#intervalMs && done < this.#total)) {
      return;
    }
    this.#lastDraw = now;
    this.#drawn = true;
    this.#write(`\r\x1b[K[${this.#label}] ${done}/${this.#total} done, ${failed} failed`);
  }

  /** Removes the line (if one was drawn). */
  clear(): void {
    if (this.#drawn) this.#write("\r\x1b[K");
    this.#drawn = false;
  }
}
