/**
 * Benchmark scenarios of the master↔minion link over NATS, each beside the
 * same measure over the one-host Unix link in the same run:
 *
 * - `nats-jobs-10`: `test.ping` jobs/s to 10 minion daemons, each in its own
 *   network namespace (loopback processes when namespaces cannot be made),
 *   one at a time and 16 in flight;
 * - `nats-1000`: `test.ping` to 1,000 minions simulated in 4 processes: the
 *   time until every return is in (target < 2 s), and the hello time of each
 *   minion (p50, p99);
 * - `nats-minion-event`: `_minion_event` throughput from one minion, fired
 *   until 50,000 reached the master bus.
 *
 * @module
 */
import { join } from "node:path";
import { getEvent } from "../mod.ts";
import { LocalClient } from "../jobs/local_client.ts";
import { startNatsSite } from "../tests/nats_site.ts";
import { startNatsServer } from "../tests/nats_server.ts";
import { jobRates, startMinions } from "./minion_scenarios.ts";
import { type Master, Proc, startMaster } from "./procs.ts";
import type { Add, Scenario } from "./scenario.ts";

const SIM_PROCS = 4;
const SIM_PER_PROC = 250;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** A private nats-server whose authorization the master writes, and a master on it. */
async function natsMaster(extra: Record<string, unknown> = {}) {
  const root = await Deno.makeTempDir({ prefix: "saltbus-bench-nats-" });
  const auth = join(root, "nats_auth.conf");
  const pid = join(root, "nats.pid");
  await Deno.writeTextFile(auth, "# the master writes this file\n");
  const nats = await startNatsServer({
    config: `pid_file: ${JSON.stringify(pid)}\ninclude ${
      JSON.stringify(`../${root.split("/").pop()}/nats_auth.conf`)
    }\nmax_connections: 4096\n`,
  });
  const master = await startMaster({
    transport: "nats",
    nats_servers: [nats.url],
    nats_auth_file: auth,
    nats_server_pid_file: pid,
    auto_accept: true,
    ...extra,
  });
  return {
    nats,
    master,
    root,
    async close() {
      await master[Symbol.asyncDispose]();
      await nats.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** Starts the simulated minions; resolves the processes and every hello time. */
async function simulate(args: (i: number) => string[], dir: string) {
  const procs = Array.from(
    { length: SIM_PROCS },
    (_, i) =>
      Proc.bench("sim_minions_proc.ts", [
        ...["--prefix", `sim${i}`, "--count", `${SIM_PER_PROC}`, "--dir", dir],
        ...args(i),
      ]),
  );
  const hello: number[] = [];
  let allMs = 0;
  for (const proc of procs) {
    const r = await proc.nextReport<{ helloMs: number[]; allMs: number }>(300_000);
    hello.push(...r.helloMs);
    allMs = Math.max(allMs, r.allMs);
  }
  return { procs, hello, allMs };
}

/** Times `'*' test.ping` to all simulated minions, 5 times. */
async function pingAll(sockDir: string): Promise<{ ms: number[]; got: number[] }> {
  await using client = new LocalClient({ sockDir });
  const ms: number[] = [];
  const got: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const returns = await client.cmd("*", "test.ping", [], { timeout: 30 });
    ms.push(performance.now() - started);
    got.push(Object.keys(returns).length);
  }
  return { ms, got };
}

/** Events/s of `_minion_event` from one simulated minion, counted on the master bus. */
async function minionEvents(master: Master, args: string[], dir: string, count: number) {
  await using bus = getEvent("master", { sockDir: master.sockDir });
  await bus.connected();
  const proc = Proc.bench("sim_minions_proc.ts", [
    ...["--prefix", "ev", "--count", "1", "--dir", dir, "--events", `${count}`],
    ...args,
  ]);
  try {
    await proc.nextReport(60_000); // connected
    let seen = 0;
    let first = 0;
    while (seen < count) {
      const event = await bus.getEvent({ tag: "bench/minion_event", wait: 10 });
      if (event === null) break;
      if (seen === 0) first = performance.now();
      seen++;
    }
    const seconds = (performance.now() - first) / 1000;
    return { rate: seen / seconds, seen };
  } finally {
    await proc.stop();
  }
}

function addRates(add: Add, label: string, rates: Awaited<ReturnType<typeof jobRates>>) {
  for (const r of rates) {
    add({
      name: `${label}: test.ping jobs/s to 10 minions, ${
        r.inFlight === 1 ? "one at a time" : `${r.inFlight} in flight`
      }`,
      value: r.rate,
      unit: "jobs/s",
    });
  }
}

/** The scenarios of this file, for run.ts. */
export const NATS_SCENARIOS: Scenario[] = [
  {
    name: "nats-jobs-10",
    title: "test.ping to 10 minion daemons over NATS across namespaces, beside the Unix link",
    timeoutMs: 300_000,
    async run(add, notes) {
      const ids = Array.from({ length: 10 }, (_, i) => `m${i}`);
      {
        await using site = await startNatsSite({
          minions: ids,
          masterConfig: "auto_accept: true\n",
        });
        if (!site.namespaces) notes.push("network namespaces unavailable: loopback processes");
        await site.master();
        const daemons = [];
        for (const id of ids) daemons.push(await site.minion(id));
        for (const d of daemons) await d.stderr.waitFor(/connected to the master/, 60_000);
        await using client = new LocalClient({ sockDir: site.masterDir });
        const rates = await jobRates(client, 10);
        addRates(add, "NATS", rates);
        for (const r of rates) if (r.incomplete) notes.push(`NATS: ${r.incomplete} incomplete`);
      }
      {
        await using master = await startMaster();
        const minions = await startMinions(master, 10, `${master.sockDir}/..`);
        await using client = new LocalClient({ sockDir: master.sockDir });
        const rates = await jobRates(client, 10);
        addRates(add, "Unix link", rates);
        for (const m of minions) await m.stop();
      }
    },
  },
  {
    name: "nats-1000",
    title: "test.ping to 1,000 simulated minions (4 processes) over NATS, beside the Unix link",
    timeoutMs: 400_000,
    async run(add, notes) {
      const expect = SIM_PROCS * SIM_PER_PROC;
      const results: Record<string, { ms: number[]; hello: number[] }> = {};
      {
        const site = await natsMaster();
        const dir = join(site.root, "sims");
        try {
          // First start: 1,000 new keys, accepted by auto_accept (the server reloaded as they come).
          const started = performance.now();
          const first = await simulate(() => ["--nats", site.nats.url], dir);
          add({
            name: "NATS: 1,000 new keys presented, accepted and connected (auto_accept)",
            value: (performance.now() - started) / 1000,
            unit: "s",
          });
          for (const p of first.procs) await p.stop();
          // Then the same minions again: their keys are accepted; this is the hello.
          const { procs, hello, allMs } = await simulate(() => ["--nats", site.nats.url], dir);
          add({
            name: "NATS: all 1,000 accepted minions connected",
            value: allMs / 1000,
            unit: "s",
          });
          const { ms, got } = await pingAll(site.master.sockDir);
          if (got.some((g) => g !== expect)) notes.push(`NATS: returns per job ${got.join(", ")}`);
          results.NATS = { ms, hello };
          for (const p of procs) await p.stop();
        } finally {
          await site.close();
        }
      }
      {
        await using master = await startMaster();
        const dir = `${master.sockDir}/../sims`;
        const { procs, hello, allMs } = await simulate(
          () => ["--master-sock-dir", master.sockDir],
          dir,
        );
        add({ name: "Unix link: all 1,000 minions connected", value: allMs / 1000, unit: "s" });
        const { ms, got } = await pingAll(master.sockDir);
        if (got.some((g) => g !== expect)) notes.push(`Unix: returns per job ${got.join(", ")}`);
        results["Unix link"] = { ms, hello };
        for (const p of procs) await p.stop();
      }
      for (const [label, r] of Object.entries(results)) {
        const best = Math.min(...r.ms);
        add({
          name: `${label}: '*' test.ping to 1,000 minions, all returns (best of 5; worst ${
            Math.max(...r.ms).toFixed(0)
          } ms)`,
          value: best,
          unit: "ms",
          target: "< 2000",
          ok: best < 2000,
        });
        add({ name: `${label}: hello p50`, value: percentile(r.hello, 50), unit: "ms" });
        add({ name: `${label}: hello p99`, value: percentile(r.hello, 99), unit: "ms" });
      }
    },
  },
  {
    name: "nats-minion-event",
    title: "_minion_event from one minion to the master bus, over NATS and the Unix link",
    timeoutMs: 180_000,
    async run(add, notes) {
      const count = 50_000;
      {
        const site = await natsMaster();
        try {
          const r = await minionEvents(
            site.master,
            ["--nats", site.nats.url],
            join(site.root, "ev"),
            count,
          );
          if (r.seen !== count) notes.push(`NATS: ${r.seen}/${count} reached the master bus`);
          add({ name: "NATS: _minion_event from one minion", value: r.rate, unit: "events/s" });
        } finally {
          await site.close();
        }
      }
      {
        await using master = await startMaster();
        const r = await minionEvents(
          master,
          ["--master-sock-dir", master.sockDir],
          `${master.sockDir}/../ev`,
          count,
        );
        if (r.seen !== count) notes.push(`Unix: ${r.seen}/${count} reached the master bus`);
        add({ name: "Unix link: _minion_event from one minion", value: r.rate, unit: "events/s" });
      }
    },
  },
];
