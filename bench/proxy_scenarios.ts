/**
 * Benchmark scenario of proxy runs: `cli.ts proxy '*' test.ping --events`
 * over a roster of 1,000 dummy devices, as a process against a master bus
 * process, with a listener counting the run's events.
 *
 * @module
 */
import { runProxy } from "../proxy/mod.ts";
import { CLI, Proc, startMaster } from "./procs.ts";
import type { Scenario } from "./scenario.ts";

const DEVICES = 1000;

/** The scenarios of this file, for bench/run.ts. */
export const PROXY_SCENARIOS: Scenario[] = [
  {
    name: "proxy-1000",
    title: `proxy run (salt-sproxy): test.ping on ${DEVICES} dummy devices, --events`,
    timeoutMs: 120_000,
    async run(add, notes) {
      await using master = await startMaster();
      const roster = `${master.sockDir}/../roster.yml`;
      const ids = Array.from({ length: DEVICES }, (_, i) => `dev${String(i).padStart(4, "0")}`);
      await Deno.writeTextFile(roster, ids.map((id) => `${id}: {proxytype: dummy}\n`).join(""));

      // <jid> + new + one ret per device
      const expect = DEVICES + 2;
      const listener = Proc.bench("listen_proc.ts", [
        ...["--sock-dir", master.sockDir, "--expect", `${expect}`, "--idle-ms", "10000"],
      ]);
      await listener.nextReport(15_000);
      const started = performance.now();
      const proxy = new Proc("proxy", [
        CLI,
        ...["proxy", "*", "test.ping", "--events", "--out", "quiet"],
        ...["--roster", roster, "--sock-dir", master.sockDir],
      ]);
      const exited = await proxy.waitExit(60_000);
      const wall = performance.now() - started;
      const code = exited ? (await proxy.child.status).code : -1;
      await proxy.stop();
      const seen = await listener.nextReport<{ count: number; rate: number }>(30_000);
      add({
        name: `wall time of the process, ${DEVICES} devices (start to exit)`,
        value: wall,
        unit: "ms",
        target: "< 5000",
        ok: code === 0 && wall < 5000,
      });
      // Bounded by how fast devices finish, not by the bus (see the forward-* scenarios).
      add({
        name: "events on the bus during the run, seen by a listener",
        value: seen.rate,
        unit: "events/s",
      });
      add({ name: "events seen", value: seen.count, unit: `of ${expect}` });
      if (code !== 0) notes.push(`proxy exited with ${code}: ${proxy.stderrTail()}`);

      // The same run as a library call in this process, without events: the pool alone.
      const rosterData = Object.fromEntries(ids.map((id) => [id, { proxytype: "dummy" }]));
      const t0 = performance.now();
      const run = await runProxy({ tgt: "*", fun: "test.ping", roster: rosterData });
      const inProcess = performance.now() - t0;
      add({
        name: `runProxy() in-process, ${DEVICES} devices, no events`,
        value: inProcess,
        unit: "ms",
      });
      const failed = run.results.filter((r) => !r.success).length;
      if (failed > 0) notes.push(`${failed} devices failed in the library run`);
      notes.push(`${navigator.hardwareConcurrency} Workers (the default --batch-size)`);
    },
  },
];
