/**
 * Burst benchmark (standalone, about a minute): `deno run --allow-all
 * bench/burst.ts [--mb 600] [--limit-mib 256]`.
 *
 * A `cli.ts master` with `ipc_write_buffer` = 256 MiB gets an unpaced burst
 * of 600 MB of 1 KB events (numbered) from one raw publisher, with one raw
 * reader reading as fast as it can and three raw subscribers that do not
 * read until the burst is over. Every subscriber checks its stream: each
 * event it did not get must be counted by the `saltbus/subscriber/missed`
 * notice right before the gap. Prints what each received, how every gap was
 * accounted for, and the broker's RSS (baseline, peak), as JSON.
 *
 * The same file is the helper processes (`--role pub|sub`).
 *
 * @module
 */
import { unpackEvent } from "../bus/event_codec.ts";
import { FrameScanner, type FrameSink } from "../bus/frame.ts";
import { packEventFrame } from "../bus/event_codec.ts";
import { packData } from "../bus/msgpack.ts";
import { DROPPED_TAG, SUBSCRIBER_MISSED_TAG } from "../bus/router.ts";
import { numFlag, parseFlags, readStdinLine, report, sleep, writeAll } from "./common.ts";
import { Proc, readRss, startMaster } from "./procs.ts";

const MISSED = new TextEncoder().encode(SUBSCRIBER_MISSED_TAG);
const DROPPED = new TextEncoder().encode(DROPPED_TAG);

/** What a {@linkcode SeqChecker} found in one stream. */
export interface SeqResult {
  /** Numbered events received. */
  received: number;
  /** Missed notices received. */
  notices: number;
  /** Events the notices counted as missed. */
  missed: number;
  /** Gaps in the numbering that no notice accounted for (must be 0). */
  unaccountedGaps: number;
  /** Events missing in those gaps. */
  unaccountedEvents: number;
  /** Notices whose `delivered_events` did not match what came before (must be 0). */
  badNotices: number;
  /** Events out of order or repeated (must be 0). */
  disorders: number;
  /** The dropped notice arrived (disconnect mode). */
  dropped: boolean;
  /** The highest number seen, -1 for none. */
  last: number;
  /** Other events (not numbered with the prefix, not notices). */
  others: number;
}

/**
 * Checks a stream of events tagged `<prefix><n>` (n = 0, 1, 2, …) without
 * decoding their data: every gap must come right after a missed notice that
 * counts it exactly. Other tags are counted and ignored.
 *
 * @example
 * ```ts
 * import { SeqChecker } from "./burst.ts";
 * const checker = new SeqChecker("burst/");
 * // checker.push(chunk) for each chunk read; checker.result at the end
 * ```
 */
export class SeqChecker implements FrameSink {
  readonly #prefix: Uint8Array;
  readonly #scanner = new FrameScanner({ maxFrameSize: 1 << 26 });
  #next = 0;
  #credit = 0;
  readonly result: SeqResult = {
    received: 0,
    notices: 0,
    missed: 0,
    unaccountedGaps: 0,
    unaccountedEvents: 0,
    badNotices: 0,
    disorders: 0,
    dropped: false,
    last: -1,
    others: 0,
  };

  /** Checks events whose tag starts with `prefix`. */
  constructor(prefix: string) {
    this.#prefix = new TextEncoder().encode(prefix);
  }

  /** Feeds bytes read from the subscriber socket. */
  push(chunk: Uint8Array): void {
    this.#scanner.push(chunk, this);
  }

  /** FrameSink: one frame. */
  frame(
    buf: Uint8Array,
    _s: number,
    _e: number,
    bodyStart: number,
    tagEnd: number,
    bodyEnd: number,
  ) {
    const r = this.result;
    const p = this.#prefix;
    if (tagEnd - bodyStart > p.length && startsWith(buf, bodyStart, p)) {
      let n = 0;
      for (let i = bodyStart + p.length; i < tagEnd; i++) n = n * 10 + buf[i] - 48;
      if (n < this.#next) {
        r.disorders++;
        return;
      }
      const gap = n - this.#next;
      if (gap > 0) {
        if (gap === this.#credit) {
          this.#credit = 0;
        } else {
          r.unaccountedGaps++;
          r.unaccountedEvents += gap - Math.min(gap, this.#credit);
          this.#credit = 0;
        }
      } else if (this.#credit > 0) {
        // A notice counted events that were then delivered: wrong count.
        r.badNotices++;
        this.#credit = 0;
      }
      r.received++;
      r.last = n;
      this.#next = n + 1;
      return;
    }
    if (tagEnd - bodyStart === MISSED.length && startsWith(buf, bodyStart, MISSED)) {
      const data = unpackEvent(buf.slice(bodyStart, bodyEnd)).data as Record<string, number>;
      r.notices++;
      r.missed += data.missed_events;
      this.#credit += data.missed_events;
      // delivered_events counts everything written before, other tags included.
      if (data.delivered_events !== r.received + r.others + r.disorders) {
        r.badNotices++;
      }
      return;
    }
    if (tagEnd - bodyStart === DROPPED.length && startsWith(buf, bodyStart, DROPPED)) {
      r.dropped = true;
      return;
    }
    r.others++;
  }
}

function startsWith(buf: Uint8Array, at: number, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * Events of exactly `size` bytes, tagged `<prefix><n>` with n in 10 digits,
 * pre-encoded in one batch that is renumbered in place.
 *
 * @example
 * ```ts
 * import { NumberedBatch } from "./burst.ts";
 * const batch = new NumberedBatch("burst/", 1000, 65);
 * const bytes = batch.number(650); // frames burst/0000000650 … burst/0000000714
 * ```
 */
export class NumberedBatch {
  readonly batch: Uint8Array;
  readonly frames: number;
  readonly frameSize: number;
  readonly #digitsAt: number;

  /** A batch of `frames` frames of `size` bytes. */
  constructor(prefix: string, size: number, frames: number) {
    const tag = `${prefix}0000000000`;
    const data = (pad: number) => packData({ pad: "p".repeat(pad) });
    let pad = size - packEventFrame(tag, data(0)).length;
    while (packEventFrame(tag, data(pad)).length > size) pad--;
    const frame = packEventFrame(tag, data(pad));
    if (frame.length !== size) throw new Error(`cannot make a ${size}-byte frame`);
    const tagBytes = new TextEncoder().encode(tag);
    const bodyLength = tagBytes.length + 2 + data(pad).length;
    this.frameSize = size;
    this.frames = frames;
    this.batch = new Uint8Array(size * frames);
    for (let i = 0; i < frames; i++) this.batch.set(frame, i * size);
    this.#digitsAt = frame.length - bodyLength + tagBytes.length - 10;
  }

  /** Numbers the batch's frames `first`, `first + 1`, …; returns the batch. */
  number(first: number): Uint8Array {
    for (let i = 0; i < this.frames; i++) {
      let n = first + i;
      const at = i * this.frameSize + this.#digitsAt;
      for (let d = 9; d >= 0; d--) {
        this.batch[at + d] = 48 + (n % 10);
        n = Math.floor(n / 10);
      }
    }
    return this.batch;
  }
}

/**
 * Reads `conn` into `checker` until `last` is seen, the stream ends, or
 * `idleMs` of silence.
 *
 * @example
 * ```ts
 * import { readChecked, SeqChecker } from "./burst.ts";
 * const conn = await Deno.connect({ transport: "unix", path: "/tmp/x/master_event_pub.ipc" });
 * const checker = new SeqChecker("burst/");
 * const { eof } = await readChecked(conn, checker, 599_999, 5000);
 * ```
 */
export async function readChecked(
  conn: Deno.Conn,
  checker: SeqChecker,
  last: number,
  idleMs: number,
): Promise<{ eof: boolean; bytes: number }> {
  const buffer = new Uint8Array(256 * 1024);
  let bytes = 0;
  let eof = false;
  while (checker.result.last < last) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buffer).catch(() => null),
      new Promise<"idle">((resolve) => timer = setTimeout(() => resolve("idle"), idleMs)),
    ]);
    clearTimeout(timer);
    if (n === "idle") break;
    if (n === null) {
      eof = true;
      break;
    }
    bytes += n;
    checker.push(buffer.slice(0, n));
  }
  return { eof, bytes };
}

async function publisherRole(flags: Record<string, string>): Promise<void> {
  const count = numFlag(flags, "count", 600_000);
  const size = numFlag(flags, "size", 1000);
  const batch = new NumberedBatch(flags.prefix ?? "burst/", size, Math.floor(65536 / size));
  const conn = await Deno.connect({ transport: "unix", path: flags.pull });
  report({ ready: true });
  await readStdinLine();
  const start = performance.now();
  let sent = 0;
  while (sent < count) {
    const bytes = batch.number(sent);
    const n = Math.min(batch.frames, count - sent);
    await writeAll(conn, n === batch.frames ? bytes : bytes.subarray(0, n * size));
    sent += n;
  }
  const seconds = (performance.now() - start) / 1000;
  conn.close();
  report({ sent, seconds, rate: sent / seconds, mbPerSecond: sent * size / seconds / 1e6 });
}

async function subscriberRole(flags: Record<string, string>): Promise<void> {
  const conns = await Promise.all(
    Array.from(
      { length: numFlag(flags, "conns", 1) },
      () => Deno.connect({ transport: "unix", path: flags.pub }),
    ),
  );
  report({ ready: true });
  if (flags.stall) await readStdinLine();
  const last = numFlag(flags, "last", 0);
  const results = await Promise.all(conns.map(async (conn) => {
    const checker = new SeqChecker(flags.prefix ?? "burst/");
    const started = performance.now();
    const { eof, bytes } = await readChecked(conn, checker, last, numFlag(flags, "idle-ms", 5000));
    conn.close();
    return {
      ...checker.result,
      eof,
      mb: bytes / 1e6,
      seconds: (performance.now() - started) / 1000,
    };
  }));
  report({ results });
}

async function main(flags: Record<string, string>): Promise<void> {
  const size = 1000;
  const count = Math.round(numFlag(flags, "mb", 600) * 1e6 / size);
  const limit = numFlag(flags, "limit-mib", 256) * 1024 * 1024;
  await using master = await startMaster({ ipc_write_buffer: limit });
  const pid = master.proc.pid;
  const self = new URL(import.meta.url).pathname;
  const common = ["--prefix", "burst/", "--last", `${count - 1}`];
  const reader = new Proc("reader", [self, "--role", "sub", "--pub", master.pub, ...common]);
  const stalled = new Proc("stalled", [
    ...[self, "--role", "sub", "--pub", master.pub, "--conns", "3", "--stall", ...common],
  ], { stdin: true });
  const publisher = new Proc("publisher", [
    ...[self, "--role", "pub", "--pull", master.pull, "--count", `${count}`, "--size", `${size}`],
  ], { stdin: true });
  try {
    await reader.nextReport(15_000);
    await stalled.nextReport(15_000);
    await publisher.nextReport(15_000);
    await sleep(500);
    const baseline = readRss(pid)!.rss;
    let peak = baseline;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        peak = Math.max(peak, readRss(pid)?.rss ?? 0);
        await sleep(20);
      }
    })();
    await publisher.sendLine("go");
    const sent = await publisher.nextReport<{ sent: number; seconds: number; rate: number }>(
      90_000,
    );
    const read = await reader.nextReport<{ results: Record<string, unknown>[] }>(60_000);
    const afterBurst = readRss(pid)!.rss;
    await sleep(1000);
    await stalled.sendLine("go");
    const late = await stalled.nextReport<{ results: Record<string, unknown>[] }>(60_000);
    polling = false;
    await poll;
    const rss = readRss(pid)!;
    const mib = (n: number) => Math.round(n / 1048576 * 10) / 10;
    const logs = master.proc.stderrLines.filter((l) => /warning|error/.test(l));
    console.log(JSON.stringify(
      {
        burst: {
          events: sent.sent,
          mb: sent.sent * size / 1e6,
          seconds: Math.round(sent.seconds * 100) / 100,
          eventsPerSecond: Math.round(sent.rate),
        },
        ipc_write_buffer_mib: mib(limit),
        reader: read.results[0],
        stalled: late.results,
        brokerRssMiB: {
          baseline: mib(baseline),
          peakPolled: mib(peak),
          peakVmHWM: mib(rss.hwm),
          growthAtPeak: mib(Math.max(peak, rss.hwm) - baseline),
          afterBurst: mib(afterBurst),
          end: mib(rss.rss),
        },
        brokerWarnings: logs.length,
        firstWarnings: logs.slice(0, 4),
      },
      null,
      2,
    ));
  } finally {
    await publisher.stop();
    await reader.stop();
    await stalled.stop();
  }
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  if (flags.role === "pub") await publisherRole(flags);
  else if (flags.role === "sub") await subscriberRole(flags);
  else await main(flags);
}
