/**
 * Shared pieces of the benchmarks: the sample Salt-like event, pre-encoded
 * frame batches, a tiny flag parser and timing helpers. Used by `run.ts` and
 * by the helper processes it spawns.
 *
 * @module
 */
import { packEventFrame } from "../bus/event_codec.ts";
import { packData } from "../bus/msgpack.ts";
import { saltStamp } from "../bus/stamp.ts";

/** Tag of the sample event: a job return, as a Salt master sees thousands of. */
export const SAMPLE_TAG = "salt/job/20240501123456789012/ret/minion-7";

/** Size the sample frame is padded to (frame header + tag + data), in bytes. */
export const TARGET_FRAME_SIZE = 200;

/** Bytes per write for raw publishers: many frames coalesced per `write`. */
export const BATCH_BYTES = 64 * 1024;

/**
 * The data of the sample event: a `test.ping` job return, padded with an
 * `out` field so the whole frame is about {@linkcode TARGET_FRAME_SIZE}
 * bytes. `extra` fields (e.g. a send time) are added before the padding is
 * computed.
 *
 * @example
 * ```ts
 * import { sampleData } from "./common.ts";
 * sampleData({ sent_us: 1 }).fun; // "test.ping"
 * ```
 */
export function sampleData(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    cmd: "_return",
    id: "minion-7",
    jid: "20240501123456789012",
    fun: "test.ping",
    fun_args: [],
    return: true,
    retcode: 0,
    success: true,
    ...extra,
    _stamp: saltStamp(),
  };
  const size = packEventFrame(SAMPLE_TAG, packData({ ...base, out: "" })).length;
  base.out = "x".repeat(Math.max(0, TARGET_FRAME_SIZE - size));
  return base;
}

/**
 * One pre-encoded sample frame (what `fireEvent` would write).
 *
 * @example
 * ```ts
 * import { sampleFrame } from "./common.ts";
 * sampleFrame().length; // 200
 * ```
 */
export function sampleFrame(): Uint8Array {
  return packEventFrame(SAMPLE_TAG, packData(sampleData()));
}

/**
 * Concatenates copies of `frame` into one buffer of at most `bytes` bytes
 * (at least one frame).
 *
 * @returns the batch and how many frames it holds.
 * @example
 * ```ts
 * import { frameBatch, sampleFrame } from "./common.ts";
 * frameBatch(sampleFrame(), 65536).frames; // 327
 * ```
 */
export function frameBatch(
  frame: Uint8Array,
  bytes: number,
): { batch: Uint8Array; frames: number } {
  const frames = Math.max(1, Math.floor(bytes / frame.length));
  const batch = new Uint8Array(frames * frame.length);
  for (let i = 0; i < frames; i++) batch.set(frame, i * frame.length);
  return { batch, frames };
}

/**
 * Parses `--name value` and `--flag` arguments into a record (values are
 * strings; a flag without a value is `"true"`).
 *
 * @example
 * ```ts
 * import { parseFlags } from "./common.ts";
 * parseFlags(["--count", "5", "--raw"]); // { count: "5", raw: "true" }
 * ```
 */
export function parseFlags(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}`);
    const next = args[i + 1];
    if (next === undefined || next.startsWith("--")) out[arg.slice(2)] = "true";
    else {
      out[arg.slice(2)] = next;
      i++;
    }
  }
  return out;
}

/**
 * Reads a numeric flag, with a default.
 *
 * @example
 * ```ts
 * import { numFlag } from "./common.ts";
 * numFlag({ count: "5" }, "count", 1); // 5
 * ```
 */
export function numFlag(flags: Record<string, string>, name: string, fallback: number): number {
  const value = flags[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${value}`);
  return n;
}

/**
 * Wall-clock time in microseconds with sub-millisecond precision, comparable
 * across processes on one machine.
 *
 * @example
 * ```ts
 * import { nowUs } from "./common.ts";
 * const t = nowUs();
 * ```
 */
export function nowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

/**
 * Writes all of `bytes` to `conn`, looping over partial writes.
 *
 * @example
 * ```ts
 * import { writeAll } from "./common.ts";
 * declare const conn: Deno.Conn;
 * await writeAll(conn, new Uint8Array([1]));
 * ```
 */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(at === 0 ? bytes : bytes.subarray(at));
}

/**
 * Prints one JSON line on stdout: how helper processes report to `run.ts`.
 *
 * @example
 * ```ts
 * import { report } from "./common.ts";
 * report({ ready: true });
 * ```
 */
export function report(value: Record<string, unknown>): void {
  console.log(JSON.stringify(value));
}

/**
 * Resolves after `ms` milliseconds.
 *
 * @example
 * ```ts
 * import { sleep } from "./common.ts";
 * await sleep(10);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves the first line of standard input (for "go" signals from `run.ts`).
 *
 * @example
 * ```ts
 * import { readStdinLine } from "./common.ts";
 * const line = await readStdinLine();
 * ```
 */
export async function readStdinLine(): Promise<string | null> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of Deno.stdin.readable) {
    text += decoder.decode(chunk, { stream: true });
    const nl = text.indexOf("\n");
    if (nl >= 0) return text.slice(0, nl);
  }
  return text || null;
}
