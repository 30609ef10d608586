/**
 * The NATS server's authorization, written by the master (`nats_auth_file`)
 * from its key registry: the master's own NKey with every permission, one
 * NKey user per accepted minion that may only use its own subjects, and the
 * shared pending user that may only present a key. The server's config
 * includes the file (`include "…/nats_auth.conf"`); after each change the
 * master has the server reload it (SIGHUP to the pid in
 * `nats_server_pid_file`), and the server then drops connections whose
 * user is gone, so a deleted or rejected key is cut off within seconds.
 *
 * Why NKey users and not decentralised JWTs: a JWT set-up needs an
 * operator, an account and a resolver that the master updates over the
 * system account, and revocations pushed the same way; NKey users need one
 * included file and a reload, work with Debian's nats-server 2.9 as it
 * is, and let the server, not the master, refuse a minion that publishes or
 * subscribes as another.
 *
 * @module
 */
import { dirname } from "node:path";
import { linkSubjects } from "./nats_subjects.ts";

/** What the authorization file holds. */
export interface NatsUsers {
  /** The master's NKey public key. */
  master: string;
  /** Accepted minions: id → NKey public key. */
  minions: ReadonlyMap<string, string>;
  /** The shared pending user. */
  pending: { user: string; pass: string };
}

function quote(text: string): string {
  return JSON.stringify(text);
}

/**
 * The `authorization { users = [...] }` block for `users`.
 *
 * @example
 * ```ts
 * import { natsAuthorizationConfig } from "./nats_authorization.ts";
 * const text = natsAuthorizationConfig({
 *   master: "UMASTER…", minions: new Map([["web1", "UWEB1…"]]),
 *   pending: { user: "salt-pending", pass: "salt-pending" },
 * });
 * text.includes('"salt.link.up.web1"'); // true
 * ```
 */
export function natsAuthorizationConfig(users: NatsUsers): string {
  const lines = [
    "# Written by the saltbus master from its key registry; do not edit.",
    "authorization {",
    "  users = [",
    `    { nkey: ${quote(users.master)} }`,
    `    { user: ${quote(users.pending.user)}, password: ${quote(users.pending.pass)},`,
    `      permissions: { publish: { allow: ["salt.auth.*"] }, subscribe: { allow: ["_INBOX_pending.>"] } } }`,
  ];
  for (const [id, pub] of [...users.minions].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
    const s = linkSubjects(id);
    lines.push(
      `    { nkey: ${quote(pub)}, permissions: {`,
      `        publish: { allow: [${quote(s.open)}, ${quote(s.up)}] },`,
      `        subscribe: { allow: [${quote(s.down)}, ${quote(`${s.inbox}.>`)}] } } } # ${
        id.replace(/[\r\n]/g, " ")
      }`,
    );
  }
  lines.push("  ]", "}", "");
  return lines.join("\n");
}

/**
 * Writes the file atomically (a temporary file renamed over it), 0600.
 *
 * @example
 * ```ts
 * import { writeNatsAuthorization } from "./nats_authorization.ts";
 * await writeNatsAuthorization("/etc/nats/saltbus_auth.conf", "authorization { }\n");
 * ```
 */
export async function writeNatsAuthorization(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, text, { mode: 0o600 });
  await Deno.rename(tmp, path);
}

/**
 * Has the NATS server reload its config: SIGHUP to the pid in `pidFile`.
 *
 * @throws {Error} naming the file when the pid cannot be read or signalled.
 * @example
 * ```ts
 * import { reloadNatsServer } from "./nats_authorization.ts";
 * await reloadNatsServer("/run/nats/nats.pid");
 * ```
 */
export async function reloadNatsServer(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await Deno.readTextFile(pidFile)).trim());
  } catch (err) {
    throw new Error(
      `cannot read nats_server_pid_file ${pidFile}: ${(err as Error).message} ` +
        "(set pid_file in the nats-server config to the same path)",
    );
  }
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new Error(`nats_server_pid_file ${pidFile} does not hold a process id`);
  }
  try {
    Deno.kill(pid, "SIGHUP");
  } catch (err) {
    throw new Error(
      `cannot signal nats-server (pid ${pid} from ${pidFile}) to reload: ${
        (err as Error).message
      } (the master must run as the server's user or root, with --allow-run)`,
    );
  }
}
