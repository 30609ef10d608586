/**
 * The HTTP API server (no framework, on {@linkcode HttpListener}): routes,
 * authentication, origin checks, body limits, login throttling, and the
 * lifetime of the hub, the streams and the webhook firer.
 *
 * @module
 */
import { inProcessServices, type NodeServices, socketServices } from "../link/node_services.ts";
import type { BusConfig } from "../bus/config.ts";
import { SaltbusError } from "../bus/errors.ts";
import type { EventClient } from "../bus/event_client.ts";
import { createLogger, type Logger } from "../bus/log.ts";
import { getMatcher, MATCH_TYPES, type MatchType, validatePattern } from "../bus/tag_match.ts";
import type { Connector } from "../bus/transport.ts";
import { pythonJsonDumps } from "../output/python_json.ts";
import type { BusHandle } from "../broker/start_bus.ts";
import { busConnectorFor } from "../transport/bus_connector.ts";
import {
  requestCredential,
  requestToken,
  type TokenRecord,
  TokenStore,
  verifyPassword,
} from "./auth.ts";
import { type ApiSettings, resolveApiSettings } from "./config.ts";
import { EventHub } from "./event_hub.ts";
import { HttpListener, type HttpRequestInfo } from "./http_listener.ts";
import { LoginLimiter, userTag } from "./login_limiter.ts";
import { acceptsLoginType, LoginFormError, parseLoginForm } from "./login_form.ts";
import { type Credential, OriginPolicy } from "./origin.ts";
import { isWebSocketRequest } from "./raw_websocket.ts";
import { declaredOver, readRequestBody, RequestBodyError } from "./request_body.ts";
import { routeResources } from "./resource_routes.ts";
import { routeLowstate } from "./lowstate_route.ts";
import { NetapiClients } from "./netapi_clients.ts";
import { StaticApp } from "./static_app.ts";
import { SSE_HEADERS, SseStream, type TagFilter } from "./sse.ts";
import { VIEWER_HTML } from "./viewer.ts";
import { hookDataFrom, hookTag, WebhookError } from "./webhook.ts";
import { HistoryJournal } from "./history_journal.ts";
import { EventSocket, type WebSocketDialect } from "./websocket.ts";

/**
 * The API cannot start: its address is taken, or its certificate or key
 * cannot be read.
 *
 * @example
 * ```ts
 * import { ApiStartError } from "./server.ts";
 * const err = new ApiStartError("the API cannot listen on 127.0.0.1:8000: address in use");
 * console.log(err.name); // "ApiStartError"
 * ```
 */
export class ApiStartError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ApiStartError";
  }
}

/** Options of {@linkcode startApi}. */
export interface StartApiOptions {
  /** The resolved master config (its `api:` block and the API options). */
  config: BusConfig;
  /** The config file, for messages. */
  source?: string;
  /** An in-process bus (inside `master`); without it the API connects to the bus's sockets. */
  bus?: BusHandle;
  /** Where to log (default: standard error at the config's `log_level`). */
  log?: Logger;
  /** Overrides `api.port`. */
  port?: number;
  /** Overrides `api.host`. */
  host?: string;
}

const JSON_TYPE = "application/json";

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(pythonJsonDumps(body), {
    status,
    headers: { "content-type": JSON_TYPE, ...headers },
  });
}

function error(status: number, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { status, return: message }, headers);
}

const WS_ROUTE = /^\/(ws|all_events|formatted_events)(?:\/([^/]*))?$/;

/**
 * A running API server. Close it with `close()` or `await using`.
 *
 * @example
 * ```ts
 * import { startApi } from "./server.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * await using api = await startApi({ config: resolveConfig("master", { api: { port: 0 } }) });
 * console.log(api.url); // http://127.0.0.1:41234/
 * ```
 */
export class ApiServer implements AsyncDisposable {
  /** The checked settings. */
  readonly settings: ApiSettings;
  /** The bus subscriber feeding every stream. */
  readonly hub: EventHub;
  /** Issued tokens. */
  readonly tokens: TokenStore;
  /** Salt tokens from `POST /token` (for `/run`), apart from session tokens as in Salt. */
  readonly saltTokens: TokenStore = new TokenStore();
  readonly #netapi: NetapiClients;
  readonly #log: Logger;
  readonly #firer: EventClient;
  readonly #streams = new Set<SseStream>();
  readonly #sockets = new Set<EventSocket>();
  readonly #secure: boolean;
  readonly #matchType: MatchType;
  readonly #config: BusConfig;
  readonly #services: NodeServices;
  readonly #origins: OriginPolicy;
  readonly #limiter: LoginLimiter;
  readonly #staticApp: StaticApp;
  #server: HttpListener | null = null;
  #closed: Promise<void> | null = null;

  /** @internal Use {@linkcode startApi}. */
  constructor(
    settings: ApiSettings,
    config: BusConfig,
    connector: Connector,
    services: NodeServices,
    log: Logger,
    journal: HistoryJournal | null = null,
  ) {
    const firer = services.eventClient(config, log, { listen: false });
    this.settings = settings;
    this.#log = log;
    this.#firer = firer;
    this.#matchType = config.event_match_type;
    this.#config = config;
    this.#services = services;
    this.#secure = settings.sslCrt !== undefined && !settings.disableSsl;
    this.tokens = new TokenStore({ file: settings.tokenFile, log });
    this.#netapi = new NetapiClients(config, services, log);
    this.#staticApp = new StaticApp(settings.staticApp);
    this.#origins = new OriginPolicy({ corsOrigin: settings.corsOrigin, secure: this.#secure });
    this.#limiter = new LoginLimiter({
      allowed: settings.loginFailuresAllowed,
      maxDelayMs: settings.loginMaxDelay * 1000,
    });
    this.hub = new EventHub(connector, {
      historySize: settings.historySize,
      historyBytes: settings.historyBytes,
      maxFrameSize: config.max_frame_size,
      log,
      journal,
    });
  }

  /**
   * @internal Loads tokens and starts listening.
   * @throws {ApiStartError} when a certificate cannot be read or the address is taken.
   */
  async listen(): Promise<void> {
    await this.tokens.load();
    const { host, port, sslCrt, sslKey } = this.settings;
    const read = async (option: string, file: string) => {
      try {
        return await Deno.readTextFile(file);
      } catch (err) {
        throw new ApiStartError(`cannot read ${option} ${file}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    };
    const tls = this.#secure
      ? {
        cert: await read("api.ssl_crt", sslCrt!),
        key: await read(sslKey ? "api.ssl_key" : "api.ssl_crt", sslKey ?? sslCrt!),
      }
      : {};
    try {
      this.#server = HttpListener.listen({
        hostname: host,
        port,
        tls: this.#secure ? tls as { cert: string; key: string } : undefined,
        handler: (req, info) => this.#handle(req, info),
        requestTimeoutMs: this.settings.requestTimeout * 1000,
        maxConnections: this.settings.maxConnections,
        log: this.#log,
      });
    } catch (err) {
      throw new ApiStartError(
        `the API cannot listen on ${host}:${port}: ${(err as Error).message}; ` +
          `set api.port or api.host (or stop what listens there)`,
        { cause: err },
      );
    }
    this.hub.start();
    this.#log.info(`API listening on ${this.url}`);
  }

  /** The port listened on (useful with `port: 0`). */
  get port(): number {
    return this.#server!.addr.port;
  }

  /** The base URL, e.g. `http://127.0.0.1:8000/`. */
  get url(): string {
    const host = this.settings.host.includes(":") ? `[${this.settings.host}]` : this.settings.host;
    return `${this.#secure ? "https" : "http"}://${host}:${this.port}/`;
  }

  /** Number of open event streams (SSE and WebSocket). */
  get streams(): number {
    return this.#streams.size + this.#sockets.size;
  }

  /** Number of open HTTP connections (streams included). */
  get connections(): number {
    return this.#server?.connections ?? 0;
  }

  /** Ends every stream, stops listening and leaves the bus. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const stream of this.#streams) stream.dispose();
      for (const socket of this.#sockets) socket.close();
      await this.#server?.close();
      await this.hub.close();
      this.hub.history.flush();
      this.hub.history.journal?.close();
      await this.#firer.close();
      await this.#netapi.close();
    })();
    return this.#closed;
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #handle(req: Request, info: HttpRequestInfo): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    const peer = `${info.remoteAddr.hostname}:${info.remoteAddr.port}`;
    try {
      const res = await this.#route(req, url, path, peer, info);
      if (res.status === 413 || res.status === 408) info.connection.closeAfterResponse();
      for (const [name, value] of Object.entries(this.#origins.corsHeaders(req))) {
        if (!res.headers.has(name)) res.headers.set(name, value);
      }
      return res;
    } catch (err) {
      this.#log.error(`API: ${req.method} ${path} failed: ${(err as Error)?.stack ?? err}`);
      return error(500, "internal error");
    }
  }

  /** The largest body a route takes. */
  #bodyLimit(path: string): { limit: number; option: string } {
    if (path === "/login") {
      return { limit: this.settings.loginMaxBodySize, option: "api.login_max_body_size" };
    }
    if (path === "/hook" || path.startsWith("/hook/")) {
      return { limit: this.settings.webhookMaxBody, option: "webhook_max_body" };
    }
    return { limit: this.settings.maxRequestBodySize, option: "api.max_request_body_size" };
  }

  async #route(
    req: Request,
    url: URL,
    path: string,
    peer: string,
    info: HttpRequestInfo,
  ): Promise<Response> {
    // CORS preflights skip authentication (rest_tornado's options()).
    if (req.method === "OPTIONS") return this.#origins.preflight(req);
    const { limit, option } = this.#bodyLimit(path);
    if (declaredOver(req, limit) !== null) {
      return error(413, `body over ${option} (${limit} bytes)`);
    }
    const ws = WS_ROUTE.exec(path);
    // The token in a WebSocket path is sent on purpose, like a header.
    const credential: Credential = ws && ws[2]
      ? "path"
      : requestCredential(req, url)?.source ?? null;
    const refused = this.#origins.check(req, {
      credential,
      websocket: ws !== null && isWebSocketRequest(req),
    });
    if (refused !== null) {
      this.#log.info(
        `API: refused ${req.method} ${path} from ${peer}: ${refused.reason}`,
      );
      return error(403, refused.reason);
    }
    // rest_cherrypy's html_override runs first: a browser asking for HTML gets the app.
    const site = await this.#staticApp.route(req, path);
    if (site !== null) return site;
    const lowstate = await routeLowstate(req, url, {
      clients: this.#netapi,
      auth: (r, u) => this.#auth(r, u),
      saltTokens: this.saltTokens,
      tokenExpire: this.settings.tokenExpire,
      checkCredentials: (u, p, e) => this.#checkCredentials(u, p, e, info.remoteAddr.hostname),
      maxBodySize: this.settings.maxRequestBodySize,
      log: this.#log,
    });
    if (lowstate !== null) return lowstate;
    if (path === "/" || path === "/index.html") {
      return this.#only(req, path === "/" ? ["GET", "POST"] : ["GET"]) ?? this.#root(req);
    }
    if (path === "/run" || path === "/token") return this.#only(req, ["POST"])!;
    if (path === "/login") return await this.#login(req, url, info);
    if (path === "/logout") return this.#only(req, ["POST"]) ?? await this.#logout(req, url);
    if (path === "/events") return this.#only(req, ["GET"]) ?? this.#events(req, url, peer);
    if (ws) return this.#only(req, ["GET"]) ?? this.#websocket(req, url, ws[1], ws[2], peer, info);
    if (path === "/hook" || path.startsWith("/hook/")) {
      return this.#only(req, ["POST"]) ?? await this.#hook(req, url);
    }
    const resource = await routeResources(req, url, {
      config: this.#config,
      services: this.#services,
      log: this.#log,
      auth: (r, u) => this.#auth(r, u),
      stats: () => ({ "Current Connections": this.connections, "Event Streams": this.streams }),
      maxBodySize: this.settings.maxRequestBodySize,
    });
    return resource ?? error(404, `no such resource: ${path}`);
  }

  #only(req: Request, methods: string[]): Response | null {
    if (methods.includes(req.method)) return null;
    return new Response(pythonJsonDumps({ status: 405, return: `use ${methods.join(" or ")}` }), {
      status: 405,
      headers: { "content-type": JSON_TYPE, allow: methods.join(", ") },
    });
  }

  #auth(req: Request, url: URL): TokenRecord | null {
    return this.tokens.lookup(requestToken(req, url));
  }

  #root(req: Request): Response {
    if ((req.headers.get("accept") ?? "").includes("text/html")) {
      return new Response(VIEWER_HTML, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy":
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'",
          "x-content-type-options": "nosniff",
        },
      });
    }
    return json(200, { return: "Welcome", clients: [...this.#netapi.enabled] });
  }

  async #login(req: Request, url: URL, info: HttpRequestInfo): Promise<Response> {
    if (req.method === "GET") {
      const record = this.#auth(req, url);
      if (record === null) return error(401, "Please log in");
      const { start, expire, user, eauth, perms } = record;
      return json(200, { return: [{ start, expire, user, eauth, perms }] });
    }
    if (req.method !== "POST") return this.#only(req, ["GET", "POST"])!;
    const contentType = req.headers.get("content-type");
    if (!acceptsLoginType(contentType)) {
      // Refused before a byte of the body is read.
      info.connection.closeAfterResponse();
      return parseLoginFormError(contentType);
    }
    let form: Record<string, unknown>;
    try {
      const bytes = await readRequestBody(req, {
        limit: this.settings.loginMaxBodySize,
        option: "api.login_max_body_size",
      });
      form = parseLoginForm(contentType, bytes);
    } catch (err) {
      if (err instanceof RequestBodyError || err instanceof LoginFormError) {
        return error(err.status, err.message);
      }
      throw err;
    }
    const username = String(form.username ?? "");
    const password = String(form.password ?? "");
    const eauth = String(form.eauth ?? "saltbus");
    const address = info.remoteAddr.hostname;
    const admission = this.#limiter.begin(username, address);
    if (!admission.ok) {
      const seconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000));
      return error(429, `Too many failed logins; try again in ${seconds} s`, {
        "retry-after": String(seconds),
      });
    }
    const user = eauth === "saltbus" ? this.settings.users.get(username) : undefined;
    let ok = false;
    try {
      ok = await verifyPassword(password, user?.password) && user !== undefined;
    } finally {
      const lock = admission.finish(ok);
      if (!ok) {
        // Never the name itself: a password typed into the user field would reach the log.
        const who = `user #${userTag(username)}${user ? "" : " (unknown)"}`;
        this.#log.info(`API: failed login for ${who} from ${address} (eauth ${eauth})`);
        if (lock !== null) {
          this.#log.warning(
            `API: ${lock.failures} failed logins in a row for ${
              lock.by === "user" ? who : `address ${address}`
            }; refusing logins from it for ${Math.ceil(lock.delayMs / 1000)} s`,
          );
        }
      }
    }
    if (!ok || user === undefined) {
      return error(401, "Could not authenticate using provided credentials");
    }
    const issued = await this.tokens.issue(username, eauth, user.perms, this.settings.tokenExpire);
    this.#log.info(`API: ${username} logged in`);
    const cookie = `session_id=${issued.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${
      Math.floor(this.settings.tokenExpire)
    }${this.#secure ? "; Secure" : ""}`;
    return json(200, { return: [issued] }, { "x-auth-token": issued.token, "set-cookie": cookie });
  }

  /** eauth credentials of `/run` and `/token`, throttled as logins; the perms, or `null`. */
  async #checkCredentials(
    username: string,
    password: string,
    eauth: string,
    address: string,
  ): Promise<unknown[] | null> {
    const admission = this.#limiter.begin(username, address);
    if (!admission.ok) return null;
    const user = eauth === "saltbus" ? this.settings.users.get(username) : undefined;
    let ok = false;
    try {
      ok = await verifyPassword(password, user?.password) && user !== undefined;
    } finally {
      admission.finish(ok);
      if (!ok) {
        this.#log.info(
          `API: failed eauth for user #${userTag(username)} from ${address} (eauth ${eauth})`,
        );
      }
    }
    return ok && user ? user.perms : null;
  }

  async #logout(req: Request, url: URL): Promise<Response> {
    const token = requestToken(req, url);
    if (token === null || !(await this.tokens.revoke(token))) return error(401, "Please log in");
    for (const stream of this.#streams) stream.revalidate();
    for (const socket of this.#sockets) socket.revalidate();
    return json(200, { return: "Your token has been cleared" }, {
      "set-cookie": "session_id=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
    });
  }

  #events(req: Request, url: URL, peer: string): Response {
    const token = this.#auth(req, url);
    if (token === null) return error(401, "Please log in");
    let filter: TagFilter | null = null;
    const tag = url.searchParams.get("tag");
    if (tag) {
      const matchType = (url.searchParams.get("match_type") || this.#matchType) as MatchType;
      if (!MATCH_TYPES.includes(matchType)) {
        return error(400, `match_type must be one of ${MATCH_TYPES.join(", ")}`);
      }
      try {
        validatePattern(tag, matchType);
      } catch (err) {
        return error(400, (err as Error).message);
      }
      filter = { tag, matcher: getMatcher(matchType) };
    }
    const sinceText = req.headers.get("last-event-id") ?? url.searchParams.get("since");
    let since: number | null = null;
    if (sinceText !== null && sinceText !== "") {
      if (!/^[0-9]{1,15}$/.test(sinceText.trim())) {
        return error(400, "Last-Event-ID and since must be an event id (an integer)");
      }
      since = Number(sinceText.trim());
    }
    const stream: SseStream = new SseStream({
      hub: this.hub,
      token,
      filter,
      since,
      keepaliveMs: this.settings.keepalive * 1000,
      bufferLimit: this.settings.clientBuffer,
      peer,
      log: this.#log,
      onEnd: () => this.#streams.delete(stream),
    });
    this.#streams.add(stream);
    return new Response(stream.body, { headers: SSE_HEADERS });
  }

  #websocket(
    req: Request,
    url: URL,
    route: string,
    pathToken: string | undefined,
    peer: string,
    info: HttpRequestInfo,
  ): Response {
    // Tornado's routes take the token from the path only; CherryPy's /ws also from the session.
    const token = pathToken || route !== "ws"
      ? this.tokens.lookup(pathToken)
      : this.#auth(req, url);
    if (token === null) return error(401, "Please log in");
    if (!isWebSocketRequest(req)) {
      return error(400, "this is a WebSocket endpoint: send an Upgrade: websocket request");
    }
    const { socket, response } = info.upgradeWebSocket();
    const dialect: WebSocketDialect = route === "ws" ? "cherrypy" : "tornado";
    const client: EventSocket = new EventSocket(socket, {
      hub: this.hub,
      token,
      dialect,
      formatEvents: route === "formatted_events" || url.searchParams.has("format_events"),
      bufferLimit: this.settings.clientBuffer,
      peer,
      log: this.#log,
      onEnd: () => this.#sockets.delete(client),
      onNewMinions: (ids) => void this.#grainsJob(ids),
    });
    this.#sockets.add(client);
    return response;
  }

  /** Salt's SaltInfo asks the master for the grains of minions it sees for the first time. */
  async #grainsJob(ids: string[]): Promise<void> {
    try {
      await this.#services.requestMaster(this.#config, "_publish", {
        request: { tgt: ids, tgt_type: "list", fun: "grains.items", user: "saltbus-api" },
      }, {
        hello: { role: "client", id: "saltbus-api", pid: Deno.pid },
      });
    } catch (err) {
      this.#log.warning(
        `API: grains.items for ${ids.join(", ")} not started: ${
          err instanceof Error ? err.message : err
        }`,
      );
    }
  }

  async #hook(req: Request, url: URL): Promise<Response> {
    if (!this.settings.webhookDisableAuth && this.#auth(req, url) === null) {
      return error(401, "Please log in");
    }
    let data: Record<string, unknown>;
    try {
      const raw = await readRequestBody(req, {
        limit: this.settings.webhookMaxBody,
        option: "webhook_max_body",
      });
      data = hookDataFrom(req.headers, raw);
    } catch (err) {
      if (err instanceof WebhookError || err instanceof RequestBodyError) {
        return error(err.status, err.message);
      }
      throw err;
    }
    const success = await this.#firer.fireEvent(data, hookTag(url.pathname));
    return json(success ? 200 : 503, { success });
  }
}

/** salt-api's answer to a login in another content type. */
function parseLoginFormError(contentType: string | null): Response {
  try {
    parseLoginForm(contentType, new Uint8Array());
  } catch (err) {
    if (err instanceof LoginFormError) return error(err.status, err.message);
  }
  return error(406, "Content type not supported");
}

/**
 * Starts the HTTP API for a master bus: with `bus` (inside `master`) it
 * subscribes through the in-process broker, else through the bus's Unix
 * sockets (retrying until the bus is there).
 *
 * @throws {ConfigError} for a bad API option.
 * @throws {ApiStartError} when the address is taken or a certificate cannot be read.
 * @example
 * ```ts
 * import { startApi } from "./server.ts";
 * import { loadConfig } from "../bus/config.ts";
 * const config = await loadConfig("master", "/etc/saltbus/master");
 * const api = await startApi({ config, source: "/etc/saltbus/master" });
 * // … later
 * await api.close();
 * ```
 */
export async function startApi(options: StartApiOptions): Promise<ApiServer> {
  const { config, bus } = options;
  const settings = resolveApiSettings(config, options.source);
  if (options.port !== undefined) settings.port = options.port;
  if (options.host !== undefined) settings.host = options.host;
  const log = options.log ?? createLogger(config.log_level);
  const connector = bus?.connector ?? busConnectorFor(config);
  const services = bus ? inProcessServices(bus) : socketServices;
  let journal: HistoryJournal | null = null;
  if (settings.historyFile !== null && settings.historySize > 0) {
    try {
      journal = await HistoryJournal.open(settings.historyFile, settings.historySize);
    } catch (err) {
      log.warning(
        `API: ${(err as Error).message}; event ids restart with this process, ` +
          "and Last-Event-ID cannot resume across restarts",
      );
    }
  }
  const server = new ApiServer(settings, config, connector, services, log, journal);
  try {
    await server.listen();
  } catch (err) {
    await server.close();
    throw err;
  }
  return server;
}
