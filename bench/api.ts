/**
 * Benchmark scenarios of the HTTP API (`deno task bench --only api-sse-1,
 * api-sse-100,api-browser`). Each starts `cli.ts master` with an `api:`
 * block (the API on the broker's in-process ports, as deployed), logs in,
 * and measures what reaches the clients:
 *
 * - `api-sse-1`: events/s through `/events` to one `curl -N` client;
 * - `api-sse-100`: events/s to each of 100 concurrent SSE clients;
 * - `api-browser`: time for a burst of 10k events to appear in the viewer.
 *
 * The publisher is paced by credits from the slowest client (see
 * credit.ts), as in the broker scenarios: unpaced, it would overrun any
 * client, which the API then drops by design.
 *
 * @module
 */
import { hashPassword } from "../api/auth.ts";
import { frameBatch, sampleFrame, writeAll } from "./common.ts";
import { type Master, Proc, startMaster } from "./procs.ts";
import type { Scenario } from "./scenario.ts";
import type { SseClientResult } from "./api_sse_client_proc.ts";
import { launchBrowser } from "../tests/api_harness.ts";

const READY_MS = 15_000;

/** A master with the API on port 0 (and `extra` config), logged in. */
export async function startApiMaster(
  extra: Record<string, unknown> = {},
): Promise<{ master: Master; url: string; token: string }> {
  const password = await hashPassword("bench", { iterations: 1000 });
  const master = await startMaster({
    api: { port: 0 },
    api_token_file: "",
    api_keepalive: 0,
    external_auth: { saltbus: { bench: { password, perms: [".*", "@runner", "@wheel"] } } },
    ...extra,
  });
  await master.proc.waitStderr("API ready on", READY_MS);
  const line = master.proc.stderrLines.find((l) => l.includes("API ready on"))!;
  const url = /API ready on (\S+) /.exec(line)![1];
  const res = await fetch(`${url}login`, {
    method: "POST",
    body: new URLSearchParams({ username: "bench", password: "bench", eauth: "saltbus" }),
  });
  const token = (await res.json()).return[0].token;
  return { master, url, token };
}

/** Publishes `count` sample events paced by the clients' credits; resolves the client results. */
async function sseRun(conns: number, count: number, window: number, curl: boolean) {
  const { master, url, token } = await startApiMaster();
  await using _ = master;
  const credit = `${master.sockDir}/../credit.sock`;
  const publisher = Proc.bench("raw_publisher_proc.ts", [
    ...["--pull", master.pull, "--count", `${count}`, "--credit", credit],
    ...["--subs", "1", "--window", `${window}`],
  ]);
  await publisher.nextReport(READY_MS);
  const clients = Proc.bench("api_sse_client_proc.ts", [
    ...["--url", `${url}events?token=${token}`, "--expect", `${count}`, "--credit", credit],
    ...(curl ? ["--curl"] : ["--conns", `${conns}`]),
  ]);
  await clients.nextReport(READY_MS);
  const sent = await publisher.nextReport<{ rate: number }>(120_000);
  const { results } = await clients.nextReport<{ results: SseClientResult[] }>(120_000);
  await publisher.stop();
  await clients.stop();
  return { sent, results, apiLog: master.proc.stderrLines };
}

function apiWarnings(lines: string[], notes: string[]): void {
  for (const line of lines) if (/warning|error/.test(line)) notes.push(`master: ${line}`);
}

/** The API scenarios, for run.ts. */
export const API_SCENARIOS: Scenario[] = [
  {
    name: "api-sse-1",
    title: "HTTP API: /events to one `curl -N` client (master with api:, raw publisher)",
    timeoutMs: 90_000,
    async run(add, notes) {
      const count = 1_000_000;
      const { results, apiLog } = await sseRun(1, count, 20_000, true);
      const r = results[0];
      add({
        name: "events/s received by curl",
        value: r.rate,
        unit: "events/s",
        target: "≥ 200k",
        ok: r.rate >= 200_000 && r.events === count,
      });
      if (r.events !== count || r.dropped) {
        notes.push(`curl got ${r.events} of ${count} events; dropped notice: ${r.dropped}`);
      }
      apiWarnings(apiLog, notes);
    },
  },
  {
    name: "api-sse-100",
    title: "HTTP API: /events to 100 concurrent SSE clients (fetch, one process)",
    timeoutMs: 120_000,
    async run(add, notes) {
      const count = 100_000;
      const { results, apiLog } = await sseRun(100, count, 5_000, false);
      const rates = results.map((r) => r.rate).sort((a, b) => a - b);
      const complete = results.every((r) => r.events === count);
      add({
        name: "per client, slowest of 100",
        value: rates[0],
        unit: "events/s",
        target: "≥ 10k",
        ok: rates[0] >= 10_000 && complete,
      });
      add({ name: "per client, median", value: rates[50], unit: "events/s" });
      add({ name: "delivered in total (100 × slowest)", value: rates[0] * 100, unit: "events/s" });
      if (!complete) {
        const short = results.filter((r) => r.events !== count);
        notes.push(
          `${short.length} clients short: ${short.slice(0, 5).map((r) => r.events).join(", ")}…`,
        );
      }
      apiWarnings(apiLog, notes);
    },
  },
  {
    name: "api-browser",
    title: "HTTP API: a burst of 10k events until all are shown in the viewer (headless Chromium)",
    timeoutMs: 90_000,
    async run(add, notes) {
      const { master, url, token } = await startApiMaster();
      await using _ = master;
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage({ bypassCSP: true });
        await page.goto(`${url}?token=${token}`);
        await page.waitForSelector("#status.live");
        const count = 10_000;
        const { batch, frames } = frameBatch(sampleFrame(), 64 * 1024);
        const frameSize = batch.length / frames;
        const conn = await Deno.connect({ transport: "unix", path: master.pull });
        const t0 = performance.now();
        for (let sent = 0; sent < count; sent += frames) {
          const n = Math.min(frames, count - sent);
          await writeAll(conn, batch.subarray(0, n * frameSize));
        }
        conn.close();
        await page.waitForFunction(
          `Number(document.getElementById("events").dataset.count) >= ${count} &&
            document.querySelector("#events .ev .id")?.textContent === "#" + state.lastId`,
          undefined,
          { timeout: 60_000, polling: "raf" },
        );
        const ms = performance.now() - t0;
        add({ name: "10k-event burst until all shown", value: ms, unit: "ms" });
        const t1 = performance.now();
        await page.click("#pause");
        await page.click("#pause");
        add({
          name: "then a click (pause, resume) with 10k events kept",
          value: performance.now() - t1,
          unit: "ms",
        });
        notes.push(`frames of ${frameSize} bytes; the page keeps 10k events`);
      } finally {
        await browser.close();
      }
    },
  },
];
