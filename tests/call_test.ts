/**
 * `cli.ts call` (salt-call), `cli.ts minion` and `Caller` as real processes
 * against a real master and minion: the event shapes of spec §4, custom
 * modules, refusals, reconnection, and clear errors.
 */
import assert from "node:assert/strict";
import { resolveConfig } from "../bus/config.ts";
import type { EventClient } from "../bus/event_client.ts";
import { startMaster } from "../master/start_master.ts";
import { getEvent } from "../mod.ts";
import { startBus } from "../broker/start_bus.ts";
import { makeSite } from "./daemons.ts";
import { captureLog, ROOT, runCli } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type AnyRecord = Record<string, any>;

async function nextEvent(listener: EventClient, tag: string, wait = 10) {
  const event = await listener.getEvent<AnyRecord>({ tag, full: true, wait });
  assert.ok(event, `no event matching ${tag} within ${wait} s`);
  return event;
}

Deno.test("call event.send reaches the master bus in the shape of salt-call's (spec §4), and its return follows", async () => {
  await using site = await makeSite();
  await site.master();
  const listener = await site.masterBus();
  const result = await runCli([
    "call",
    "event.send",
    "my/custom/event/tag",
    ...site.minionFlags("minion1"),
  ]);
  assert.equal(result.stderr, "");
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "local:\n    True\n");
  const event = await nextEvent(listener, "my/custom/event/tag");
  assert.deepEqual(Object.keys(event.data).sort(), ["_stamp", "cmd", "data", "id", "tag"]);
  assert.equal(event.data.cmd, "_minion_event");
  assert.equal(event.data.id, "minion1");
  assert.equal(event.data.tag, "my/custom/event/tag");
  const { __pub_jid, __pub_pid, ...pub } = event.data.data;
  assert.deepEqual(pub, { __pub_fun: "event.send", __pub_tgt: "salt-call" });
  assert.match(__pub_jid, /^\d{20}$/);
  assert.equal(typeof __pub_pid, "number");
  const ret = await nextEvent(listener, `salt/job/${__pub_jid}/ret/minion1`);
  const { _stamp, ...load } = ret.data;
  assert.deepEqual(load, {
    cmd: "_return",
    id: "minion1",
    jid: __pub_jid,
    fun: "event.send",
    fun_args: ["my/custom/event/tag"],
    return: true,
    retcode: 0,
    success: true,
  });
});

Deno.test("call event.send with YAML data: the seed's example", async () => {
  await using site = await makeSite();
  await site.master();
  const listener = await site.masterBus();
  const result = await runCli([
    "call",
    "event.send",
    "myco/mytag/success",
    '{success: True, message: "It works!"}',
    "with_env=[HOME]",
    "--out",
    "json",
    ...site.minionFlags("minion1"),
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { local: true });
  const event = await nextEvent(listener, "myco/mytag/success");
  const { __pub_jid: _, __pub_pid: __, ...data } = event.data.data;
  assert.deepEqual(data, {
    environ: { HOME: Deno.env.get("HOME") },
    __pub_fun: "event.send",
    __pub_tgt: "salt-call",
    success: true,
    message: "It works!",
  });
});

Deno.test("call event.fire puts the event on the minion bus only", async () => {
  await using site = await makeSite();
  await site.master();
  await site.minion("minion1");
  await using master = getEvent("master", { sockDir: site.masterDir });
  await using minion = getEvent("minion", { sockDir: site.minionDir, opts: { id: "minion1" } });
  assert.ok(await master.connected());
  assert.ok(await minion.connected());
  master.subscribe("tag"); // kept if it ever arrived while we wait for the return
  const result = await runCli([
    "call",
    "event.fire",
    '{"data": "message to be sent in the event"}',
    "tag",
    ...site.minionFlags("minion1"),
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "local:\n    True\n");
  const event = await nextEvent(minion, "tag");
  assert.equal(event.tag, "tag");
  assert.equal(event.data.data, "message to be sent in the event");
  // The master sees salt-call's return, and nothing tagged "tag".
  const ret = await nextEvent(master, "salt/job/");
  assert.match(ret.tag, /^salt\/job\/\d{20}\/ret\/minion1$/);
  assert.equal(await master.getEvent({ tag: "tag", wait: 0.3 }), null);
});

Deno.test('a custom module cross-calls salt["event.send"]; a broken module is reported and the rest load', async () => {
  await using site = await makeSite();
  await site.master();
  const modules = `${site.workDir}/modules`;
  await Deno.mkdir(modules);
  await Deno.writeTextFile(
    `${modules}/my_custom_module.ts`,
    `import type { ModuleContext } from "${ROOT}mod.ts";
/** Does something, then says so on the bus. */
export function do_something(this: ModuleContext) {
  return this.salt["event.send"]("myco/my_custom_module/finished", {
    finished: true,
    message: "The something is finished!",
  });
}
`,
  );
  await Deno.writeTextFile(`${modules}/broken.ts`, "export function oops( {\n");
  const config = `${site.workDir}/minion.yaml`;
  await Deno.writeTextFile(config, `module_dirs:\n  - ${modules}\n`);
  const listener = await site.masterBus();
  const result = await runCli([
    "call",
    "my_custom_module.do_something",
    "--config",
    config,
    ...site.minionFlags("minion1"),
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "local:\n    True\n");
  assert.match(result.stderr, new RegExp(`failed to load execution module ${modules}/broken.ts`));
  const event = await nextEvent(listener, "myco/my_custom_module/finished");
  assert.deepEqual(event.data.data, { finished: true, message: "The something is finished!" });
  assert.equal(event.data.id, "minion1");
});

Deno.test("Caller from a script sends through the minion daemon to the master", async () => {
  await using site = await makeSite();
  await site.master();
  await site.minion("minion1");
  const listener = await site.masterBus();
  const config = `${site.workDir}/minion.yaml`;
  await Deno.writeTextFile(
    config,
    `id: minion1\nsock_dir: ${site.minionDir}\nmaster_sock_dir: ${site.masterDir}\n`,
  );
  const script = `${site.workDir}/script.ts`;
  await Deno.writeTextFile(
    script,
    `import { Caller } from "${ROOT}mod.ts";
await using caller = new Caller({ config: ${JSON.stringify(config)} });
const ok = await caller.cmd("event.send", "myco/event/success", { success: true, message: "It works!" });
console.log(JSON.stringify({ ok, ping: await caller.cmd("test.ping") }));
`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `--config=${ROOT}deno.json`, script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(JSON.parse(stdout), { ok: true, ping: true });
  const event = await nextEvent(listener, "myco/event/success");
  const { _stamp, ...data } = event.data;
  assert.deepEqual(data, {
    cmd: "_minion_event",
    id: "minion1",
    tag: "myco/event/success",
    data: { success: true, message: "It works!" },
    pretag: null,
  });
});

Deno.test("reserved tags are refused: call event.send salt/job/... fails and nothing reaches the bus", async () => {
  await using site = await makeSite();
  await site.master();
  const listener = await site.masterBus();
  const result = await runCli([
    "call",
    "event.send",
    "salt/job/20240501123456789012/ret/minion1",
    "{return: forged}",
    ...site.minionFlags("minion1"),
  ]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "local:\n    False\n");
  assert.match(result.stderr, /refused: reserved for the master \(salt\/job\/\)/);
  const next = await nextEvent(listener, "");
  assert.match(next.tag, /^salt\/job\/\d{20}\/ret\/minion1$/, "only salt-call's own return");
  assert.equal(next.data.return, false);
  assert.equal(await listener.getEvent({ wait: 0.3 }), null);
});

Deno.test("the minion process reconnects to a restarted master and delivers what it queued, in order", async () => {
  await using site = await makeSite();
  const first = await site.master();
  const minion = await site.minion("minion1", ["--config", await reconConfig(site.workDir)]);
  await minion.stderr.waitFor("connected to the master");
  await first.stop();
  await minion.stderr.waitFor("lost the master");
  // Fire while the master is away: the minion daemon queues the forwarded events.
  await using firer = getEvent("minion", {
    sockDir: site.minionDir,
    opts: { id: "minion1" },
    listen: false,
  });
  for (let n = 0; n < 20; n++) assert.equal(await firer.fireMaster({ n }, "myco/queued"), true);
  await firer.flush();
  // The master comes back in this process: its bus and a listener first, then the
  // minion link, so nothing the minion sends on reconnecting passes unseen.
  const config = resolveConfig("master", { sock_dir: site.masterDir });
  const bus = await startBus({ node: "master", config, log: captureLog().log });
  const listener = bus.getEvent();
  try {
    assert.ok(await listener.connected());
    await using _master = await startMaster({ config, bus, log: captureLog().log });
    for (let n = 0; n < 20; n++) {
      const event = await nextEvent(listener, "myco/queued");
      assert.equal(event.data.data.n, n);
    }
    await minion.stderr.waitFor("sent 20 queued messages");
  } finally {
    await listener.close();
    await bus.close();
  }
});

async function reconConfig(dir: string): Promise<string> {
  const path = `${dir}/recon.yaml`;
  await Deno.writeTextFile(path, "recon_default: 50\nrecon_max: 100\n");
  return path;
}

Deno.test("call and minion: wrong arguments print what was wrong and exit non-zero", async () => {
  const cases: [string[], number, RegExp][] = [
    [["call"], 2, /call needs a function/],
    [["call", "test.ping", "--out", "nope"], 2, /--out must be one of/],
    [["call", "foo.bar", "--local"], 1, /^'foo\.bar' is not available\.\n$/],
    [["call", "test.echo", "--local"], 1, /missing 1 required positional argument: 'text'/],
    [["call", "test.ping", "x=1", "--local"], 1, /unexpected keyword argument 'x'/],
    [["call", "test.ping", "--bogus"], 2, /Unknown option '--bogus'/],
    [["minion", "--id", "m1", "extra"], 2, /minion takes no arguments/],
  ];
  for (const [args, code, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr + result.stdout, message, args.join(" "));
  }
});

Deno.test("call --local runs without a master: test.ping, test.arg, grains.get", async () => {
  const result = await runCli([
    "call",
    "test.arg",
    "a",
    "1",
    "k=v",
    "--local",
    "--out",
    "json",
    "--id",
    "m1",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { local: { args: ["a", 1], kwargs: { k: "v" } } });
  const id = await runCli(["call", "grains.get", "id", "--local", "--id", "m1"]);
  assert.equal(id.stdout, "local:\n    m1\n");
});

Deno.test("call --local event.send, and master_type: disable, fire on the minion bus instead", async () => {
  await using site = await makeSite();
  await site.minion("minion1");
  await using minion = getEvent("minion", { sockDir: site.minionDir, opts: { id: "minion1" } });
  assert.ok(await minion.connected());
  const local = await runCli([
    "call",
    "event.send",
    "myco/local",
    "{a: 1}",
    "--local",
    ...site.minionFlags("minion1"),
  ]);
  assert.equal(local.code, 0, local.stderr);
  const first = await nextEvent(minion, "myco/local");
  assert.equal(first.data.a, 1);
  assert.equal(first.data.__pub_tgt, "salt-call");
  const config = `${site.workDir}/disable.yaml`;
  await Deno.writeTextFile(config, "master_type: disable\n");
  const disabled = await runCli([
    "call",
    "event.send",
    "myco/disabled",
    "--config",
    config,
    ...site.minionFlags("minion1"),
  ]);
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.equal((await nextEvent(minion, "myco/disabled")).data.__pub_fun, "event.send");
  // fire_master in local mode refuses, as Salt.
  const refused = await runCli([
    "call",
    "event.fire_master",
    "{a: 1}",
    "myco/nope",
    "--local",
    ...site.minionFlags("minion1"),
  ]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /Local mode detected\. Event with tag myco\/nope will NOT be sent\./,
  );
});
