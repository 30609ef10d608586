/**
 * The HTTP API's settings, read from a master config: the `api:` block
 * (`port`, `host`, `ssl_crt`, `ssl_key`, `disable_ssl`, and the limits
 * `max_request_body_size`, `login_max_body_size`, `cors_origin`,
 * `request_timeout`, `max_connections`, `login_failures_allowed`,
 * `login_max_delay`) and the top-level
 * options `token_expire`, `external_auth`, `webhook_disable_auth`,
 * `api_history_size`, `api_history_bytes`, `api_history_file`, `api_client_buffer`,
 * `webhook_max_body`, `api_keepalive`, `api_token_file`, and the static app
 * options (`static`, `app`, … from `api:` or `rest_cherrypy:`). A bad value is a
 * {@linkcode ConfigError} naming the option and the file.
 *
 * @module
 */
import { join } from "node:path";
import type { BusConfig } from "../bus/config.ts";
import { ConfigError } from "../bus/errors.ts";
import { cacheDirOf } from "../returners/sqlite.ts";
import { parsePasswordHash } from "./auth.ts";
import { openFileLimit } from "./fd_limit.ts";
import type { CorsOrigin } from "./origin.ts";
import { resolveStaticApp, type StaticAppSettings } from "./static_app.ts";

/** One user of saltbus's own eauth backend (`external_auth: {saltbus: {<name>: …}}`). */
export interface ApiUser {
  /** The PBKDF2 hash printed by `cli.ts api hash-password`. */
  password: string;
  /** Salt permissions, returned by `/login` as they are (not enforced on event streams). */
  perms: unknown[];
}

/** The checked settings of one API server. */
export interface ApiSettings {
  /** TCP port (default 8000; 0 picks a free one). */
  port: number;
  /** Address to listen on (default 127.0.0.1). */
  host: string;
  /** PEM certificate file, for HTTPS. */
  sslCrt?: string;
  /** PEM key file (default: the certificate file, as Salt allows one file holding both). */
  sslKey?: string;
  /** Serve plain HTTP even when a certificate is configured. */
  disableSsl: boolean;
  /** Token lifetime in seconds (default 43200, 12 h). */
  tokenExpire: number;
  /** Users of the `saltbus` eauth backend, by name. */
  users: Map<string, ApiUser>;
  /** Accept webhooks without a token. */
  webhookDisableAuth: boolean;
  /** Events kept for resuming streams (default 10000). */
  historySize: number;
  /** Bytes of SSE text kept for resuming streams at most (default 64 MiB). */
  historyBytes: number;
  /**
   * `api_history_file`: the SQLite file that keeps the history across
   * restarts (default `<cachedir>/api_history.sqlite` unless `job_cache` is
   * false); `null`: memory only.
   */
  historyFile: string | null;
  /** Bytes queued for one HTTP client before it is disconnected (default 8 MiB). */
  clientBuffer: number;
  /** Largest webhook body in bytes (default: `maxRequestBodySize`); larger gets 413. */
  webhookMaxBody: number;
  /** salt-api's `max_request_body_size`: largest body on any route (default 1 MiB); larger gets 413. */
  maxRequestBodySize: number;
  /** Largest `/login` body in bytes (default 64 KiB); larger gets 413. */
  loginMaxBodySize: number;
  /**
   * CORS: rest_tornado's `cors_origin` (`"*"` or the allowed origins), or
   * `"reflect"`, rest_cherrypy's CORS tool (the default with a
   * `rest_cherrypy:` block); `null` (the default otherwise): none.
   */
  corsOrigin: CorsOrigin;
  /** Seconds a client may take to send a request head or body (default 10). */
  requestTimeout: number;
  /** Connections open at most (default: half the descriptor limit, at most 1024). */
  maxConnections: number;
  /** Failed logins per user or address before delays start (default 5). */
  loginFailuresAllowed: number;
  /** Longest delay after failed logins, in seconds (default 60). */
  loginMaxDelay: number;
  /** Seconds between keep-alive comments on a quiet stream (default 15; 0: none). */
  keepalive: number;
  /** Where tokens are kept across restarts (digests only); `null`: in memory only. */
  tokenFile: string | null;
  /** `static`, `static_path`, `app`, `app_path`, `html_override` (from `api:` or `rest_cherrypy:`). */
  staticApp: StaticAppSettings;
}

/** Default `token_expire`: 12 hours, as Salt. */
export const DEFAULT_TOKEN_EXPIRE = 43200;

/** Default `max_request_body_size`: 1 MiB, as salt-api. */
export const DEFAULT_MAX_REQUEST_BODY_SIZE = 1048576;

/**
 * Default `api.max_connections`: half the process's descriptor limit (the
 * bus, the link and the job cache need the rest), at most 1024; 1024 when
 * the limit cannot be read.
 *
 * @example
 * ```ts
 * import { defaultMaxConnections } from "./config.ts";
 * defaultMaxConnections(256); // 128
 * ```
 */
export function defaultMaxConnections(fdLimit: number | null = openFileLimit()): number {
  if (fdLimit === null || !Number.isFinite(fdLimit)) return 1024;
  return Math.max(16, Math.min(1024, Math.floor(fdLimit / 2)));
}

/**
 * Whether a master config asks for the API to run inside `master` (it has
 * an `api:` key, even an empty one).
 *
 * @example
 * ```ts
 * import { hasApiBlock } from "./config.ts";
 * hasApiBlock({ api: null }); // true
 * ```
 */
export function hasApiBlock(config: Record<string, unknown>): boolean {
  return (Object.hasOwn(config, "api") && config.api !== false) ||
    (Object.hasOwn(config, "rest_cherrypy") && config.rest_cherrypy !== false);
}

/**
 * Reads and checks the API settings of a resolved master config. `source`
 * names the config file for messages.
 *
 * @throws {ConfigError} naming the option and `source`.
 * @example
 * ```ts
 * import { resolveConfig } from "../bus/config.ts";
 * import { resolveApiSettings } from "./config.ts";
 * const settings = resolveApiSettings(resolveConfig("master", { api: { port: 8080 } }));
 * settings.port; // 8080
 * ```
 */
export function resolveApiSettings(config: BusConfig, source = "options"): ApiSettings {
  const bad = (option: string, expected: string, value: unknown): never => {
    throw new ConfigError(
      `${option} in ${source}: expected ${expected}, got ${JSON.stringify(value)}`,
    );
  };
  // saltbus's api: block, or a Salt master's rest_cherrypy: block as written
  // (same option names); with both, api: wins key by key.
  const cherry = (config as Record<string, unknown>).rest_cherrypy;
  const prefix = (config.api === undefined || config.api === null) && cherry
    ? "rest_cherrypy"
    : "api";
  for (const [name, value] of [["api", config.api], ["rest_cherrypy", cherry]] as const) {
    if (
      value !== undefined && value !== null && value !== false &&
      (typeof value !== "object" || Array.isArray(value))
    ) {
      bad(name, "a mapping (port, host, ssl_crt, ssl_key, disable_ssl)", value);
    }
  }
  const api = {
    ...(typeof cherry === "object" && cherry !== null ? cherry as Record<string, unknown> : {}),
    ...(typeof config.api === "object" && config.api !== null
      ? config.api as Record<string, unknown>
      : {}),
  };
  const integer = (option: string, value: unknown, fallback: number, min: number): number => {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      bad(option, `an integer ≥ ${min}`, value);
    }
    return value as number;
  };
  const boolean = (option: string, value: unknown): boolean => {
    if (value === undefined || value === null) return false;
    if (typeof value !== "boolean") bad(option, "true or false", value);
    return value as boolean;
  };
  const path = (option: string, value: unknown): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string" || value === "") bad(option, "a file path", value);
    return value as string;
  };
  const port = integer(`${prefix}.port`, api.port, 8000, 0);
  if (port > 65535) bad(`${prefix}.port`, "a port number (0-65535)", port);
  const host = api.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") bad(`${prefix}.host`, "an address", host);
  const tokenExpire = config.token_expire ?? DEFAULT_TOKEN_EXPIRE;
  if (typeof tokenExpire !== "number" || !(tokenExpire > 0)) {
    bad("token_expire", "a number of seconds > 0", tokenExpire);
  }
  const seconds = (option: string, value: unknown, fallback: number): number => {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value)) {
      bad(option, "a number of seconds > 0", value);
    }
    return value as number;
  };
  const maxRequestBodySize = integer(
    `${prefix}.max_request_body_size`,
    api.max_request_body_size,
    DEFAULT_MAX_REQUEST_BODY_SIZE,
    0,
  );
  // rest_cherrypy turns its CORS tool on for every URL: a rest_cherrypy:
  // block gets it unless cors_origin says otherwise.
  const corsOrigin = api.cors_origin === undefined && typeof cherry === "object" && cherry !== null
    ? "reflect"
    : readCorsOrigin(api.cors_origin, bad);
  let historyFile: string | null = config.job_cache === false
    ? null
    : join(cacheDirOf(config), "api_history.sqlite");
  if (config.api_history_file === "" || config.api_history_file === false) historyFile = null;
  else if (config.api_history_file !== undefined && config.api_history_file !== null) {
    historyFile = path("api_history_file", config.api_history_file)!;
  }
  let tokenFile: string | null = join(config.sock_dir, "api_tokens.json");
  if (config.api_token_file === "" || config.api_token_file === false) tokenFile = null;
  else if (config.api_token_file !== undefined) {
    tokenFile = path("api_token_file", config.api_token_file)!;
  }
  return {
    port,
    host: host as string,
    sslCrt: path(`${prefix}.ssl_crt`, api.ssl_crt),
    sslKey: path(`${prefix}.ssl_key`, api.ssl_key),
    disableSsl: boolean(`${prefix}.disable_ssl`, api.disable_ssl),
    tokenExpire: tokenExpire as number,
    users: readUsers(config.external_auth, bad),
    webhookDisableAuth: boolean("webhook_disable_auth", config.webhook_disable_auth),
    historySize: integer("api_history_size", config.api_history_size, 10_000, 0),
    historyBytes: integer("api_history_bytes", config.api_history_bytes, 64 * 1024 * 1024, 0),
    historyFile,
    clientBuffer: integer("api_client_buffer", config.api_client_buffer, 8 * 1024 * 1024, 1024),
    webhookMaxBody: integer("webhook_max_body", config.webhook_max_body, maxRequestBodySize, 0),
    maxRequestBodySize,
    loginMaxBodySize: integer(`${prefix}.login_max_body_size`, api.login_max_body_size, 65536, 0),
    corsOrigin,
    requestTimeout: seconds(`${prefix}.request_timeout`, api.request_timeout, 10),
    maxConnections: integer(
      `${prefix}.max_connections`,
      api.max_connections,
      defaultMaxConnections(),
      1,
    ),
    loginFailuresAllowed: integer(
      `${prefix}.login_failures_allowed`,
      api.login_failures_allowed,
      5,
      0,
    ),
    loginMaxDelay: seconds(`${prefix}.login_max_delay`, api.login_max_delay, 60),
    keepalive: integer("api_keepalive", config.api_keepalive, 15, 0),
    tokenFile,
    staticApp: resolveStaticApp(config as Record<string, unknown>, source),
  };
}

function readCorsOrigin(
  value: unknown,
  bad: (option: string, expected: string, value: unknown) => never,
): CorsOrigin {
  const expected = 'an origin ("http://host:port"), "*", "reflect", or a list of origins';
  if (value === undefined || value === null || value === false) return null;
  if (value === "reflect") return "reflect";
  const origin = (item: unknown): string => {
    if (typeof item !== "string") return bad("api.cors_origin", expected, value);
    try {
      const url = new URL(item);
      if (url.origin === "null" || url.pathname !== "/" || url.search || url.hash) throw 0;
      return url.origin;
    } catch {
      return bad("api.cors_origin", expected, value);
    }
  };
  if (value === "*") return "*";
  if (typeof value === "string") return [origin(value)];
  if (Array.isArray(value)) {
    if (value.includes("*")) return "*";
    return value.map(origin);
  }
  return bad("api.cors_origin", expected, value);
}

function readUsers(
  externalAuth: unknown,
  bad: (option: string, expected: string, value: unknown) => never,
): Map<string, ApiUser> {
  const users = new Map<string, ApiUser>();
  if (externalAuth === undefined || externalAuth === null) return users;
  if (typeof externalAuth !== "object" || Array.isArray(externalAuth)) {
    bad("external_auth", "a mapping of eauth backends", externalAuth);
  }
  // Other backends (pam, ldap, …) belong to Salt; saltbus only serves its own.
  const own = (externalAuth as Record<string, unknown>).saltbus;
  if (own === undefined || own === null) return users;
  if (typeof own !== "object" || Array.isArray(own)) {
    bad("external_auth.saltbus", "a mapping of user: {password, perms}", own);
  }
  for (const [name, entry] of Object.entries(own as Record<string, unknown>)) {
    const option = `external_auth.saltbus.${name}`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      bad(option, "{password: <hash from 'cli.ts api hash-password'>, perms: [...]}", entry);
    }
    const { password, perms } = entry as Record<string, unknown>;
    if (typeof password !== "string" || parsePasswordHash(password) === null) {
      bad(
        `${option}.password`,
        "a hash printed by 'cli.ts api hash-password <password>' (pbkdf2-sha256$…)",
        typeof password === "string" ? "<not a pbkdf2-sha256 hash>" : password,
      );
    }
    if (perms !== undefined && perms !== null && !Array.isArray(perms)) {
      bad(`${option}.perms`, "a list", perms);
    }
    users.set(name, { password: password as string, perms: (perms as unknown[]) ?? [] });
  }
  return users;
}
