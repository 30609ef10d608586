import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireSocketLock, lockPathOf, SocketLockedError } from "./sock_lock.ts";
import { UnsafePathError } from "./private_path.ts";
import { createLogger } from "../bus/log.ts";

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-lock-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a socket's lock is exclusive: a second taker is refused with the holder's pid and the path", async () => {
  await withTemp(async (dir) => {
    const socket = join(dir, "master_event_pull.ipc");
    const lock = await acquireSocketLock(socket);
    try {
      assert.equal(lock.path, lockPathOf(socket));
      assert.equal((await Deno.readTextFile(lock.path)).trim(), String(Deno.pid));
      await assert.rejects(acquireSocketLock(socket), (err: unknown) => {
        assert.ok(err instanceof SocketLockedError, `got ${err}`);
        assert.equal(err.path, socket);
        assert.equal(err.pid, Deno.pid);
        assert.ok(err.message.includes(socket), err.message);
        return true;
      });
    } finally {
      await lock.release();
    }
  });
});

Deno.test("a released lock's file is removed and the lock can be taken again", async () => {
  await withTemp(async (dir) => {
    const socket = join(dir, "x.ipc");
    const first = await acquireSocketLock(socket);
    await first.release();
    await first.release(); // idempotent
    await assert.rejects(Deno.lstat(lockPathOf(socket)), Deno.errors.NotFound);
    const second = await acquireSocketLock(socket);
    await second.release();
  });
});

Deno.test("a release never removes a lock file that another holder has since taken", async () => {
  await withTemp(async (dir) => {
    const socket = join(dir, "x.ipc");
    const first = await acquireSocketLock(socket, { watchIntervalMs: 0 });
    // Someone removes the lock file and a second bus starts before the first one
    // notices: it gets a lock on a new file. The first one's release leaves that alone.
    await Deno.remove(lockPathOf(socket));
    const second = await acquireSocketLock(socket, { watchIntervalMs: 0 });
    await first.release();
    const info = await Deno.lstat(lockPathOf(socket));
    assert.ok(info.isFile);
    await assert.rejects(acquireSocketLock(socket), SocketLockedError);
    await second.release();
  });
});

Deno.test("a holder whose lock file is removed re-creates and locks it again, so a later second taker is still refused", async () => {
  await withTemp(async (dir) => {
    const socket = join(dir, "x.ipc");
    const lines: string[] = [];
    const log = createLogger("debug", (level, message) => lines.push(`${level}: ${message}`));
    const lock = await acquireSocketLock(socket, { log, watchIntervalMs: 20 });
    try {
      const before = (await Deno.lstat(lock.path)).ino;
      await Deno.remove(lock.path);
      const deadline = Date.now() + 5000;
      const relocked = async () => {
        const info = await Deno.lstat(lock.path).catch(() => null);
        if (info === null || info.ino === before) return false;
        return (await Deno.readTextFile(lock.path)).trim() === String(Deno.pid);
      };
      while (!(await relocked())) {
        if (Date.now() > deadline) throw new Error("the lock file was not re-created");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await assert.rejects(acquireSocketLock(socket, { watchIntervalMs: 0 }), SocketLockedError);
      assert.ok(lines.some((l) => l.includes("was removed; re-created and locked it again")));
    } finally {
      await lock.release();
    }
  });
});

Deno.test("a lock is released when its holder process dies, however it dies", async () => {
  await withTemp(async (dir) => {
    const socket = join(dir, "x.ipc");
    const script = join(dir, "holder.ts");
    await Deno.writeTextFile(
      script,
      `import { acquireSocketLock } from ${
        JSON.stringify(new URL("./sock_lock.ts", import.meta.url).href)
      };
await acquireSocketLock(${JSON.stringify(socket)});
console.log("locked");
setInterval(() => {}, 1000);
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /locked/);
    await assert.rejects(acquireSocketLock(socket), SocketLockedError);
    child.kill("SIGKILL");
    await child.status;
    reader.releaseLock();
    await child.stdout.cancel();
    const lock = await acquireSocketLock(socket); // the kernel dropped the dead holder's lock
    await lock.release();
  });
});

Deno.test({
  name: "a lock file another uid owns is refused",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    await withTemp(async (dir) => {
      const socket = join(dir, "x.ipc");
      await Deno.writeTextFile(lockPathOf(socket), "");
      await Deno.chown(lockPathOf(socket), 4242, 4242);
      await assert.rejects(acquireSocketLock(socket), UnsafePathError);
    });
  },
});
