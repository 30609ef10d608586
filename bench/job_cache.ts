/**
 * The embedded job cache's write speed (under a minute): sustained writes
 * through the `sqlite` returner (`returner()` per return, batched by the
 * store; `event_return()` with lists of 1,000 events) beside a plain
 * prepared INSERT, 1,000 rows per transaction, into the same table of the
 * same database, in the same run.
 *
 * ```sh
 * deno run -A bench/job_cache.ts
 * ```
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { SQLITE_FILE, SqliteReturner } from "../returners/sqlite.ts";

const N = 200_000;
const BATCH = 1000;
const JID = "20261201120000000000";

function load(i: number) {
  return {
    cmd: "_return",
    id: `minion${i % 100}`,
    jid: JID,
    fun: "test.ping",
    fun_args: [],
    return: true,
    retcode: 0,
    success: true,
  };
}

function event(i: number) {
  return { tag: `salt/job/${JID}/ret/minion${i % 100}`, data: load(i) };
}

function rate(n: number, ms: number): string {
  return `${Math.round(n / (ms / 1000)).toLocaleString("en")}/s`;
}

const dir = await Deno.makeTempDir({ prefix: "saltbus-bench-" });
try {
  const store = await SqliteReturner.open({ cachedir: dir, batchSize: BATCH });
  let t0 = performance.now();
  let writes: Promise<void>[] = [];
  for (let i = 0; i < N; i++) {
    writes.push(store.returner(load(i)));
    if (writes.length === BATCH) {
      await Promise.all(writes);
      writes = [];
    }
  }
  await Promise.all(writes);
  const returnerMs = performance.now() - t0;

  t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const events = [];
    for (let j = i; j < i + BATCH; j++) events.push(event(j));
    await store.event_return(events);
  }
  const eventMs = performance.now() - t0;
  await store.close();

  const db = new DatabaseSync(`${dir}/${SQLITE_FILE}`);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  const insertReturn = db.prepare(
    "INSERT INTO salt_returns (fun, jid, id, fun_args, date, full_ret, success) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    db.exec("BEGIN");
    for (let j = i; j < i + BATCH; j++) {
      const l = load(j);
      insertReturn.run(
        l.fun,
        l.jid,
        l.id,
        "[]",
        "2026-12-01 12:00:00.000000",
        JSON.stringify(l),
        "True",
      );
    }
    db.exec("COMMIT");
  }
  const plainReturnMs = performance.now() - t0;
  const insertEvent = db.prepare(
    "INSERT INTO salt_events (tag, data, alter_time, master_id) VALUES (?, ?, ?, ?)",
  );
  t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    db.exec("BEGIN");
    for (let j = i; j < i + BATCH; j++) {
      const e = event(j);
      insertEvent.run(e.tag, JSON.stringify(e.data), "2026-12-01 12:00:00.000", "master");
    }
    db.exec("COMMIT");
  }
  const plainEventMs = performance.now() - t0;
  db.close();
  console.log(`sqlite job cache, ${N.toLocaleString("en")} rows each, ${BATCH} per transaction`);
  console.log(`  returner() into salt_returns:          ${rate(N, returnerMs)}`);
  console.log(`  plain INSERT into salt_returns:        ${rate(N, plainReturnMs)}`);
  console.log(`  event_return() into salt_events:       ${rate(N, eventMs)}`);
  console.log(`  plain INSERT into salt_events:         ${rate(N, plainEventMs)}`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
