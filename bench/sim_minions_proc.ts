/**
 * Simulated minions for the link benchmarks: `--count N` minions in this one
 * process, each with its own master link (over NATS with its own NKey, or
 * over the master's Unix socket), answering every job with `True` as
 * `test.ping` does. Minions start 16 at a time (one process standing in for
 * many hosts would otherwise time its own connection storm). Reports each
 * minion's hello time (link created → welcomed) once all are connected, then, with `--events N`, the first
 * minion sends N `_minion_event` loads as fast as the link takes them.
 *
 * ```sh
 * deno run -A bench/sim_minions_proc.ts --prefix sim-a --count 250 --nats nats://127.0.0.1:4222 --dir /tmp/x
 * deno run -A bench/sim_minions_proc.ts --prefix sim-a --count 250 --master-sock-dir /tmp/m --dir /tmp/x
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { resolveConfig } from "../bus/config.ts";
import { silentLogger } from "../bus/log.ts";
import { socketServices } from "../link/node_services.ts";
import type { MasterLink } from "../link/master_link.ts";
import { report } from "./common.ts";

// nats.js can throw socket errors from its event handlers; a benchmark process must not die of them.
globalThis.addEventListener("error", (e) => e.preventDefault());
globalThis.addEventListener("unhandledrejection", (e) => e.preventDefault());

const { values } = parseArgs({
  args: Deno.args,
  options: {
    prefix: { type: "string" },
    count: { type: "string" },
    nats: { type: "string" },
    "master-sock-dir": { type: "string" },
    dir: { type: "string" },
    events: { type: "string" },
  },
});
const count = Number(values.count);
const dir = values.dir!;
const links: MasterLink[] = [];
const helloMs: number[] = [];
let connected = 0;
const allConnected = Promise.withResolvers<void>();

const WAVE = 16;
let started = 0;
const startNext = () => {
  while (started < count && started - connected < WAVE) startMinion(started++);
};
function startMinion(i: number) {
  const id = `${values.prefix}-${i}`;
  const config = resolveConfig("minion", {
    id,
    sock_dir: join(dir, id),
    ...(values.nats
      ? { transport: "nats", nats_servers: [values.nats] }
      : { master_sock_dir: values["master-sock-dir"] }),
  });
  const createdAt = performance.now();
  let first = true;
  const link: MasterLink = socketServices.masterLink(config, {
    keepAlive: true,
    hello: () => ({ role: "minion", id, pid: Deno.pid, grains: { id } }),
    log: silentLogger,
    heartbeatMs: 5000,
    reconnectMs: 100,
    reconnectMaxMs: 500,
    onConnect: () => {
      if (!first) return;
      first = false;
      helloMs.push(performance.now() - createdAt);
      if (++connected === count) allConnected.resolve();
      startNext();
    },
    onMessage: (message) => {
      if (message.tag !== "_publish") return;
      const job = message.data;
      link.send("_return", {
        load: {
          cmd: "_return",
          id,
          jid: job.jid,
          fun: job.fun,
          fun_args: job.arg ?? [],
          return: true,
          retcode: 0,
          success: true,
        },
      });
    },
  });
  links.push(link);
}
const allStarted = performance.now();
startNext();
await allConnected.promise;
const allMs = performance.now() - allStarted;
report({ connected, helloMs, allMs });

const events = Number(values.events ?? 0);
if (events > 0) {
  // Paced by the link's own queue: at most 5,000 waiting, so nothing is dropped.
  const link = links[0];
  const eventsStarted = performance.now();
  let sent = 0;
  while (sent < events) {
    if (link.stats.queued > 5000) {
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    const load = {
      cmd: "_minion_event",
      id: `${values.prefix}-0`,
      tag: "bench/minion_event",
      data: { n: sent },
      pretag: null,
    };
    if (link.send("_minion_event", { load })) sent++;
    if (sent % 1000 === 0) await new Promise((r) => setTimeout(r, 0));
  }
  report({ sent, ms: performance.now() - eventsStarted });
}
// Runs until the benchmark stops it; SIGTERM closes the links as a minion daemon does.
Deno.addSignalListener("SIGTERM", async () => {
  await Promise.all(links.map((l) => l.close().catch(() => {})));
  Deno.exit(0);
});
await new Promise(() => {});
