/**
 * Benchmark scenarios of the minion side and of jobs: `call event.send`
 * processes, `Caller.cmd("event.send")` from a script, and `test.ping` jobs
 * to 10 minions through a `LocalClient`.
 *
 * @module
 */
import { getEvent } from "../mod.ts";
import { LocalClient } from "../jobs/local_client.ts";
import { CLI, type Master, Proc, startMaster } from "./procs.ts";
import type { Scenario } from "./scenario.ts";

/** Starts `count` minion daemons pointed at `master`; resolves once all are connected. */
export async function startMinions(master: Master, count: number, dir: string): Promise<Proc[]> {
  const minions = Array.from({ length: count }, (_, i) =>
    new Proc(`minion-${i}`, [
      CLI,
      "minion",
      ...["--id", `minion-${i}`, "--sock-dir", `${dir}/minions`],
      ...["--master-sock-dir", master.sockDir, "--log-level", "info"],
    ]));
  for (const minion of minions) await minion.waitStderr("connected to the master", 30_000);
  return minions;
}

/** Counts events matching `tag` on the master bus until `expect` arrived or `idleMs` passed. */
async function countEvents(sockDir: string, tag: string, expect: number, idleMs = 5000) {
  const listener = getEvent("master", { sockDir });
  await listener.connected();
  const counted = (async () => {
    let seen = 0;
    while (seen < expect) {
      const event = await listener.getEvent({ tag, wait: idleMs / 1000 });
      if (event === null) break;
      seen++;
    }
    await listener.close();
    return seen;
  })();
  return { counted };
}

/** jobs/s of `test.ping` to all `expect` minions, `inFlight` at a time. */
export async function jobRates(client: LocalClient, expect: number) {
  const all = (r: Record<string, unknown>) => Object.keys(r).length === expect;
  await client.cmd("*", "test.ping", [], { timeout: 10 }); // warm-up
  const out: { inFlight: number; rate: number; incomplete: number }[] = [];
  for (const inFlight of [1, 16]) {
    const jobs = inFlight === 1 ? 200 : 1000;
    let next = 0;
    let incomplete = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < jobs) {
        next++;
        if (!all(await client.cmd("*", "test.ping", [], { timeout: 10 }))) incomplete++;
      }
    }));
    out.push({ inFlight, rate: jobs / ((performance.now() - started) / 1000), incomplete });
  }
  return out;
}

/** The scenarios of this file, for bench/run.ts. */
export const MINION_SCENARIOS: Scenario[] = [
  {
    name: "call",
    title: "call event.send as a process (salt-call): start, run, event on the master bus",
    timeoutMs: 120_000,
    async run(add, notes) {
      await using master = await startMaster();
      const count = 10;
      const { counted } = await countEvents(master.sockDir, "bench/call", count, 15_000);
      const started = performance.now();
      for (let n = 0; n < count; n++) {
        const proc = new Proc("call", [
          CLI,
          "call",
          "event.send",
          "bench/call",
          `{n: ${n}}`,
          ...["--id", "bench-minion", "--master-sock-dir", master.sockDir, "--out", "quiet"],
        ]);
        const status = await proc.child.status;
        if (!status.success) notes.push(`call ${n} exited ${status.code}`);
        await proc.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      const seen = await counted;
      add({ name: "call event.send round trips", value: count / seconds, unit: "calls/s" });
      add({ name: "mean time per call", value: (seconds * 1000) / count, unit: "ms" });
      if (seen !== count) notes.push(`master bus saw ${seen}/${count} events`);
    },
  },
  {
    name: "caller",
    title: 'Caller.cmd("event.send") in one script → minion daemon → master bus',
    timeoutMs: 120_000,
    async run(add, notes) {
      await using master = await startMaster();
      const dir = `${master.sockDir}/..`;
      const [minion] = await startMinions(master, 1, dir);
      const config = `${dir}/caller-minion.yaml`;
      await Deno.writeTextFile(
        config,
        `id: minion-0\nsock_dir: ${dir}/minions\nmaster_sock_dir: ${master.sockDir}\n`,
      );
      const count = 50_000;
      const { counted } = await countEvents(master.sockDir, "bench/caller", count);
      const proc = Proc.bench("caller_proc.ts", ["--config", config, "--count", `${count}`]);
      const result = await proc.nextReport<{ rate: number; failed: number }>(110_000);
      const seen = await counted;
      await proc.stop();
      await minion.stop();
      add({
        name: 'Caller.cmd("event.send"), awaited one by one',
        value: result.rate,
        unit: "calls/s",
        target: "≥ 20k",
        ok: result.rate >= 20_000 && seen === count && result.failed === 0,
      });
      notes.push(`master bus saw ${seen}/${count} events; ${result.failed} calls returned false`);
    },
  },
  {
    name: "jobs-10",
    title: "test.ping jobs to 10 minion processes through LocalClient (returns awaited)",
    timeoutMs: 180_000,
    async run(add, notes) {
      await using master = await startMaster();
      const minions = await startMinions(master, 10, `${master.sockDir}/..`);
      await using client = new LocalClient({ sockDir: master.sockDir });
      for (const r of await jobRates(client, 10)) {
        add({
          name: r.inFlight === 1 ? "jobs/s, one at a time" : `jobs/s, ${r.inFlight} in flight`,
          value: r.rate,
          unit: "jobs/s",
          target: "≥ 200",
          ok: r.rate >= 200 && r.incomplete === 0,
        });
        if (r.incomplete > 0) {
          notes.push(`${r.inFlight} in flight: ${r.incomplete} jobs incomplete`);
        }
      }
      for (const minion of minions) await minion.stop();
    },
  },
];
