/**
 * Benchmark helper process: the NATS reference figure, with nats.js
 * (`@nats-io/transport-node`) against a private nats-server.
 *
 * `--role pub`: publishes `--count` 200-byte payloads (the sample frame) on
 * one subject, flushing every 1,000 and keeping at most `--window` in transit
 * to the slowest subscriber (`--credit PATH --subs N`, see credit.ts).
 * `--role sub`: `--conns N` connections, each subscribed, each counting
 * messages until `--expect`; reports the slowest connection's rate. Prints
 * `{"ready":true}` and then one result line.
 *
 * @module
 */
import { connect } from "npm:@nats-io/transport-node@3.4.0";
import { numFlag, parseFlags, report, sampleFrame, sleep } from "./common.ts";
import { CreditReporter, CreditServer } from "./credit.ts";

const SUBJECT = "saltbus.bench";

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const servers = String(flags.url);
  const payload = sampleFrame();
  if (flags.role === "pub") {
    const count = numFlag(flags, "count", 1_000_000);
    const window = numFlag(flags, "window", 20_000);
    const credits = flags.credit ? new CreditServer(flags.credit, numFlag(flags, "subs", 1)) : null;
    const nc = await connect({ servers });
    report({ ready: true });
    await credits?.connected();
    await sleep(200);
    const start = performance.now();
    let sent = 0;
    while (sent < count) {
      await credits?.admit(sent, window);
      const n = Math.min(1000, count - sent);
      for (let i = 0; i < n; i++) nc.publish(SUBJECT, payload);
      sent += n;
      await nc.flush();
    }
    const seconds = (performance.now() - start) / 1000;
    report({ sent, seconds, rate: sent / seconds });
    if (credits) await sleep(60_000);
    await nc.close();
  } else {
    const expect = numFlag(flags, "expect", Infinity);
    const conns = numFlag(flags, "conns", 1);
    let credit: CreditReporter | null = null;
    const counts = new Array(conns).fill(0);
    const results = await Promise.all(Array.from({ length: conns }, async (_, c) => {
      const nc = await connect({ servers });
      let first = 0;
      let last = 0;
      const done = Promise.withResolvers<void>();
      nc.subscribe(SUBJECT, {
        callback: () => {
          const now = performance.now();
          if (counts[c]++ === 0) first = now;
          last = now;
          if (counts[c] % 1000 === 0 || counts[c] >= expect) {
            credit?.update(Math.min(...counts));
          }
          if (counts[c] >= expect) done.resolve();
        },
      });
      await nc.flush();
      return { nc, done: done.promise, times: () => ({ first, last }) };
    }));
    // Subscribed everywhere before the publisher is let go.
    credit = flags.credit ? await CreditReporter.connect(flags.credit) : null;
    report({ ready: true });
    await Promise.all(results.map((r) => r.done));
    const rates = results.map((r, c) => {
      const { first, last } = r.times();
      return (counts[c] - 1) / ((last - first) / 1000);
    });
    for (const r of results) await r.nc.close();
    credit?.close();
    report({ count: Math.min(...counts), rate: Math.min(...rates) });
  }
}
