/**
 * Time to recover from file-descriptor exhaustion (issue 10, reproduction 2).
 *
 * ```sh
 * deno run -A bench/fd_exhaustion.ts
 * ```
 *
 * 1. A real `cli.ts master` under `ulimit -n 256`: 400 connections to
 *    `master_event_pub.ipc` exhaust it (its accept loop fails with EMFILE
 *    and backs off); they are held 1 s, then closed. Measured: from closing
 *    them until a subscriber connected after that receives an event fired on
 *    the pull socket. Three rounds on the same master.
 * 2. The listener alone (`listenEndpoint`, Unix and TCP) in a process under
 *    `ulimit -n 64` that uses up its own descriptors for 1 s while clients
 *    wait in the backlog: from freeing them to the first accepted connection,
 *    measured inside that process.
 *
 * Prints one line per figure and a JSON summary. Takes about 10 s.
 *
 * @module
 */
import { join } from "node:path";
import { packEventFrame } from "../bus/event_codec.ts";
import { packData } from "../bus/msgpack.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CONNECTIONS = 400;
const HOLD_MS = 1000;
const ROUNDS = 3;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Reads `conn` until `needle` shows up in what it sent; rejects at `deadline`. */
async function readUntil(conn: Deno.Conn, needle: Uint8Array, deadline: number): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  let seen = new Uint8Array(0);
  const timer = setTimeout(() => conn.close(), Math.max(0, deadline - Date.now()));
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error("subscriber connection ended");
      const joined = new Uint8Array(seen.length + n);
      joined.set(seen);
      joined.set(buffer.subarray(0, n), seen.length);
      seen = joined.slice(Math.max(0, joined.length - 4096));
      if (indexOf(joined, needle) >= 0) return;
    }
  } finally {
    clearTimeout(timer);
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function masterRecovery(): Promise<number[]> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-bench-fd-" });
  const sockDir = join(dir, "master");
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n 256 && exec "$@"`,
      "sh",
      Deno.execPath(),
      "run",
      "-A",
      `${ROOT}cli.ts`,
      "master",
      "--sock-dir",
      sockDir,
      "--log-level",
      "info",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let log = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stderr) log += decoder.decode(chunk, { stream: true });
  })();
  const pub = join(sockDir, "master_event_pub.ipc");
  const pull = join(sockDir, "master_event_pull.ipc");
  const results: number[] = [];
  try {
    await waitFor("the master", () => log.includes("master bus ready"));
    for (let round = 1; round <= ROUNDS; round++) {
      const conns = await Promise.all(
        Array.from({ length: CONNECTIONS }, () => Deno.connect({ transport: "unix", path: pub })),
      );
      await waitFor(
        "the master to run out of descriptors",
        () => (log.match(/accept on \S+master_event_pub\.ipc failed/g)?.length ?? 0) >= round,
      );
      await sleep(HOLD_MS);
      const start = performance.now();
      for (const conn of conns) conn.close();
      const tag = `bench/fd/${round}`;
      const frame = packEventFrame(tag, packData({ round }));
      const subscriber = await Deno.connect({ transport: "unix", path: pub });
      const firer = await Deno.connect({ transport: "unix", path: pull });
      const received = readUntil(subscriber, new TextEncoder().encode(tag), Date.now() + 20_000);
      let done = false;
      received.finally(() => done = true).catch(() => {});
      // Events fired before the subscriber is accepted are not for it (at-most-once): keep firing.
      while (!done) {
        await firer.write(frame);
        await Promise.race([received.catch(() => {}), sleep(5)]);
      }
      await received;
      results.push(performance.now() - start);
      subscriber.close();
      firer.close();
      await sleep(300);
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reading;
    await Deno.remove(dir, { recursive: true });
  }
  return results;
}

const LISTENER_SCRIPT = `
import { listenEndpoint } from ${
  JSON.stringify(new URL("../transport/endpoint.ts", import.meta.url).href)
};
import { silentLogger } from ${JSON.stringify(new URL("../bus/log.ts", import.meta.url).href)};
const listener = await listenEndpoint(Deno.args[0], { log: silentLogger });
let freedAt = 0;
let recovered = Promise.withResolvers();
const serving = (async () => {
  for await (const channel of listener.accept()) {
    if (freedAt > 0) recovered.resolve(performance.now() - freedAt);
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
} catch {
  console.log("exhausted " + listener.address);
}
const line = new Uint8Array(64);
await Deno.stdin.read(line); // clients have waited long enough
freedAt = performance.now();
for (const file of hog) file.close();
console.log("recovered_ms " + (await recovered.promise).toFixed(2));
await listener.close();
await serving;
Deno.removeSignalListener("SIGUSR2", onSignal);
`;

async function listenerRecovery(kind: "unix" | "tcp"): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-bench-fd-" });
  try {
    const script = join(dir, "listener.ts");
    await Deno.writeTextFile(script, LISTENER_SCRIPT);
    const address = kind === "unix" ? join(dir, "x.ipc") : "tcp://127.0.0.1:0";
    const child = new Deno.Command("sh", {
      args: ["-c", `ulimit -n 64 && exec "$0" run -A "$1" "$2"`, Deno.execPath(), script, address],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    let out = "";
    const decoder = new TextDecoder();
    const reading = (async () => {
      for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
    })();
    await waitFor("the listener to run out of descriptors", () => out.includes("exhausted "));
    const bound = /exhausted (\S+)/.exec(out)![1];
    const endpoint = bound.startsWith("tcp://")
      ? { hostname: "127.0.0.1", port: Number(bound.split(":").pop()) }
      : { transport: "unix" as const, path: bound };
    const clients = await Promise.all(
      Array.from({ length: 3 }, () => Deno.connect(endpoint as Deno.ConnectOptions)),
    );
    await sleep(HOLD_MS);
    const stdin = child.stdin.getWriter();
    await stdin.write(new TextEncoder().encode("go\n"));
    await waitFor("the recovery", () => out.includes("recovered_ms "));
    await stdin.close();
    for (const client of clients) client.close();
    await child.status;
    await reading;
    return Number(/recovered_ms (\S+)/.exec(out)![1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const master = await masterRecovery();
for (const [i, ms] of master.entries()) {
  console.log(
    `master (ulimit -n 256, ${CONNECTIONS} pub connections held ${HOLD_MS} ms), round ${i + 1}: ` +
      `a new subscriber gets events ${ms.toFixed(1)} ms after the connections close`,
  );
}
const unix = await listenerRecovery("unix");
console.log(
  `Unix listener (ulimit -n 64): first accept ${unix.toFixed(1)} ms after descriptors free up`,
);
const tcp = await listenerRecovery("tcp");
console.log(
  `TCP listener (ulimit -n 64): first accept ${tcp.toFixed(1)} ms after descriptors free up`,
);
console.log(JSON.stringify({
  master_recovery_ms: master.map((ms) => Math.round(ms * 10) / 10),
  master_recovery_median_ms: Math.round(median(master) * 10) / 10,
  unix_listener_recovery_ms: unix,
  tcp_listener_recovery_ms: tcp,
}));
