import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { isJid } from "../bus/jid.ts";
import { UnsafePathError } from "../transport/private_path.ts";
import { SQLITE_FILE, SqliteReturner } from "./sqlite.ts";
import { formatJidInstance } from "./returner.ts";

async function tempCache(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-cache-" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const JID = "20240501123456789012";

Deno.test("the sqlite store keeps a job's load, minions and returns across a reopen", async () => {
  await using t = await tempCache();
  const cachedir = `${t.dir}/cache/master`;
  {
    await using store = await SqliteReturner.open({ cachedir });
    await store.save_load(JID, {
      jid: JID,
      fun: "test.arg",
      tgt: "web*",
      tgt_type: "glob",
      arg: ["a"],
      user: "bob",
    }, ["web2", "web1"]);
    await Promise.all([
      store.returner({
        id: "web1",
        jid: JID,
        fun: "test.arg",
        fun_args: ["a"],
        return: { a: 1 },
        retcode: 0,
        success: true,
      }),
      store.returner({
        id: "web2",
        jid: JID,
        fun: "test.arg",
        fun_args: ["a"],
        return: "boom",
        retcode: 1,
        success: false,
      }),
    ]);
  }
  assert.equal((await Deno.stat(cachedir)).mode! & 0o777, 0o700);
  assert.equal((await Deno.stat(`${cachedir}/${SQLITE_FILE}`)).mode! & 0o777, 0o600);
  await using store = await SqliteReturner.open({ cachedir });
  assert.deepEqual(await store.get_load(JID), {
    jid: JID,
    fun: "test.arg",
    tgt: "web*",
    tgt_type: "glob",
    arg: ["a"],
    user: "bob",
    Minions: ["web1", "web2"],
  });
  assert.deepEqual(await store.get_jid(JID), {
    web1: { return: { a: 1 }, retcode: 0, success: true },
    web2: { return: "boom", retcode: 1, success: false },
  });
  assert.deepEqual(await store.get_jids(), {
    [JID]: {
      Function: "test.arg",
      Arguments: ["a"],
      Target: "web*",
      "Target-type": "glob",
      User: "bob",
      StartTime: "2024, May 01 12:34:56.789012",
    },
  });
  assert.deepEqual(await store.get_load("20240501123456000000"), {});
  assert.deepEqual(await store.get_jid("20240501123456000000"), {});
});

Deno.test("the sqlite store writes Salt's sqlite3 tables and pgjsonb's salt_events columns, in WAL mode", async () => {
  await using t = await tempCache();
  {
    await using store = await SqliteReturner.open({ cachedir: t.dir, masterId: "m1" });
    await store.returner({
      id: "web1",
      jid: JID,
      fun: "test.ping",
      fun_args: [],
      return: true,
      success: true,
    });
    await store.event_return([{ tag: "salt/job/x/new", data: { a: 1 } }, { tag: "t/2", data: {} }]);
  }
  const db = new DatabaseSync(`${t.dir}/${SQLITE_FILE}`);
  try {
    assert.equal(
      (db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
      "wal",
    );
    const cols = (table: string) =>
      (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    assert.deepEqual(cols("jids"), ["jid", "load"]);
    assert.deepEqual(cols("salt_returns"), [
      "fun",
      "jid",
      "id",
      "fun_args",
      "date",
      "full_ret",
      "success",
    ]);
    assert.deepEqual(cols("salt_events"), ["id", "tag", "data", "alter_time", "master_id"]);
    const ret = db.prepare("SELECT fun, jid, id, fun_args, date, success FROM salt_returns")
      .get() as Record<string, string>;
    assert.equal(ret.fun, "test.ping");
    assert.equal(ret.success, "True");
    assert.match(ret.date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    const events = db.prepare(
      "SELECT tag, data, master_id, alter_time FROM salt_events ORDER BY id",
    ).all() as Record<string, string>[];
    assert.deepEqual(events.map((e) => [e.tag, JSON.parse(e.data), e.master_id]), [
      ["salt/job/x/new", { a: 1 }, "m1"],
      ["t/2", {}, "m1"],
    ]);
    assert.match(events[0].alter_time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
  } finally {
    db.close();
  }
});

Deno.test("writes are batched: many at once commit in transactions of batchSize, all stored", async () => {
  await using t = await tempCache();
  await using store = await SqliteReturner.open({ cachedir: t.dir, batchSize: 100 });
  const writes = [];
  for (let i = 0; i < 250; i++) {
    writes.push(store.returner({ id: `m${i}`, jid: JID, fun: "test.ping", return: true }));
  }
  assert.equal(
    store.pending,
    50,
    "two full batches committed at once, the rest waits for the next turn",
  );
  await Promise.all(writes);
  assert.equal(store.pending, 0);
  assert.equal(Object.keys(await store.get_jid(JID)).length, 250);
});

Deno.test("clean_old_jobs() removes jobs older than keep_jobs_seconds and keeps the new ones", async () => {
  await using t = await tempCache();
  await using store = await SqliteReturner.open({ cachedir: t.dir, keepJobsSeconds: 3600 });
  const fresh = store.prep_jid();
  assert.ok(isJid(fresh));
  assert.equal(store.prep_jid(false, JID), JID);
  for (const jid of [JID, fresh]) {
    await store.save_load(jid, { fun: "test.ping" }, ["web1"]);
    await store.returner({ id: "web1", jid, fun: "test.ping", return: true });
  }
  assert.equal(await store.clean_old_jobs(), 1);
  assert.deepEqual(Object.keys(await store.get_jids()), [fresh]);
  assert.deepEqual(await store.get_jid(JID), {});
  assert.deepEqual(Object.keys(await store.get_jid(fresh)), ["web1"]);
  await using keepAll = await SqliteReturner.open({ cachedir: t.dir, keepJobsSeconds: 0 });
  assert.equal(await keepAll.clean_old_jobs(), 0);
});

Deno.test("a cachedir others can write is refused, and nothing is created in it", async () => {
  await using t = await tempCache();
  await Deno.chmod(t.dir, 0o777);
  await assert.rejects(
    SqliteReturner.open({ cachedir: t.dir }),
    (err: Error) =>
      err instanceof UnsafePathError &&
      /cachedir .* writable by group and others/.test(err.message),
  );
  assert.deepEqual([...Deno.readDirSync(t.dir)], []);
  await Deno.chmod(t.dir, 0o700);
});

Deno.test("a closed store refuses writes with a ReturnerError", async () => {
  await using t = await tempCache();
  const store = await SqliteReturner.open({ cachedir: t.dir });
  await store.close();
  await assert.rejects(store.returner({ id: "a", jid: JID, return: 1 }), { name: "ReturnerError" });
});

Deno.test("formatJidInstance() follows Salt's defaults and picks Metadata from kwargs", () => {
  assert.deepEqual(formatJidInstance(JID, { kwargs: { metadata: { a: 1 } } }), {
    Function: "unknown-function",
    Arguments: [],
    Target: "unknown-target",
    "Target-type": "list",
    User: "root",
    Metadata: { a: 1 },
    StartTime: "2024, May 01 12:34:56.789012",
  });
});
