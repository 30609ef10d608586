/**
 * Proxy runs (`cli.ts proxy …`, salt-sproxy) as real processes against a
 * real master bus: a roster of six dummy devices, one whose proxy module
 * throws and one that hangs; the event sequence and fields, one JID,
 * --summary, batching, no events without --events, targeting, the output
 * and the exit codes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { EventClient } from "../bus/event_client.ts";
import { dummyArpTable } from "../proxy/dummy.ts";
import { makeSite } from "./daemons.ts";
import { runCli, startTestBus, type TestBus } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

const DUMMIES = ["dev01", "dev02", "dev03", "dev04", "dev05", "dev06"];
const ALL = [...DUMMIES, "fail1", "hang1"].sort();

/** A temp dir with a roster, a proxy module dir (failing, hanging) and a config file. */
async function makeFixture(): Promise<
  { dir: string; roster: string; proxyDir: string } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-proxy-test-" });
  const proxyDir = join(dir, "proxy");
  await Deno.mkdir(proxyDir);
  await Deno.writeTextFile(
    join(proxyDir, "failing.ts"),
    `export function init() {}
export function grains() { return { os: "failing" }; }
export function arp() { throw new Error("arp table unavailable"); }
export function shutdown() {}
`,
  );
  await Deno.writeTextFile(
    join(proxyDir, "hanging.ts"),
    `export function init() {}
export function arp() { return new Promise(() => {}); }
`,
  );
  const lines = DUMMIES.map((id, i) =>
    `${id}: {proxytype: dummy, grains: {role: ${i < 3 ? "edge" : "core"}, site: lon}}`
  );
  lines.push("fail1: {proxytype: failing}", "hang1: {proxytype: hanging}");
  const roster = join(dir, "roster.yml");
  await Deno.writeTextFile(roster, lines.join("\n") + "\n");
  return {
    dir,
    roster,
    proxyDir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

/** A listener on the test bus, subscribed for sure (a marker event made the round trip). */
async function listen(t: TestBus): Promise<EventClient> {
  const listener = t.client();
  assert.ok(await listener.connected(5), "listener connects");
  const firer = t.client({ listen: false });
  for (let i = 0; i < 50; i++) {
    await firer.fireEvent({}, "test/ready");
    if (await listener.getEvent({ tag: "test/ready", wait: 0.1 })) return listener;
  }
  throw new Error("the listener never saw its marker event");
}

/** The events after the marker, in order, until `until(tag)` says that was the last. */
async function proxyEvents(
  listener: EventClient,
  until: (tag: string) => boolean,
): Promise<{ tag: string; data: AnyRecord }[]> {
  const events: { tag: string; data: AnyRecord }[] = [];
  while (true) {
    const event = await listener.getEvent<AnyRecord>({ full: true, wait: 10 });
    assert.ok(event, `no more events after ${events.map((e) => e.tag).join(", ")}`);
    if (event.tag === "test/ready") continue;
    events.push(event);
    if (until(event.tag)) return events;
  }
}

function strip(data: AnyRecord): AnyRecord {
  const { _stamp, ...rest } = data;
  assert.match(String(_stamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  return rest;
}

function proxy(f: { roster: string; proxyDir: string }, sockDir: string, args: string[]) {
  return runCli([
    "proxy",
    ...args,
    "--roster",
    f.roster,
    "--proxy-dir",
    f.proxyDir,
    "--sock-dir",
    sockDir,
  ]);
}

Deno.test("proxy --events --summary: <jid>, new, one ret per device, summary, all with one JID", async () => {
  await using t = await startTestBus();
  await using f = await makeFixture();
  const listener = await listen(t);
  const result = await proxy(f, t.sockDir, [
    ...["*", "net.arp", "interface=Ethernet1", "--events", "--summary"],
    ...["--timeout", "1", "--batch-size", "2"],
  ]);
  assert.equal(result.code, 1, "a device failed: exit 1\n" + result.stderr);

  const events = await proxyEvents(listener, (tag) => tag.endsWith("/summary"));
  const [created, started, ...rest] = events;
  const jid = created.tag;
  assert.match(jid, /^\d{20}$/);
  assert.deepEqual(strip(created.data), { minions: ALL });

  assert.equal(started.tag, `proxy/runner/${jid}/new`);
  assert.deepEqual(Object.keys(started.data), [
    ...["fun", "minions", "arg", "jid", "tgt", "tgt_type", "user", "_stamp"],
  ]);
  const user = strip(started.data).user;
  assert.equal(typeof user, "string");
  assert.ok(user.length > 0);
  const arg = [{ interface: "Ethernet1", __kwarg__: true }];
  assert.deepEqual(strip(started.data), {
    fun: "net.arp",
    minions: ALL,
    arg,
    jid,
    tgt: "*",
    tgt_type: "glob",
    user,
  });

  const summary = rest.pop()!;
  const rets = rest;
  assert.deepEqual(rets.map((e) => e.tag).sort(), ALL.map((id) => `proxy/runner/${jid}/ret/${id}`));
  for (const ret of rets) {
    const id = ret.tag.split("/").pop()!;
    assert.deepEqual(Object.keys(ret.data), [
      ...["fun", "fun_args", "id", "jid", "return", "retcode", "success", "_stamp"],
    ]);
    const data = strip(ret.data);
    assert.deepEqual({ ...data, return: undefined }, {
      fun: "net.arp",
      fun_args: arg,
      id,
      jid,
      return: undefined,
      retcode: id.startsWith("dev") ? 0 : 1,
      success: id.startsWith("dev"),
    });
    if (id.startsWith("dev")) {
      assert.deepEqual(data.return, {
        out: [dummyArpTable(id)[0]],
        result: true,
        comment: "",
      });
    }
  }
  const returns = Object.fromEntries(rets.map((e) => [e.data.id, e.data.return]));
  assert.equal(
    returns.fail1,
    "The minion function caused an exception: arp table unavailable",
  );
  assert.equal(returns.hang1, "Timed out after 1 s");

  assert.equal(summary.tag, `proxy/runner/${jid}/summary`);
  assert.deepEqual(strip(summary.data), {
    tgt: "*",
    tgt_type: "glob",
    fun: "net.arp",
    fun_args: arg,
    jid,
    user,
    retcode: 1,
    matched_minions: ALL,
    existing_minions: [],
    sproxy_minions: ALL,
    timeout_minions: ["hang1"],
    down_minions: [],
    unreachable_devices: [],
    failed_minions: ["fail1"],
  });

  // stdout: one block per device, sorted by id, in the nested outputter.
  const heads = result.stdout.split("\n").filter((line) => /^\S.*:$/.test(line));
  assert.deepEqual(heads, ALL.map((id) => `${id}:`));
  assert.match(result.stdout, /^hang1:\n {4}Timed out after 1 s$/m);
  assert.match(result.stderr, /# of devices targeted: 8\n# of devices returned: 7\n/);
  assert.match(result.stderr, /# of devices that did not return: 1\n# of devices with errors: 1\n/);
  assert.doesNotMatch(result.stdout, /\r/, "no progress line in piped output");
});

Deno.test("proxy without --events fires nothing on the master bus", async () => {
  await using t = await startTestBus();
  await using f = await makeFixture();
  const listener = await listen(t);
  const result = await proxy(f, t.sockDir, ["dev*", "test.ping"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  await t.client({ listen: false }).fireEvent({}, "test/after");
  const next = await listener.getEvent<AnyRecord>({ full: true, wait: 5 });
  assert.equal(next?.tag, "test/after", "the first event after the run is our marker");
});

Deno.test("proxy --batch-size 1 runs every matched device; --out json prints them all", async () => {
  await using t = await startTestBus();
  await using f = await makeFixture();
  const result = await proxy(f, t.sockDir, ["dev*", "test.ping", "-b", "1", "--out", "json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), Object.fromEntries(DUMMIES.map((id) => [id, true])));
});

Deno.test("proxy targeting: glob, -L, -E, -G and -C select the right devices", async () => {
  await using t = await startTestBus();
  await using f = await makeFixture();
  const cases: [string[], string[]][] = [
    [["dev0[12]"], ["dev01", "dev02"]],
    [["-L", "dev03,dev05,nope"], ["dev03", "dev05"]],
    [["-E", "dev0[45]"], ["dev04", "dev05"]],
    [["-G", "role:core"], ["dev04", "dev05", "dev06"]],
    [["-C", "G@role:edge and not dev01 or L@dev06"], ["dev02", "dev03", "dev06"]],
  ];
  for (const [target, expected] of cases) {
    const result = await proxy(f, t.sockDir, [...target, "test.ping", "--out", "json"]);
    assert.equal(result.code, 0, `${target.join(" ")}: ${result.stderr}`);
    assert.deepEqual(Object.keys(JSON.parse(result.stdout)), expected, target.join(" "));
  }
});

Deno.test("proxy --events without a master bus: one warning, and the run still works", async () => {
  await using f = await makeFixture();
  const result = await proxy(f, join(f.dir, "no-master"), ["dev01", "test.ping", "--events"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "dev01:\n    True\n");
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(
    lines[0],
    /--events: no master bus at .*no-master\/master_event_pull\.ipc: events not sent/,
  );
});

Deno.test("proxy: events, roster and proxy modules from the config file", async () => {
  await using t = await startTestBus();
  await using f = await makeFixture();
  const config = join(f.dir, "master");
  await Deno.writeTextFile(
    config,
    `sock_dir: ${t.sockDir}\nevents: True\nroster_file: ${f.roster}\n` +
      `proxy_module_dirs: [${f.proxyDir}]\n`,
  );
  const listener = await listen(t);
  const result = await runCli(["proxy", "-L", "dev02,fail1", "net.arp", "--config", config]);
  assert.equal(result.code, 1, result.stderr);
  let rets = 0;
  const events = await proxyEvents(listener, (tag) => tag.includes("/ret/") && ++rets === 2);
  const jid = events[0].tag;
  assert.deepEqual(strip(events[0].data), { minions: ["dev02", "fail1"] });
  assert.equal(events[1].data.tgt_type, "list");
  assert.deepEqual(events[1].data.tgt, ["dev02", "fail1"]);
  assert.ok(events.slice(2).every((e) => e.tag.startsWith(`proxy/runner/${jid}/ret/`)));
  assert.match(result.stdout, /^fail1:\n {4}The minion function caused an exception/m);
});

Deno.test("event.send on a device reaches the master as the device's _minion_event (as salt-call)", async () => {
  await using site = await makeSite();
  await using f = await makeFixture();
  await site.master();
  const listener = await site.masterBus();
  const result = await proxy(f, site.masterDir, [
    "-L",
    "dev01,dev02",
    "event.send",
    "myco/done",
    "{ok: True}",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "dev01:\n    True\ndev02:\n    True\n");
  const seen: AnyRecord[] = [];
  while (seen.length < 2) {
    const event = await listener.getEvent<AnyRecord>({ tag: "myco/done", full: true, wait: 10 });
    assert.ok(event, `only ${seen.length} of 2 events`);
    seen.push(strip(event.data));
  }
  assert.deepEqual(seen.sort((a, b) => (a.id < b.id ? -1 : 1)), [
    { cmd: "_minion_event", id: "dev01", tag: "myco/done", data: { ok: true } },
    { cmd: "_minion_event", id: "dev02", tag: "myco/done", data: { ok: true } },
  ]);
});

Deno.test("proxy mistakes: unknown function 1, bad flag or target 2, no match 1, no roster 2", async () => {
  await using f = await makeFixture();
  const sock = join(f.dir, "no-master");
  const unknown = await proxy(f, sock, ["*", "nope.nothing"]);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, "saltbus: 'nope.nothing' is not available.\n");
  assert.equal(unknown.stdout, "");

  const flag = await proxy(f, sock, ["*", "test.ping", "--frobnicate"]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /proxy: .*--frobnicate.*see 'cli.ts proxy --help'/);

  const target = await proxy(f, sock, ["-C", "( dev01", "test.ping"]);
  assert.equal(target.code, 2);
  assert.match(target.stderr, /invalid compound target "\( dev01": expected '\)'/);

  const none = await proxy(f, sock, ["zzz*", "test.ping"]);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, "No devices matched the target in the roster.\n");

  const noRoster = await runCli(["proxy", "*", "test.ping", "--sock-dir", sock]);
  assert.equal(noRoster.code, 2);
  assert.match(noRoster.stderr, /proxy needs a roster: --roster FILE/);

  const badRoster = await runCli(["proxy", "*", "test.ping", "--roster", join(f.dir, "missing")]);
  assert.equal(badRoster.code, 1);
  assert.match(badRoster.stderr, /cannot read roster file .*missing/);
});
