/**
 * Pull-side memory and CPU benchmark (standalone, about a minute):
 * `deno run --allow-all bench/partial_frames.ts`.
 *
 * Against `cli.ts master` (defaults: `max_frame_size` 16 MiB,
 * `partial_frames_limit` 64 MiB), while a checked pair (one publisher
 * firing 500 numbered events/s, one subscriber checking them and their
 * latency) runs all along:
 *
 * 1. 100 pull connections each send a frame just under `max_frame_size`
 *    but its last 2 KiB, and hold it: the broker's RSS, and how many it
 *    closed.
 * 2. 4 connections each drip a non-canonical frame (an array32 head) at
 *    1 MB/s for 8 s: the broker's CPU time, and the pair's latency.
 * 3. Connection churn on the pull socket: 10,000 connect/close cycles, half
 *    closing mid-frame; then on a TCP bus (`ipc_mode: tcp`) 10,000 more,
 *    half of them reset (SO_LINGER 0, by python3): RSS before, at peak and
 *    after, and the pair's worst latency.
 *
 * Prints one JSON object. The same file is the helper processes (`--role`).
 *
 * @module
 */
import { unpackEvent } from "../bus/event_codec.ts";
import { frameHeaderLength, FrameScanner, writeFrameHeader } from "../bus/frame.ts";
import { packEventFrame } from "../bus/event_codec.ts";
import { packData } from "../bus/msgpack.ts";
import { SUBSCRIBER_MISSED_TAG } from "../bus/router.ts";
import { nowUs, numFlag, parseFlags, report, sleep, writeAll } from "./common.ts";
import { Proc, readRss, startMaster } from "./procs.ts";

/** Lines from standard input, one at a time (the stream stays open between them). */
const stdinLines = (() => {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  return async (): Promise<string | null> => {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) return null;
      text += value;
    }
    const nl = text.indexOf("\n");
    const line = text.slice(0, nl);
    text = text.slice(nl + 1);
    return line;
  };
})();
const readStdinLine = stdinLines;

/** Connects to a Unix socket path or `tcp://host:port`. */
function dial(address: string): Promise<Deno.Conn> {
  const tcp = /^tcp:\/\/([^:]+):(\d+)$/.exec(address);
  return tcp
    ? Deno.connect({ hostname: tcp[1], port: Number(tcp[2]) })
    : Deno.connect({ transport: "unix", path: address });
}

/** The checked pair: fires `ping/<n>` every 2 ms, checks each arrives, records latency. */
async function pairRole(flags: Record<string, string>): Promise<void> {
  const sub = await dial(flags.pub);
  await sleep(300);
  const pub = await dial(flags.pull);
  report({ ready: true });
  let stop = false;
  let sent = 0;
  let received = 0;
  let lost = 0;
  let notices = 0;
  let next = 0;
  const samples: number[] = []; // [sentAtMs, latencyMs, ...]
  const stopped = readStdinLine().then(() => stop = true);
  const sending = (async () => {
    while (!stop) {
      const frame = packEventFrame(`ping/${sent}`, packData({ t: nowUs() }));
      sent++;
      await writeAll(pub, frame);
      await sleep(2);
    }
  })();
  const scanner = new FrameScanner({ maxFrameSize: 1 << 26 });
  const receiving = (async () => {
    const buffer = new Uint8Array(256 * 1024);
    while (true) {
      const n = await sub.read(buffer).catch(() => null);
      if (n === null) break;
      const now = nowUs();
      scanner.push(buffer.slice(0, n), {
        frame(buf, _s, _e, bodyStart, _tagEnd, bodyEnd) {
          if (buf[bodyStart] !== 0x70 && buf[bodyStart] !== 0x73) return; // "p", "s"
          const event = unpackEvent(buf.slice(bodyStart, bodyEnd));
          if (event.tag === SUBSCRIBER_MISSED_TAG) {
            notices++;
            return;
          }
          if (!event.tag.startsWith("ping/")) return;
          const i = Number(event.tag.slice(5));
          if (i > next) lost += i - next;
          next = i + 1;
          received++;
          const t = (event.data as { t: number }).t;
          samples.push(Math.round(t / 1000), Math.round((now - t) / 10) / 100);
        },
      });
    }
  })();
  await stopped;
  await sending;
  await sleep(500);
  pub.close();
  sub.close();
  await receiving;
  report({ sent, received, lost, notices, samples });
}

/** Connections that each send a frame just under `--size` but its last 2 KiB, and hold it. */
async function holdersRole(flags: Record<string, string>): Promise<void> {
  const count = numFlag(flags, "conns", 100);
  const size = numFlag(flags, "size", 16 * 1024 * 1024) - 1024;
  const conns = await Promise.all(Array.from({ length: count }, () => dial(flags.pull)));
  report({ ready: true });
  await readStdinLine();
  const body = size - frameHeaderLength(size);
  const header = new Uint8Array(frameHeaderLength(body));
  writeFrameHeader(header, 0, body);
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  chunk[0] = 0x0a; // a tag end, in case the frame ever completed
  chunk[1] = 0x0a;
  let written = 0;
  let closedWhileSending = 0;
  const started = performance.now();
  await Promise.all(conns.map(async (conn) => {
    try {
      await writeAll(conn, header);
      let left = body - 2048;
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        await writeAll(conn, chunk.subarray(0, n));
        written += n;
        left -= n;
      }
    } catch {
      closedWhileSending++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  report({ written, closedWhileSending, seconds });
  await readStdinLine();
  // Which are still open? A closed one fails a write or ends a read.
  let closed = 0;
  await Promise.all(conns.map(async (conn) => {
    try {
      await writeAll(conn, Uint8Array.of(0x61));
      const read = conn.read(new Uint8Array(16)).then((n) => n === null, () => true);
      if (await Promise.race([read, sleep(500).then(() => false)])) closed++;
    } catch {
      closed++;
    }
  }));
  report({ closed, open: count - closed });
  await readStdinLine();
  for (const conn of conns) {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** Connections that each drip a non-canonical frame (array32 head) at `--rate` bytes/s. */
async function dripRole(flags: Record<string, string>): Promise<void> {
  const count = numFlag(flags, "conns", 4);
  const rate = numFlag(flags, "rate", 1_000_000);
  const seconds = numFlag(flags, "seconds", 8);
  const n = rate * seconds;
  const tail = packEventFrame("drip/done", packData({ ok: true })).subarray(12);
  const head = Uint8Array.of(
    ...[0x82, 0xa4, 0x68, 0x65, 0x61, 0x64, 0x81, 0xa1, 0x78, 0xdd],
    ...[n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff],
  );
  const body = Uint8Array.of(0xa4, 0x62, 0x6f, 0x64, 0x79);
  const conns = await Promise.all(Array.from({ length: count }, () => dial(flags.pull)));
  report({ ready: true });
  await readStdinLine();
  const step = Math.round(rate / 62.5); // every 16 ms
  const ints = new Uint8Array(step).fill(0x01);
  const started = performance.now();
  await Promise.all(conns.map(async (conn) => {
    await writeAll(conn, head);
    for (let left = n; left > 0; left -= step) {
      await writeAll(conn, ints.subarray(0, Math.min(step, left)));
      await sleep(16);
    }
    await writeAll(conn, body);
    await writeAll(conn, tail);
  }));
  const took = (performance.now() - started) / 1000;
  for (const conn of conns) conn.close();
  report({ frames: count, bytesEach: n + head.length + body.length + tail.length, seconds: took });
}

/** `--cycles` connect/write/close cycles, `--lanes` (16) at a time; `--mode clean` sends whole frames, `midframe` part of one. */
async function churnRole(flags: Record<string, string>): Promise<void> {
  const cycles = numFlag(flags, "cycles", 5000);
  const big = packEventFrame("churn/partial", packData({ s: "c".repeat(64 * 1024) }));
  const whole = packEventFrame("churn/whole", packData({ ok: true }));
  report({ ready: true });
  await readStdinLine();
  const started = performance.now();
  let done = 0;
  let failed = 0;
  const lanes = numFlag(flags, "lanes", 16);
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    for (let i = lane; i < cycles; i += lanes) {
      try {
        const conn = await dial(flags.pull);
        await writeAll(
          conn,
          flags.mode === "clean" ? whole : big.subarray(0, 1 + (i * 7919) % (big.length - 1)),
        );
        conn.close();
        done++;
      } catch {
        failed++;
      }
    }
  }));
  report({ cycles: done, failed, seconds: (performance.now() - started) / 1000 });
}

/** Python: connect, send part of a frame, close with SO_LINGER 0 (a TCP reset). */
const PY_RESET = `
import socket, struct, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
part = bytes.fromhex("82a468656164" + "80a4626f6479c60001") + b"x" * 3000
done, failed, last = 0, 0, ""
for i in range(n):
    try:
        s = socket.create_connection((host, port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.sendall(part[: 1 + (i * 7919) % len(part)])
        s.close()
        done += 1
    except OSError as e:
        failed += 1
        last = repr(e)
print(done, failed, last)
`;

function cpuSeconds(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface PairReport {
  sent: number;
  received: number;
  lost: number;
  notices: number;
  samples: number[];
}

/** p50/p99/max latency (ms) of the pair's events sent between `from` and `to` (epoch ms). */
function latency(pair: PairReport, from: number, to: number) {
  const values: number[] = [];
  for (let i = 0; i < pair.samples.length; i += 2) {
    if (pair.samples[i] >= from && pair.samples[i] < to) values.push(pair.samples[i + 1]);
  }
  values.sort((a, b) => a - b);
  const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))];
  return { samples: values.length, p50: at(0.5), p99: at(0.99), max: values.at(-1) };
}

/** Polls a process's RSS every 20 ms until stopped; `peak()` is the highest seen. */
function rssPoller(pid: number) {
  let peak = 0;
  let on = true;
  const done = (async () => {
    while (on) {
      peak = Math.max(peak, readRss(pid)?.rss ?? 0);
      await sleep(20);
    }
  })();
  return {
    reset: () => peak = readRss(pid)?.rss ?? 0,
    peak: () => Math.max(peak, readRss(pid)?.rss ?? 0),
    stop: async () => {
      on = false;
      await done;
    },
  };
}

const mib = (n: number) => Math.round(n / 1048576 * 10) / 10;
const self = new URL(import.meta.url).pathname;
const role = (name: string, args: string[], stdin = true) =>
  new Proc(name, [self, "--role", name, ...args], { stdin });

/** Phases 1–3 on a Unix-socket master. */
async function unixPhases(): Promise<Record<string, unknown>> {
  await using master = await startMaster();
  const pid = master.proc.pid;
  const out: Record<string, unknown> = {};
  const pair = role("pair", ["--pub", master.pub, "--pull", master.pull]);
  await pair.nextReport(15_000);
  const rss = rssPoller(pid);
  try {
    // ---- baseline
    const t0 = Date.now();
    await sleep(2000);
    const t1 = Date.now();
    out.baseline = { brokerRssMiB: mib(readRss(pid)!.rss), pairLatencyMs: [t0, t1] };

    // ---- 1. 100 partial frames near max_frame_size
    const holders = role("holders", ["--pull", master.pull, "--conns", "100"]);
    await holders.nextReport(15_000);
    rss.reset();
    const before = readRss(pid)!.rss;
    const h0 = Date.now();
    await holders.sendLine("go");
    const sending = await holders.nextReport<Record<string, number>>(90_000);
    await sleep(1000);
    await holders.sendLine("probe");
    const probe = await holders.nextReport<Record<string, number>>(30_000);
    const h1 = Date.now();
    const held = readRss(pid)!.rss;
    const evictions = master.proc.stderrLines.filter((l) =>
      l.includes("over partial_frames_limit")
    ).length;
    await holders.sendLine("stop");
    await holders.stop();
    out.partialFrames = {
      connections: 100,
      frameBytes: 16 * 1024 * 1024 - 1024,
      sentBytes: sending.written,
      closedByBrokerWhileSending: sending.closedWhileSending,
      closedAtProbe: probe.closed,
      stillHolding: probe.open,
      evictionsLogged: evictions,
      brokerRssMiB: { before: mib(before), peak: mib(rss.peak()), holding: mib(held) },
      pairLatencyMs: [h0, h1],
    };

    // ---- 2. dripped non-canonical frames
    const drip = role("drip", ["--pull", master.pull, "--conns", "4", "--seconds", "8"]);
    await drip.nextReport(15_000);
    const c0 = cpuSeconds(pid);
    const d0 = Date.now();
    await drip.sendLine("go");
    const dripped = await drip.nextReport<Record<string, number>>(60_000);
    const d1 = Date.now();
    const c1 = cpuSeconds(pid);
    await drip.stop();
    out.drippedFrames = {
      connections: 4,
      bytesEach: dripped.bytesEach,
      seconds: Math.round(dripped.seconds * 10) / 10,
      brokerCpuSeconds: Math.round((c1 - c0) * 100) / 100,
      pairLatencyMs: [d0, d1],
    };

    // ---- 3. churn on the Unix pull socket
    const before3 = readRss(pid)!.rss;
    rss.reset();
    const u0 = Date.now();
    const churned: Record<string, number>[] = [];
    for (const mode of ["clean", "midframe"]) {
      const churn = role("churn", ["--pull", master.pull, "--cycles", "5000", "--mode", mode]);
      await churn.nextReport(15_000);
      await churn.sendLine("go");
      churned.push(await churn.nextReport(60_000));
      await churn.stop();
    }
    const u1 = Date.now();
    await sleep(1000);
    out.churnUnix = {
      cycles: churned.map((c) => c.cycles),
      seconds: churned.map((c) => Math.round(c.seconds * 10) / 10),
      brokerRssMiB: { before: mib(before3), peak: mib(rss.peak()), after: mib(readRss(pid)!.rss) },
      pairLatencyMs: [u0, u1],
    };
  } finally {
    await pair.sendLine("stop");
    await rss.stop();
  }
  const checked = await pair.nextReport<PairReport>(10_000);
  await pair.stop();
  for (const key of ["baseline", "partialFrames", "drippedFrames", "churnUnix"]) {
    const phase = out[key] as Record<string, unknown>;
    const [from, to] = phase.pairLatencyMs as number[];
    phase.pairLatencyMs = latency(checked, from, to);
  }
  out.pair = {
    sent: checked.sent,
    received: checked.received,
    lost: checked.lost,
    notices: checked.notices,
  };
  out.brokerWarnings = master.proc.stderrLines.filter((l) => /warning|error/.test(l)).length;
  return out;
}

/** A TCP port nothing listens on now. */
function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  return port;
}

/** Phase 3b: churn with TCP resets on a TCP master. */
async function tcpChurn(): Promise<Record<string, unknown>> {
  const [pubPort, pullPort] = [freePort(), freePort()];
  await using master = await startMaster({
    ipc_mode: "tcp",
    tcp_master_pub_port: pubPort,
    tcp_master_pull_port: pullPort,
  });
  const pid = master.proc.pid;
  const pub = `tcp://127.0.0.1:${pubPort}`;
  const pull = `tcp://127.0.0.1:${pullPort}`;
  const pair = role("pair", ["--pub", pub, "--pull", pull]);
  await pair.nextReport(15_000);
  await sleep(1000);
  const before = readRss(pid)!.rss;
  const rss = rssPoller(pid);
  const t0 = Date.now();
  let resets = 0;
  let pythonError: string | undefined;
  let clean: Record<string, number> = {};
  try {
    const churn = role("churn", ["--pull", pull, "--cycles", "5000", "--mode", "clean"]);
    await churn.nextReport(15_000);
    await churn.sendLine("go");
    const python = new Deno.Command("python3", {
      args: ["-c", PY_RESET, "127.0.0.1", `${pullPort}`, "5000"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    clean = await churn.nextReport(60_000);
    const py = await python;
    const [done, failed, ...last] = new TextDecoder().decode(py.stdout).trim().split(" ");
    resets = Number(done) || 0;
    if (py.code !== 0) pythonError = new TextDecoder().decode(py.stderr).trim().split("\n").at(-1);
    else if (Number(failed) > 0) {
      pythonError = `${failed} cycles failed, the last: ${last.join(" ")}`;
    }
    await churn.stop();
  } finally {
    await pair.sendLine("stop");
  }
  const t1 = Date.now();
  await sleep(1000);
  const peak = rss.peak();
  await rss.stop();
  const checked = await pair.nextReport<PairReport>(10_000);
  await pair.stop();
  return {
    cleanCycles: clean.cycles,
    resetCycles: resets,
    ...(pythonError ? { pythonError } : {}),
    brokerRssMiB: { before: mib(before), peak: mib(peak), after: mib(readRss(pid)!.rss) },
    pairLatencyMs: latency(checked, t0, t1),
    pair: { sent: checked.sent, received: checked.received, lost: checked.lost },
    brokerWarnings: master.proc.stderrLines.filter((l) => /warning|error/.test(l)).length,
    firstWarnings: master.proc.stderrLines.filter((l) => /warning|error/.test(l)).slice(0, 3),
  };
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  if (flags.role === "pair") await pairRole(flags);
  else if (flags.role === "holders") await holdersRole(flags);
  else if (flags.role === "drip") await dripRole(flags);
  else if (flags.role === "churn") await churnRole(flags);
  else {
    const started = performance.now();
    const phases = (flags.phases ?? "unix,tcp").split(",");
    const unix = phases.includes("unix") ? await unixPhases() : {};
    const tcp = phases.includes("tcp") ? await tcpChurn() : {};
    console.log(JSON.stringify(
      {
        ...unix,
        churnTcpWithResets: tcp,
        seconds: Math.round((performance.now() - started) / 1000),
      },
      null,
      2,
    ));
  }
}
