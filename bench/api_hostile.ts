/**
 * The HTTP API under hostile local load (issue 10), as a standalone script:
 *
 *     deno run -A bench/api_hostile.ts
 *
 * Starts `cli.ts master` with an `api:` block under `ulimit -n 1024`, then:
 *
 * 1. baseline: latency of a legitimate authenticated request (`GET /login`
 *    with `X-Auth-Token`, a new connection each) and the master's RSS;
 * 2. login flood: 50 concurrent clients posting wrong passwords for random
 *    users (and a few chunked 100 MB login bodies) for 15 s, while the
 *    legitimate client goes on; RSS sampled every 250 ms;
 * 3. slowloris: a child process keeps 1,500 half-sent requests open
 *    (reconnecting whenever the API closes one), more than the descriptor
 *    limit allows, for 20 s, while the legitimate client goes on.
 *
 * Prints one figure line per phase and a JSON summary. Takes about a
 * minute; the figures are for comparing runs on one machine, not limits.
 *
 * @module
 */
import { hashPassword } from "../api/auth.ts";
import { readRss } from "./procs.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const mib = (bytes: number) => Math.round(bytes / 1048576 * 10) / 10;

/** One legitimate request on a new connection; resolves its latency in ms, or null on failure. */
async function legit(port: number, token: string, timeoutMs = 5000): Promise<number | null> {
  const started = performance.now();
  let conn: Deno.Conn | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const work = (async () => {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(encoder.encode(
        `GET /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Auth-Token: ${token}\r\nConnection: close\r\n\r\n`,
      ));
      const buf = new Uint8Array(8192);
      let text = "";
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += decoder.decode(buf.subarray(0, n));
      }
      return text.startsWith("HTTP/1.1 200 ");
    })();
    const ok = await Promise.race([
      work,
      new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs)),
    ]);
    return ok ? performance.now() - started : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    try {
      (conn as Deno.Conn | null)?.close();
    } catch { /* closed */ }
  }
}

/** Runs the legitimate client until `signal` aborts; resolves latencies and failures. */
async function legitLoop(port: number, token: string, signal: AbortSignal) {
  const latencies: number[] = [];
  let failed = 0;
  while (!signal.aborted) {
    const ms = await legit(port, token);
    if (ms === null) failed++;
    else latencies.push(ms);
    await sleep(20);
  }
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length + failed,
    failed,
    p50: Math.round(quantile(latencies, 0.5) * 100) / 100,
    p99: Math.round(quantile(latencies, 0.99) * 100) / 100,
    max: Math.round((latencies.at(-1) ?? NaN) * 100) / 100,
  };
}

/** Samples the master's RSS until `signal` aborts; resolves the peak in bytes. */
async function rssPeak(pid: number, signal: AbortSignal): Promise<number> {
  let peak = 0;
  while (!signal.aborted) {
    peak = Math.max(peak, readRss(pid)?.rss ?? 0);
    await sleep(250);
  }
  return peak;
}

async function loginFlood(url: string, signal: AbortSignal) {
  const counts: Record<string, number> = {};
  const worker = async (n: number) => {
    for (let i = 0; !signal.aborted; i++) {
      try {
        const res = await fetch(`${url}login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            username: `user${n}-${i % 7}`,
            password: `guess${i}`,
            eauth: "saltbus",
          }),
          signal,
        });
        await res.body?.cancel();
        counts[res.status] = (counts[res.status] ?? 0) + 1;
      } catch {
        if (!signal.aborted) counts.error = (counts.error ?? 0) + 1;
      }
    }
  };
  const bigBody = async () => {
    // 100 MB announced as chunked: the API must cut it off at login_max_body_size.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 100 * 1048576 || signal.aborted) return controller.close();
        sent += 65536;
        controller.enqueue(new Uint8Array(65536).fill(120));
      },
    });
    try {
      const res = await fetch(`${url}login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal,
      });
      await res.body?.cancel();
      counts[`big ${res.status}`] = (counts[`big ${res.status}`] ?? 0) + 1;
    } catch {
      counts["big closed"] = (counts["big closed"] ?? 0) + 1;
    }
    return sent;
  };
  const bigSent = await Promise.all([
    ...Array.from({ length: 50 }, (_, n) => worker(n).then(() => 0)),
    ...Array.from({ length: 4 }, () => bigBody()),
  ]);
  return { counts, bigBodyMiBSent: mib(bigSent.reduce((a, b) => a + b, 0)) };
}

const SLOWLORIS = `
const [port, target] = Deno.args.map(Number);
let open = 0, opened = 0, closedByServer = 0;
async function one() {
  let conn;
  try { conn = await Deno.connect({ hostname: "127.0.0.1", port }); } catch { await new Promise((r) => setTimeout(r, 100)); return; }
  open++; opened++;
  const enc = new TextEncoder();
  const reading = conn.read(new Uint8Array(1024)).then(() => "closed", () => "closed");
  try {
    await conn.write(enc.encode("GET / HTTP/1.1\\r\\nHost: x\\r\\n"));
    for (;;) {
      const r = await Promise.race([reading, new Promise((r) => setTimeout(() => r("tick"), 1000))]);
      if (r === "closed") { closedByServer++; break; }
      await conn.write(enc.encode("X-a: b\\r\\n"));
    }
  } catch { closedByServer++; }
  try { conn.close(); } catch {}
  open--;
}
async function slot() { for (;;) await one(); }
for (let i = 0; i < target; i++) slot();
setInterval(() => console.log(JSON.stringify({ open, opened, closedByServer })), 1000);
`;

async function main() {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-api-hostile-" });
  const password = await hashPassword("bench pw");
  const file = `${dir}/master.conf`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      sock_dir: `${dir}/master`,
      api: { port: 0 },
      api_token_file: "",
      log_level: "warning",
      external_auth: { saltbus: { bench: { password, perms: [".*"] } } },
    }),
  );
  const master = new Deno.Command("sh", {
    args: [
      "-c",
      `ulimit -n 1024 && exec "$@"`,
      "sh",
      Deno.execPath(),
      "run",
      "--quiet",
      "-A",
      `${ROOT}cli.ts`,
      "master",
      "--config",
      file,
    ],
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const collecting = (async () => {
    for await (const chunk of master.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const summary: Record<string, unknown> = {};
  let slowloris: Deno.ChildProcess | null = null;
  try {
    const deadline = Date.now() + 30_000;
    while (!/API ready on (\S+) /.test(stderr)) {
      if (Date.now() > deadline) throw new Error(`the master did not start:\n${stderr}`);
      await sleep(50);
    }
    const url = /API ready on (\S+) /.exec(stderr)![1];
    const port = Number(new URL(url).port);
    const res = await fetch(`${url}login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "bench", password: "bench pw", eauth: "saltbus" }),
    });
    const token = (await res.json()).return[0].token as string;

    // 1. Baseline.
    {
      const stop = AbortSignal.timeout(5000);
      const [latency, peak] = await Promise.all([
        legitLoop(port, token, stop),
        rssPeak(master.pid, stop),
      ]);
      summary.baseline = { latencyMs: latency, rssMiB: mib(peak) };
      console.log(
        `baseline      legit GET /login p50 ${latency.p50} ms p99 ${latency.p99} ms ` +
          `(${latency.requests} requests, ${latency.failed} failed); RSS ${mib(peak)} MiB`,
      );
    }

    // 2. Login flood.
    {
      const stop = AbortSignal.timeout(15_000);
      const [latency, peak, flood] = await Promise.all([
        legitLoop(port, token, stop),
        rssPeak(master.pid, stop),
        loginFlood(url, stop),
      ]);
      summary.loginFlood = { latencyMs: latency, rssPeakMiB: mib(peak), ...flood };
      console.log(
        `login flood   legit GET /login p50 ${latency.p50} ms p99 ${latency.p99} ms ` +
          `(${latency.requests} requests, ${latency.failed} failed); RSS peak ${mib(peak)} MiB; ` +
          `flood answers ${
            JSON.stringify(flood.counts)
          }; ${flood.bigBodyMiBSent} MiB of big bodies sent`,
      );
    }

    // 3. Slowloris at ulimit -n 1024.
    {
      slowloris = new Deno.Command(Deno.execPath(), {
        args: ["eval", SLOWLORIS, String(port), "1500"],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      let last = "";
      const reading = (async () => {
        for await (const chunk of slowloris.stdout) {
          const lines = decoder.decode(chunk).trim().split("\n");
          last = lines.at(-1) ?? last;
        }
      })();
      await sleep(3000); // let it ramp up
      const stop = AbortSignal.timeout(20_000);
      const [latency, peak] = await Promise.all([
        legitLoop(port, token, stop),
        rssPeak(master.pid, stop),
      ]);
      const attacker = last ? JSON.parse(last) : {};
      slowloris.kill("SIGKILL");
      await slowloris.status;
      await reading.catch(() => {});
      slowloris = null;
      const alive = (await legit(port, token)) !== null;
      summary.slowloris = {
        latencyMs: latency,
        rssPeakMiB: mib(peak),
        attacker,
        masterAliveAfter: alive,
        emfileWarnings: (stderr.match(/cannot accept connections/g) ?? []).length,
        boundWarnings: (stderr.match(/api\.max_connections/g) ?? []).length,
      };
      console.log(
        `slowloris     legit GET /login p50 ${latency.p50} ms p99 ${latency.p99} ms ` +
          `(${latency.requests} requests, ${latency.failed} failed); RSS peak ${mib(peak)} MiB; ` +
          `attacker ${JSON.stringify(attacker)}; master serving after: ${alive}`,
      );
    }
    console.log(JSON.stringify(summary));
  } finally {
    if (slowloris) {
      try {
        slowloris.kill("SIGKILL");
      } catch { /* exited */ }
      await slowloris.status;
    }
    try {
      master.kill("SIGTERM");
    } catch { /* exited */ }
    const status = await master.status;
    await collecting;
    await Deno.remove(dir, { recursive: true });
    if (status.code !== 0) console.error(`master exited ${status.code}:\n${stderr}`);
    const warnings = stderr.split("\n").filter((l) => l.includes("warning")).slice(0, 12);
    if (warnings.length) {
      console.log(`master warnings (first ${warnings.length}):\n${warnings.join("\n")}`);
    }
  }
}

if (import.meta.main) await main();
