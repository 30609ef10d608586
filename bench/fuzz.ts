/**
 * Fuzz benchmark (standalone, about a minute): `deno run --allow-all
 * bench/fuzz.ts [--frames 1000000]`.
 *
 * Two fuzzer processes (4 pull connections each) send at least 1M random
 * frames at a `cli.ts master`: canonical and every non-canonical shape the
 * framing allows (body first, str bodies, over-long lengths, map16/map32,
 * heads of random nested msgpack), cut at random points; about 1 in 330 is
 * invalid (not a map, a non-string key, a body that is not bytes, no body, a
 * body without `\n\n`, the byte 0xc1, a header claiming 1 GiB) and some
 * connections end mid-frame. Meanwhile a checked pair (a publisher of
 * numbered events, 10k/s, and a subscriber that checks every one arrives,
 * in order) must lose nothing. Prints the counts as JSON.
 *
 * The same file is the helper processes (`--role`).
 *
 * @module
 */
import { encodeFrame } from "../bus/frame.ts";
import { numFlag, parseFlags, readStdinLine, report, sleep, writeAll } from "./common.ts";
import { NumberedBatch, SeqChecker } from "./burst.ts";
import { Proc, readRss, startMaster } from "./procs.ts";

/** A small, fast pseudo-random generator (xorshift32), seeded per lane. */
class Random {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 1;
  }
  next(): number {
    let s = this.#s;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.#s = s >>> 0;
    return this.#s;
  }
  below(n: number): number {
    return this.next() % n;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** Appends bytes to a growing list. */
class Out {
  parts: number[] = [];
  byte(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }
  u16(n: number): this {
    return this.byte(n >>> 8, n & 0xff);
  }
  u32(n: number): this {
    return this.byte(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  str(s: string): this {
    return this.byte(0xa0 | s.length).bytes(new TextEncoder().encode(s));
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A random valid msgpack value, nested up to `depth`. */
function randomValue(r: Random, out: Out, depth: number): void {
  const kind = r.below(depth > 0 ? 16 : 12);
  switch (kind) {
    case 0:
      out.byte(r.below(0x80)); // positive fixint
      break;
    case 1:
      out.byte(0xe0 | r.below(32)); // negative fixint
      break;
    case 2:
      out.byte([0xc0, 0xc2, 0xc3][r.below(3)]);
      break;
    case 3:
      out.byte(0xcc + r.below(4)); // uint8..uint64
      out.bytes(r.bytes([1, 2, 4, 8][out.parts[out.parts.length - 1] - 0xcc]));
      break;
    case 4:
      out.byte(0xd0 + r.below(4)).bytes(
        r.bytes([1, 2, 4, 8][out.parts[out.parts.length - 1] - 0xd0]),
      );
      break;
    case 5:
      out.byte(0xca).bytes(r.bytes(4));
      break;
    case 6:
      out.byte(0xcb).bytes(r.bytes(8));
      break;
    case 7: {
      const n = r.below(32);
      out.byte(0xa0 | n).bytes(r.bytes(n));
      break;
    }
    case 8: {
      const n = r.below(300);
      const t = r.below(3);
      out.byte([0xc4, 0xd9, 0xc5][t]);
      if (t < 2) out.byte(Math.min(n, 255));
      else out.u16(n);
      out.bytes(r.bytes(t < 2 ? Math.min(n, 255) : n));
      break;
    }
    case 9: {
      const size = [1, 2, 4, 8, 16][r.below(5)];
      out.byte([0xd4, 0xd5, 0xd6, 0xd7, 0xd8][[1, 2, 4, 8, 16].indexOf(size)], r.below(128))
        .bytes(r.bytes(size));
      break;
    }
    case 10: {
      const n = r.below(20);
      out.byte(0xc7, n, r.below(128)).bytes(r.bytes(n));
      break;
    }
    case 11:
      out.byte(0xdb).u32(3).bytes(r.bytes(3)); // str32, long length
      break;
    default: {
      const n = r.below(5);
      const map = kind >= 14;
      if (r.below(4) === 0) out.byte(map ? 0xde : 0xdc).u16(n);
      else out.byte((map ? 0x80 : 0x90) | n);
      for (let i = 0; i < n; i++) {
        if (map) randomValue(r, out, depth - 1);
        randomValue(r, out, depth - 1);
      }
    }
  }
}

/** A random event body: a tag without `\n\n`, then `\n\n`, then random bytes. */
function randomBody(r: Random): Uint8Array {
  const tagLength = 1 + r.below(60);
  const body = new Uint8Array(tagLength + 2 + r.below(300));
  for (let i = 0; i < tagLength; i++) body[i] = 0x21 + r.below(94);
  body[tagLength] = 0x0a;
  body[tagLength + 1] = 0x0a;
  for (let i = tagLength + 2; i < body.length; i++) body[i] = r.next() & 0xff;
  return body;
}

const HEAD = "head";
const BODY = "body";

/** A valid frame, canonical or not. */
function validFrame(r: Random): Uint8Array {
  const body = randomBody(r);
  const shape = r.below(10);
  if (shape < 5) return encodeFrame(body);
  const out = new Out();
  const bodyValue = () => {
    const t = r.below(5);
    if (t === 0 && body.length < 256) out.byte(0xd9, body.length);
    else if (t <= 1) out.byte(0xda).u16(body.length);
    else if (t === 2) out.byte(0xc6).u32(body.length);
    else if (t === 3) out.byte(0xdb).u32(body.length);
    else out.byte(0xc5).u16(body.length);
    out.bytes(body);
  };
  const head = () => {
    out.str(HEAD);
    if (r.below(2) === 0) out.byte(0x80);
    else {
      out.byte(0x81).str("mid");
      randomValue(r, out, 3);
    }
  };
  if (shape === 5) {
    out.byte(0x82).str(BODY);
    bodyValue();
    head();
  } else if (shape === 6) {
    out.byte(0xde).u16(3);
    head();
    out.str("x");
    randomValue(r, out, 3);
    out.str(BODY);
    bodyValue();
  } else if (shape === 7) {
    out.byte(0xdf).u32(2);
    head();
    out.str(BODY);
    bodyValue();
  } else {
    out.byte(0x82);
    head();
    out.str(BODY);
    bodyValue();
  }
  return out.done();
}

/** An invalid frame: the broker must close the connection that sends it. */
function invalidFrame(r: Random): Uint8Array {
  const body = randomBody(r);
  switch (r.below(7)) {
    case 0:
      return Uint8Array.of([0x01, 0x92, 0xc0, 0xa3][r.below(4)], ...r.bytes(10));
    case 1:
      return new Out().byte(0x82, 0x01, 0x80).str(BODY).byte(0xc4, body.length).bytes(body).done();
    case 2:
      return new Out().byte(0x82).str(HEAD).byte(0x80).str(BODY).byte(0x07).done();
    case 3:
      return new Out().byte(0x81).str(HEAD).byte(0x80).done();
    case 4:
      return encodeFrame(r.bytes(40).map((b) => b === 0x0a ? 0x0b : b));
    case 5:
      return new Out().byte(0x82).str(HEAD).byte(0x81).str("z").byte(0xc1).str(BODY)
        .byte(0xc4, body.length).bytes(body).done();
    default:
      return new Out().byte(0x82).str(HEAD).byte(0x80).str(BODY).byte(0xc6).u32(1 << 30).done();
  }
}

/** One fuzzer lane: connections one after another, until `frames` are sent. */
async function fuzzLane(pull: string, seed: number, frames: number) {
  const r = new Random(seed);
  const counts = { valid: 0, invalid: 0, truncated: 0, connections: 0, writeErrors: 0 };
  // A pool of random frames, partly renewed on every connection.
  const pool = Array.from({ length: 4096 }, () => validFrame(r));
  const buffer = new Uint8Array(64 * 1024 + 4096);
  while (counts.valid + counts.invalid < frames) {
    for (let i = 0; i < 64; i++) pool[r.below(pool.length)] = validFrame(r);
    const conn = await Deno.connect({ transport: "unix", path: pull });
    counts.connections++;
    try {
      // Up to 400 frames on this connection, then an ending.
      const n = 1 + r.below(400);
      let size = 0;
      const flush = async () => {
        // Written in random pieces, so frames are cut everywhere.
        for (let o = 0; o < size;) {
          const piece = 1 + r.below(r.below(64) === 0 ? 64 : 16384);
          await writeAll(conn, buffer.subarray(o, Math.min(size, o + piece)));
          o += piece;
        }
        size = 0;
      };
      for (let i = 0; i < n && counts.valid + counts.invalid < frames; i++) {
        const frame = pool[r.below(pool.length)];
        buffer.set(frame, size);
        size += frame.length;
        counts.valid++;
        if (size > 60 * 1024) await flush();
      }
      await flush();
      const ending = r.below(100);
      if (ending < 60) {
        const bad = invalidFrame(r);
        counts.invalid++;
        await writeAll(conn, bad);
        // The broker closes the connection; reading shows it.
        await Promise.race([conn.read(new Uint8Array(1)).catch(() => null), sleep(2000)]);
      } else if (ending < 80) {
        const frame = validFrame(r);
        await writeAll(conn, frame.subarray(0, 1 + r.below(frame.length - 1)));
        counts.truncated++;
      }
    } catch {
      counts.writeErrors++;
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }
  return counts;
}

async function fuzzRole(flags: Record<string, string>): Promise<void> {
  const lanes = numFlag(flags, "lanes", 4);
  const frames = numFlag(flags, "frames", 125_000);
  report({ ready: true });
  await readStdinLine();
  const started = performance.now();
  const results = await Promise.all(
    Array.from(
      { length: lanes },
      (_, i) => fuzzLane(flags.pull, numFlag(flags, "seed", 1) * 100 + i, frames),
    ),
  );
  const total = { valid: 0, invalid: 0, truncated: 0, connections: 0, writeErrors: 0 };
  for (const r of results) {
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r[k];
  }
  report({ ...total, seconds: (performance.now() - started) / 1000 });
}

async function checkPubRole(flags: Record<string, string>): Promise<void> {
  const batch = new NumberedBatch("check/", 200, 10);
  const conn = await Deno.connect({ transport: "unix", path: flags.pull });
  report({ ready: true });
  let stop = false;
  readStdinLine().then(() => stop = true);
  let sent = 0;
  while (!stop) {
    await writeAll(conn, batch.number(sent));
    sent += batch.frames;
    await sleep(1);
  }
  conn.close();
  report({ sent });
}

async function checkSubRole(flags: Record<string, string>): Promise<void> {
  const conn = await Deno.connect({ transport: "unix", path: flags.pub });
  report({ ready: true });
  const checker = new SeqChecker("check/");
  // Reads all along; told the last number at the end, it reads until that one.
  let last = Infinity;
  readStdinLine().then((line) => last = Number(line));
  const buffer = new Uint8Array(256 * 1024);
  let eof = false;
  let read: Promise<number | null> | null = null;
  while (checker.result.last < last) {
    read ??= conn.read(buffer).catch(() => null);
    const n = await Promise.race([read, sleep(3000).then(() => -1 as const)]);
    if (n === -1) {
      if (last !== Infinity) break;
      continue;
    }
    read = null;
    if (n === null) {
      eof = true;
      break;
    }
    checker.push(buffer.slice(0, n));
  }
  conn.close();
  report({ ...checker.result, eof });
}

async function main(flags: Record<string, string>): Promise<void> {
  const frames = numFlag(flags, "frames", 1_000_000);
  await using master = await startMaster();
  const self = new URL(import.meta.url).pathname;
  const role = (name: string, args: string[]) =>
    new Proc(name, [self, "--role", name, ...args], { stdin: true });
  const sub = role("checksub", ["--pub", master.pub]);
  await sub.nextReport(15_000);
  await sleep(300);
  const pub = role("checkpub", ["--pull", master.pull]);
  await pub.nextReport(15_000);
  const fuzzers = [1, 2].map((seed) =>
    role("fuzz", ["--pull", master.pull, "--seed", `${seed}`, "--frames", `${frames / 8}`])
  );
  for (const f of fuzzers) await f.nextReport(15_000);
  try {
    const before = readRss(master.proc.pid)!.rss;
    const started = performance.now();
    for (const f of fuzzers) await f.sendLine("go");
    const fuzzed: Record<string, number>[] = [];
    for (const f of fuzzers) fuzzed.push(await f.nextReport<Record<string, number>>(110_000));
    const seconds = (performance.now() - started) / 1000;
    await pub.sendLine("stop");
    const { sent } = await pub.nextReport<{ sent: number }>(10_000);
    await sub.sendLine(`${sent - 1}`);
    const checked = await sub.nextReport<Record<string, unknown>>(30_000);
    const rss = readRss(master.proc.pid)!;
    const total = (k: string) => fuzzed.reduce((n, f) => n + f[k], 0);
    const lines = master.proc.stderrLines;
    const mib = (n: number) => Math.round(n / 1048576 * 10) / 10;
    console.log(JSON.stringify(
      {
        fuzzedFrames: total("valid") + total("invalid"),
        valid: total("valid"),
        invalid: total("invalid"),
        endedMidFrame: total("truncated"),
        connections: total("connections"),
        fuzzerWriteErrors: total("writeErrors"),
        seconds: Math.round(seconds * 10) / 10,
        framesPerSecond: Math.round((total("valid") + total("invalid")) / seconds),
        brokerClosedPublishers: lines.filter((l) => l.includes("closing publisher")).length,
        brokerErrors: lines.filter((l) => /\berror\b/.test(l)).slice(0, 5),
        brokerAlive: !master.proc.exited,
        brokerRssMiB: { before: mib(before), after: mib(rss.rss), peak: mib(rss.hwm) },
        checkedPair: { sent, ...checked },
      },
      null,
      2,
    ));
  } finally {
    for (const f of fuzzers) await f.stop();
    await pub.stop();
    await sub.stop();
  }
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  if (flags.role === "fuzz") await fuzzRole(flags);
  else if (flags.role === "checkpub") await checkPubRole(flags);
  else if (flags.role === "checksub") await checkSubRole(flags);
  else await main(flags);
}
