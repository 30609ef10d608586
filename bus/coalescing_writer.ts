/**
 * Writes frames to a channel with one write in flight: frames queued while a
 * write runs go out together in the next one.
 *
 * @module
 */
import { FrameBatch } from "./frame_batch.ts";
import type { ByteChannel } from "./transport.ts";

/** Above this many queued bytes, `enqueue` waits for the queue to drain. */
const HIGH_WATER_MARK = 1 << 20;

/**
 * A coalescing writer over one {@linkcode ByteChannel}.
 *
 * @example
 * ```ts
 * import { CoalescingWriter } from "./coalescing_writer.ts";
 * import type { ByteChannel } from "./transport.ts";
 * declare const channel: ByteChannel;
 * const writer = new CoalescingWriter(channel, (err) => console.error(err));
 * await writer.enqueue(new Uint8Array([0x82]));
 * await writer.drain();
 * ```
 */
export class CoalescingWriter {
  readonly #batch = new FrameBatch();
  #flushing: Promise<void> | null = null;
  #broken = false;

  /** `onError` is called once when a write fails; the writer is broken after that. */
  constructor(readonly channel: ByteChannel, readonly onError: (err: unknown) => void) {}

  /** True after a write failed: the channel is gone. */
  get broken(): boolean {
    return this.#broken;
  }

  /**
   * Queues `frame` (copied). Resolves `true` once queued (waiting for the
   * queue to drain when it is over 1 MiB), `false` when the channel is broken.
   */
  enqueue(frame: Uint8Array): Promise<boolean> | boolean {
    if (this.#broken) return false;
    this.#batch.appendFrame(frame);
    return this.#queued();
  }

  /**
   * Encodes the event `tag` with `data` straight into the queue, as
   * {@linkcode FrameBatch.appendEvent} does: answers `null` (nothing queued)
   * when the packed data exceeds `maxEventSize`, else as
   * {@linkcode CoalescingWriter.enqueue}.
   *
   * @throws {EventDataError} for data msgpack cannot carry.
   */
  enqueueEvent(
    tag: string,
    data: unknown,
    maxEventSize: number,
  ): Promise<boolean> | boolean | null {
    if (this.#broken) return false;
    if (!this.#batch.appendEvent(tag, data, maxEventSize)) return null;
    return this.#queued();
  }

  #queued(): Promise<boolean> | boolean {
    if (!this.#flushing) this.#flushing = this.#flush();
    if (this.#batch.length > HIGH_WATER_MARK) return this.drain().then(() => !this.#broken);
    return true;
  }

  /** Resolves when everything queued so far has been written (or the channel broke). */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async #flush(): Promise<void> {
    // Let the caller's synchronous burst queue up first.
    await Promise.resolve();
    try {
      while (this.#batch.length > 0) await this.channel.write(this.#batch.take());
    } catch (err) {
      this.#broken = true;
      this.#batch.take();
      this.onError(err);
    } finally {
      this.#flushing = null;
    }
  }
}
