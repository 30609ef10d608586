/**
 * Benchmark helper process: fires sample events through the library, with a
 * fire-only client (`getEvent("master", { sockDir, listen: false })`).
 *
 * Modes (`--mode`):
 * - `await`: `await ev.fireEvent(…)` one by one, `--count` events.
 * - `pipelined`: fireEvent promises collected and awaited in batches of
 *   `--batch` (default 1000), `--count` events.
 * - `paced`: `--rate` events/s for `--seconds`, paced by a 1 ms timer; each
 *   event carries its send time in µs (`sent_us`), for latency.
 *
 * With `--credit PATH --subs N` (not in paced mode) it waits for N
 * subscribers on its credit socket and keeps at most `--window` events in
 * transit (see credit.ts). Prints `{"ready":true}`, then
 * `{ sent, seconds, rate }`.
 *
 * @module
 */
import { getEvent } from "../mod.ts";
import { nowUs, numFlag, parseFlags, report, SAMPLE_TAG, sampleData, sleep } from "./common.ts";
import { CreditServer } from "./credit.ts";

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const mode = flags.mode ?? "pipelined";
  const count = numFlag(flags, "count", 500_000);
  const batch = numFlag(flags, "batch", 1000);
  const window = numFlag(flags, "window", 20_000);
  const credits = flags.credit ? new CreditServer(flags.credit, numFlag(flags, "subs", 1)) : null;
  const ev = getEvent("master", { sockDir: flags["sock-dir"], listen: false });
  const data = sampleData();
  // Connect the pull side before timing.
  await ev.fireEvent({ warmup: true }, "bench/warmup");
  await ev.flush();
  report({ ready: true });
  await credits?.connected();
  await sleep(300);

  const start = performance.now();
  let sent = 0;
  let failed = 0;
  if (mode === "await") {
    while (sent < count) {
      if (sent % batch === 0) await credits?.admit(sent, window);
      if (!(await ev.fireEvent(data, SAMPLE_TAG))) failed++;
      sent++;
    }
  } else if (mode === "pipelined") {
    while (sent < count) {
      await credits?.admit(sent, window);
      const n = Math.min(batch, count - sent);
      const pending: Promise<boolean>[] = new Array(n);
      for (let i = 0; i < n; i++) pending[i] = ev.fireEvent(data, SAMPLE_TAG);
      for (const ok of await Promise.all(pending)) if (!ok) failed++;
      sent += n;
    }
  } else if (mode === "paced") {
    const rate = numFlag(flags, "rate", 10_000);
    const until = start + numFlag(flags, "seconds", 5) * 1000;
    const base = sampleData({ sent_us: 0 });
    while (performance.now() < until) {
      const due = Math.floor(((performance.now() - start) / 1000) * rate);
      const pending: Promise<boolean>[] = [];
      for (; sent < due; sent++) {
        base.sent_us = Math.round(nowUs());
        pending.push(ev.fireEvent(base, SAMPLE_TAG));
      }
      for (const ok of await Promise.all(pending)) if (!ok) failed++;
      await sleep(1);
    }
  } else {
    throw new Error(`unknown --mode ${mode}`);
  }
  await ev.flush();
  const seconds = (performance.now() - start) / 1000;
  report({ sent, failed, seconds, rate: sent / seconds });
  await ev.close();
  if (credits) {
    // run.ts stops us once the subscribers are done (`--linger-ms`: exit by
    // ourselves, e.g. to write a --cpu-prof profile).
    await sleep(numFlag(flags, "linger-ms", 60_000));
    credits.close();
  }
}
