/**
 * salt-api's resource routes (rest_cherrypy, spec §16.5), each with its
 * exact envelope: `GET /minions[/<mid>]` (`grains.items` through
 * `LocalClient`), `POST /minions` (`local_async`, 202 with `_links`),
 * `GET /jobs` (streamed from the job cache), `GET /jobs/<jid>`
 * (`jobs.list_job`: `info` and `return`), `GET /keys[/<mid>]` (wheel
 * `key.list_all` / `key.finger`), `GET /stats`. Every route needs a token
 * (`X-Auth-Token`, the `session_id` cookie), as the other API routes;
 * `/stats` not with `stats_disable_auth`.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import { BusUnreachableError, ConfigError, UsageError } from "../bus/errors.ts";
import { isJid } from "../bus/jid.ts";
import type { Logger } from "../bus/log.ts";
import { isMapping } from "../bus/mapping.ts";
import { LocalClient } from "../jobs/local_client.ts";
import { TARGET_TYPES, type TargetType } from "../jobs/target.ts";
import { MasterRequestError } from "../link/master_link.ts";
import type { NodeServices } from "../link/node_services.ts";
import { pythonJsonDumps } from "../output/python_json.ts";
import { callRunner } from "../runners/registry.ts";
import { callWheel } from "../wheel/registry.ts";
import type { TokenRecord } from "./auth.ts";
import { jobsListStream } from "./jobs_stream.ts";
import { BodyError, lowstateChunks } from "./minions_body.ts";
import { readRequestBody, RequestBodyError } from "./request_body.ts";
import { apiRunnerContext } from "./resource_context.ts";
import { permitted, type PermRequest } from "./perms.ts";

/** What the routes need from the API server. */
export interface ResourceDeps {
  /** The master configuration. */
  config: BusConfig;
  /** How to reach the master and its bus. */
  services: NodeServices;
  /** Where to log. */
  log: Logger;
  /** The token record a request carries, or `null`. */
  auth(req: Request, url: URL): TokenRecord | null;
  /** Figures for `GET /stats` (with `collect_stats`). */
  stats?: () => Record<string, unknown>;
  /** Largest request body (`max_request_body_size`). */
  maxBodySize?: number;
}

const STARTED = Date.now();

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(pythonJsonDumps(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function error(status: number, message: string): Response {
  return json(status, { status, return: message });
}

function only(req: Request, methods: string[]): Response | null {
  if (methods.includes(req.method)) return null;
  return new Response(pythonJsonDumps({ status: 405, return: `use ${methods.join(" or ")}` }), {
    status: 405,
    headers: { "content-type": "application/json", allow: methods.join(", ") },
  });
}

/** The API option `name` from `rest_cherrypy:` or `api:`. */
function apiOption(config: BusConfig, name: string): unknown {
  for (const block of [config.api, (config as Record<string, unknown>).rest_cherrypy]) {
    if (isMapping(block) && name in block) return block[name];
  }
  return undefined;
}

function timeoutOf(config: BusConfig): number {
  const timeout = (config as Record<string, unknown>).timeout;
  return typeof timeout === "number" && timeout > 0 ? timeout : 5;
}

/** An error a route answers with a status instead of a 500. */
function failure(err: unknown, log: Logger, what: string): Response {
  if (err instanceof BusUnreachableError || err instanceof MasterRequestError) {
    log.warning(`API: ${what}: ${(err as Error).message}`);
    return error(503, "Salt Master is not available.");
  }
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof BodyError) {
    return error(err instanceof BodyError ? err.status : 400, (err as Error).message);
  }
  if (err instanceof RequestBodyError) return error(err.status, err.message);
  throw err;
}

function segment(path: string, prefix: string): string | null | undefined {
  if (path === prefix || path === `${prefix}/`) return null;
  if (!path.startsWith(`${prefix}/`)) return undefined;
  const rest = path.slice(prefix.length + 1).replace(/\/$/, "");
  if (rest === "" || rest.includes("/")) return undefined;
  try {
    return decodeURIComponent(rest);
  } catch {
    return undefined;
  }
}

/**
 * Answers `req` if it is for one of the resource routes, else resolves
 * `null` (the server goes on to its other routes or its 404).
 *
 * @example
 * ```ts
 * import { routeResources, type ResourceDeps } from "./resource_routes.ts";
 * declare const deps: ResourceDeps;
 * const req = new Request("http://127.0.0.1:8000/keys", { headers: { "x-auth-token": "…" } });
 * const res = await routeResources(req, new URL(req.url), deps); // {"return": {"minions": […], …}}
 * ```
 */
export async function routeResources(
  req: Request,
  url: URL,
  deps: ResourceDeps,
): Promise<Response | null> {
  const path = url.pathname;
  if (path === "/stats" || path === "/stats/") return only(req, ["GET"]) ?? stats(req, url, deps);
  const minion = segment(path, "/minions");
  const job = minion === undefined ? segment(path, "/jobs") : undefined;
  const key = minion === undefined && job === undefined ? segment(path, "/keys") : undefined;
  if (minion === undefined && job === undefined && key === undefined) return null;
  const methods = minion === null ? ["GET", "POST"] : ["GET"];
  const refused = only(req, methods);
  if (refused) return refused;
  const token = deps.auth(req, url);
  if (token === null) return error(401, "Please log in");
  const ctx = apiRunnerContext(deps.config, deps.services, deps.log);
  const need: PermRequest = minion !== undefined
    ? { form: "local", fun: "grains.items", args: [], kwargs: {}, tgt: minion ?? "*" }
    : job !== undefined
    ? {
      form: "runner",
      fun: job === null ? "jobs.list_jobs" : "jobs.list_job",
      args: [],
      kwargs: {},
    }
    : { form: "wheel", fun: key === null ? "key.list_all" : "key.finger", args: [], kwargs: {} };
  // POST /minions checks each chunk's own function instead.
  if (req.method === "GET" && !permitted(token.perms, need)) return forbidden(token, need, deps);
  try {
    if (minion !== undefined) {
      return req.method === "POST"
        ? await postMinions(req, deps, token)
        : await getMinions(minion ?? "*", deps, token);
    }
    if (job !== undefined) {
      if (job === null) return listJobs(deps);
      if (!isJid(job)) {
        return error(400, `'${job}' is not a job id (20 digits, e.g. 20240501123456789012)`);
      }
      const info = await callRunner("jobs.list_job", [job], {}, ctx) as Record<string, unknown>;
      const result = isMapping(info.Result) ? info.Result : {};
      const returns: Record<string, unknown> = {};
      for (const [id, ret] of Object.entries(result)) {
        returns[id] = isMapping(ret) ? ret.return : ret;
      }
      return json(200, { info: [info], return: [returns] });
    }
    const ret = key === null
      ? await callWheel("key.list_all", [], {}, ctx)
      : await callWheel("key.finger", [], { match: key }, ctx);
    return json(200, { return: ret });
  } catch (err) {
    return failure(err, deps.log, `${req.method} ${path}`);
  }
}

/** 401 for a route the token's perms do not allow, as salt-api's eauth check. */
function forbidden(token: TokenRecord, need: PermRequest, deps: ResourceDeps): Response {
  deps.log.info(`API: ${token.user} may not run ${need.form} ${need.fun} (external_auth perms)`);
  return error(
    401,
    need.form === "local"
      ? "Authorization error occurred."
      : `Authentication failure of type "eauth" occurred for user ${token.user}.`,
  );
}

async function getMinions(
  tgt: string,
  deps: ResourceDeps,
  token: TokenRecord,
): Promise<Response> {
  await using client = new LocalClient({
    opts: deps.config as unknown as Record<string, unknown>,
    services: deps.services,
    log: deps.log,
  });
  const grains = await client.cmd(tgt, "grains.items", [], {
    timeout: timeoutOf(deps.config),
    user: token.user,
  });
  return json(200, { return: [grains] });
}

async function postMinions(req: Request, deps: ResourceDeps, token: TokenRecord) {
  const bytes = await readRequestBody(req, {
    limit: deps.maxBodySize ?? 1048576,
    option: "api.max_request_body_size",
  });
  const chunks = lowstateChunks(req.headers.get("content-type"), bytes);
  await using client = new LocalClient({
    opts: deps.config as unknown as Record<string, unknown>,
    services: deps.services,
    log: deps.log,
  });
  const results: Record<string, unknown>[] = [];
  for (const chunk of chunks) {
    const { tgt, fun } = chunk;
    if ((typeof tgt !== "string" && !Array.isArray(tgt)) || typeof fun !== "string") {
      throw new BodyError(400, "a POST /minions lowstate needs tgt and fun");
    }
    const kwarg = isMapping(chunk.kwarg) ? chunk.kwarg as Record<string, unknown> : undefined;
    const tgtType = String(chunk.tgt_type ?? chunk.expr_form ?? "glob") as TargetType;
    if (!TARGET_TYPES.includes(tgtType)) {
      throw new BodyError(
        400,
        `tgt_type must be one of ${TARGET_TYPES.join(", ")}, not '${tgtType}'`,
      );
    }
    const need: PermRequest = {
      form: "local",
      fun,
      args: Array.isArray(chunk.arg) ? chunk.arg : [],
      kwargs: kwarg ?? {},
      tgt,
      tgtType,
    };
    if (!permitted(token.perms, need)) return forbidden(token, need, deps);
    let published;
    try {
      published = await client.publish(tgt, fun, (chunk.arg as unknown[]) ?? [], {
        tgtType,
        kwargs: kwarg,
        user: token.user,
      });
    } catch (err) {
      // A refusal (a bad target or function) is the request's fault; no answer is the master's.
      const text = err instanceof Error ? err.message : String(err);
      if (err instanceof MasterRequestError && !/no answer|went away|closed|not sent/.test(text)) {
        throw new BodyError(400, text);
      }
      throw err;
    }
    results.push(
      published.minions.length === 0 ? {} : { jid: published.jid, minions: published.minions },
    );
  }
  const jobs = results.filter((r) => "jid" in r).map((r) => ({ href: `/jobs/${r.jid}` }));
  return json(202, { return: results, _links: { jobs } });
}

function listJobs(deps: ResourceDeps): Response {
  const cache = deps.config.master_job_cache ?? "sqlite";
  if (cache !== "sqlite") {
    return error(400, `GET /jobs reads the sqlite job cache; master_job_cache is '${cache}'`);
  }
  let body: ReadableStream<Uint8Array>;
  try {
    body = jobsListStream(deps.config);
  } catch (err) {
    deps.log.error(`API: GET /jobs: the job cache cannot be read: ${(err as Error).message}`);
    return error(503, "the job cache cannot be read; see the API's log");
  }
  // Chunked: written as the pages are read, never held whole (salt#50931).
  return new Response(body, {
    headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
  });
}

function stats(req: Request, url: URL, deps: ResourceDeps): Response {
  if (apiOption(deps.config, "stats_disable_auth") !== true && deps.auth(req, url) === null) {
    return error(401, "Please log in");
  }
  if (apiOption(deps.config, "collect_stats") !== true) return json(200, {});
  const now = Date.now();
  return json(200, {
    "saltbus API": {
      "Start Time": STARTED / 1000,
      "Uptime": (now - STARTED) / 1000,
      "Current Time": now / 1000,
      ...deps.stats?.(),
    },
  });
}
