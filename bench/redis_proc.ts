/**
 * Benchmark helper process: a reference figure from Redis pub/sub over TCP
 * on 127.0.0.1, speaking RESP directly (no client library).
 *
 * `--role pub`: PUBLISHes `--count` 200-byte payloads (the sample frame),
 * pipelined in 64 KiB writes, reading and discarding the replies; with
 * `--credit PATH --subs N` it keeps at most `--window` messages in transit
 * (see credit.ts). `--role sub`: SUBSCRIBEs and counts messages until
 * `--expect`. Prints `{"ready":true}` and then one result line.
 *
 * @module
 */
import {
  BATCH_BYTES,
  numFlag,
  parseFlags,
  report,
  sampleFrame,
  sleep,
  writeAll,
} from "./common.ts";
import { CreditReporter, CreditServer } from "./credit.ts";

const CHANNEL = "saltbus-bench";
const encoder = new TextEncoder();

/** RESP encoding of one command. */
function command(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks: Uint8Array[] = [encoder.encode(`*${parts.length}\r\n`)];
  for (const part of parts) {
    const bytes = typeof part === "string" ? encoder.encode(part) : part;
    chunks.push(encoder.encode(`$${bytes.length}\r\n`), bytes, encoder.encode("\r\n"));
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const port = numFlag(flags, "port", 6379);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const payload = sampleFrame();
  if (flags.role === "pub") {
    const count = numFlag(flags, "count", 1_000_000);
    const window = numFlag(flags, "window", 20_000);
    const credits = flags.credit ? new CreditServer(flags.credit, numFlag(flags, "subs", 1)) : null;
    const one = command("PUBLISH", CHANNEL, payload);
    const perBatch = Math.floor(BATCH_BYTES / one.length);
    const batch = new Uint8Array(perBatch * one.length);
    for (let i = 0; i < perBatch; i++) batch.set(one, i * one.length);
    // Replies (":1\r\n" each) are read and thrown away.
    const draining = (async () => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        while ((await conn.read(buffer)) !== null) { /* discard */ }
      } catch { /* closed */ }
    })();
    report({ ready: true });
    await credits?.connected();
    await sleep(200);
    const start = performance.now();
    let sent = 0;
    while (sent < count) {
      await credits?.admit(sent, window);
      const n = Math.min(perBatch, count - sent);
      await writeAll(conn, n === perBatch ? batch : batch.subarray(0, n * one.length));
      sent += n;
    }
    const seconds = (performance.now() - start) / 1000;
    report({ sent, seconds, rate: sent / seconds });
    if (credits) await sleep(60_000);
    conn.close();
    await draining;
  } else {
    const expect = numFlag(flags, "expect", Infinity);
    await writeAll(conn, command("SUBSCRIBE", CHANNEL));
    const buffer = new Uint8Array(64 * 1024);
    // Wait for the subscription confirmation: *3 $9 subscribe $<n> channel :1.
    const confirm = `*3\r\n$9\r\nsubscribe\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n:1\r\n`.length;
    let got = 0;
    while (got < confirm) got += (await conn.read(buffer.subarray(got, confirm))) ?? confirm;
    report({ ready: true });
    const credit = flags.credit ? await CreditReporter.connect(flags.credit) : null;
    // Every message has the same size: count bytes.
    const messageSize =
      `*3\r\n$7\r\nmessage\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n$${payload.length}\r\n`
        .length + payload.length + 2;
    let bytes = 0;
    let first = 0;
    let firstCount = 0;
    let last = 0;
    while (bytes < expect * messageSize) {
      const n = await conn.read(buffer);
      if (n === null) break;
      const now = performance.now();
      bytes += n;
      if (first === 0) {
        first = now;
        firstCount = Math.floor(bytes / messageSize);
      }
      last = now;
      credit?.update(Math.floor(bytes / messageSize));
    }
    const count = Math.floor(bytes / messageSize);
    const seconds = (last - first) / 1000;
    credit?.close();
    conn.close();
    report({ count, seconds, rate: seconds > 0 ? (count - firstCount) / seconds : 0 });
  }
}
