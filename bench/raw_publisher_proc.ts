/**
 * Benchmark helper process: a raw publisher. Connects to a bus's pull socket
 * with `Deno.connect` and writes `--count` pre-encoded sample frames, many
 * per write (`--batch-bytes`, default 64 KiB).
 *
 * With `--credit PATH --subs N`, it first waits for N subscribers to connect
 * to its credit socket (see credit.ts) and then keeps at most `--window`
 * frames in transit to the slowest of them. Prints `{"ready":true}` when
 * listening for credits, then `{ sent, seconds, rate }` at the end.
 *
 * Usage: `deno run --allow-all bench/raw_publisher_proc.ts --pull PATH --count N [--credit PATH --subs N]`
 *
 * @module
 */
import {
  BATCH_BYTES,
  frameBatch,
  numFlag,
  parseFlags,
  report,
  sampleFrame,
  writeAll,
} from "./common.ts";
import { CreditServer } from "./credit.ts";

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const count = numFlag(flags, "count", 1_000_000);
  const window = numFlag(flags, "window", 20_000);
  const { batch, frames } = frameBatch(sampleFrame(), numFlag(flags, "batch-bytes", BATCH_BYTES));
  const frameSize = batch.length / frames;
  const credits = flags.credit ? new CreditServer(flags.credit, numFlag(flags, "subs", 1)) : null;
  const conn = await Deno.connect({ transport: "unix", path: flags.pull });
  report({ ready: true });
  await credits?.connected();
  // Let the broker accept and register the subscribers it has not seen yet.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const start = performance.now();
  let sent = 0;
  let waits = 0;
  while (sent < count) {
    const gate = credits?.admit(sent, window);
    if (gate) {
      waits++;
      await gate;
    }
    const n = Math.min(frames, count - sent);
    await writeAll(conn, n === frames ? batch : batch.subarray(0, n * frameSize));
    sent += n;
  }
  const seconds = (performance.now() - start) / 1000;
  conn.close();
  report({ sent, seconds, rate: sent / seconds, creditWaits: waits });
  // Keep the credit socket until the subscribers are done (run.ts stops us).
  if (credits) await new Promise((resolve) => setTimeout(resolve, 60_000));
}
