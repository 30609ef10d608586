/**
 * Benchmark scenarios of the parts that act on events: `event_return` into
 * the embedded sqlite store and into PostgreSQL (`pgjsonb`), each beside a
 * plain batched insert into the same table in the same run, with a SIGTERM
 * of the master in the middle of a stream (what the bus accepted must be
 * stored); and the reactor's latency from event to published job at
 * 1k events/s, beside the bus's own latency for the same events, and 10k
 * reactions in a minute without loss.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import postgres from "npm:postgres@3.4.5";
import type { EventClient } from "../bus/event_client.ts";
import { getEvent } from "../mod.ts";
import { SQLITE_FILE } from "../returners/sqlite.ts";
import { startPostgres } from "../tests/postgres.ts";
import { CLI, Proc, startMaster } from "./procs.ts";
import type { Add, Scenario } from "./scenario.ts";

const JID = "20261201120000000000";

/** A Salt job return, as an event's data (about 200 bytes of JSON). */
function jobReturn(i: number): Record<string, unknown> {
  return {
    cmd: "_return",
    id: `minion${i % 100}`,
    jid: JID,
    fun: "test.ping",
    fun_args: [],
    return: true,
    retcode: 0,
    success: true,
    seq: i,
  };
}

/** Fires `count` events on `tag`, 1000 in flight; resolves how many the bus accepted. */
async function fireMany(client: EventClient, tag: string, count: number, from = 0) {
  let accepted = 0;
  for (let i = from; i < from + count; i += 1000) {
    const batch: Promise<boolean>[] = [];
    for (let j = i; j < Math.min(i + 1000, from + count); j++) {
      batch.push(client.fireEvent(jobReturn(j), tag));
    }
    for (const ok of await Promise.all(batch)) if (ok) accepted++;
  }
  return accepted;
}

/** Polls `count()` until it reaches `expect` or stops growing for `idleMs`. */
async function waitCount(count: () => Promise<number>, expect: number, idleMs = 10_000) {
  let last = -1;
  let since = performance.now();
  for (;;) {
    const n = await count();
    if (n >= expect) return n;
    if (n !== last) {
      last = n;
      since = performance.now();
    } else if (performance.now() - since > idleMs) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function rowsPerSecond(n: number, ms: number): number {
  return Math.round(n / (ms / 1000));
}

/** Plain batched INSERTs of `n` rows into salt_events (1000 per transaction) with node:sqlite. */
function plainSqliteInsert(file: string, n: number): number {
  const db = new DatabaseSync(file);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    const insert = db.prepare(
      "INSERT INTO salt_events (tag, data, alter_time, master_id) VALUES (?, ?, ?, ?)",
    );
    const t0 = performance.now();
    for (let i = 0; i < n; i += 1000) {
      db.exec("BEGIN");
      for (let j = i; j < i + 1000; j++) {
        insert.run("bench/plain", JSON.stringify(jobReturn(j)), "2026-12-01 12:00:00.000", "m");
      }
      db.exec("COMMIT");
    }
    return rowsPerSecond(n, performance.now() - t0);
  } finally {
    db.close();
  }
}

/** The event_return scenario body, for one store. */
async function eventReturnRun(
  add: Add,
  notes: string[],
  options: {
    config: Record<string, unknown>;
    count: (tag: string) => Promise<number>;
    plain: () => Promise<number>;
    target: number;
    n: number;
  },
) {
  const { n } = options;
  {
    await using master = await startMaster(options.config);
    await using client = getEvent("master", { sockDir: master.sockDir, listen: false });
    await client.connected(10);
    const t0 = performance.now();
    const accepted = await fireMany(client, "bench/er/sustained", n);
    const fired = performance.now() - t0;
    const stored = await waitCount(() => options.count("bench/er/sustained"), accepted);
    const ms = performance.now() - t0;
    add({
      name: "fired (library, 1000 in flight)",
      value: rowsPerSecond(n, fired),
      unit: "events/s",
    });
    add({
      name: "stored, sustained (first fire → last row)",
      value: rowsPerSecond(stored, ms),
      unit: "events/s",
      target: `≥ ${options.target / 1000}k`,
      ok: rowsPerSecond(stored, ms) >= options.target,
    });
    add({ name: "lost (accepted − stored)", value: accepted - stored, unit: "events" });

    // SIGTERM right after the bus accepted the last event of a second stream.
    const m = 20_000;
    const acceptedTerm = await fireMany(client, "bench/er/sigterm", m, n);
    master.proc.child.kill("SIGTERM");
    const exited = await master.proc.waitExit(30_000);
    const storedTerm = await options.count("bench/er/sigterm");
    add({
      name: `SIGTERM after ${m / 1000}k: lost (accepted − stored)`,
      value: acceptedTerm - storedTerm,
      unit: "events",
      target: "0",
      ok: exited && acceptedTerm === storedTerm,
    });
    if (!exited) notes.push("the master did not exit within 30 s of SIGTERM");
  }
  const plain = await options.plain();
  add({ name: "reference: plain batched INSERT, same table", value: plain, unit: "events/s" });
}

/** The scenarios of this file, for bench/run.ts. */
export const EVENTS_ACT_SCENARIOS: Scenario[] = [
  {
    name: "event-return-sqlite",
    title: "event_return into the embedded sqlite store, beside a plain batched INSERT",
    timeoutMs: 180_000,
    async run(add, notes) {
      const dir = await Deno.makeTempDir({ prefix: "saltbus-bench-er-" });
      const file = `${dir}/${SQLITE_FILE}`;
      // One reader, kept open, counting from the tag's first row (rows arrive in order).
      let reader: DatabaseSync | null = null;
      try {
        const count = (tag: string) => {
          try {
            reader ??= new DatabaseSync(file, { readOnly: true });
            const row = reader.prepare(
              "SELECT count(*) AS n FROM salt_events WHERE id >= " +
                "(SELECT min(id) FROM salt_events WHERE tag = ?) AND tag = ?",
            ).get(tag, tag) as { n: number };
            return Promise.resolve(Number(row.n));
          } catch {
            reader?.close();
            reader = null;
            return Promise.resolve(0);
          }
        };
        await eventReturnRun(add, notes, {
          config: { event_return: "sqlite", cachedir: dir, event_return_whitelist: ["bench/*"] },
          count,
          plain: () => Promise.resolve(plainSqliteInsert(file, 100_000)),
          target: 100_000,
          n: 100_000,
        });
      } finally {
        (reader as DatabaseSync | null)?.close();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  },
  {
    name: "event-return-pg",
    title: "event_return into PostgreSQL (pgjsonb), beside a plain batched INSERT",
    timeoutMs: 240_000,
    async run(add, notes) {
      await using pg = await startPostgres();
      const db = await pg.createDatabase();
      const sql = postgres({
        host: pg.host,
        port: pg.port,
        user: pg.user,
        database: db,
        max: 2,
        onnotice: () => {},
      });
      try {
        const count = async (tag: string) => {
          try {
            const rows = await sql`SELECT count(*)::int AS n FROM salt_events WHERE tag = ${tag}`;
            return Number(rows[0].n);
          } catch {
            return 0; // the schema is not there yet
          }
        };
        const plain = async () => {
          const n = 100_000;
          const t0 = performance.now();
          for (let i = 0; i < n; i += 1000) {
            const rows = [];
            for (let j = i; j < i + 1000; j++) {
              rows.push({
                tag: "bench/plain",
                data: sql.json(jobReturn(j) as postgres.JSONValue),
                master_id: "m",
              });
            }
            await sql`INSERT INTO salt_events ${sql(rows, "tag", "data", "master_id")}`;
          }
          return rowsPerSecond(n, performance.now() - t0);
        };
        await eventReturnRun(add, notes, {
          config: {
            event_return: "pgjsonb",
            "returner.pgjsonb.host": pg.host,
            "returner.pgjsonb.port": pg.port,
            "returner.pgjsonb.user": pg.user,
            "returner.pgjsonb.db": db,
            event_return_whitelist: ["bench/*"],
          },
          count,
          plain,
          target: 50_000,
          n: 100_000,
        });
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  },
  {
    name: "reactor",
    title: "reactor: event → published job at 1k events/s, and 10k reactions in a minute",
    timeoutMs: 240_000,
    async run(add, notes) {
      const dir = await Deno.makeTempDir({ prefix: "saltbus-bench-reactor-" });
      try {
        await Deno.writeTextFile(
          `${dir}/echo.sls`,
          "echo:\n  local.test.echo:\n    - tgt: minion-0\n    - arg:\n      - \"{{ data['seq'] }}\"\n",
        );
        await using master = await startMaster({
          reactor: [{ "bench/react/*": [`${dir}/echo.sls`] }],
          cachedir: `${dir}/cache`,
        });
        await using minion = new Proc("minion-0", [
          CLI,
          "minion",
          ...["--id", "minion-0", "--sock-dir", `${dir}/minion`],
          ...["--master-sock-dir", master.sockDir, "--log-level", "warning"],
        ]);
        await minion.waitStderr("connected to the master", 30_000).catch(() => {});
        await using listener = getEvent("master", { sockDir: master.sockDir });
        await listener.connected(10);
        await using firer = getEvent("master", { sockDir: master.sockDir, listen: false });
        await firer.connected(10);

        /** Fires `n` events at `perSecond`; resolves event→job and event→event latencies. */
        const measure = async (tag: string, n: number, perSecond: number) => {
          const firedAt = new Map<number, number>();
          const jobMs: number[] = [];
          const busMs: number[] = [];
          const seen = (async () => {
            const deadline = performance.now() + n / perSecond * 1000 + 20_000;
            while (jobMs.length < n && performance.now() < deadline) {
              const e = await listener.getEvent<Record<string, unknown>>({ full: true, wait: 2 });
              if (!e) continue;
              const now = performance.now();
              if (e.tag === tag) {
                const t = firedAt.get(Number(e.data.seq));
                if (t !== undefined) busMs.push(now - t);
              } else if (/^salt\/job\/\d{20}\/new$/.test(e.tag) && e.data.fun === "test.echo") {
                const seq = Number((e.data.arg as unknown[])[0]);
                const t = firedAt.get(seq);
                if (t !== undefined) {
                  jobMs.push(now - t);
                  firedAt.delete(seq);
                }
              }
            }
          })();
          const start = performance.now();
          for (let i = 0; i < n; i++) {
            const due = start + i * 1000 / perSecond;
            const wait = due - performance.now();
            if (wait > 1) await new Promise((r) => setTimeout(r, wait));
            firedAt.set(i, performance.now());
            firer.fireEvent({ seq: i }, tag);
          }
          await seen;
          return { jobMs, busMs, seconds: (performance.now() - start) / 1000 };
        };
        const pct = (xs: number[], p: number) => {
          const s = [...xs].sort((a, b) => a - b);
          return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
        };
        // Warm-up: the first render compiles the template.
        await measure("bench/react/warm", 50, 100);
        const lat = await measure("bench/react/lat", 5000, 1000);
        add({
          name: "event → salt/job/<jid>/new, p50 (1k events/s)",
          value: pct(lat.jobMs, 0.5),
          unit: "ms",
        });
        add({
          name: "event → salt/job/<jid>/new, p99 (1k events/s)",
          value: pct(lat.jobMs, 0.99),
          unit: "ms",
          target: "< 5",
          ok: pct(lat.jobMs, 0.99) < 5,
        });
        add({
          name: "reference: event → same event on the bus, p99",
          value: pct(lat.busMs, 0.99),
          unit: "ms",
        });
        add({
          name: "jobs published / events (1k/s)",
          value: `${lat.jobMs.length}/5000`,
          unit: "",
        });
        const burst = await measure("bench/react/burst", 10_000, 10_000 / 55);
        add({
          name: "10k reactions in under a minute: jobs published",
          value: burst.jobMs.length,
          unit: "jobs",
          target: "10000 in ≤ 60 s",
          ok: burst.jobMs.length === 10_000 && burst.seconds <= 61,
        });
        add({ name: "10k reactions: seconds", value: burst.seconds, unit: "s" });
        if (lat.jobMs.length < 5000) notes.push(`only ${lat.jobMs.length} of 5000 reactions seen`);
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  },
];
