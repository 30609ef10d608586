/**
 * The master's side of `transport: nats`: its NKey (`<pki_dir>/master.nk`),
 * its key registry (`<pki_dir>/minions`, `minions_pre`, …), the NATS
 * server's authorization file written from the registry (`nats_auth_file`,
 * reloaded through `nats_server_pid_file`), the key presentations of
 * pending minions (`salt.auth.<id>`, answered with Salt's `salt/auth`
 * events, `auto_accept` and `autosign_file`), and the link listener on
 * NATS. The registry's `minions` directory is checked every second, so a key accepted, rejected
 * or deleted by `cli.ts key` (another process) takes effect within a
 * second or two: a minion whose key is gone is cut off.
 *
 * @module
 */
import { join } from "node:path";
import { ConfigError } from "../bus/errors.ts";
import { KEY_DIRS, KeyRegistry } from "../link/key_registry.ts";
import { pkiDirOf } from "../transport/link_transport.ts";
import {
  natsAuthorizationConfig,
  reloadNatsServer,
  writeNatsAuthorization,
} from "../transport/nats_authorization.ts";
import { natsServersOf } from "../transport/nats_connect.ts";
import {
  type AuthReply,
  type AuthRequest,
  authSigningText,
  NatsLinkListener,
  PENDING_USER,
} from "../transport/nats_link.ts";
import { loadNodeKey, verifySignature } from "../transport/nkey_file.ts";
import type { MasterContext } from "./master_context.ts";

/** How long the master tries to reach NATS at start before it gives up, in ms. */
const CONNECT_TRIES_MS = 10_000;

/** The NATS side of a master, started by {@linkcode startNatsLink}. */
export interface NatsLink {
  /** The link listener on NATS. */
  listener: NatsLinkListener;
  /** Stops watching the registry (the link server closes the listener). */
  close(): void;
}

function fromBase64(text: string): Uint8Array {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** The accepted minions and their keys. */
async function acceptedKeys(registry: KeyRegistry): Promise<Map<string, string>> {
  const { minions } = await registry.list();
  const out = new Map<string, string>();
  for (const id of minions) {
    const pub = await registry.publicKey(id);
    if (pub) out.set(id, pub);
  }
  return out;
}

/** `autosign_file`: one glob per line, `#` comments. */
async function autosignGlobs(path: unknown): Promise<string[]> {
  if (typeof path !== "string" || path === "") return [];
  try {
    return (await Deno.readTextFile(path)).split("\n").map((l) => l.trim()).filter((l) =>
      l !== "" && !l.startsWith("#")
    );
  } catch {
    return [];
  }
}

/**
 * Starts the NATS side of the master: keys, authorization, listener.
 *
 * @throws {Error} saying what is wrong when NATS cannot be reached at start
 * (connection refused, authorization violation, a TLS mismatch).
 * @example
 * ```ts
 * import { startNatsLink } from "./nats_link.ts";
 * import type { MasterContext } from "./master_context.ts";
 * declare const ctx: MasterContext;
 * const nats = await startNatsLink(ctx);
 * nats.close();
 * ```
 */
export async function startNatsLink(ctx: MasterContext): Promise<NatsLink> {
  const { config, log } = ctx;
  const source = ctx.source ?? "the master config";
  const { servers, tls } = natsServersOf(config as Record<string, unknown>, source);
  const pkiDir = pkiDirOf(config);
  const key = await loadNodeKey(pkiDir, "master");
  const registry = await KeyRegistry.open(pkiDir);
  const authFile = config.nats_auth_file;
  const pidFile = config.nats_server_pid_file;
  for (const [option, value] of [["nats_auth_file", authFile], ["nats_server_pid_file", pidFile]]) {
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw new ConfigError(
        `${option} in ${source}: expected a file path, got ${JSON.stringify(value)}`,
      );
    }
  }
  let accepted = await acceptedKeys(registry);
  const publish = async () => {
    if (typeof authFile !== "string") return;
    await writeNatsAuthorization(
      authFile,
      natsAuthorizationConfig({ master: key.publicKey, minions: accepted, pending: PENDING_USER }),
    );
    if (typeof pidFile === "string") await reloadNatsServer(pidFile);
  };
  if (typeof authFile === "string") await publish();
  else {
    log.warning(
      "transport: nats without nats_auth_file: the NATS server's own authorization decides who " +
        "may speak as which minion; set nats_auth_file (and nats_server_pid_file) so that the " +
        "master writes per-minion permissions from its keys",
    );
  }
  const onAuth = async (request: AuthRequest): Promise<AuthReply> => {
    const { id, pub } = request;
    let reply: AuthReply;
    const signed = typeof pub === "string" && typeof request.sig === "string" &&
      verifySignature(pub, authSigningText(request), fromBase64(request.sig));
    if (!signed) {
      log.warning(`salt/auth: ${id} presented a key it could not sign for: ignored`);
      reply = { act: "reject", result: false };
    } else {
      reply = await registry.present(id, pub, {
        autoAccept: config.auto_accept === true,
        autosign: await autosignGlobs(config.autosign_file),
      });
    }
    await ctx.events.fireEvent({ result: reply.result, act: reply.act, id, pub }, "salt/auth");
    if (reply.act === "accept") await sync();
    return reply;
  };
  // Keeps the authorization file and the live sessions in step with the registry.
  // Requests during a run share one more run: a burst of 1,000 new keys
  // costs a few reloads of the server, not 1,000.
  let current: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const sync = (): Promise<void> => {
    if (next) return next;
    if (!current) {
      current = syncOnce().finally(() => current = null);
      return current;
    }
    next = current.then(() => {
      next = null;
      return sync();
    });
    return next;
  };
  const syncOnce = () =>
    Promise.resolve().then(async () => {
      const now = await acceptedKeys(registry);
      const same = now.size === accepted.size &&
        [...now].every(([id, pub]) => accepted.get(id) === pub);
      if (same) return;
      const gone = [...accepted].filter(([id, pub]) => now.get(id) !== pub).map(([id]) => id);
      accepted = now;
      try {
        await publish();
      } catch (err) {
        log.error(`NATS authorization: ${(err as Error).message}`);
      }
      for (const id of gone) {
        const n = listener.cutOff(id);
        log.info(`minion ${id}'s key is no longer accepted: cut off ${n} link session(s)`);
      }
    }).catch((err) => log.error(`key registry: ${(err as Error)?.message ?? err}`));
  let listener: NatsLinkListener;
  const started = Date.now();
  for (;;) {
    try {
      listener = await NatsLinkListener.start({
        settings: { servers, tls, seed: key.seed },
        log,
        onAuth,
      });
      break;
    } catch (err) {
      // A reload that has not landed yet looks like an authorization violation for a moment.
      const authorization = /authorization violation/i.test((err as Error).message);
      if (!authorization || Date.now() - started > CONNECT_TRIES_MS) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  log.info(
    `minion link on NATS ${servers.join(", ")} (${accepted.size} accepted keys in ${pkiDir})`,
  );
  // The accepted keys change only with the minions/ directory (keys are
  // written and moved by rename): read them again only when it changed.
  const acceptedDir = join(pkiDir, KEY_DIRS.accepted);
  let seen = -1;
  const timer = setInterval(async () => {
    const mtime = await Deno.stat(acceptedDir).then((s) => s.mtime?.getTime() ?? 0, () => 0);
    if (mtime === seen) return;
    seen = mtime;
    await sync();
  }, 1000);
  return {
    listener,
    close() {
      clearInterval(timer);
    },
  };
}
