/**
 * Benchmark helper process: listens through the library
 * (`getEvent("master", { sockDir })` and `iterEvents({ full: true })`, which
 * decodes every event's data) and counts events until `--expect`, or until
 * nothing arrives for `--idle-ms`.
 *
 * With `--latency`, each event's `sent_us` is compared with the receive time
 * (events in the first `--warmup-ms`, default 500, are not counted) and the
 * report holds p50/p99/max in ms.
 *
 * With `--credit PATH` it reports progress to the publisher (see credit.ts).
 * Prints `{"ready":true}` once connected, then one result line.
 *
 * @module
 */
import { getEvent } from "../mod.ts";
import { DROPPED_TAG } from "../bus/router.ts";
import { nowUs, numFlag, parseFlags, report } from "./common.ts";
import { CreditReporter } from "./credit.ts";

/**
 * The `q` quantile (0…1) of sorted values.
 *
 * @example
 * ```ts
 * import { quantile } from "./listen_proc.ts";
 * quantile(Float64Array.of(1, 2, 3), 0.5); // 2
 * ```
 */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const expect = numFlag(flags, "expect", Infinity);
  const idleMs = numFlag(flags, "idle-ms", 3000);
  const latency = flags.latency === "true";
  const warmupMs = numFlag(flags, "warmup-ms", 500);
  await using ev = getEvent("master", { sockDir: flags["sock-dir"] });
  if (!(await ev.connected(10))) throw new Error("cannot connect to the bus");
  report({ ready: true });
  const credit = flags.credit ? await CreditReporter.connect(flags.credit) : null;

  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(), 30_000);
  let count = 0;
  let first = 0;
  let last = 0;
  /** Events received when `last` was read. */
  let lastCount = 0;
  let dropped = false;
  let latencyStart = 0;
  const latencies: number[] = [];
  for await (const event of ev.iterEvents({ full: true, signal: abort.signal })) {
    if (event.tag === "bench/warmup") continue;
    if (event.tag === DROPPED_TAG) {
      dropped = true;
      break;
    }
    // The clock is read for the first event, every 1,024th and the last
    // (and for each event when measuring latency), not per event.
    if (first === 0) {
      first = performance.now();
      latencyStart = first + warmupMs;
    }
    count++;
    if (latency) {
      const now = performance.now();
      last = now;
      lastCount = count;
      if (now >= latencyStart) latencies.push((nowUs() - (event.data.sent_us as number)) / 1000);
    }
    if (count >= expect) {
      last = performance.now();
      lastCount = count;
      break;
    }
    if ((count & 1023) === 0) {
      last = performance.now();
      lastCount = count;
      credit?.update(count);
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(), idleMs);
    }
  }
  clearTimeout(timer);
  credit?.update(count);
  const seconds = (last - first) / 1000;
  const result: Record<string, unknown> = {
    count,
    seconds,
    rate: seconds > 0 ? (lastCount - 1) / seconds : 0,
    dropped,
  };
  if (latency) {
    const sorted = Float64Array.from(latencies).sort();
    result.latency = {
      samples: sorted.length,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      p999: quantile(sorted, 0.999),
      max: sorted[sorted.length - 1],
      min: sorted[0],
    };
  }
  credit?.close();
  report(result);
}
