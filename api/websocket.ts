/**
 * Event streams over WebSockets: rest_cherrypy's `/ws[/<token>]` (§6.2)
 * and rest_tornado's `/all_events/<token>` and `/formatted_events/<token>`
 * (§6.3). Streaming starts once the client sends `websocket client ready`.
 *
 * @module
 */
import type { Logger } from "../bus/log.ts";
import { pythonJsonDumps } from "../output/python_json.ts";
import { type TokenRecord, TokenStore } from "./auth.ts";
import type { EventBatch, EventHub, HubClient } from "./event_hub.ts";
import { SaltInfo } from "./format_events.ts";

/** The message that starts a stream. */
export const READY_MESSAGE = "websocket client ready";

/**
 * How events are written:
 * - `cherrypy`: `data: <json>\n\n` per event; every client message is
 *   answered `server received message`;
 * - `tornado`: the event's JSON alone; client messages get no answer.
 */
export type WebSocketDialect = "cherrypy" | "tornado";

/** Options of {@linkcode EventSocket}. */
export interface EventSocketOptions {
  /** Where events come from. */
  hub: EventHub;
  /** The token's record: the socket closes when it expires or is revoked. */
  token: TokenRecord;
  /** Message format and replies. */
  dialect: WebSocketDialect;
  /** Send the jobs/minions aggregate instead of events (`?format_events`). */
  formatEvents: boolean;
  /** Bytes buffered for this client before it is disconnected. */
  bufferLimit: number;
  /** Who the client is, for log lines. */
  peer: string;
  /** Where to log. */
  log: Logger;
  /** Called once when the socket closes. */
  onEnd?: () => void;
  /** With `formatEvents`: asked to run `grains.items` on minions seen for the first time. */
  onNewMinions?: (ids: string[]) => void;
}

/**
 * One WebSocket event stream on an upgraded socket.
 *
 * @example
 * ```ts
 * import { EventSocket, type EventSocketOptions } from "./websocket.ts";
 * declare const req: Request;
 * declare const options: EventSocketOptions;
 * const { socket, response } = Deno.upgradeWebSocket(req);
 * new EventSocket(socket, options);
 * // return response;
 * ```
 */
export class EventSocket implements HubClient {
  readonly #socket: WebSocket;
  readonly #options: EventSocketOptions;
  readonly #info: SaltInfo | null;
  #streaming = false;
  #closed = false;
  #expiry: ReturnType<typeof setTimeout> | undefined;

  /** Wires the socket: waits for the ready message, then streams. */
  constructor(socket: WebSocket, options: EventSocketOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#info = options.formatEvents ? new SaltInfo({ onNewMinions: options.onNewMinions }) : null;
    socket.onmessage = (e) => this.#received(e.data);
    socket.onclose = () => this.#detach();
    socket.onerror = () => this.#detach();
    this.#armExpiry();
  }

  /** Closes the socket at the token's expiry even when no event comes. */
  #armExpiry(): void {
    const ms = this.#options.token.expire * 1000 - Date.now();
    this.#expiry = setTimeout(() => {
      if (TokenStore.valid(this.#options.token)) this.#armExpiry();
      else this.close(1008, "token expired");
    }, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
  }

  /** Closes the socket (server closing, token expired). */
  close(code = 1001, reason = "server closing"): void {
    this.#detach();
    try {
      this.#socket.close(code, reason);
    } catch { /* not open */ }
  }

  /** Closes the socket when its token is no longer valid (after a logout). */
  revalidate(): void {
    if (!TokenStore.valid(this.#options.token)) this.close(1008, "token expired");
  }

  /** Takes a batch from the hub. */
  deliver(batch: EventBatch): void {
    if (this.#closed) return;
    if (!TokenStore.valid(this.#options.token)) return this.close(1008, "token expired");
    const { dialect } = this.#options;
    for (const event of batch.events) {
      if (this.#info) {
        for (const message of this.#info.process(event.tag, event.data)) {
          const json = pythonJsonDumps(message);
          this.#socket.send(dialect === "cherrypy" ? json + "\n\n" : json);
        }
      } else {
        this.#socket.send(dialect === "cherrypy" ? `data: ${event.json}\n\n` : event.json);
      }
    }
    if (this.#socket.bufferedAmount > this.#options.bufferLimit) {
      this.#options.log.warning(
        `API: dropping WebSocket client ${this.#options.peer}: ${this.#socket.bufferedAmount} ` +
          `bytes buffered, over api_client_buffer (${this.#options.bufferLimit})`,
      );
      this.close(1008, "client too slow: over api_client_buffer");
    }
  }

  #received(message: unknown): void {
    if (message === READY_MESSAGE && !this.#streaming && !this.#closed) {
      this.#streaming = true;
      this.#options.hub.attach(this);
    }
    if (this.#options.dialect === "cherrypy" && this.#socket.readyState === WebSocket.OPEN) {
      this.#socket.send("server received message");
    }
  }

  #detach(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#expiry);
    this.#options.hub.detach(this);
    this.#options.onEnd?.();
  }
}
