/**
 * The `jetstream` returner: the master's events (`event_return: jetstream`)
 * and job returns written to a NATS JetStream stream, durable and bounded
 * by the stream's limits. Options (`returner.jetstream.*` or a
 * `jetstream:` mapping): `stream` (default `SALT_EVENTS`), `subject`
 * (default `salt.events`; an event goes to `<subject>.<tag as one token>`,
 * `.`, `*`, `>` and whitespace `%`-encoded), `max_msgs` (default
 * 1,000,000), `max_bytes` (default 1 GiB), `max_age` seconds (default 7
 * days). It connects with the master's `nats_servers`, `nats_tls` and NKey.
 *
 * Publishes are acknowledged through one inbox, many in flight, each with a
 * `Nats-Msg-Id` (the master id and a sequence), so a resend after a lost
 * acknowledgement is dropped by the stream's duplicate window instead of
 * stored twice. `event_return()` resolves once every event of the batch is
 * acknowledged; what is not acknowledged within 5 s is sent again (up to 5
 * times, then the batch fails and the event returner counts it).
 *
 * It keeps no job cache: `get_load`, `get_jid` and `get_jids` answer empty.
 *
 * @module
 */
import { jetstreamManager } from "npm:@nats-io/jetstream@3.4.0";
import { createInbox, headers, type NatsConnection } from "npm:@nats-io/transport-node@3.4.0";
import { silentLogger } from "../bus/log.ts";
import { genJid } from "../bus/jid.ts";
import { pkiDirOf } from "../transport/link_transport.ts";
import { closeNats, connectNats, natsServersOf } from "../transport/nats_connect.ts";
import { encodeToken } from "../transport/nats_subjects.ts";
import { loadNodeKey } from "../transport/nkey_file.ts";
import { jsonText } from "./json_text.ts";
import {
  type FullEvent,
  type Returner,
  ReturnerError,
  type ReturnLoad,
  type StoredReturn,
} from "./returner.ts";

const encoder = new TextEncoder();

/** The stream settings of a {@linkcode JetStreamReturner}. */
export interface JetStreamSettings {
  /** Stream name. */
  stream: string;
  /** Subject prefix. */
  subject: string;
  /** Most messages kept. */
  maxMsgs: number;
  /** Most bytes kept. */
  maxBytes: number;
  /** Oldest message kept, in seconds. */
  maxAgeSeconds: number;
}

interface Pending {
  subject: string;
  data: Uint8Array;
  msgId: string;
  sentAt: number;
  tries: number;
  done: () => void;
  fail: (err: Error) => void;
}

/** The subject of an event with `tag` under `prefix`. */
export function eventSubject(prefix: string, tag: string): string {
  return `${prefix}.${encodeToken(tag === "" ? "%" : tag)}`;
}

/**
 * Writes events to a JetStream stream.
 *
 * @example
 * ```ts
 * import { JetStreamReturner } from "./jetstream.ts";
 * const store = await JetStreamReturner.open({ node: "master", nats_servers: ["nats://127.0.0.1:4222"] });
 * await store.event_return([{ tag: "my/tag", data: { a: 1 } }]);
 * await store.close();
 * ```
 */
export class JetStreamReturner implements Returner {
  /** Salt's virtual name. */
  readonly name = "jetstream";
  /** The stream settings. */
  readonly settings: JetStreamSettings;
  readonly #nc: NatsConnection;
  readonly #inbox: string;
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  readonly #timer: ReturnType<typeof setInterval>;
  #seq = 0;

  private constructor(nc: NatsConnection, settings: JetStreamSettings, masterId: string) {
    this.#nc = nc;
    this.settings = settings;
    this.#prefix = `${encodeToken(masterId)}-${Date.now().toString(36)}`;
    this.#inbox = createInbox("_INBOX");
    nc.subscribe(`${this.#inbox}.*`, {
      callback: (_err, msg) => {
        let ack: { seq?: number; error?: { description?: string }; duplicate?: boolean } = {};
        try {
          ack = msg.json();
        } catch { /* not JSON: ignored */ }
        // The reply subject ends with the message's id (an ack does not carry it).
        const key = msg.subject.slice(this.#inbox.length + 1);
        const pending = this.#pending.get(key);
        if (!pending) return;
        this.#pending.delete(key);
        if (ack.error) pending.fail(new Error(ack.error.description ?? "JetStream refused it"));
        else pending.done();
      },
    });
    this.#timer = setInterval(() => this.#resend(), 1000);
  }

  /**
   * Connects, and creates the stream when it is missing.
   *
   * @throws {ReturnerError} naming what failed (NATS unreachable, no JetStream, bad option).
   */
  static async open(opts: Record<string, unknown>): Promise<JetStreamReturner> {
    const source = typeof opts.conf_file === "string" ? opts.conf_file : "the master config";
    const block =
      (typeof opts.jetstream === "object" && opts.jetstream !== null
        ? opts.jetstream
        : {}) as Record<string, unknown>;
    const get = (key: string) => opts[`returner.jetstream.${key}`] ?? block[key];
    const num = (key: string, fallback: number) => {
      const v = get(key);
      if (v === undefined || v === null) return fallback;
      if (typeof v !== "number" || !(v > 0)) {
        throw new ReturnerError(
          "jetstream",
          `returner.jetstream.${key} in ${source}: expected a number > 0`,
        );
      }
      return v;
    };
    const settings: JetStreamSettings = {
      stream: String(get("stream") ?? "SALT_EVENTS"),
      subject: String(get("subject") ?? "salt.events"),
      maxMsgs: num("max_msgs", 1_000_000),
      maxBytes: num("max_bytes", 1024 ** 3),
      maxAgeSeconds: num("max_age", 7 * 86400),
    };
    let nc: NatsConnection;
    try {
      const { servers, tls } = natsServersOf(opts, source);
      const sockDir = typeof opts.sock_dir === "string" ? opts.sock_dir : "";
      const key = sockDir || opts.pki_dir
        ? await loadNodeKey(pkiDirOf({ sock_dir: sockDir, pki_dir: opts.pki_dir }), "master")
        : null;
      nc = await connectNats(
        { servers, tls, seed: key?.seed, name: "saltbus jetstream returner" },
        silentLogger,
      );
    } catch (err) {
      throw new ReturnerError("jetstream", (err as Error).message, { cause: err });
    }
    try {
      const jsm = await jetstreamManager(nc);
      const config = {
        name: settings.stream,
        subjects: [`${settings.subject}.>`],
        max_msgs: settings.maxMsgs,
        max_bytes: settings.maxBytes,
        max_age: settings.maxAgeSeconds * 1e9,
        duplicate_window: 120 * 1e9,
      };
      try {
        await jsm.streams.info(settings.stream);
        await jsm.streams.update(settings.stream, config);
      } catch {
        await jsm.streams.add(config);
      }
    } catch (err) {
      await nc.close();
      throw new ReturnerError(
        "jetstream",
        `cannot set up stream ${settings.stream}: ${(err as Error).message} ` +
          "(is JetStream enabled on the server: jetstream {} in its config?)",
        { cause: err },
      );
    }
    const masterId = typeof opts.id === "string" ? opts.id : "master";
    return new JetStreamReturner(nc, settings, masterId);
  }

  /** Publishes events and resolves when the stream has acknowledged all of them. */
  event_return(events: readonly FullEvent[]): Promise<void> {
    return Promise.all(
      events.map((e) =>
        this.#publish(eventSubject(this.settings.subject, String(e.tag ?? "")), {
          tag: e.tag,
          data: e.data,
        })
      ),
    ).then(() => {});
  }

  /** Publishes a job return as the event `salt/job/<jid>/ret/<id>`. */
  returner(ret: ReturnLoad): Promise<void> {
    const tag = `salt/job/${ret.jid}/ret/${ret.id}`;
    return this.#publish(eventSubject(this.settings.subject, tag), { tag, data: ret });
  }

  /** Publishes the job's load as `salt/job/<jid>/new`. */
  save_load(
    jid: string,
    load: Record<string, unknown>,
    minions?: readonly string[],
  ): Promise<void> {
    const tag = `salt/job/${jid}/new`;
    const data = minions === undefined ? load : { ...load, minions: [...minions] };
    return this.#publish(eventSubject(this.settings.subject, tag), { tag, data });
  }

  /** No job cache here: `{}`. */
  get_load(_jid: string): Promise<Record<string, unknown>> {
    return Promise.resolve({});
  }

  /** No job cache here: `{}`. */
  get_jid(_jid: string): Promise<Record<string, StoredReturn>> {
    return Promise.resolve({});
  }

  /** No job cache here: `{}`. */
  get_jids(): Promise<Record<string, Record<string, unknown>>> {
    return Promise.resolve({});
  }

  /** `passed_jid`, or a new jid. */
  prep_jid(_nocache?: boolean, passed_jid?: string | null): string {
    return passed_jid ?? genJid();
  }

  /** The stream's own limits remove old events: nothing to do. */
  clean_old_jobs(): Promise<number> {
    return Promise.resolve(0);
  }

  /** Waits (up to 10 s) for the acknowledgements in flight, then closes the connection. */
  async close(): Promise<void> {
    const end = Date.now() + 10_000;
    while (this.#pending.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    clearInterval(this.#timer);
    for (const p of this.#pending.values()) p.fail(new Error("closed before acknowledged"));
    this.#pending.clear();
    await closeNats(this.#nc);
  }

  #publish(subject: string, body: unknown): Promise<void> {
    const data = encoder.encode(jsonText(body));
    const msgId = `${this.#prefix}-${++this.#seq}`;
    return new Promise<void>((done, fail) => {
      const pending: Pending = { subject, data, msgId, sentAt: 0, tries: 0, done, fail };
      this.#pending.set(msgId, pending);
      this.#send(pending);
    });
  }

  #send(p: Pending): void {
    p.sentAt = Date.now();
    p.tries++;
    const h = headers();
    h.set("Nats-Msg-Id", p.msgId);
    try {
      // The reply subject names the message, so its acknowledgement finds it.
      this.#nc.publish(p.subject, p.data, { reply: `${this.#inbox}.${p.msgId}`, headers: h });
    } catch { /* disconnected: resent by the timer */ }
  }

  #resend(): void {
    const now = Date.now();
    for (const [key, p] of this.#pending) {
      if (now - p.sentAt < 5000) continue;
      if (p.tries >= 5) {
        this.#pending.delete(key);
        p.fail(new ReturnerError("jetstream", `no acknowledgement for ${p.subject} after 5 tries`));
      } else this.#send(p);
    }
  }
}
