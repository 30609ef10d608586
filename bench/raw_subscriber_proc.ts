/**
 * Benchmark helper process: raw subscribers. Opens `--conns` connections to a
 * bus's pub socket, prints `{"ready":true}` once all are connected, then
 * counts frames on each with `FrameScanner` (no msgpack decoding) until it
 * has `--expect` frames, the stream ends, or nothing arrives for `--idle-ms`
 * after the first frame. Prints one JSON line with one result per
 * connection: frames, rate from first to last frame, whether the broker's
 * dropped-subscriber notice arrived and whether the stream ended (EOF).
 *
 * With `--credit PATH`, each connection reports its progress to the
 * publisher's credit socket (see credit.ts).
 *
 * With `--stall`, connections do not read until a line arrives on stdin (a
 * slow consumer); they then read until EOF or `--idle-ms` of silence.
 *
 * Usage: `deno run --allow-all bench/raw_subscriber_proc.ts --pub PATH --expect N [--conns K]`
 *
 * @module
 */
import { FrameScanner, type FrameSink } from "../bus/frame.ts";
import { DROPPED_TAG } from "../bus/router.ts";
import { numFlag, parseFlags, readStdinLine, report } from "./common.ts";
import { CreditReporter } from "./credit.ts";

const READ_SIZE = 64 * 1024;
const DROPPED_BYTES = new TextEncoder().encode(DROPPED_TAG);

/** What one subscriber connection saw. */
export interface SubscriberResult {
  /** Frames received. */
  frames: number;
  /** Bytes received. */
  bytes: number;
  /** Frames per second from the first chunk to the last one counted. */
  rate: number;
  /** Seconds from the first chunk to the last. */
  seconds: number;
  /** The broker's `saltbus/subscriber/dropped` notice arrived. */
  droppedNotice: boolean;
  /** The stream ended (the broker closed it). */
  eof: boolean;
  /** The read ended with an error (message). */
  error?: string;
}

/** Counts frames on one connection. */
class Counter implements FrameSink {
  frames = 0;
  droppedNotice = false;

  /** FrameSink: one frame. */
  frame(buffer: Uint8Array, _s: number, _e: number, bodyStart: number, tagEnd: number): void {
    this.frames++;
    if (tagEnd - bodyStart === DROPPED_BYTES.length && buffer[bodyStart + 5] === 0x75) {
      let same = true;
      for (let i = 0; i < DROPPED_BYTES.length; i++) {
        if (buffer[bodyStart + i] !== DROPPED_BYTES[i]) {
          same = false;
          break;
        }
      }
      if (same) this.droppedNotice = true;
    }
  }
}

/**
 * Reads `conn` until `expect` frames, EOF, `idleMs` of silence after the
 * first chunk, or `startMs` without a first chunk; resolves what it saw.
 *
 * @example
 * ```ts
 * import { countFrames } from "./raw_subscriber_proc.ts";
 * const conn = await Deno.connect({ transport: "unix", path: "/tmp/x/master_event_pub.ipc" });
 * const result = await countFrames(conn, 1000, 2000);
 * ```
 */
export async function countFrames(
  conn: Deno.Conn,
  expect: number,
  idleMs: number,
  options: { startMs?: number; credit?: CreditReporter } = {},
): Promise<SubscriberResult> {
  const { startMs = 20_000, credit } = options;
  const scanner = new FrameScanner();
  const counter = new Counter();
  let bytes = 0;
  let first = 0;
  let firstFrames = 0;
  let last = 0;
  let eof = false;
  let error: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      try {
        conn.close();
      } catch { /* closed */ }
    }, first === 0 ? startMs : idleMs);
  };
  arm();
  try {
    while (counter.frames < expect) {
      const buffer = new Uint8Array(READ_SIZE);
      const n = await conn.read(buffer);
      if (n === null) {
        eof = true;
        break;
      }
      const now = performance.now();
      bytes += n;
      scanner.push(buffer.subarray(0, n), counter);
      if (first === 0) {
        first = now;
        firstFrames = counter.frames;
      }
      last = now;
      credit?.update(counter.frames);
      arm();
    }
  } catch (err) {
    if (!timedOut) error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } finally {
    clearTimeout(timer);
  }
  const seconds = (last - first) / 1000;
  return {
    frames: counter.frames,
    bytes,
    rate: seconds > 0 ? (counter.frames - firstFrames) / seconds : 0,
    seconds,
    droppedNotice: counter.droppedNotice,
    eof,
    ...(error ? { error } : {}),
  };
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < numFlag(flags, "conns", 1); i++) {
    conns.push(await Deno.connect({ transport: "unix", path: flags.pub }));
  }
  report({ ready: true });
  if (flags.stall) await readStdinLine();
  const expect = numFlag(flags, "expect", Infinity);
  const idleMs = numFlag(flags, "idle-ms", 3000);
  const credits = flags.credit
    ? await Promise.all(conns.map(() => CreditReporter.connect(flags.credit)))
    : [];
  const results = await Promise.all(
    conns.map((conn, i) => countFrames(conn, expect, idleMs, { credit: credits[i] })),
  );
  for (const conn of conns) {
    try {
      conn.close();
    } catch { /* closed */ }
  }
  for (const credit of credits) credit.close();
  report({ results });
}
