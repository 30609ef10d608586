/**
 * Benchmark helper process: many publishers each writing one sample frame at
 * a time and yielding between writes, so the broker reads frames one or a
 * few at a time (as with many minions and scripts firing small events).
 * Runs until stopped or `--seconds`; prints `{"ready":true}` once connected
 * and `{ sent }` at the end.
 *
 * Usage: `deno run --allow-all bench/trickle_publisher_proc.ts --pull PATH [--conns 200]`
 *
 * @module
 */
import { numFlag, parseFlags, report, sampleFrame, sleep, writeAll } from "./common.ts";

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const frame = sampleFrame();
  const conns = await Promise.all(
    Array.from(
      { length: numFlag(flags, "conns", 200) },
      () => Deno.connect({ transport: "unix", path: flags.pull }),
    ),
  );
  report({ ready: true });
  const until = performance.now() + numFlag(flags, "seconds", 20) * 1000;
  let sent = 0;
  let stop = false;
  Deno.addSignalListener("SIGTERM", () => stop = true);
  await Promise.all(conns.map(async (conn) => {
    try {
      while (!stop && performance.now() < until) {
        await writeAll(conn, frame);
        sent++;
        await sleep(0);
      }
    } catch { /* broker gone */ }
  }));
  for (const conn of conns) conn.close();
  report({ sent });
  Deno.exit(0);
}
