/**
 * The master job cache, with real processes: a `cli.ts master` storing jobs
 * in its embedded sqlite store, real minions, `--async` jobs, and the
 * `jobs.*` runners reading them back, also after the master restarted.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../bus/config.ts";
import { ConfigError } from "../bus/errors.ts";
import { createLogger } from "../bus/log.ts";
import { socketServices } from "../link/node_services.ts";
import { DatabaseSync } from "node:sqlite";
import { defaultMasterComponents } from "../master/components.ts";
import { eventReturnComponent } from "../master/event_return.ts";
import { startMaster } from "../master/start_master.ts";
import type { FullEvent, Returner } from "../returners/returner.ts";
import { SQLITE_FILE, SqliteReturner } from "../returners/sqlite.ts";
import { callRunner } from "../runners/registry.ts";
import { type Daemon, makeSite, type Site, startDaemon } from "./daemons.ts";
import { captureLog, runCli, sleep } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

interface CacheSite extends AsyncDisposable {
  site: Site;
  config: string;
  cachedir: string;
  master(): Promise<Daemon>;
}

/** A site whose master keeps its job cache in the site's temp dir. */
async function cacheSite(extra = ""): Promise<CacheSite> {
  const site = await makeSite();
  const cachedir = `${site.workDir}/cache`;
  const config = `${site.workDir}/master.yaml`;
  await Deno.writeTextFile(config, `cachedir: ${cachedir}\n${extra}`);
  const masters: Daemon[] = [];
  return {
    site,
    config,
    cachedir,
    async master() {
      const daemon = await startDaemon(
        ["master", "--config", config, "--sock-dir", site.masterDir],
        "master bus ready",
      );
      masters.push(daemon);
      return daemon;
    },
    async [Symbol.asyncDispose]() {
      for (const daemon of masters) await daemon.stop();
      await site[Symbol.asyncDispose]();
    },
  };
}

function cli(t: CacheSite, args: string[]) {
  return runCli([...args, "--config", t.config, "--sock-dir", t.site.masterDir]);
}

/** Runs `jobs.*` in-process against the site's store, as `cli.ts run` does. */
function runner(t: CacheSite, fun: string, args: unknown[] = [], kwargs: AnyRecord = {}) {
  const opts = resolveConfig("master", { sock_dir: t.site.masterDir, cachedir: t.cachedir });
  return callRunner(fun, args, kwargs, {
    opts,
    configFor: () => Promise.resolve(opts),
    log: createLogger("quiet"),
    services: socketServices,
    print: () => {},
  }) as Promise<AnyRecord>;
}

/** `cli.ts run jobs.lookup_jid <jid>` until it shows `lines`, or 10 s pass. */
async function lookupUntil(t: CacheSite, jid: string, expected: string) {
  let out = "";
  for (let i = 0; i < 40; i++) {
    const result = await cli(t, ["run", "jobs.lookup_jid", jid]);
    assert.equal(result.code, 0, result.stderr);
    out = result.stdout;
    if (out === expected) return;
    await sleep(250);
  }
  assert.equal(out, expected);
}

async function asyncJob(t: CacheSite, args: string[]): Promise<string> {
  const result = await cli(t, [...args, "--async"]);
  assert.equal(result.code, 0, result.stderr);
  const m = /^Executed command with job ID: (\d{20})\n$/.exec(result.stdout);
  assert.ok(m, `not Salt's --async line: ${JSON.stringify(result.stdout)}`);
  return m[1];
}

Deno.test("'<target> test.ping --async' prints the jid; jobs.lookup_jid prints the returns, also after a master restart", async () => {
  const t = await cacheSite();
  await using _t = t;
  const first = await t.master();
  for (const id of ["web1", "web2"]) {
    const minion = await t.site.minion(id);
    await minion.stderr.waitFor("connected to the master");
  }
  const jid = await asyncJob(t, ["web*", "test.ping"]);
  const expected = "web1:\n    True\nweb2:\n    True\n";
  await lookupUntil(t, jid, expected);
  assert.equal(await first.stop(), 0);
  // With the master stopped, the store is still there to read.
  const stopped = await cli(t, ["run", "jobs.lookup_jid", jid]);
  assert.equal(stopped.stdout, expected, stopped.stderr);
  await t.master();
  const again = await cli(t, ["run", "jobs.lookup_jid", jid]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, expected);
  assert.equal((await Deno.stat(t.cachedir)).mode! & 0o777, 0o700);
});

Deno.test("the jobs.* runners give Salt's shapes for stored jobs, with the filters of list_jobs", async () => {
  const t = await cacheSite();
  await using _t = t;
  await t.master();
  for (const id of ["web1", "db1"]) {
    const minion = await t.site.minion(id);
    await minion.stderr.waitFor("connected to the master");
  }
  const ping = await asyncJob(t, ["*", "test.ping"]);
  const arg = await asyncJob(t, ["web1", "test.arg", "a", "n=1"]);
  await lookupUntil(
    t,
    arg,
    "web1:\n    ----------\n    args:\n        - a\n    kwargs:\n        ----------\n        n:\n            1\n",
  );
  await lookupUntil(t, ping, "db1:\n    True\nweb1:\n    True\n");
  const user = Deno.env.get("USER") ?? "root";

  const job = await runner(t, "jobs.list_job", [arg]);
  assert.deepEqual(job, {
    jid: arg,
    Function: "test.arg",
    Arguments: ["a", { n: 1, __kwarg__: true }],
    Target: "web1",
    "Target-type": "glob",
    User: user,
    Minions: ["web1"],
    StartTime: job.StartTime,
    Result: { web1: { return: { args: ["a"], kwargs: { n: 1 } }, retcode: 0, success: true } },
  });
  assert.match(job.StartTime, /^\d{4}, [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d\.\d{6}$/);

  const printed = await runner(t, "jobs.print_job", [ping]);
  assert.deepEqual(Object.keys(printed), [ping]);
  assert.deepEqual(printed[ping].Minions, ["db1", "web1"]);
  assert.deepEqual(Object.keys(printed[ping].Result).sort(), ["db1", "web1"]);

  const all = await runner(t, "jobs.list_jobs");
  assert.deepEqual(Object.keys(all).sort(), [ping, arg].sort());
  assert.equal("Minions" in all[ping], false, "list_jobs records have no Minions");
  assert.deepEqual(
    Object.keys(await runner(t, "jobs.list_jobs", [], { search_function: "test.a*" })),
    [arg],
  );
  assert.deepEqual(
    Object.keys(await runner(t, "jobs.list_jobs", [], { search_target: "nomatch,*" })).length,
    2,
  );
  assert.deepEqual(Object.keys(await runner(t, "jobs.list_jobs", [], { search_target: "web1" })), [
    arg,
  ]);
  assert.deepEqual(await runner(t, "jobs.list_jobs", [], { start_time: "2999-01-01" }), {});
  assert.deepEqual(await runner(t, "jobs.list_jobs", [], { search_metadata: { a: 1 } }), {});
  const wrapped = await runner(t, "jobs.list_jobs", [], {
    outputter: "json",
    search_function: "test.ping",
  });
  assert.deepEqual(Object.keys(wrapped.data), [ping]);
  assert.equal(wrapped.outputter, "json");

  assert.deepEqual(await runner(t, "jobs.exit_success", [ping]), { db1: true, web1: true });
  assert.deepEqual(Object.keys(await runner(t, "jobs.last_run")), [[ping, arg].sort()[1]]);
  assert.deepEqual(Object.keys(await runner(t, "jobs.last_run", [], { function: "test.ping" })), [
    ping,
  ]);
  assert.equal(await runner(t, "jobs.last_run", [], { function: "nosuch.fun" }), false);
  const missing = await runner(t, "jobs.list_job", ["20000101000000000000"]);
  assert.equal(missing.Error, "Cannot contact returner or no job with this jid");
  assert.deepEqual(missing.Result, {});
});

Deno.test("jobs.active lists a job a minion is still running, with the minions that returned", async () => {
  const t = await cacheSite();
  await using _t = t;
  await t.master();
  for (const id of ["web1", "web2"]) {
    const minion = await t.site.minion(id);
    await minion.stderr.waitFor("connected to the master");
  }
  const jid = await asyncJob(t, ["web*", "test.sleep", "2"]);
  const active = await runner(t, "jobs.active");
  assert.deepEqual(Object.keys(active), [jid]);
  assert.equal(active[jid].Function, "test.sleep");
  assert.deepEqual(active[jid].Running, [{ web1: null }, { web2: null }]);
  assert.deepEqual(active[jid].Returned, []);
  await lookupUntil(t, jid, "web1:\n    True\nweb2:\n    True\n");
  assert.deepEqual(await runner(t, "jobs.active"), {});
});

Deno.test("job_cache: false keeps the publish load but no returns; missing=True names who did not return", async () => {
  const t = await cacheSite("job_cache: false\n");
  await using _t = t;
  await t.master();
  const minion = await t.site.minion("web1");
  await minion.stderr.waitFor("connected to the master");
  const jid = await asyncJob(t, ["web1", "test.ping"]);
  let job: AnyRecord = {};
  for (let i = 0; i < 40 && job.Function === undefined; i++) {
    job = await runner(t, "jobs.list_job", [jid]);
    await sleep(100);
  }
  assert.equal(job.Function, "test.ping");
  await sleep(500); // the return has reached the master by now, and is not stored
  assert.deepEqual(await runner(t, "jobs.lookup_jid", [jid], { missing: true }), {
    web1: "Minion did not return",
  });
});

Deno.test("an unknown master_job_cache or a bad option stops the master with the option named", async () => {
  const sockDir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      startMaster({
        config: resolveConfig("master", {
          sock_dir: sockDir,
          cachedir: `${sockDir}-cache`,
          master_job_cache: "local_cache",
        }),
        log: captureLog().log,
      }),
      (err: Error) =>
        err instanceof ConfigError &&
        /master_job_cache: returner "local_cache" is not available/.test(err.message),
    );
    assert.throws(
      () => resolveConfig("master", { sock_dir: sockDir, keep_jobs_seconds: -1 }),
      /keep_jobs_seconds in options: expected seconds >= 0/,
    );
    assert.throws(
      () => resolveConfig("master", { sock_dir: sockDir, job_cache: "yes" }),
      /job_cache/,
    );
  } finally {
    await Deno.remove(sockDir, { recursive: true });
  }
});

// ---------------------------------------------------------------- event_return

/** A master (in-process, real bus) with `opts`, its store in a temp cachedir. */
async function eventMaster(opts: AnyRecord, returners?: Returner[]) {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-evret-" });
  const cachedir = `${dir}/cache`;
  const captured = captureLog("info");
  const config = resolveConfig("master", { sock_dir: `${dir}/sock`, cachedir, ...opts });
  const components = defaultMasterComponents().map((c) =>
    c.name === "event_return" ? eventReturnComponent({ returners }) : c
  );
  const master = await startMaster({ config, log: captured.log, components });
  let closed = false;
  return {
    master,
    cachedir,
    lines: captured.lines,
    async stop() {
      if (!closed) await master.close();
      closed = true;
    },
    /** The rows of `salt_events` (tag, data) in order. */
    rows(): { tag: string; data: AnyRecord }[] {
      const db = new DatabaseSync(`${cachedir}/${SQLITE_FILE}`);
      try {
        return (db.prepare("SELECT tag, data FROM salt_events ORDER BY id").all() as {
          tag: string;
          data: string;
        }[]).map((r) => ({ tag: r.tag, data: JSON.parse(r.data) }));
      } finally {
        db.close();
      }
    },
    async [Symbol.asyncDispose]() {
      await this.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function until(check: () => boolean, what: string) {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await sleep(50);
  }
  assert.fail(`not within 5 s: ${what}`);
}

Deno.test("event_return: sqlite stores the events the whitelist and blacklist let through, with salt/event_listen/start", async () => {
  await using m = await eventMaster({
    event_return: "sqlite",
    event_return_whitelist: ["salt/*", "myco/*"],
    event_return_blacklist: ["myco/secret/*"],
  });
  await m.master.events.fireEvent({ n: 1 }, "myco/a");
  await m.master.events.fireEvent({ n: 2 }, "myco/secret/b");
  await m.master.events.fireEvent({ n: 3 }, "other/c");
  await m.master.events.fireEvent({ n: 4 }, "myco/d");
  await until(() => m.rows().some((r) => r.tag === "myco/d"), "myco/d stored");
  assert.deepEqual(m.rows().map((r) => r.tag), ["salt/event_listen/start", "myco/a", "myco/d"]);
  assert.equal(m.rows()[1].data.n, 1);
});

Deno.test("event_return_queue_max_seconds flushes a part-full queue on a timer, with no further event", async () => {
  await using m = await eventMaster({
    event_return: ["sqlite"],
    event_return_queue: 100,
    event_return_queue_max_seconds: 1,
  });
  for (let n = 0; n < 3; n++) await m.master.events.fireEvent({ n }, "myco/q");
  await sleep(300);
  assert.deepEqual(m.rows(), [], "not flushed before its time");
  await until(() => m.rows().length === 4, "flushed by the timer");
});

Deno.test("event_return flushes its queue when the master stops", async () => {
  const m = await eventMaster({ event_return: "sqlite", event_return_queue: 1000 });
  await using _m = m;
  for (let n = 0; n < 5; n++) await m.master.events.fireEvent({ n }, "myco/s");
  await sleep(200); // the events reach the component's listener
  assert.deepEqual(m.rows(), []);
  await m.stop();
  assert.deepEqual(m.rows().map((r) => r.tag), [
    "salt/event_listen/start",
    ...Array(5).fill("myco/s"),
  ]);
});

Deno.test("a failing event returner is retried with back-off and loses nothing; a full buffer counts and logs its drops", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-evret-store-" });
  try {
    const store = await SqliteReturner.open({ cachedir: dir });
    let failures = 2;
    const flaky: Returner = Object.assign(Object.create(store), {
      event_return(events: readonly FullEvent[]) {
        if (failures-- > 0) return Promise.reject(new Error("database is down"));
        return store.event_return(events);
      },
      close: () => store.close(),
    });
    {
      await using m = await eventMaster({ event_return: "sqlite" }, [flaky]);
      await m.master.events.fireEvent({ n: 1 }, "myco/r");
      await until(() => countEvents(dir) >= 2, "stored after the retries");
      assert.ok(
        m.lines.some((l) =>
          /raised exception: database is down; \d+ event\(s\) kept, retrying/.test(l)
        ),
      );
    }
    const down: Returner = Object.assign(Object.create(store), {
      event_return: () => Promise.reject(new Error("database is down")),
      close: () => Promise.resolve(),
    });
    await using m = await eventMaster({ event_return: "sqlite", event_return_buffer_max: 3 }, [
      down,
    ]);
    for (let n = 0; n < 5; n++) await m.master.events.fireEvent({ n }, "myco/x");
    await until(
      () => m.lines.some((l) => /buffer full \(3 events\): dropped/.test(l)),
      "drop logged",
    );
    await m.stop();
    assert.ok(
      m.lines.some((l) =>
        /event_return sqlite: \d+ event\(s\) could not be stored and were dropped/.test(l)
      ),
      m.lines.join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function countEvents(dir: string): number {
  const db = new DatabaseSync(`${dir}/${SQLITE_FILE}`);
  try {
    return Number((db.prepare("SELECT count(*) AS n FROM salt_events").get() as { n: number }).n);
  } finally {
    db.close();
  }
}

Deno.test("per-returner filters (#54123): each returner stores what its own lists let through", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-evret-filter-" });
  try {
    const store = await SqliteReturner.open({ cachedir: dir });
    const seen: string[] = [];
    const audit: Returner = Object.assign(Object.create(store), {
      name: "audit",
      event_return(events: readonly FullEvent[]) {
        for (const e of events) seen.push(e.tag);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    });
    await using m = await eventMaster({
      event_return: ["sqlite", "audit"],
      event_return_blacklist: ["myco/never/*"],
      audit: { event_return_whitelist: ["myco/job/*"] },
      "returner.sqlite.event_return_blacklist": ["myco/job/*"],
    }, [store, audit]);
    for (const tag of ["myco/job/1", "myco/other", "myco/never/x", "myco/job/2", "myco/last"]) {
      await m.master.events.fireEvent({}, tag);
    }
    const tags = () => {
      const db = new DatabaseSync(`${dir}/${SQLITE_FILE}`);
      try {
        return (db.prepare("SELECT tag FROM salt_events ORDER BY id").all() as { tag: string }[])
          .map((r) => r.tag);
      } finally {
        db.close();
      }
    };
    await until(() => tags().includes("myco/last"), "myco/last stored");
    assert.deepEqual(tags().filter((t) => t.startsWith("myco/")), [
      "myco/other",
      "myco/last",
    ]);
    await until(() => seen.length === 2, "audit got its two");
    assert.deepEqual(seen, ["myco/job/1", "myco/job/2"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
