/**
 * cli.ts as a real process: exact output of state.event, firing, the master
 * daemon's start and clean shutdown, and one clear line for every mistake.
 */
import assert from "node:assert/strict";
import { packEventFrame } from "../bus/event_codec.ts";
import { packData } from "../bus/msgpack.ts";
import { collect, runCli, sleep, spawnCli, startTestBus, type TestBus } from "./harness.ts";

const STAMP = "2024-05-01T12:34:56.789012";

/** Writes one raw frame with a fixed `_stamp` into the bus, so output is byte-exact. */
async function fireRaw(t: TestBus, tag: string, data: Record<string, unknown>): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path: t.bus.paths.pull });
  try {
    await conn.write(packEventFrame(tag, packData(data)));
  } finally {
    conn.close();
  }
}

/** Starts `run state.event …` against `t` and waits until it listens. */
async function startWatcher(t: TestBus, args: string[]) {
  const child = spawnCli([...args, "--sock-dir", t.sockDir, "--log-level", "info"]);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  await stderr.waitFor("watching");
  return { child, stdout, stderr };
}

Deno.test("run state.event prints <tag>\\t<json> with Python separators, key order kept", async () => {
  await using t = await startTestBus();
  const { child, stdout } = await startWatcher(t, ["run", "state.event", "count=2"]);
  await fireRaw(t, "salt/auth", { a: 1, _stamp: STAMP });
  await fireRaw(t, "my/tag", { z: [1, "é"], b: { x: null, y: true }, _stamp: STAMP });
  const status = await child.status;
  await stdout.done;
  assert.equal(status.code, 0);
  assert.equal(
    stdout.text,
    `salt/auth\t{"a": 1, "_stamp": "${STAMP}"}\n` +
      `my/tag\t{"z": [1, "é"], "b": {"x": null, "y": true}, "_stamp": "${STAMP}"}\n`,
  );
});

Deno.test("run state.event pretty=True sorts keys and indents by 4, as §5", async () => {
  await using t = await startTestBus();
  const { child, stdout } = await startWatcher(t, ["run", "state.event", "pretty=True", "count=1"]);
  await fireRaw(t, "salt/auth", { a: 1, _stamp: STAMP });
  assert.equal((await child.status).code, 0);
  await stdout.done;
  assert.equal(stdout.text, `salt/auth\t{\n    "_stamp": "${STAMP}",\n    "a": 1\n}\n`);
});

Deno.test("run state.event count=0 stops after one event and tagmatch filters (glob or regex)", async () => {
  await using t = await startTestBus();
  const glob = await startWatcher(t, [
    "run",
    "state.event",
    "tagmatch=salt/job/*/ret/*",
    "count=0",
  ]);
  const regex = await startWatcher(t, ["run", "state.event", "salt/job/[0-9]+/new", "1"]);
  await fireRaw(t, "salt/job/123/new", { n: 1, _stamp: STAMP });
  await fireRaw(t, "salt/job/123/ret/web1", { n: 2, _stamp: STAMP });
  await fireRaw(t, "salt/job/456/ret/web2", { n: 3, _stamp: STAMP });
  assert.equal((await glob.child.status).code, 0);
  assert.equal((await regex.child.status).code, 0);
  await glob.stdout.done;
  await regex.stdout.done;
  assert.equal(glob.stdout.text, `salt/job/123/ret/web1\t{"n": 2, "_stamp": "${STAMP}"}\n`);
  assert.equal(regex.stdout.text, `salt/job/123/new\t{"n": 1, "_stamp": "${STAMP}"}\n`);
});

Deno.test("watch --json prints one {tag, data} object per line", async () => {
  await using t = await startTestBus();
  const { child, stdout } = await startWatcher(t, ["watch", "my/*", "--json", "--count", "1"]);
  await fireRaw(t, "other", { skip: true });
  await fireRaw(t, "my/tag", { a: 1, _stamp: STAMP });
  assert.equal((await child.status).code, 0);
  await stdout.done;
  assert.deepEqual(JSON.parse(stdout.text), { tag: "my/tag", data: { a: 1, _stamp: STAMP } });
});

Deno.test("fire and run event.send put YAML 1.1 data on the bus", async () => {
  await using t = await startTestBus();
  const ev = t.client();
  assert.equal(await ev.connected(), true);
  const fired = await runCli(["fire", "my/tag", '{"data": 1}', "--sock-dir", t.sockDir]);
  assert.equal(fired.code, 0, fired.stderr);
  const first = await ev.getEvent({ tag: "my/tag", wait: 5, full: true });
  assert.equal(first?.tag, "my/tag");
  assert.equal(first?.data.data, 1);
  assert.match(String(first?.data._stamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);

  const sent = await runCli([
    "run",
    "event.send",
    "myco/mytag/success",
    '{success: True, message: "It works!"}',
    "--sock-dir",
    t.sockDir,
  ]);
  assert.equal(sent.code, 0, sent.stderr);
  const second = await ev.getEvent({ tag: "myco/", wait: 5 });
  assert.equal(second?.success, true);
  assert.equal(second?.message, "It works!");
});

Deno.test("master runs the bus, logs where it listens, and SIGTERM/SIGINT leave no socket files", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const dir = await Deno.makeTempDir();
    const sockDir = `${dir}/run/master`;
    try {
      const child = spawnCli(["master", "--sock-dir", sockDir]);
      const stderr = collect(child.stderr);
      const stdout = collect(child.stdout);
      await stderr.waitFor("master bus ready");
      assert.match(stderr.text, new RegExp(`${sockDir}/master_event_pub\\.ipc`));
      assert.equal((await Deno.stat(sockDir)).mode! & 0o777, 0o700);
      assert.equal((await Deno.stat(`${sockDir}/master_event_pub.ipc`)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(`${sockDir}/master_event_pull.ipc`)).mode! & 0o777, 0o600);

      const fired = await runCli(["fire", "ping", "--sock-dir", sockDir]);
      assert.equal(fired.code, 0, fired.stderr);

      child.kill(signal);
      assert.equal((await child.status).code, 0);
      await Promise.all([stderr.done, stdout.done]);
      // The job cache (`cache/`) stays; no socket or lock file does.
      const left = [...Deno.readDirSync(sockDir)].map((e) => e.name).filter((n) => n !== "cache");
      assert.deepEqual(left, [], `socket files left after ${signal}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("a second master on the same sock_dir fails with the path, the first keeps running", async () => {
  await using t = await startTestBus();
  const second = await runCli(["master", "--sock-dir", t.sockDir]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /already listening on .*master_event_pu(ll|b)\.ipc/);
  assert.equal(second.stderr.trim().split("\n").length, 1, second.stderr);
  const ev = t.client();
  assert.equal(await ev.connected(), true);
  assert.equal(await t.client({ listen: false }).fireEvent({}, "still/alive"), true);
  assert.equal((await ev.getEvent({ tag: "still/", wait: 5 })) !== null, true);
});

Deno.test("user mistakes print one line on stderr and exit non-zero, never a stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.yaml`, "sock_dir: [unclosed\n");
    await Deno.writeTextFile(`${dir}/badvalue.yaml`, "max_event_size: lots\n");
    const cases: [string[], number, RegExp][] = [
      [["frobnicate"], 2, /unknown command 'frobnicate'/],
      [["watch", "--bogus"], 2, /Unknown option '--bogus'/],
      [["fire"], 2, /fire needs a tag/],
      [["fire", "t", "[1, 2]"], 2, /data must be a mapping/],
      [["fire", "t", "{broken: [}"], 2, /YAML|yaml/],
      [["run", "state.event", "count=lots"], 2, /count must be an integer/],
      [["run", "state.event", "colour=red"], 2, /unexpected keyword argument 'colour'/],
      [["run", "nosuch.fun"], 2, /unknown function 'nosuch.fun'/],
      [["master", "--config", `${dir}/missing.yaml`], 1, /cannot read config file .*missing\.yaml/],
      [["master", "--config", `${dir}/bad.yaml`], 1, /bad\.yaml is not valid YAML/],
      [["master", "--config", `${dir}/badvalue.yaml`], 1, /max_event_size in .*badvalue\.yaml/],
      [["fire", "t", "--sock-dir", `${dir}/nobus`], 1, /no master bus listening at .*nobus/],
      [["fire", "a\n\nb", "--sock-dir", `${dir}/nobus`], 2, /contains "\\n\\n"/],
    ];
    for (const [args, code, pattern] of cases) {
      const result = await runCli(args);
      assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, pattern, args.join(" "));
      assert.equal(result.stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}`);
      assert.doesNotMatch(result.stderr, /\bat .*\.ts:\d+/, "no stack trace");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watch against a missing bus says so and exits 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runCli(["watch", "--sock-dir", dir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no master bus listening at .*master_event_pub\.ipc/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--help works for every command", async () => {
  for (const command of ["master", "run", "fire", "watch"]) {
    const result = await runCli([command, "--help"]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, new RegExp(`Usage: cli.ts ${command}`));
  }
  const top = await runCli(["--help"]);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /run state\.event/);
  await sleep(0);
});
