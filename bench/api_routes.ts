/**
 * Benchmark scenarios of salt-api's routes (`deno task bench --only
 * api-lowstate,api-jobs`), each beside a reference measured in the same run:
 *
 * - `api-lowstate`: `POST /` with `[{"client": "local", "tgt": "*", "fun":
 *   "test.ping"}]` to 10 minion processes, requests/s with 1 and with 16
 *   clients in flight, beside the same jobs through a `LocalClient` (no
 *   HTTP) and a bare `Deno.serve` JSON answer (HTTP alone);
 * - `api-jobs`: `GET /jobs` over a job cache of 100k jobs: time to the last
 *   byte and the master's resident memory before and at its peak, beside a
 *   plain `SELECT jid, load FROM jids` with `JSON.parse` of every row over
 *   the same file.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { LocalClient } from "../jobs/local_client.ts";
import { SQLITE_FILE, SqliteReturner } from "../returners/sqlite.ts";
import { startApiMaster } from "./api.ts";
import { startMinions } from "./minion_scenarios.ts";
import { readRss } from "./procs.ts";
import type { Scenario } from "./scenario.ts";

const MIB = 1024 * 1024;

/** Runs `total` calls of `call`, `inFlight` at a time; resolves calls/s and the failures. */
async function paced(
  total: number,
  inFlight: number,
  call: () => Promise<boolean>,
): Promise<{ rate: number; failed: number }> {
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < total) {
      next++;
      if (!(await call())) failed++;
    }
  }));
  return { rate: total / ((performance.now() - started) / 1000), failed };
}

/** Adds test.ping jobs `from`…`to - 1` to `cachedir`'s job cache, each with one return. */
async function fillJobCache(cachedir: string, from: number, to: number): Promise<void> {
  const store = await SqliteReturner.open({ cachedir });
  await store.close();
  const db = new DatabaseSync(join(cachedir, SQLITE_FILE));
  const saveLoad = db.prepare("INSERT INTO jids (jid, load) VALUES (?, ?)");
  const saveRet = db.prepare(
    "INSERT INTO salt_returns (fun, jid, id, fun_args, date, full_ret, success) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  db.exec("BEGIN");
  const base = 20261202000000000000n;
  for (let i = from; i < to; i++) {
    const jid = String(base + BigInt(i) * 1000n);
    const id = `minion-${i % 10}`;
    saveLoad.run(
      jid,
      JSON.stringify({
        fun: "test.ping",
        arg: [],
        tgt: "*",
        tgt_type: "glob",
        user: "root",
        jid,
        Minions: [id],
      }),
    );
    saveRet.run(
      "test.ping",
      jid,
      id,
      "[]",
      "2026-12-02 00:00:00.000000",
      JSON.stringify({ id, jid, fun: "test.ping", return: true, retcode: 0, success: true }),
      "True",
    );
  }
  db.exec("COMMIT");
  db.close();
}

/** The scenarios of this file, for run.ts. */
export const API_ROUTE_SCENARIOS: Scenario[] = [
  {
    name: "api-lowstate",
    title: "HTTP API: POST / local test.ping to 10 minions, beside LocalClient and bare HTTP",
    timeoutMs: 240_000,
    async run(add, notes) {
      const { master, url, token } = await startApiMaster();
      await using _ = master;
      const minions = await startMinions(master, 10, `${master.sockDir}/..`);
      const body = JSON.stringify([{ client: "local", tgt: "*", fun: "test.ping" }]);
      const headers = {
        "content-type": "application/json",
        accept: "application/json",
        "x-auth-token": token,
      };
      const lowstate = async () => {
        const res = await fetch(url, { method: "POST", headers, body });
        const answer = await res.json();
        return res.status === 200 && Object.keys(answer.return?.[0] ?? {}).length === 10;
      };
      await using client = new LocalClient({ sockDir: master.sockDir });
      const direct = async () =>
        Object.keys(await client.cmd("*", "test.ping", [], { timeout: 10 })).length === 10;
      const bare = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        () => Response.json({ return: [{ "minion-0": true }] }),
      );
      const bareUrl = `http://127.0.0.1:${bare.addr.port}/`;
      const plain = async () => {
        const res = await fetch(bareUrl, { method: "POST", headers, body });
        return res.status === 200 && (await res.json()).return.length === 1;
      };
      try {
        if (!(await lowstate())) notes.push("warm-up POST /: not all 10 minions answered");
        for (const inFlight of [1, 16]) {
          const jobs = inFlight === 1 ? 300 : 1500;
          const api = await paced(jobs, inFlight, lowstate);
          const ref = await paced(jobs, inFlight, direct);
          const http = await paced(jobs * 10, inFlight, plain);
          const label = inFlight === 1 ? "1 client" : `${inFlight} clients`;
          add({ name: `POST / test.ping ×10 minions, ${label}`, value: api.rate, unit: "req/s" });
          add({ name: `reference: LocalClient.cmd, ${label}`, value: ref.rate, unit: "jobs/s" });
          add({
            name: `reference: bare Deno.serve JSON, ${label}`,
            value: http.rate,
            unit: "req/s",
          });
          add({ name: `POST / ÷ LocalClient, ${label}`, value: api.rate / ref.rate, unit: "×" });
          for (const [what, r] of [["POST /", api], ["LocalClient", ref]] as const) {
            if (r.failed > 0) notes.push(`${what}, ${label}: ${r.failed} incomplete`);
          }
        }
      } finally {
        await bare.shutdown();
        for (const minion of minions) await minion.stop();
      }
    },
  },
  {
    name: "api-jobs",
    title: "HTTP API: GET /jobs over a job cache of 100k jobs, beside a plain SELECT",
    timeoutMs: 240_000,
    async run(add, notes) {
      const count = 100_000;
      const cachedir = await Deno.makeTempDir({ prefix: "saltbus-bench-cache-" });
      try {
        await fillJobCache(cachedir, 0, count);
        const { master, url, token } = await startApiMaster({ cachedir });
        await using _ = master;
        /** GET /jobs read to the end: ms, bytes, and the master's peak RSS growth. */
        const getJobs = async () => {
          const before = readRss(master.proc.pid);
          const started = performance.now();
          const res = await fetch(`${url}jobs`, {
            headers: { accept: "application/json", "x-auth-token": token },
          });
          const reader = res.body!.getReader();
          let bytes = 0;
          let tail = "";
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            bytes += value.length;
            tail = new TextDecoder().decode(value.subarray(Math.max(0, value.length - 64)));
          }
          const ms = performance.now() - started;
          const after = readRss(master.proc.pid);
          if (res.status !== 200 || !tail.endsWith("}]}")) {
            notes.push(`GET /jobs answered ${res.status}, ending ${JSON.stringify(tail)}`);
          }
          const growth = before && after ? after.hwm - before.hwm : NaN;
          return { ms, bytes, growth, rss: before?.rss ?? NaN };
        };
        const small = await getJobs();
        const apiMs = small.ms;
        const bytes = small.bytes;
        // Four times the jobs: a streamed answer's memory does not grow four times.
        await fillJobCache(cachedir, count, count * 4);
        const big = await getJobs();
        const started = performance.now();
        const db = new DatabaseSync(join(cachedir, SQLITE_FILE), { readOnly: true });
        let parsed = 0;
        for (
          const row of db.prepare("SELECT jid, load FROM jids ORDER BY jid LIMIT ?").iterate(count)
        ) {
          if (JSON.parse((row as { load: string }).load).jid) parsed++;
        }
        db.close();
        const refMs = performance.now() - started;
        if (parsed !== count) notes.push(`the plain SELECT read ${parsed}/${count} jobs`);
        add({ name: "GET /jobs, 100k jobs, to the last byte", value: apiMs, unit: "ms" });
        add({ name: "reference: SELECT + JSON.parse of every job", value: refMs, unit: "ms" });
        add({ name: "GET /jobs ÷ plain SELECT", value: apiMs / refMs, unit: "×" });
        add({ name: "body size", value: bytes / MIB, unit: "MiB" });
        add({ name: "master RSS before", value: small.rss / MIB, unit: "MiB" });
        add({ name: "master peak RSS growth, 100k jobs", value: small.growth / MIB, unit: "MiB" });
        add({
          name: `master peak RSS growth, 400k jobs (${(big.bytes / MIB).toFixed(0)} MiB body)`,
          value: big.growth / MIB,
          unit: "MiB",
          target: "< body size, < 2× the 100k growth",
          ok: big.growth < big.bytes && big.growth < 2 * Math.max(small.growth, 16 * MIB),
        });
        add({ name: "GET /jobs, 400k jobs, to the last byte", value: big.ms, unit: "ms" });
      } finally {
        await Deno.remove(cachedir, { recursive: true });
      }
    },
  },
];
