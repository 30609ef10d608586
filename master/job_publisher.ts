/**
 * Jobs from the master to its minions (spec §7.2): a `_publish` request on
 * the minion link names a target and a function; the master works out the
 * expected minions from those it knows (ids and cached grains), fires the
 * bare-JID event and `salt/job/<jid>/new`, and publishes the job to the
 * expected minions that are connected (each checks the target again).
 * The link's registry ({@linkcode MinionLinkServer.jobs}) records whom it was
 * sent to: returns come back as `_return` loads, are accepted from those
 * minions only, and are fired as `salt/job/<jid>/ret/<id>`. When one of them
 * disconnects before returning, the link that published the job hears
 * `_minion_lost {jid, id}` at once (`LocalClient` then reports it
 * `[Not connected]` without waiting for the timeout). `_manage` answers
 * `manage.up`/`manage.down`/`manage.status`.
 *
 * @module
 */
import type { EventClient } from "../bus/event_client.ts";
import { tagify } from "../bus/tagify.ts";
import { genJid } from "../bus/jid.ts";
import type { PublishedJob } from "../jobs/local_client.ts";
import { compileTarget, TARGET_TYPES, type TargetType } from "../jobs/target.ts";
import { isMapping } from "../bus/mapping.ts";
import type { Logger } from "../bus/log.ts";
import { LinkRequestError, type MinionLinkServer } from "../link/link_server.ts";
import type { JobPublisher } from "../link/published_jobs.ts";

/** What a `_publish` request asks for. */
export interface PublishRequest {
  /** The target: a pattern, or a list of ids for `list`. */
  tgt: string | string[];
  /** How to read the target (default `glob`). */
  tgt_type?: TargetType;
  /** The function, `module.function`. */
  fun: string;
  /** Salt's argument list (keyword arguments as a trailing map with `__kwarg__: true`). */
  arg?: unknown[];
  /** Who asked (shown in `salt/job/<jid>/new`). */
  user?: string;
  /** Returners the minions also send their returns to (`--return a,b`; Salt's `ret`). */
  ret?: string;
}

/** What the master answers a `_publish` with (the job `LocalClient` sees). */
export type PublishResult = PublishedJob;

/** Options of {@linkcode publishJob}. */
export interface PublishJobOptions {
  /** Who asked: it hears `_minion_lost {jid, id}` when an expected minion leaves before returning. */
  publisher?: JobPublisher;
  /** Where to log when the registry of published jobs had to forget older jobs. */
  log?: Logger;
  /** The master's `ext_job_cache`: appended to every publication's `ret`, as Salt. */
  extJobCache?: unknown;
}

/**
 * Publishes a job: records it in the link's registry, fires `<jid>` and
 * `salt/job/<jid>/new`, then sends it to the expected minions that are
 * connected.
 *
 * @throws {LinkRequestError} for a request without a function, or a bad target.
 * @example
 * ```ts
 * import { publishJob } from "./job_publisher.ts";
 * import type { MasterHandle } from "./start_master.ts";
 * declare const master: MasterHandle;
 * const { jid, minions } = await publishJob(master.minions, master.events, {
 *   tgt: "web*",
 *   fun: "test.ping",
 * });
 * ```
 */
export async function publishJob(
  server: MinionLinkServer,
  events: EventClient,
  request: PublishRequest,
  options: PublishJobOptions = {},
): Promise<PublishResult> {
  const { tgt, fun } = request;
  const tgtType = request.tgt_type ?? "glob";
  const arg = request.arg ?? [];
  if (typeof fun !== "string" || !/^[\w.]+\.\w+$/.test(fun)) {
    throw new LinkRequestError(
      `_publish needs a function such as test.ping, not ${JSON.stringify(fun)}`,
    );
  }
  if (!TARGET_TYPES.includes(tgtType)) {
    throw new LinkRequestError(`unknown target type ${JSON.stringify(tgtType)}`);
  }
  if (!Array.isArray(arg)) throw new LinkRequestError("_publish: arg must be a list");
  const ret = publishRet(request.ret, options.extJobCache);
  let match;
  try {
    match = compileTarget(tgt, tgtType);
  } catch (err) {
    throw new LinkRequestError(err instanceof Error ? err.message : String(err));
  }
  const minions = server.known.filter((id) => match({ id, grains: server.grainsOf(id) }));
  const missing = minions.filter((id) => !server.isConnected(id));
  const sendTo = minions.filter((id) => server.isConnected(id));
  const jid = genJid();
  const user = request.user ?? "root";
  // Recorded first: a minion that leaves while the events go out is reported.
  const forgotten = server.jobs.add(jid, sendTo, options.publisher ?? null);
  if (forgotten > 0) {
    options.log?.warning(
      `published-job registry full: forgot the ${forgotten} oldest job(s); ` +
        `their late returns will be refused`,
    );
  }
  await events.fireEvent({ minions }, jid);
  await events.fireEvent(
    { jid, tgt_type: tgtType, tgt, user, fun, arg, minions, missing },
    tagify([jid, "new"], "job"),
  );
  server.publish("_publish", { jid, tgt, tgt_type: tgtType, fun, arg, user, ret }, sendTo);
  return { jid, minions, missing };
}

/**
 * The publication's `ret`: the requested returners, then the master's
 * `ext_job_cache` (Salt's `_prep_pub`: `"postgres"` + `mysql` → `"postgres,mysql"`).
 *
 * @throws {LinkRequestError} when `ret` is not a string.
 * @example
 * ```ts
 * import { publishRet } from "./job_publisher.ts";
 * publishRet("postgres", "mysql"); // "postgres,mysql"
 * publishRet(undefined, ""); // ""
 * ```
 */
export function publishRet(ret: unknown, extJobCache: unknown): string {
  if (ret !== undefined && ret !== null && typeof ret !== "string") {
    throw new LinkRequestError(`_publish: ret must be returner names, not ${JSON.stringify(ret)}`);
  }
  const requested = ret ?? "";
  if (typeof extJobCache !== "string" || extJobCache === "") return requested;
  return requested === "" ? extJobCache : `${requested},${extJobCache}`;
}

/**
 * Serves `_publish` and `_manage` on the master's minion link, and tells
 * publishers at once when a minion their job waits for disconnects.
 *
 * @example
 * ```ts
 * import { serveJobs } from "./job_publisher.ts";
 * import type { MasterHandle } from "./start_master.ts";
 * declare const master: MasterHandle;
 * serveJobs(master.minions, master.events);
 * ```
 */
export function serveJobs(
  server: MinionLinkServer,
  events: EventClient,
  log?: Logger,
  extJobCache?: unknown,
): void {
  server.handle("_publish", (message, peer) => {
    if (!isMapping(message.data.request)) throw new LinkRequestError("_publish needs a request");
    return publishJob(server, events, message.data.request as unknown as PublishRequest, {
      publisher: peer,
      log,
      extJobCache,
    });
  });
  server.handle("_manage", (message) => manage(server, message.data.fun));
  server.onPresence((id, connected) => {
    if (connected) return;
    for (const { jid, publisher } of server.jobs.lost(id)) {
      publisher.send("_minion_lost", { jid, id });
    }
  });
}

/** `manage.up`, `manage.down`, `manage.status` (Salt's runner, from the link's view). */
function manage(server: MinionLinkServer, fun: unknown): unknown {
  const up = server.minions.map((m) => m.id);
  const down = server.known.filter((id) => !server.isConnected(id));
  switch (fun) {
    case "up":
      return up;
    case "down":
      return down;
    case "status":
      return { up, down };
    case "grains": // cache.grains: what each known minion announced
      return Object.fromEntries(server.known.map((id) => [id, server.grainsOf(id) ?? {}]));
    default:
      throw new LinkRequestError(`manage.${String(fun)} is not available`);
  }
}
