/**
 * The master's listeners against hostile local conditions, with real
 * processes: running out of file descriptors (issue 10, reproduction 2),
 * socket files deleted or replaced under a running master, and a second
 * master on the same sock_dir (reproduction 9).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { getEvent } from "../mod.ts";
import { startBus } from "../broker/start_bus.ts";
import { silentLogger } from "../bus/log.ts";
import { type Daemon, startDaemon } from "./daemons.ts";
import { runCli, startTestBus } from "./harness.ts";

/** A `cli.ts master` process on `sockDir`, optionally under `ulimit -n`. */
function startMaster(sockDir: string, options: { ulimit?: number } = {}): Promise<Daemon> {
  return startDaemon(["master", "--sock-dir", sockDir], "master bus ready", options);
}

async function withDir(fn: (sockDir: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "saltbus-recovery-" });
  try {
    await fn(join(root, "master"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A new subscriber on the master bus receives what `cli.ts fire` sends. */
async function assertFireReachesNewSubscriber(sockDir: string, tag: string): Promise<void> {
  await using listener = getEvent("master", { sockDir });
  assert.equal(await listener.connected(5), true, "a new subscriber connects");
  const fired = await runCli(["fire", "--sock-dir", sockDir, tag, '{"n": 1}']);
  assert.equal(fired.code, 0, fired.stderr);
  const got = await listener.getEvent({ tag, wait: 10 });
  assert.deepEqual((got as Record<string, unknown> | null)?.n, 1, `no ${tag} event received`);
}

/** The entries of `dir` but the job cache's `cache/` directory, which stays by design. */
async function names(dir: string): Promise<string[]> {
  const out = [];
  for await (const entry of Deno.readDir(dir)) if (entry.name !== "cache") out.push(entry.name);
  return out.sort();
}

Deno.test("a master that ran out of descriptors (ulimit -n 256, 400 connections to master_event_pub.ipc) serves a new subscriber what cli.ts fire sends", async () => {
  await withDir(async (sockDir) => {
    const master = await startMaster(sockDir, { ulimit: 256 });
    try {
      const pub = join(sockDir, "master_event_pub.ipc");
      const conns = await Promise.all(
        Array.from({ length: 400 }, () => Deno.connect({ transport: "unix", path: pub })),
      );
      await master.stderr.waitFor(/accept on \S+master_event_pub\.ipc failed: Too many open files/);
      for (const conn of conns) conn.close();
      await assertFireReachesNewSubscriber(sockDir, "after/exhaustion");
      await master.stderr.waitFor(/accepting on \S+master_event_pub\.ipc again after \d+ ms/);
      const failures = master.stderr.text.match(/accept on \S+master_event_pub\.ipc failed/g);
      assert.equal(failures?.length, 1, master.stderr.text); // logged once, not per retry
      assert.doesNotMatch(master.stderr.text, /listener stopped/);
    } finally {
      assert.equal(await master.stop(), 0, master.stderr.text);
    }
  });
});

Deno.test("a master whose socket files are removed re-creates them within seconds, and cli.ts fire reaches a new subscriber", async () => {
  await withDir(async (sockDir) => {
    const master = await startMaster(sockDir);
    try {
      const files = ["master_event_pub.ipc", "master_event_pull.ipc", "master_minion_link.ipc"];
      const before = await Promise.all(files.map((f) => Deno.lstat(join(sockDir, f))));
      for (const file of files) await Deno.remove(join(sockDir, file));
      await until("the socket files to be re-created", async () => {
        const now = await Promise.all(
          files.map((f) => Deno.lstat(join(sockDir, f)).catch(() => null)),
        );
        return now.every((info, i) => info?.isSocket && info.ino !== before[i].ino);
      });
      // The log line can follow the new file by a moment (it is written after the re-bind).
      for (const file of files) {
        await master.stderr.waitFor(new RegExp(`its socket file \\S+${file} was removed`));
      }
      await assertFireReachesNewSubscriber(sockDir, "after/rm");
      const call = await runCli(["run", "manage.up", "--sock-dir", sockDir]);
      assert.equal(call.code, 0, `the minion link answers again: ${call.stderr}`);
    } finally {
      assert.equal(await master.stop(), 0, master.stderr.text);
    }
  });
});

Deno.test("a second master on the same sock_dir is refused even after the first one's socket files were deleted", async () => {
  await withDir(async (sockDir) => {
    const first = await startMaster(sockDir);
    try {
      for (const file of ["master_event_pub.ipc", "master_event_pull.ipc"]) {
        await Deno.remove(join(sockDir, file));
      }
      const second = await runCli(["master", "--sock-dir", sockDir]);
      assert.equal(second.code, 1, second.stderr);
      assert.match(
        second.stderr,
        new RegExp(
          `already listening on ${join(sockDir, "master_event_pull.ipc")}: it holds the lock ` +
            `.*even if the socket file is gone`,
        ),
      );
      // The first one takes its paths back and is the only master there.
      await assertFireReachesNewSubscriber(sockDir, "first/only");
    } finally {
      assert.equal(await first.stop(), 0, first.stderr.text);
    }
    assert.deepEqual(await names(sockDir), []);
  });
});

Deno.test("SIGTERM removes only the socket files the master created: one that replaced its own is left in place", async () => {
  await withDir(async (sockDir) => {
    const master = await startMaster(sockDir);
    const pub = join(sockDir, "master_event_pub.ipc");
    // Another process's live socket, renamed over the master's pub socket.
    const temp = join(sockDir, "foreign.tmp");
    const foreign = Deno.listen({ transport: "unix", path: temp });
    try {
      await Deno.rename(temp, pub);
      const ino = (await Deno.lstat(pub)).ino;
      await master.stderr.waitFor(/master_event_pub\.ipc is no longer this process's socket/);
      assert.equal(await master.stop(), 0, master.stderr.text);
      assert.equal((await Deno.lstat(pub)).ino, ino, "the foreign socket file is still there");
      assert.match(master.stderr.text, /not removing \S+master_event_pub\.ipc/);
      assert.deepEqual(await names(sockDir), ["master_event_pub.ipc"]);
      const conn = await Deno.connect({ transport: "unix", path: pub });
      (await foreign.accept()).close();
      conn.close();
    } finally {
      await master.stop();
      await Deno.rename(pub, temp).catch(() => {}); // Deno's close unlinks the path it bound
      foreign.close();
    }
  });
});

Deno.test("a broker whose listener stops is restarted by its supervisor, and clients reach the new one", async () => {
  await using t = await startTestBus();
  t.bus.failListenerForTesting("pub");
  await until("the broker to be restarted", () => t.bus.restarts === 1);
  await t.bus.ready();
  assert.ok(t.logs.some((l) => /broker listener \S+master_event_pub\.ipc failed/.test(l)));
  const listener = t.client();
  assert.equal(await listener.connected(5), true);
  await t.client({ listen: false }).fireEvent({ ok: 1 }, "after/restart");
  assert.deepEqual((await listener.getEvent({ tag: "after/restart", wait: 5 }))?.ok, 1);
  // The restarted broker still holds the paths: a second bus is refused.
  await assert.rejects(startBus({ sockDir: t.sockDir, log: silentLogger }), {
    name: "SocketLockedError",
  });
});
