/**
 * Benchmark helper: `Caller.cmd("event.send", …)` in a loop from one
 * script, each call awaited, through a running minion daemon.
 *
 * Flags: --config FILE (minion config), --count N. Prints one JSON report
 * `{ calls, rate, failed }`.
 *
 * @module
 */
import { Caller } from "../modules/caller.ts";
import { numFlag, parseFlags, report } from "./common.ts";

const flags = parseFlags(Deno.args);
const count = numFlag(flags, "count", 50_000);
await using caller = new Caller({ config: flags.config });
await caller.cmd("test.ping"); // load once before timing
let failed = 0;
const started = performance.now();
for (let n = 0; n < count; n++) {
  if ((await caller.cmd("event.send", "bench/caller", { n })) !== true) failed++;
}
const seconds = (performance.now() - started) / 1000;
report({ calls: count, rate: count / seconds, failed });
