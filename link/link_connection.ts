/**
 * One connection of the master↔minion link: messages are Salt frames whose
 * body is a packed event (`<command> \n\n msgpack(data)`), the same codec as
 * the event bus, so the link needs no second wire format.
 *
 * @module
 */
import { CoalescingWriter } from "../bus/coalescing_writer.ts";
import { unpackEventAt } from "../bus/event_codec.ts";
import { packEvent } from "../bus/event_codec.ts";
import { encodeFrame, FrameScanner } from "../bus/frame.ts";
import type { ByteChannel } from "../bus/transport.ts";
import { isMapping } from "../bus/mapping.ts";

/** One link message: a command name and its data. */
export interface LinkMessage {
  /** The command, e.g. `_hello`, `_minion_event`, `_return`, `_publish`. */
  tag: string;
  /** The command's data. */
  data: Record<string, unknown>;
}

/**
 * Frames messages onto a {@linkcode ByteChannel} and reads them back.
 *
 * @example
 * ```ts
 * import { LinkConnection } from "./link_connection.ts";
 * import { dialEndpoint } from "../transport/endpoint.ts";
 * const link = new LinkConnection(await dialEndpoint("/tmp/m/master_minion_link.ipc"));
 * link.send("_hello", { role: "minion", id: "web1" });
 * for await (const message of link.messages()) console.log(message.tag);
 * ```
 */
export class LinkConnection {
  readonly #channel: ByteChannel;
  readonly #writer: CoalescingWriter;
  readonly #maxFrameSize: number | undefined;
  #closed = false;

  /** Wraps `channel`; the connection owns it from now on. */
  constructor(channel: ByteChannel, options: { maxFrameSize?: number } = {}) {
    this.#channel = channel;
    this.#maxFrameSize = options.maxFrameSize;
    this.#writer = new CoalescingWriter(channel, () => this.close());
  }

  /** True once closed, or after a write failed. */
  get closed(): boolean {
    return this.#closed || this.#writer.broken;
  }

  /**
   * Queues a message; `false` when the connection is gone.
   *
   * @throws {EventDataError} when `data` cannot be encoded.
   */
  send(tag: string, data: Record<string, unknown>): boolean {
    if (this.closed) return false;
    const sent = this.#writer.enqueue(encodeFrame(packEvent(tag, data)));
    return sent === true || sent instanceof Promise;
  }

  /** Resolves when everything sent so far is written (or the connection broke). */
  drain(): Promise<void> {
    return this.#writer.drain();
  }

  /**
   * The messages the peer sends, in order, until it closes.
   *
   * @throws {FrameError} for bytes that are not link messages (the caller closes the connection).
   */
  async *messages(): AsyncGenerator<LinkMessage> {
    const scanner = new FrameScanner({ maxFrameSize: this.#maxFrameSize });
    const inbox: LinkMessage[] = [];
    const sink = {
      frame: (
        buffer: Uint8Array,
        _s: number,
        _e: number,
        bodyStart: number,
        tagEnd: number,
        bodyEnd: number,
      ) => {
        const { tag, data } = unpackEventAt(buffer, bodyStart, tagEnd, bodyEnd);
        inbox.push({ tag, data: isMapping(data) ? data : { value: data } });
      },
    };
    while (true) {
      const chunk = await this.#channel.read();
      if (chunk === null) return;
      scanner.push(chunk, sink);
      for (let i = 0; i < inbox.length; i++) yield inbox[i];
      inbox.length = 0;
    }
  }

  /** Closes the connection (idempotent); a pending read ends. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.close();
  }
}
