/**
 * Benchmark helper process: in-process actors through `startBus()` (broker
 * in a Worker, actors on MessagePorts), in one process.
 *
 * `--variant raw`: `bus.connector.connectPull()` writes pre-encoded 64 KiB
 * frame batches; `connectPub()` is read and its frames counted with
 * `FrameScanner`. `--variant lib`: `bus.getEvent({ listen: false })`
 * fireEvent, pipelined in batches of 1000, to `bus.getEvent()` iterEvents
 * (data decoded). Both keep at most `--window` events in transit (the
 * broker would drop a subscriber that falls 16 MiB behind). Prints one
 * result line: `{ count, seconds, rate, sendRate }` (rate: received, from
 * first to last event).
 *
 * @module
 */
import { FrameScanner } from "../bus/frame.ts";
import { startBus } from "../mod.ts";
import {
  BATCH_BYTES,
  frameBatch,
  numFlag,
  parseFlags,
  report,
  SAMPLE_TAG,
  sampleData,
  sampleFrame,
} from "./common.ts";

/** A counter that wakes a waiting sender when the receiver makes progress. */
class Progress {
  received = 0;
  first = 0;
  last = 0;
  #waiter: (() => void) | null = null;

  /** Records `n` more received events. */
  add(n: number): void {
    if (this.first === 0) this.first = performance.now();
    this.received += n;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  /** Records the time of the last event (once it was received). */
  finish(): void {
    this.last = performance.now();
  }

  /** Waits while `sent - received >= window`. */
  async admit(sent: number, window: number): Promise<void> {
    while (sent - this.received >= window) {
      await new Promise<void>((resolve) => this.#waiter = resolve);
    }
  }
}

if (import.meta.main) {
  const flags = parseFlags(Deno.args);
  const variant = flags.variant ?? "raw";
  const count = numFlag(flags, "count", 3_000_000);
  const window = numFlag(flags, "window", 20_000);
  const sockDir = await Deno.makeTempDir({ prefix: "saltbus-bench-inproc-" });
  const bus = await startBus({ sockDir, config: { log_level: "warning" } });
  const progress = new Progress();
  let sendSeconds = 0;
  try {
    if (variant === "raw") {
      const pub = await bus.connector.connectPub();
      const pull = await bus.connector.connectPull();
      const reading = (async () => {
        const scanner = new FrameScanner();
        let frames = 0;
        const sink = { frame: () => void frames++ };
        while (progress.received < count) {
          const chunk = await pub.read();
          if (chunk === null) break;
          frames = 0;
          scanner.push(chunk, sink);
          progress.add(frames);
        }
        progress.finish();
      })();
      const { batch, frames } = frameBatch(sampleFrame(), BATCH_BYTES);
      const frameSize = batch.length / frames;
      const start = performance.now();
      let sent = 0;
      while (sent < count) {
        await progress.admit(sent, window);
        const n = Math.min(frames, count - sent);
        // PortChannel transfers the buffer it is given: send a fresh copy.
        await pull.write(batch.slice(0, n * frameSize));
        sent += n;
      }
      sendSeconds = (performance.now() - start) / 1000;
      await reading;
      pull.close();
      pub.close();
    } else if (variant === "lib") {
      await using listener = bus.getEvent();
      await using firer = bus.getEvent({ listen: false });
      await listener.connected();
      await firer.fireEvent({ warmup: true }, "bench/warmup");
      await firer.flush();
      const data = sampleData();
      const reading = (async () => {
        for await (const event of listener.iterEvents({ full: true })) {
          if (event.tag === "bench/warmup") continue;
          progress.add(1);
          if (progress.received >= count) break;
        }
        progress.finish();
      })();
      const start = performance.now();
      let sent = 0;
      while (sent < count) {
        await progress.admit(sent, window);
        const n = Math.min(1000, count - sent);
        const pending: Promise<boolean>[] = new Array(n);
        for (let i = 0; i < n; i++) pending[i] = firer.fireEvent(data, SAMPLE_TAG);
        await Promise.all(pending);
        sent += n;
      }
      await firer.flush();
      sendSeconds = (performance.now() - start) / 1000;
      await reading;
    } else {
      throw new Error(`unknown --variant ${variant}`);
    }
  } finally {
    await bus.close();
    await Deno.remove(sockDir, { recursive: true }).catch(() => {});
  }
  const seconds = (progress.last - progress.first) / 1000;
  report({
    count: progress.received,
    seconds,
    rate: seconds > 0 ? progress.received / seconds : 0,
    sendRate: count / sendSeconds,
  });
}
