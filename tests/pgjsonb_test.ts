/**
 * The `pgjsonb` returner against a private PostgreSQL started by the test:
 * Salt's schema created on an empty database, the whole returner contract,
 * a real master with `event_return: pgjsonb` and `master_job_cache:
 * pgjsonb` read back with plain `psql`, and a PostgreSQL that is down when
 * the master starts: events are kept, retried, and stored once it is up.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PgjsonbReturner } from "../returners/pgjsonb.ts";
import { makeSite, startDaemon } from "./daemons.ts";
import { runCli } from "./harness.ts";
import { freePort, startPostgres } from "./postgres.ts";

function pgOpts(pg: { host: string; port: number; user: string }, db: string) {
  return {
    "returner.pgjsonb.host": pg.host,
    "returner.pgjsonb.port": pg.port,
    "returner.pgjsonb.user": pg.user,
    "returner.pgjsonb.db": db,
  };
}

async function eventually<T>(what: string, check: () => Promise<T | null>, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("pgjsonb: Salt's schema, and the returner contract", async (t) => {
  await using pg = await startPostgres();
  const db = await pg.createDatabase();
  await using store = await PgjsonbReturner.open({ ...pgOpts(pg, db), id: "m1_master" });

  await t.step("the first write creates Salt's tables, sequence and indexes", async () => {
    await store.event_return([{ tag: "myco/first", data: { n: 1 } }]);
    const columns = await pg.psql(
      db,
      "select table_name||'.'||column_name||':'||data_type from information_schema.columns " +
        "where table_schema='public' order by table_name, ordinal_position",
    );
    assert.deepEqual(columns.trim().split("\n"), [
      "jids.jid:character varying",
      "jids.load:jsonb",
      "salt_events.id:bigint",
      "salt_events.tag:character varying",
      "salt_events.data:jsonb",
      "salt_events.alter_time:timestamp with time zone",
      "salt_events.master_id:character varying",
      "salt_returns.fun:character varying",
      "salt_returns.jid:character varying",
      "salt_returns.return:jsonb",
      "salt_returns.id:character varying",
      "salt_returns.success:character varying",
      "salt_returns.full_ret:jsonb",
      "salt_returns.alter_time:timestamp with time zone",
    ]);
    const indexes = await pg.psql(
      db,
      "select indexname from pg_indexes where schemaname='public' order by indexname",
    );
    for (
      const name of [
        "idx_jids_jsonb",
        "idx_salt_events_data",
        "idx_salt_events_tag",
        "idx_salt_returns_fun",
        "idx_salt_returns_full_ret",
        "idx_salt_returns_id",
        "idx_salt_returns_jid",
        "idx_salt_returns_return",
      ]
    ) assert.ok(indexes.split("\n").includes(name), `index ${name}: ${indexes}`);
    assert.equal(
      (await pg.psql(db, "select count(*) from pg_class where relname='seq_salt_events_id'"))
        .trim(),
      "1",
    );
    assert.equal(
      (await pg.psql(db, "select tag||' '||(data->>'n')||' '||master_id from salt_events"))
        .trim(),
      "myco/first 1 m1_master",
    );
  });

  await t.step("loads, returns and job listings round-trip", async () => {
    const jid = store.prep_jid();
    assert.match(jid, /^\d{20}$/);
    assert.equal(store.prep_jid(false, "20240501123456789012"), "20240501123456789012");
    await store.save_load(jid, { fun: "test.ping", tgt: "*", tgt_type: "glob", arg: [] }, [
      "web2",
      "web1",
    ]);
    await store.returner({
      id: "web1",
      jid,
      fun: "test.ping",
      fun_args: [],
      return: true,
      retcode: 0,
      success: true,
    });
    assert.deepEqual((await store.get_load(jid)).Minions, ["web1", "web2"]);
    assert.deepEqual(await store.get_jid(jid), {
      web1: { return: true, retcode: 0, success: true },
    });
    assert.equal((await store.get_jids())[jid].Function, "test.ping");
    assert.deepEqual(await store.get_load("20000101000000000000"), {});
    assert.equal(
      (await pg.psql(db, `select fun||' '||id||' '||success||' '||return from salt_returns`))
        .trim(),
      "test.ping web1 true true",
    );
  });

  await t.step("big integers, bytes, NUL characters and long tags are stored", async () => {
    await store.event_return([{
      tag: "myco/" + "x".repeat(300),
      data: { big: 123456789012345678901234n, raw: new TextEncoder().encode("hi"), s: "a\0b" },
    }]);
    const row = await pg.psql(
      db,
      "select length(tag)||' '||(data->>'big')||' '||(data->>'raw')||' '||(data->>'s') " +
        "from salt_events where tag like 'myco/xxx%'",
    );
    assert.equal(row.trim(), "255 123456789012345678901234 hi ab");
  });

  await t.step("clean_old_jobs keeps recent jobs", async () => {
    assert.equal(await store.clean_old_jobs(), 0);
    assert.ok(Object.keys(await store.get_jids()).length > 0);
  });
});

Deno.test("pgjsonb: a real master stores events and jobs, psql finds them", async () => {
  await using pg = await startPostgres();
  const db = await pg.createDatabase();
  await using site = await makeSite();
  const config = join(site.workDir, "master.yaml");
  await Deno.writeTextFile(
    config,
    `event_return: pgjsonb
master_job_cache: pgjsonb
returner.pgjsonb.host: ${pg.host}
returner.pgjsonb.port: ${pg.port}
returner.pgjsonb.user: ${pg.user}
returner.pgjsonb.db: ${db}
`,
  );
  const master = await startDaemon(
    ["master", "--sock-dir", site.masterDir, "--config", config],
    "master bus ready",
  );
  try {
    const minion = await site.minion("web1");
    await minion.stderr.waitFor("connected to the master");
    const job = await runCli(["*", "test.ping", "--async", "--sock-dir", site.masterDir]);
    assert.equal(job.code, 0, job.stderr);
    const jid = job.stdout.match(/\d{20}/)?.[0];
    assert.ok(jid, job.stdout);
    await eventually("the return in salt_returns", async () => {
      const out = await pg.psql(db, `select id from salt_returns where jid='${jid}'`);
      return out.trim() === "web1" ? true : null;
    });
    const lookup = await runCli([
      "run",
      "jobs.lookup_jid",
      jid,
      "--sock-dir",
      site.masterDir,
      "--config",
      config,
    ]);
    assert.equal(lookup.code, 0, lookup.stderr);
    assert.match(lookup.stdout, /web1:\s*\n\s*True/);
    const tags = await eventually("the job's events in salt_events", async () => {
      const out = await pg.psql(
        db,
        `select tag from salt_events where tag like 'salt/job/${jid}/%'`,
      );
      const list = out.trim().split("\n");
      return list.includes(`salt/job/${jid}/new`) && list.includes(`salt/job/${jid}/ret/web1`)
        ? list
        : null;
    });
    assert.ok(tags.length >= 2);
    assert.ok(
      (await pg.psql(db, "select count(*) from salt_events where tag='salt/event_listen/start'"))
        .trim() !== "0",
    );
  } finally {
    await master.stop();
  }
});

Deno.test("pgjsonb: events fired while PostgreSQL is down are kept and stored once it is up", async () => {
  await using site = await makeSite();
  const port = freePort();
  const config = join(site.workDir, "master.yaml");
  await Deno.writeTextFile(
    config,
    `event_return: pgjsonb
returner.pgjsonb.host: 127.0.0.1
returner.pgjsonb.port: ${port}
returner.pgjsonb.user: postgres
returner.pgjsonb.db: postgres
`,
  );
  const master = await startDaemon(
    ["master", "--sock-dir", site.masterDir, "--config", config],
    "master bus ready",
  );
  try {
    const bus = await site.masterBus();
    for (let i = 0; i < 20; i++) assert.ok(await bus.fireEvent({ i }, "myco/while-down"));
    await master.stderr.waitFor(/Could not store events - returner 'pgjsonb'.*retrying/);
    await using pg = await startPostgres({ port });
    const rows = await eventually("the buffered events", async () => {
      const out = await pg.psql(
        "postgres",
        "select count(*) from salt_events where tag='myco/while-down'",
      );
      return out.trim() === "20" ? out : null;
    }, 60_000);
    assert.equal(rows.trim(), "20");
    await master.stderr.waitFor("event_return pgjsonb: storing again");
    assert.equal(await master.stop(), 0);
    assert.doesNotMatch(master.stderr.text, /dropped/);
  } finally {
    await master.stop();
  }
});
