/**
 * The master↔minion link over NATS (`transport: nats`): a
 * {@linkcode NatsLinkDialer} for a minion (or a client on a minion's host)
 * and a {@linkcode NatsLinkListener} for the master, behind the same
 * `LinkDialer`/`LinkListener` interfaces as the Unix socket. Each link
 * connection is a {@linkcode NatsSession} on the minion's subjects
 * (`salt.link.open|up|down.<id>`, see nats_subjects.ts), so the link's own
 * protocol (hello, jobs, returns, `_minion_event`, heartbeats) runs
 * unchanged, and the NATS server's per-minion permissions decide who may
 * speak as which id: the listener marks each session with the id its
 * subject names.
 *
 * A minion whose key the server does not know yet connects as the shared
 * pending user, which may only publish `salt.auth.<id>`: it presents its
 * public key, signed, and waits to be accepted.
 *
 * @module
 */
import type { NatsConnection } from "npm:@nats-io/transport-node@3.4.0";
import type { Logger } from "../bus/log.ts";
import type { ByteChannel } from "../bus/transport.ts";
import type { LinkDialer, LinkListener } from "./link_endpoints.ts";
import {
  closeNats,
  connectNats,
  explainNatsError,
  type NatsSettings,
  type NatsTls,
} from "./nats_connect.ts";
import {
  decodeHeader,
  encodeFrame,
  FRAME,
  HEADER_SIZE,
  NatsSession,
  newSessionId,
  sessionIdBytes,
} from "./nats_session.ts";
import { decodeToken, encodeToken, LINK_PREFIX, linkSubjects } from "./nats_subjects.ts";
import type { NodeKey } from "./nkey_file.ts";

/** The pending user's default name and password (a shared, public credential). */
export const PENDING_USER = { user: "salt-pending", pass: "salt-pending" } as const;

const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Ends every session of a connection whose NATS connection closed for good. */
function watchStatus(
  nc: NatsConnection,
  sessions: () => Iterable<NatsSession>,
  log: Logger,
  label: string,
  onAuthRefused?: () => void,
): void {
  (async () => {
    for await (const status of nc.status()) {
      switch (status.type) {
        case "disconnect":
          log.warning(`${label}: NATS disconnected from ${status.server}; reconnecting`);
          break;
        case "reconnect":
          log.info(`${label}: NATS reconnected to ${status.server}`);
          for (const session of sessions()) session.resync();
          break;
        case "error": {
          const text = `${status.error?.message ?? status.error}`;
          log.warning(`${label}: NATS: ${text}`);
          if (onAuthRefused && /authorization violation/i.test(text)) onAuthRefused();
          break;
        }
      }
    }
  })().catch(() => {});
}

/** A pending minion's key presentation (`salt.auth.<id>`). */
export interface AuthRequest {
  /** The minion id. */
  id: string;
  /** Its NKey public key. */
  pub: string;
  /** A random nonce. */
  nonce: string;
  /** Base64 signature of `id\npub\nnonce` by the key. */
  sig: string;
}

/** The master's answer to an {@linkcode AuthRequest}. */
export interface AuthReply {
  /** Salt's `act`: `accept`, `pend`, `reject` or `denied`. */
  act: string;
  /** Salt's `result` (true for `accept` and `pend`, false for `reject` and `denied`). */
  result: boolean;
}

/** The bytes a minion signs to present its key. */
export function authSigningText(req: Pick<AuthRequest, "id" | "pub" | "nonce">): Uint8Array {
  return new TextEncoder().encode(`${req.id}\n${req.pub}\n${req.nonce}`);
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Options of {@linkcode NatsLinkDialer}. */
export interface NatsLinkDialerOptions {
  /** The minion id. */
  id: string;
  /** Servers and TLS. */
  servers: string[];
  /** TLS settings. */
  tls?: NatsTls;
  /** The node's key (loaded on first dial). */
  key: () => Promise<NodeKey>;
  /** Where to log. */
  log: Logger;
  /** The pending user's credentials. @default {PENDING_USER} */
  pending?: { user: string; pass: string };
}

/**
 * A minion's dialer: one NATS connection, a session per `dial()`.
 *
 * @example
 * ```ts
 * import { NatsLinkDialer } from "./nats_link.ts";
 * import { loadNodeKey } from "./nkey_file.ts";
 * import { createLogger } from "../bus/log.ts";
 * const dialer = new NatsLinkDialer({
 *   id: "web1", servers: ["nats://10.0.0.1:4222"], log: createLogger("info"),
 *   key: () => loadNodeKey("/var/lib/saltbus/pki/minion", "minion"),
 * });
 * const channel = await dialer.dial(); // rejects until the master has accepted the key
 * channel.close();
 * await dialer.close();
 * ```
 */
export class NatsLinkDialer implements LinkDialer {
  readonly #options: NatsLinkDialerOptions;
  readonly #subjects: ReturnType<typeof linkSubjects>;
  readonly #sessions = new Map<string, NatsSession>();
  #nc: NatsConnection | null = null;
  #connecting: Promise<NatsConnection> | null = null;
  #lastAuth = "";
  #closed = false;

  /** Creates the dialer; nothing connects before {@linkcode dial}. */
  constructor(options: NatsLinkDialerOptions) {
    this.#options = options;
    this.#subjects = linkSubjects(options.id);
  }

  /** Where the master is, for messages. */
  describe(): string {
    return `NATS ${this.#options.servers.join(", ")} as ${this.#options.id}`;
  }

  /** Opens a session with the master; rejects when NATS, the key or the master is not there. */
  async dial(): Promise<ByteChannel> {
    const nc = await this.#connection();
    const id = newSessionId();
    const session = new NatsSession({
      id,
      publish: (frame) => {
        try {
          nc.publish(this.#subjects.up, frame);
        } catch { /* closed: the session ends with the connection */ }
      },
      maxPayload: nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD,
      log: this.#options.log,
      label: `link to the master over NATS`,
      onEnd: () => this.#sessions.delete(id),
    });
    this.#sessions.set(id, session);
    try {
      await nc.request(this.#subjects.open, sessionIdBytes(id), { timeout: 5_000 });
    } catch (err) {
      session.abort("not opened");
      const name = (err as Error)?.name ?? "";
      throw new Error(
        /NoResponders|503/.test(`${name} ${(err as Error)?.message}`)
          ? "no master listens on NATS yet"
          : `the master did not open a link session: ${(err as Error)?.message ?? err}`,
      );
    }
    return session;
  }

  /** Closes the NATS connection (its sessions end). */
  async close(): Promise<void> {
    this.#closed = true;
    const sessions = [...this.#sessions.values()];
    for (const session of sessions) session.close();
    const nc = this.#nc;
    this.#nc = null;
    if (nc) await closeNats(nc);
    for (const session of sessions) session.dispose();
  }

  #connection(): Promise<NatsConnection> {
    if (this.#closed) return Promise.reject(new Error("the NATS link is closed"));
    if (this.#nc && !this.#nc.isClosed()) return Promise.resolve(this.#nc);
    return this.#connecting ??= this.#connect().finally(() => this.#connecting = null);
  }

  async #connect(): Promise<NatsConnection> {
    const { id, servers, tls, log } = this.#options;
    const key = await this.#options.key();
    let nc: NatsConnection;
    try {
      nc = await connectNats({
        servers,
        tls,
        seed: key.seed,
        inboxPrefix: this.#subjects.inbox,
        name: `saltbus minion ${id}`,
      }, log);
    } catch (err) {
      if (/authorization violation/i.test((err as Error).message)) {
        await this.#askToBeAccepted(key);
      }
      throw err;
    }
    nc.subscribe(this.#subjects.down, {
      callback: (_err, msg) => {
        const header = decodeHeader(msg.data);
        if (header === null) return;
        this.#sessions.get(header.session)?.receive(header, msg.data.subarray(HEADER_SIZE));
      },
    });
    watchStatus(nc, () => this.#sessions.values(), log, `minion ${id}`, () => {
      // The server no longer knows this key (deleted or rejected on the master):
      // stop reconnecting with it and ask to be accepted again.
      log.warning(`minion ${id}: NATS refuses this minion's key now: the master cut it off`);
      nc.close().catch(() => {});
    });
    nc.closed().then((err) => {
      for (const session of [...this.#sessions.values()]) {
        session.abort(err ? explainNatsError(err, servers) : "NATS connection closed");
      }
      if (this.#nc === nc) this.#nc = null;
      if (err && !this.#closed) log.warning(`minion ${id}: ${explainNatsError(err, servers)}`);
    });
    this.#nc = nc;
    this.#lastAuth = "";
    return nc;
  }

  /** As the pending user: presents the key and logs what the master said. */
  async #askToBeAccepted(key: NodeKey): Promise<void> {
    const { id, servers, tls, log } = this.#options;
    const pending = this.#options.pending ?? PENDING_USER;
    let nc: NatsConnection | null = null;
    try {
      nc = await connectNats({
        servers,
        tls,
        user: pending.user,
        pass: pending.pass,
        inboxPrefix: "_INBOX_pending",
        name: `saltbus pending minion ${id}`,
      }, log);
      const nonce = newSessionId();
      const request: AuthRequest = {
        id,
        pub: key.publicKey,
        nonce,
        sig: toBase64(key.sign(authSigningText({ id, pub: key.publicKey, nonce }))),
      };
      const msg = await nc.request(this.#subjects.auth, JSON.stringify(request), {
        timeout: 5_000,
      });
      const reply = msg.json<AuthReply>();
      if (reply.act !== this.#lastAuth) {
        this.#lastAuth = reply.act;
        if (reply.act === "accept") log.info(`minion ${id}: the master accepted this minion's key`);
        else {
          log.warning(
            `minion ${id}: the master has not accepted this minion's key (${reply.act}); ` +
              `on the master: cli.ts key -a ${id}`,
          );
        }
      }
    } catch (err) {
      log.warning(`minion ${id}: cannot present the key to the master: ${(err as Error).message}`);
    } finally {
      await nc?.close().catch(() => {});
    }
  }
}

/** Options of {@linkcode NatsLinkListener.start}. */
export interface NatsLinkListenerOptions {
  /** Servers and TLS. */
  settings: Omit<NatsSettings, "name" | "inboxPrefix">;
  /** Where to log. */
  log: Logger;
  /** Ends a session after this long without a frame from the minion, in ms. @default {20000} */
  idleMs?: number;
  /** Answers a pending minion's key presentation (the master's key registry). */
  onAuth?: (request: AuthRequest) => Promise<AuthReply>;
}

/**
 * The master's side: sessions opened by minions, each marked with the
 * minion id NATS authenticated.
 *
 * @example
 * ```ts
 * import { NatsLinkListener } from "./nats_link.ts";
 * import { createLogger } from "../bus/log.ts";
 * const listener = await NatsLinkListener.start({
 *   settings: { servers: ["nats://127.0.0.1:4222"] }, log: createLogger("info"),
 * });
 * for await (const channel of listener.accept()) channel.close();
 * ```
 */
export class NatsLinkListener implements LinkListener {
  /** Where it listens, for messages. */
  readonly address: string;
  readonly #nc: NatsConnection;
  readonly #options: NatsLinkListenerOptions;
  readonly #sessions = new Map<string, NatsSession>();
  readonly #waiting: NatsSession[] = [];
  #wake: (() => void) | null = null;
  #closed = false;
  readonly #resets = new Map<string, number>();

  private constructor(nc: NatsConnection, options: NatsLinkListenerOptions) {
    this.#nc = nc;
    this.#options = options;
    this.address = `NATS ${options.settings.servers.join(", ")}`;
  }

  /**
   * Connects and subscribes.
   *
   * @throws {Error} explaining why NATS cannot be reached.
   */
  static async start(options: NatsLinkListenerOptions): Promise<NatsLinkListener> {
    const nc = await connectNats({ ...options.settings, name: "saltbus master" }, options.log);
    const listener = new NatsLinkListener(nc, options);
    listener.#subscribe();
    return listener;
  }

  /** The NATS connection (the master's other NATS users share it). */
  get connection(): NatsConnection {
    return this.#nc;
  }

  /** Sessions opened by minions, as they come; ends when closed. */
  async *accept(): AsyncIterable<ByteChannel> {
    while (!this.#closed) {
      const next = this.#waiting.shift();
      if (next) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = null;
    }
  }

  /** Ends every session of minion `id` at once (its key was deleted or rejected). */
  cutOff(id: string): number {
    let n = 0;
    for (const session of [...this.#sessions.values()]) {
      if (session.authenticatedId === id) {
        session.close();
        n++;
      }
    }
    return n;
  }

  /** Stops accepting, ends the sessions, and closes the NATS connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    const sessions = [...this.#sessions.values()];
    for (const session of sessions) session.close();
    await closeNats(this.#nc);
    for (const session of sessions) session.dispose();
  }

  #subscribe(): void {
    const { log } = this.#options;
    const nc = this.#nc;
    nc.subscribe(`${LINK_PREFIX}.open.*`, {
      callback: (_err, msg) => {
        const token = msg.subject.slice(LINK_PREFIX.length + 6);
        const id = decodeToken(token);
        if (id === null || msg.data.length !== 16) return;
        const sid = [...msg.data].map((b) => b.toString(16).padStart(2, "0")).join("");
        if (!this.#sessions.has(sid)) {
          // A minion restarted after dying without FIN: its old sessions get a second to answer.
          for (const old of this.#sessions.values()) {
            if (old.authenticatedId === id) old.probe(1000);
          }
          this.#open(sid, id, token);
        }
        msg.respond("ok");
      },
    });
    nc.subscribe(`${LINK_PREFIX}.up.*`, {
      callback: (_err, msg) => {
        const header = decodeHeader(msg.data);
        if (header === null) return;
        const token = msg.subject.slice(LINK_PREFIX.length + 4);
        const session = this.#sessions.get(header.session);
        if (session && encodeToken(session.authenticatedId!) === token) {
          session.receive(header, msg.data.subarray(HEADER_SIZE));
          return;
        }
        // Not a session of ours (an earlier master's): tell the minion, once a second.
        const now = Date.now();
        if ((this.#resets.get(header.session) ?? 0) + 1000 > now) return;
        this.#resets.set(header.session, now);
        if (this.#resets.size > 10_000) this.#resets.clear();
        nc.publish(
          `${LINK_PREFIX}.down.${token}`,
          encodeFrame(FRAME.RESET, sessionIdBytes(header.session), 0, 0),
        );
      },
    });
    if (this.#options.onAuth) {
      const onAuth = this.#options.onAuth;
      nc.subscribe("salt.auth.*", {
        callback: (_err, msg) => {
          let request: AuthRequest;
          try {
            request = msg.json<AuthRequest>();
          } catch {
            return;
          }
          const token = msg.subject.slice("salt.auth.".length);
          if (typeof request?.id !== "string" || encodeToken(request.id) !== token) return;
          onAuth(request).then(
            (reply) => msg.respond(JSON.stringify(reply)),
            (err) => log.warning(`key presentation of ${request.id}: ${err?.message ?? err}`),
          );
        },
      });
    }
    watchStatus(nc, () => this.#sessions.values(), log, "master");
  }

  #open(sid: string, id: string, token: string): void {
    const session = new NatsSession({
      id: sid,
      publish: (frame) => {
        try {
          this.#nc.publish(`${LINK_PREFIX}.down.${token}`, frame);
        } catch { /* closed */ }
      },
      maxPayload: this.#nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD,
      log: this.#options.log,
      label: `link of minion ${id} over NATS`,
      idleMs: this.#options.idleMs ?? 20_000,
      authenticatedId: id,
      onEnd: () => this.#sessions.delete(sid),
    });
    this.#sessions.set(sid, session);
    this.#waiting.push(session);
    this.#wake?.();
  }
}
