/**
 * Jobs from the master to minions, as real processes: one master, three
 * minions; glob, list, grain and compound targets, a minion that is gone, a
 * timeout, the exact event sequence on the master bus, and `manage.*`.
 */
import assert from "node:assert/strict";
import type { EventClient } from "../bus/event_client.ts";
import { getEvent } from "../mod.ts";
import { type Daemon, makeSite, type Site } from "./daemons.ts";
import { runCli } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

/** A master and minions web1, web2 (role web) and db1 (role db), all connected. */
async function startSite(): Promise<{ site: Site; minions: Record<string, Daemon> }> {
  const site = await makeSite();
  try {
    await site.master();
    const minions: Record<string, Daemon> = {};
    for (const [id, role] of [["web1", "web"], ["web2", "web"], ["db1", "db"]]) {
      const config = `${site.workDir}/${id}.yaml`;
      await Deno.writeTextFile(config, `grains:\n  role: ${role}\n  roles: [${role}, base]\n`);
      minions[id] = await site.minion(id, ["--config", config]);
    }
    for (const minion of Object.values(minions)) {
      await minion.stderr.waitFor("connected to the master");
    }
    return { site, minions };
  } catch (err) {
    await site[Symbol.asyncDispose]();
    throw err;
  }
}

function job(site: Site, args: string[]) {
  return runCli([...args, "--sock-dir", site.masterDir]);
}

/** The events of job `jid`, in order, until `count` arrived. */
async function jobEvents(listener: EventClient, jid: string, count: number) {
  const events: { tag: string; data: AnyRecord }[] = [];
  while (events.length < count) {
    const event = await listener.getEvent<AnyRecord>({ full: true, wait: 10 });
    assert.ok(event, `only ${events.length} of ${count} events of ${jid}`);
    if (event.tag === jid || event.tag.startsWith(`salt/job/${jid}/`)) events.push(event);
  }
  return events;
}

/**
 * The next bare-JID (job creation) event. Other events can come first: a
 * minion's start events reach the master bus a moment after the minion
 * logs that it is connected.
 */
async function jobCreated(listener: EventClient) {
  const event = await listener.getEvent<AnyRecord>({
    tag: "\\d{20}$",
    matchType: "regex",
    full: true,
    wait: 10,
  });
  assert.ok(event, "no job creation event within 10 s");
  return event;
}

function strip(data: AnyRecord): AnyRecord {
  const { _stamp, ...rest } = data;
  assert.match(String(_stamp), /^\d{4}-\d\d-\d\dT/);
  return rest;
}

Deno.test("a glob job: <jid>, salt/job/<jid>/new, one ret per minion, in order, with Salt's fields", async () => {
  const { site } = await startSite();
  await using _site = site;
  const listener = await site.masterBus();
  const result = await job(site, ["web*", "test.arg", "a", "n=1", "--out", "json"]);
  assert.equal(result.code, 0, result.stderr);
  const outputs = result.stdout.trim().split(/\n(?=\{)/).map((block) => JSON.parse(block));
  assert.deepEqual(
    outputs.sort((a, b) => Object.keys(a)[0] < Object.keys(b)[0] ? -1 : 1),
    [
      { web1: { args: ["a"], kwargs: { n: 1 } } },
      { web2: { args: ["a"], kwargs: { n: 1 } } },
    ],
  );
  const first = await jobCreated(listener);
  const jid = first.tag;
  assert.match(jid, /^\d{20}$/);
  assert.deepEqual(strip(first.data), { minions: ["web1", "web2"] });
  const [created, ...rets] = await jobEvents(listener, jid, 3);
  assert.equal(created.tag, `salt/job/${jid}/new`);
  assert.deepEqual(Object.keys(created.data), [
    "jid",
    "tgt_type",
    "tgt",
    "user",
    "fun",
    "arg",
    "minions",
    "missing",
    "_stamp",
  ]);
  assert.deepEqual(strip(created.data), {
    jid,
    tgt_type: "glob",
    tgt: "web*",
    user: Deno.env.get("USER") ?? "root",
    fun: "test.arg",
    arg: ["a", { n: 1, __kwarg__: true }],
    minions: ["web1", "web2"],
    missing: [],
  });
  assert.deepEqual(rets.map((e) => e.tag).sort(), [
    `salt/job/${jid}/ret/web1`,
    `salt/job/${jid}/ret/web2`,
  ]);
  for (const ret of rets) {
    const id = ret.tag.split("/").pop();
    assert.deepEqual(strip(ret.data), {
      cmd: "_return",
      id,
      jid,
      fun: "test.arg",
      fun_args: ["a", { n: 1, __kwarg__: true }],
      return: { args: ["a"], kwargs: { n: 1 } },
      retcode: 0,
      success: true,
    });
  }
});

Deno.test("list, pcre, grain and compound targets pick the right minions", async () => {
  const { site } = await startSite();
  await using _site = site;
  const cases: [string[], string[]][] = [
    [["-L", "web1,db1"], ["db1", "web1"]],
    [["-E", "web[0-9]"], ["web1", "web2"]],
    [["-G", "role:db"], ["db1"]],
    [["-G", "roles:web"], ["web1", "web2"]],
    [["-C", "G@role:web and not web2"], ["web1"]],
    [["-C", "db* or L@web2"], ["db1", "web2"]],
  ];
  for (const [target, expected] of cases) {
    const result = await job(site, [...target, "test.ping", "--out", "json"]);
    assert.equal(result.code, 0, `${target.join(" ")}: ${result.stderr}`);
    const ids = result.stdout.trim().split(/\n(?=\{)/).map((b) => Object.keys(JSON.parse(b))[0]);
    assert.deepEqual(ids.sort(), expected, target.join(" "));
  }
  const none = await job(site, ["nomatch*", "test.ping"]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /No minions matched the target/);
});

Deno.test("a minion that is gone is missing and listed as not connected; a slow one times out", async () => {
  const { site, minions } = await startSite();
  await using _site = site;
  await minions.db1.stop();
  // The master notices the closed link a moment after the process is gone.
  let status = await runCli(["run", "manage.status", "--sock-dir", site.masterDir]);
  for (let i = 0; i < 20 && !status.stdout.startsWith("down:\n    - db1"); i++) {
    status = await runCli(["run", "manage.status", "--sock-dir", site.masterDir]);
  }
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.stdout, "down:\n    - db1\nup:\n    - web1\n    - web2\n");
  const up = await runCli(["run", "manage.up", "--sock-dir", site.masterDir]);
  assert.equal(up.stdout, "- web1\n- web2\n");
  const listener = await site.masterBus();
  const result = await job(site, ["*", "test.ping"]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /web1:\n {4}True\n/);
  assert.match(result.stdout, /web2:\n {4}True\n/);
  assert.match(result.stdout, /db1:\n {4}Minion did not return\. \[Not connected\]\n/);
  const first = await jobCreated(listener);
  const [created] = await jobEvents(listener, first.tag, 1);
  assert.deepEqual(created.data.minions, ["db1", "web1", "web2"]);
  assert.deepEqual(created.data.missing, ["db1"]);

  const slow = await job(site, ["web1", "test.sleep", "3", "--timeout", "1"]);
  assert.equal(slow.code, 1);
  assert.equal(slow.stdout, "web1:\n    Minion did not return. [No response]\n");
});

Deno.test("a failing function returns success false and the job exits 1", async () => {
  const { site } = await startSite();
  await using _site = site;
  const result = await job(site, ["web1", "test.echo"]);
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    /^web1:\n {4}Passed invalid arguments to test\.echo: .*missing 1 required positional argument: 'text'/,
  );
  const unknown = await job(site, ["web1", "foo.bar"]);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, "web1:\n    'foo.bar' is not available.\n");
});

Deno.test("the seed's event.fire to a minion puts the event on that minion's bus", async () => {
  const { site } = await startSite();
  await using _site = site;
  await using minionBus = getEvent("minion", { sockDir: site.minionDir, opts: { id: "web1" } });
  assert.ok(await minionBus.connected());
  const result = await job(site, [
    "web1",
    "event.fire",
    '{"data": "message for the minion"}',
    "customtag/african/unladen",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "web1:\n    True\n");
  const event = await minionBus.getEvent<AnyRecord>({
    tag: "customtag/african/unladen",
    full: true,
    wait: 5,
  });
  assert.ok(event);
  assert.equal(event.data.data, "message for the minion");
});
