/**
 * saltbus as Salt users script it: by path from outside the checkout, with
 * clients that are never closed, Salt's default minion id, and missing
 * permissions that name their flag. Real processes throughout.
 */
import assert from "node:assert/strict";
import { startBus } from "../broker/start_bus.ts";
import { getEvent } from "../transport/get_event.ts";
import { captureLog, collect, ROOT, runCli, sleep, spawnCli } from "./harness.ts";

const HOST = Deno.hostname();

/** Runs a script file with `deno run <flags>`; kills it after `limitMs`. */
async function runScript(
  path: string,
  flags: string[],
  env: Record<string, string>,
  limitMs = 20_000,
): Promise<{ code: number; stdout: string; stderr: string; killed: boolean }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...flags, path],
    cwd: path.replace(/\/[^/]*$/, ""),
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, limitMs);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
    killed,
  };
}

Deno.test("a script outside the checkout imports mod.ts by path, never closes its Caller, getEvent or LocalClient clients, and exits when done", async () => {
  // XDG_RUNTIME_DIR gives the master and the minion their default sock_dirs
  // inside this test's temp dir; the minion's id is the host name, as Salt's.
  const root = await Deno.makeTempDir({ prefix: "saltbus-script-" });
  const env = { XDG_RUNTIME_DIR: root };
  const master = spawnCli(["master"], { env });
  const masterErr = collect(master.stderr);
  const minion = spawnCli(["minion"], { env });
  const minionErr = collect(minion.stderr);
  try {
    await masterErr.waitFor("master bus ready");
    await minionErr.waitFor(`minion ${HOST} ready`);
    await masterErr.waitFor(`minion ${HOST} connected`);
    const listener = getEvent("master", { sockDir: `${root}/saltbus/master` });
    try {
      assert.equal(await listener.connected(), true);
      const elsewhere = `${root}/elsewhere`;
      await Deno.mkdir(elsewhere);
      const script = `${elsewhere}/script.ts`;
      await Deno.writeTextFile(
        script,
        `import { Caller, getEvent, LocalClient } from ${JSON.stringify(`${ROOT}mod.ts`)};
const caller = new Caller();
const sent = await caller.cmd("event.send", "myco/script/caller", { success: true });
const reader = getEvent("master");
const connected = await reader.connected();
await new Promise((resolve) => setTimeout(resolve, 50)); // the broker accepts the subscriber
const firer = getEvent("master", { listen: false });
const fired = await firer.fireEvent({ n: 1 }, "myco/script/fired");
const read = await reader.getEvent({ tag: "myco/script/fired", wait: 5 });
const client = new LocalClient();
const ret = await client.cmd("*", "test.ping");
console.log(JSON.stringify({ sent, fired, connected, read: read?.n, ret }));
`,
      );
      const started = Date.now();
      const result = await runScript(script, ["-A"], env);
      assert.equal(result.killed, false, `the script did not exit:\n${result.stderr}`);
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, /not a dependency|--config/);
      assert.deepEqual(JSON.parse(result.stdout), {
        sent: true,
        fired: true,
        connected: true,
        read: 1,
        ret: { [HOST]: true },
      });
      console.log(`script ran and exited in ${Date.now() - started} ms`);
      const caller = await listener.getEvent({ tag: "myco/script/caller", wait: 5 });
      assert.equal(caller?.id, HOST);
      assert.equal(caller?.cmd, "_minion_event");
    } finally {
      await listener.close();
    }
  } finally {
    for (const child of [minion, master]) {
      child.kill("SIGTERM");
      await child.stdout.cancel();
      await child.status;
    }
    await Promise.all([masterErr.done, minionErr.done]);
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("call event.send without --id reaches the master bus as _minion_event from the host name", async () => {
  const sockDir = await Deno.makeTempDir();
  const master = spawnCli(["master", "--sock-dir", sockDir]);
  const stderr = collect(master.stderr);
  try {
    await stderr.waitFor("master bus ready");
    await using listener = getEvent("master", { sockDir });
    assert.equal(await listener.connected(), true);
    await sleep(50);
    const result = await runCli([
      "call",
      "event.send",
      "myco/mytag/success",
      '{success: True, message: "It works!"}',
      "--master-sock-dir",
      sockDir,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /local:\s+True/);
    const event = await listener.getEvent({ tag: "myco/mytag/success", wait: 5 });
    assert.equal(event?.cmd, "_minion_event");
    assert.equal(event?.id, HOST);
    const { success, message, __pub_tgt } = event?.data as Record<string, unknown>;
    assert.deepEqual({ success, message, __pub_tgt }, {
      success: true,
      message: "It works!",
      __pub_tgt: "salt-call",
    });
  } finally {
    master.kill("SIGTERM");
    await master.stdout.cancel();
    await master.status;
    await stderr.done;
    await Deno.remove(sockDir, { recursive: true });
  }
});

Deno.test("fire --node minion without --id fires on the bus of the minion named after the host", async () => {
  const sockDir = await Deno.makeTempDir();
  const { log } = captureLog();
  const bus = await startBus({ node: "minion", sockDir, config: { id: HOST }, log });
  const listener = bus.getEvent();
  try {
    assert.equal(await listener.connected(), true);
    await sleep(20);
    const result = await runCli([
      "fire",
      "my/minion/tag",
      "{a: 1}",
      "--node",
      "minion",
      "--sock-dir",
      sockDir,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const got = await listener.getEvent({ tag: "my/minion/tag", wait: 5 });
    assert.equal(got?.a, 1);
  } finally {
    await listener.close();
    await bus.close();
    await Deno.remove(sockDir, { recursive: true });
  }
});

Deno.test("a missing permission is named with its flag: never a YAML error, a wrong path or a silent false", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The CLI without --allow-env: the first thing that needs it says so.
    const cli = await runScript(`${ROOT}cli.ts`, ["--allow-read", "--allow-write"], {}, 20_000);
    assert.equal(cli.code, 2, cli.stderr); // usage, no command: still no permission problem
    const fire = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-write",
        `${ROOT}cli.ts`,
        "fire",
        "a/b",
        "{x: 1}",
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    });
    const out = await fire.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, stderr);
    assert.match(stderr, /--allow-env/);
    assert.doesNotMatch(stderr, /not valid YAML/);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);

    // watch without --allow-env: the default sock_dir cannot be known, so it is not guessed.
    const watch = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-write",
        "--allow-sys",
        `${ROOT}cli.ts`,
        "watch",
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const watchErr = new TextDecoder().decode(watch.stderr);
    assert.equal(watch.code, 1, watchErr);
    assert.match(watchErr, /needs --allow-env: .*XDG_RUNTIME_DIR/);

    // The library throws PermissionError naming the flag instead of resolving false.
    const bus = await startBus({ sockDir: dir, log: captureLog().log });
    try {
      const script = `${dir}/fire.ts`;
      await Deno.writeTextFile(
        script,
        `import { getEvent, PermissionError } from ${JSON.stringify(`${ROOT}mod.ts`)};
const ev = getEvent("master", { sockDir: ${JSON.stringify(dir)}, listen: false });
try {
  console.log(JSON.stringify({ sent: await ev.fireEvent({ a: 1 }, "x/y") }));
} catch (err) {
  console.log(JSON.stringify({ name: (err as Error).name, flag: (err as PermissionError).flag, permission: err instanceof PermissionError }));
}
`,
      );
      const lib = await runScript(script, [`--allow-read`], {});
      assert.equal(lib.code, 0, lib.stderr);
      assert.deepEqual(JSON.parse(lib.stdout), {
        name: "PermissionError",
        flag: "--allow-write",
        permission: true,
      });
    } finally {
      await bus.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
