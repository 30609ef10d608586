import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger, type Logger } from "../bus/log.ts";
import { type BoundListener, dialEndpoint, listenEndpoint } from "./endpoint.ts";
import { lockPathOf, SocketLockedError } from "./sock_lock.ts";
import type { ConnChannel } from "./conn_channel.ts";

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log: createLogger("debug", (level, message) => lines.push(`${level}: ${message}`)),
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `promise`'s value; rejects after `ms` (the timer is always cleared). */
async function within<T>(what: string, promise: Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/** Accepts in the background, answering "hi" on every connection. */
function serveHi(listener: BoundListener): Promise<void> {
  return (async () => {
    for await (const channel of listener.accept()) {
      await channel.write(new TextEncoder().encode("hi")).catch(() => {});
      channel.close();
    }
  })();
}

async function readHi(address: string): Promise<string> {
  const channel: ConnChannel = await dialEndpoint(address);
  try {
    return new TextDecoder().decode((await channel.read()) ?? new Uint8Array());
  } finally {
    channel.close();
  }
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-endpoint-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a Unix listener gets its mode, holds its lock, and close removes its socket and lock files", async () => {
  await withTemp(async (dir) => {
    const path = join(dir, "master_event_pub.ipc");
    const listener = await listenEndpoint(path, { mode: 0o660 });
    const serving = serveHi(listener);
    assert.equal((await Deno.lstat(path)).mode! & 0o777, 0o660);
    assert.ok((await Deno.lstat(lockPathOf(path))).isFile);
    assert.equal(await readHi(path), "hi");
    await listener.close();
    await serving;
    const left = [];
    for await (const entry of Deno.readDir(dir)) left.push(entry.name);
    assert.deepEqual(left, []);
  });
});

Deno.test("a second listener on a path is refused even after the first one's socket file was deleted", async () => {
  await withTemp(async (dir) => {
    const path = join(dir, "master_event_pull.ipc");
    const first = await listenEndpoint(path, { watchIntervalMs: 0 });
    try {
      await Deno.remove(path);
      await assert.rejects(listenEndpoint(path), (err: unknown) => {
        assert.ok(err instanceof SocketLockedError, `got ${err}`);
        assert.ok(err.message.includes(path));
        return true;
      });
    } finally {
      await first.close();
    }
  });
});

Deno.test("close leaves alone a socket file that replaced the listener's own (device and inode differ)", async () => {
  await withTemp(async (dir) => {
    const path = join(dir, "master_event_pub.ipc");
    const { log, lines } = capture();
    const ours = await listenEndpoint(path, { log, watchIntervalMs: 0 });
    // Another process's listener, renamed over ours.
    const foreignTemp = join(dir, "foreign.tmp");
    const foreign = Deno.listen({ transport: "unix", path: foreignTemp });
    await Deno.rename(foreignTemp, path);
    const foreignIno = (await Deno.lstat(path)).ino;
    await ours.close();
    assert.equal((await Deno.lstat(path)).ino, foreignIno);
    assert.ok(lines.some((l) => l.includes(`not removing ${path}`)), lines.join("\n"));
    const conn = await Deno.connect({ transport: "unix", path });
    const accepted = await foreign.accept();
    accepted.close();
    conn.close();
    foreign.close();
  });
});

Deno.test("a removed socket file is re-created within the watch interval, and new clients reach the listener", async () => {
  await withTemp(async (dir) => {
    const path = join(dir, "master_event_pub.ipc");
    const { log, lines } = capture();
    const listener = await listenEndpoint(path, { log, mode: 0o600, watchIntervalMs: 50 });
    const serving = serveHi(listener);
    try {
      const before = (await Deno.lstat(path)).ino;
      await Deno.remove(path);
      await until("the socket file to come back", async () => await exists(path));
      const after = await Deno.lstat(path);
      assert.notEqual(after.ino, before);
      assert.equal(after.mode! & 0o777, 0o600);
      assert.equal(await readHi(path), "hi");
      assert.ok(lines.some((l) => l.includes(`its socket file ${path} was removed`)));
    } finally {
      await listener.close();
      await serving;
    }
    assert.equal(await exists(path), false);
  });
});

Deno.test("a socket file taken over by a live listener is reported, left alone, and taken back when it goes", async () => {
  await withTemp(async (dir) => {
    const path = join(dir, "master_event_pub.ipc");
    const { log, lines } = capture();
    const listener = await listenEndpoint(path, { log, watchIntervalMs: 50 });
    const serving = serveHi(listener);
    try {
      const foreignTemp = join(dir, "foreign.tmp");
      const foreign = Deno.listen({ transport: "unix", path: foreignTemp });
      await Deno.rename(foreignTemp, path);
      const foreignIno = (await Deno.lstat(path)).ino;
      await until(
        "the takeover to be logged",
        () => lines.some((l) => l.startsWith("error:") && l.includes("another process listens")),
      );
      assert.equal((await Deno.lstat(path)).ino, foreignIno);
      await Deno.rename(path, foreignTemp); // Deno's close unlinks the path it bound
      foreign.close();
      await until("the socket file to come back", async () => await exists(path));
      assert.equal(await readHi(path), "hi");
    } finally {
      await listener.close();
      await serving;
    }
  });
});

Deno.test("a TCP listener on port 0 reports the port it got and serves it", async () => {
  const listener = await listenEndpoint("tcp://127.0.0.1:0");
  const serving = serveHi(listener);
  try {
    assert.match(listener.address, /^tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
    assert.equal(await readHi(listener.address), "hi");
  } finally {
    await listener.close();
    await serving;
  }
});

/** A child process under `ulimit -n 64` that listens, then uses up its descriptors. */
const EXHAUST_SCRIPT = `
import { listenEndpoint } from ${JSON.stringify(new URL("./endpoint.ts", import.meta.url).href)};
import { createLogger } from ${JSON.stringify(new URL("../bus/log.ts", import.meta.url).href)};
const log = createLogger("info", (level, message) => console.error(level + ": " + message));
const listener = await listenEndpoint(Deno.args[0], { log });
const serving = (async () => {
  for await (const channel of listener.accept()) {
    await channel.write(new TextEncoder().encode("hi")).catch(() => {});
    channel.close();
  }
})();
// Deno sets up its signal handling lazily and panics if it first does so out of
// descriptors: set it up now.
const onSignal = () => {};
Deno.addSignalListener("SIGUSR2", onSignal);
const hog = [];
try {
  for (;;) hog.push(Deno.openSync("/dev/null"));
} catch (err) {
  console.log("exhausted " + err.code + " " + listener.address);
}
const line = new Uint8Array(64);
await Deno.stdin.read(line); // "free"
for (const file of hog) file.close();
console.log("freed");
await Deno.stdin.read(line); // "stop"
await listener.close();
await serving;
Deno.removeSignalListener("SIGUSR2", onSignal);
`;

async function exhaustionRoundTrip(address: (dir: string) => string): Promise<void> {
  await withTemp(async (dir) => {
    const script = join(dir, "exhaust.ts");
    await Deno.writeTextFile(script, EXHAUST_SCRIPT);
    const child = new Deno.Command("sh", {
      args: [
        "-c",
        `ulimit -n 64; exec "$0" run -A "$1" "$2"`,
        Deno.execPath(),
        script,
        address(dir),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let out = "";
    let err = "";
    const decoder = new TextDecoder();
    const reading = Promise.all([
      (async () => {
        for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
      })(),
      (async () => {
        for await (const chunk of child.stderr) err += decoder.decode(chunk, { stream: true });
      })(),
    ]);
    const stdin = child.stdin.getWriter();
    try {
      await until("the child to run out of descriptors", () => /exhausted/.test(out), 20_000);
      assert.match(out, /exhausted EMFILE /);
      const bound = /exhausted EMFILE (\S+)/.exec(out)![1];
      // Three clients connect while the listener cannot accept: they wait in the backlog.
      const answers = [readHi(bound), readHi(bound), readHi(bound)];
      await until("the accept failure to be logged", () => /Too many open files/.test(err));
      await stdin.write(new TextEncoder().encode("free\n"));
      assert.deepEqual(await within("the waiting clients", Promise.all(answers)), [
        "hi",
        "hi",
        "hi",
      ]);
      // And a client after the recovery.
      assert.equal(await within("a new client", readHi(bound)), "hi");
      await until("the recovery to be logged", () => /accepting on \S+ again after/.test(err));
      assert.equal(err.match(/accept on \S+ failed/g)?.length, 1, err); // logged once
    } finally {
      await stdin.write(new TextEncoder().encode("stop\n")).catch(() => {});
      await stdin.close().catch(() => {});
      const status = await child.status;
      await reading;
      assert.equal(status.code, 0, err);
    }
  });
}

Deno.test("a Unix listener survives running out of file descriptors: waiting clients are served once they free up", async () => {
  await exhaustionRoundTrip((dir) => join(dir, "master_event_pub.ipc"));
});

Deno.test("a TCP listener survives running out of file descriptors: waiting clients are served once they free up", async () => {
  await exhaustionRoundTrip(() => "tcp://127.0.0.1:0");
});
