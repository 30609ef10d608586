/**
 * Benchmark helper process: SSE clients of the HTTP API. With `--curl` it
 * runs one `curl -sN URL` and reads curl's output; otherwise it opens
 * `--conns` streams with `fetch`. Events are counted by their terminating
 * blank line (`\n\n`), on bytes, without decoding. Prints `{"ready":true}`
 * once every stream has sent its `retry: 400` line, then one result per
 * stream when each has `--expect` events (or nothing arrived for
 * `--idle-ms`).
 *
 * With `--credit PATH` it reports the slowest stream's count to the
 * publisher's credit socket (see credit.ts), so the publisher never runs
 * more than a window ahead of the slowest client.
 *
 * Usage: `deno run --allow-all bench/api_sse_client_proc.ts --url URL --expect N [--conns K] [--curl] [--credit PATH]`
 *
 * @module
 */
import { numFlag, parseFlags, report } from "./common.ts";
import { CreditReporter } from "./credit.ts";

/** What one stream saw. */
export interface SseClientResult {
  /** Events received. */
  events: number;
  /** Events per second from the first event to the last. */
  rate: number;
  /** Seconds from the first event to the last. */
  seconds: number;
  /** Whether the API's `saltbus/api/dropped` notice arrived. */
  dropped: boolean;
}

const NL = 0x0a;
const DROPPED = new TextEncoder().encode("tag: saltbus/api/dropped");

/** Counts `\n\n` pairs across chunks. */
class Counter {
  events = 0;
  first = 0;
  last = 0;
  opened = false;
  dropped = false;
  #prevNl = false;

  push(chunk: Uint8Array): void {
    if (!this.opened) this.opened = true;
    let n = 0;
    let i = this.#prevNl && chunk[0] === NL ? (n++, 1) : 0;
    while ((i = chunk.indexOf(NL, i)) >= 0) {
      if (chunk[i + 1] === NL) {
        n++;
        i += 2;
      } else i++;
    }
    this.#prevNl = chunk[chunk.length - 1] === NL &&
      !(chunk.length >= 2 && chunk[chunk.length - 2] === NL);
    if (n > 0) {
      const now = performance.now();
      if (this.events === 0) this.first = now;
      this.last = now;
      this.events += n;
    }
    if (!this.dropped && chunk.length < 4096 && contains(chunk, DROPPED)) this.dropped = true;
  }

  result(): SseClientResult {
    const seconds = (this.last - this.first) / 1000;
    return {
      events: this.events,
      seconds,
      rate: seconds > 0 ? this.events / seconds : NaN,
      dropped: this.dropped,
    };
  }
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = haystack.indexOf(needle[0]); i >= 0; i = haystack.indexOf(needle[0], i + 1)) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

async function pump(stream: ReadableStream<Uint8Array>, counter: Counter, onChunk: () => void) {
  try {
    for await (const chunk of stream) {
      counter.push(chunk);
      onChunk();
    }
  } catch { /* closed */ }
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const expect = numFlag(flags, "expect", 100_000);
  const idleMs = numFlag(flags, "idle-ms", 5000);
  const useCurl = flags.curl === "true";
  const conns = useCurl ? 1 : numFlag(flags, "conns", 1);
  const credits = flags.credit ? await CreditReporter.connect(flags.credit) : null;
  const counters = Array.from({ length: conns }, () => new Counter());
  let lastProgress = performance.now();
  const progress = () => {
    lastProgress = performance.now();
    if (credits) {
      let min = Infinity;
      for (const c of counters) if (c.events < min) min = c.events;
      credits.update(min);
    }
  };
  let curl: Deno.ChildProcess | null = null;
  const aborts = new AbortController();
  const pumps: Promise<void>[] = [];
  if (useCurl) {
    curl = new Deno.Command("curl", { args: ["-sN", flags.url], stdout: "piped", stderr: "null" })
      .spawn();
    pumps.push(pump(curl.stdout, counters[0], progress));
  } else {
    for (const counter of counters) {
      const res = await fetch(flags.url, { signal: aborts.signal });
      if (res.status !== 200) throw new Error(`GET ${flags.url}: ${res.status}`);
      pumps.push(pump(res.body!, counter, progress));
    }
  }
  while (!counters.every((c) => c.opened)) await new Promise((r) => setTimeout(r, 10));
  report({ ready: true });
  while (true) {
    await new Promise((r) => setTimeout(r, 20));
    if (counters.every((c) => c.events >= expect)) break;
    if (counters.some((c) => c.events > 0) && performance.now() - lastProgress > idleMs) break;
  }
  report({ results: counters.map((c) => c.result()) });
  credits?.close();
  if (curl) {
    curl.kill("SIGTERM");
    await curl.status;
  }
  aborts.abort();
  await Promise.all(pumps);
}
