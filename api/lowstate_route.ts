/**
 * salt-api's lowstate routes (spec §16.3–16.5): `POST /` (session token:
 * `X-Auth-Token` or the `session_id` cookie), `POST /run` (credentials or a
 * Salt token in every chunk) and `POST /token` (Salt tokens, a bare list).
 * Chunks run in order; the answer is `{"return": [r1, r2, …]}`. Errors are
 * JSON `{"status", "return"}` with salt-api's statuses.
 *
 * @module
 */
import type { Logger } from "../bus/log.ts";
import { pythonJsonDumps } from "../output/python_json.ts";
import type { TokenRecord, TokenStore } from "./auth.ts";
import { lowstateBody, MAX_LOWSTATE_CHUNKS } from "./lowstate_body.ts";
import { BodyError } from "./minions_body.ts";
import { type NetapiClients, NetapiError } from "./netapi_clients.ts";
import { readRequestBody, RequestBodyError } from "./request_body.ts";

/** What the lowstate routes need from the API server. */
export interface LowstateDeps {
  /** The clients. */
  clients: NetapiClients;
  /** The session token record of a request, or `null`. */
  auth(req: Request, url: URL): TokenRecord | null;
  /** Salt tokens (`POST /token`), apart from session tokens as in Salt. */
  saltTokens: TokenStore;
  /** Seconds a Salt token lives (`token_expire`). */
  tokenExpire: number;
  /** Checks eauth credentials (with the login throttle); the user's perms, or `null`. */
  checkCredentials(username: string, password: string, eauth: string): Promise<unknown[] | null>;
  /** Largest body (`max_request_body_size`). */
  maxBodySize: number;
  /** Where to log. */
  log: Logger;
}

function json(status: number, body: unknown): Response {
  return new Response(pythonJsonDumps(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "private" },
  });
}

function error(status: number, message: string): Response {
  return new Response(pythonJsonDumps({ status, return: message }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

async function readChunks(req: Request, deps: LowstateDeps): Promise<Record<string, unknown>[]> {
  const bytes = await readRequestBody(req, {
    limit: deps.maxBodySize,
    option: "api.max_request_body_size",
  });
  const chunks = lowstateBody(req.headers.get("content-type"), bytes);
  if (chunks.length > MAX_LOWSTATE_CHUNKS) {
    throw new BodyError(
      413,
      `too many lowstate chunks: ${chunks.length} (saltbus runs at most ${MAX_LOWSTATE_CHUNKS} per request)`,
    );
  }
  return chunks;
}

const HEX = /^[0-9a-fA-F]+$/;

/** The user a `/run` chunk authenticates as (Salt token or eauth credentials). */
async function runUser(
  chunk: Record<string, unknown>,
  deps: LowstateDeps,
): Promise<{ user: string; perms: readonly unknown[] }> {
  if ("token" in chunk) {
    const token = String(chunk.token ?? "");
    if (!HEX.test(token)) throw new NetapiError(401, "Invalid token");
    const record = deps.saltTokens.lookup(token);
    if (record === null) {
      throw new NetapiError(401, 'Authentication failure of type "token" occurred.');
    }
    return { user: record.user, perms: record.perms };
  }
  if ("eauth" in chunk) {
    const username = String(chunk.username ?? "");
    const perms = await deps.checkCredentials(
      username,
      String(chunk.password ?? ""),
      String(chunk.eauth),
    );
    if (perms === null) {
      throw new NetapiError(
        401,
        `Authentication failure of type "eauth" occurred for user ${username}.`,
      );
    }
    return { user: username, perms };
  }
  throw new NetapiError(401, "No authentication credentials given");
}

/**
 * Answers `POST /`, `POST /run` and `POST /token`; resolves `null` for other
 * requests (the server goes on to its other routes).
 *
 * @example
 * ```ts
 * import { routeLowstate, type LowstateDeps } from "./lowstate_route.ts";
 * declare const deps: LowstateDeps;
 * const req = new Request("http://127.0.0.1:8000/", {
 *   method: "POST",
 *   headers: { "x-auth-token": "…", "content-type": "application/json" },
 *   body: '[{"client": "local", "tgt": "*", "fun": "test.ping"}]',
 * });
 * const res = await routeLowstate(req, new URL(req.url), deps); // {"return": [{"web1": true}]}
 * ```
 */
export async function routeLowstate(
  req: Request,
  url: URL,
  deps: LowstateDeps,
): Promise<Response | null> {
  const path = url.pathname.replace(/(.)\/$/, "$1");
  if (req.method !== "POST" || !["/", "/run", "/token"].includes(path)) return null;
  try {
    if (path === "/") {
      const session = deps.auth(req, url);
      if (session === null) return error(401, "Please log in");
      const chunks = await readChunks(req, deps);
      const results: unknown[] = [];
      for (const chunk of chunks) {
        if ("token" in chunk && !HEX.test(String(chunk.token ?? ""))) {
          return error(401, "Invalid token");
        }
        results.push(...await deps.clients.run(chunk, session.user, session.perms));
      }
      return json(200, { return: results });
    }
    const chunks = await readChunks(req, deps);
    if (path === "/run") {
      const results: unknown[] = [];
      for (const chunk of chunks) {
        const { user, perms } = await runUser(chunk, deps);
        results.push(...await deps.clients.run(chunk, user, perms));
      }
      return json(200, { return: results });
    }
    const tokens: unknown[] = [];
    for (const chunk of chunks) {
      const { username, password, eauth } = chunk;
      if (username === undefined || password === undefined || eauth === undefined) {
        return error(400, 'Require "username", "password", and "eauth" params');
      }
      const perms = await deps.checkCredentials(String(username), String(password), String(eauth));
      if (perms === null) return error(401, "Could not authenticate using provided credentials");
      const issued = await deps.saltTokens.issue(
        String(username),
        String(eauth),
        perms,
        deps.tokenExpire,
      );
      tokens.push({
        start: issued.start,
        token: issued.token,
        expire: issued.expire,
        name: issued.user,
        eauth: issued.eauth,
      });
    }
    return json(200, tokens);
  } catch (err) {
    if (err instanceof NetapiError || err instanceof BodyError || err instanceof RequestBodyError) {
      return error(err.status, err.message);
    }
    deps.log.error(`API: POST ${path} failed: ${(err as Error)?.stack ?? err}`);
    return error(500, "An unexpected error occurred");
  }
}
