/**
 * Which web origins may use the API from a browser, and the CORS answers
 * that follow (§16.6): rest_tornado's `cors_origin` (a list or `*`), or
 * rest_cherrypy's CORS tool (`cors_origin: reflect`, the default for a
 * `rest_cherrypy:` block).
 *
 * - Allowed origins: the API's own (the scheme and `Host` of the request)
 *   and those listed in `cors_origin`. `cors_origin: "*"` allows any origin
 *   for requests that carry their token themselves (header, query or URL
 *   path), never for the session cookie: a page from another origin could
 *   otherwise act with a logged-in user's cookie (CSRF).
 * - Checked: every WebSocket upgrade (no CORS protects those), and every
 *   state-changing request (not `GET`/`HEAD`/`OPTIONS`) authenticated by
 *   the session cookie. A request without `Origin` passes unless
 *   `Sec-Fetch-Site` says it came from another site: tools like curl send
 *   neither.
 * - CORS: responses to an origin listed in `cors_origin` carry
 *   `Access-Control-Allow-Origin` (the origin, or `*`), and preflights
 *   (`OPTIONS`) are answered as rest_tornado does, 204 with the allowed
 *   methods and the requested headers.
 * - `reflect` (rest_cherrypy's `cors_tool`): every response carries
 *   `Access-Control-Allow-Origin: <the request's Origin, or *>`,
 *   `Access-Control-Expose-Headers: GET, POST` (sic) and
 *   `Access-Control-Allow-Credentials: true`; a preflight asking for `GET`
 *   or `POST` gets 200 with `Access-Control-Allow-Methods: GET, POST`,
 *   `Access-Control-Allow-Headers: Content-Type, X-Auth-Token,
 *   X-Requested-With` and `Access-Control-Max-Age: 1400`. Unlike CherryPy,
 *   a request authenticated by the session cookie from a foreign origin is
 *   refused whatever its method, since the reflected origin would let that
 *   page read the answer; tokens sent on purpose (header, body, query) work
 *   from any origin, which is what the reflection is for.
 *
 * @module
 */

/**
 * `cors_origin`: `null` (none), `"*"`, a list of origins, or `"reflect"`
 * (rest_cherrypy's CORS tool: any origin, reflected).
 */
export type CorsOrigin = null | "*" | "reflect" | readonly string[];

/** How a request carries its token. */
export type Credential = "query" | "header" | "path" | "cookie" | null;

/** Why a request was refused. */
export interface OriginRefusal {
  /** The `Origin` (or `Sec-Fetch-Site`) the request came with. */
  origin: string;
  /** A sentence for the 403 body. */
  reason: string;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function normalise(origin: string): string | null {
  if (origin === "null") return null;
  try {
    const url = new URL(origin);
    return url.origin === "null" ? null : url.origin;
  } catch {
    return null;
  }
}

/**
 * The origin policy of one API server.
 *
 * @example
 * ```ts
 * import { OriginPolicy } from "./origin.ts";
 * const policy = new OriginPolicy({ corsOrigin: ["http://ui.example:3000"], secure: false });
 * const req = new Request("http://127.0.0.1:8000/hook", {
 *   method: "POST",
 *   headers: { host: "127.0.0.1:8000", origin: "http://127.0.0.1:9999" },
 * });
 * policy.check(req, { credential: "cookie", websocket: false })?.reason; // "… is not allowed …"
 * ```
 */
export class OriginPolicy {
  readonly #listed: ReadonlySet<string>;
  readonly #any: boolean;
  readonly #reflect: boolean;
  readonly #scheme: string;

  /** Creates the policy; `secure` is whether the API serves HTTPS. */
  constructor(options: { corsOrigin: CorsOrigin; secure: boolean }) {
    const { corsOrigin } = options;
    this.#any = corsOrigin === "*";
    this.#reflect = corsOrigin === "reflect";
    this.#listed = new Set(
      Array.isArray(corsOrigin)
        ? corsOrigin.map((o) => normalise(o)).filter((o): o is string => o !== null)
        : [],
    );
    this.#scheme = options.secure ? "https" : "http";
  }

  /** The request's own origin: the API's scheme and the `Host` it was sent to. */
  ownOrigin(req: Request): string | null {
    const host = req.headers.get("host");
    return host ? normalise(`${this.#scheme}://${host}`) : null;
  }

  /** Whether `origin` (an `Origin` header) is the API's own or listed. */
  #trusted(req: Request, origin: string | null): boolean {
    return origin !== null && (origin === this.ownOrigin(req) || this.#listed.has(origin));
  }

  /**
   * The refusal for a request that must come from an allowed origin, or
   * `null` when it may go on.
   */
  check(
    req: Request,
    options: { credential: Credential; websocket: boolean },
  ): OriginRefusal | null {
    const cookie = options.credential === "cookie";
    // With the origin reflected, a foreign page could read what the cookie
    // fetches: check cookie requests of every method, not only state changes.
    const guarded = cookie && (this.#reflect || !SAFE_METHODS.has(req.method));
    if (!options.websocket && !guarded) return null;
    const header = req.headers.get("origin");
    if (header === null) {
      const site = (req.headers.get("sec-fetch-site") ?? "").toLowerCase();
      if (site === "cross-site" || site === "same-site") {
        return {
          origin: `Sec-Fetch-Site: ${site}`,
          reason: `a ${site} request without Origin cannot use this endpoint`,
        };
      }
      return null;
    }
    const origin = normalise(header);
    if (this.#trusted(req, origin)) return null;
    if ((this.#any || this.#reflect) && !cookie) return null;
    return {
      origin: header,
      reason: `origin ${header} is not allowed${
        cookie ? " to use the session cookie" : ""
      }: only the API's own origin${
        this.#reflect ? " may; other origins send the token in X-Auth-Token" : (
          " and those in api.cors_origin are"
        )
      }`,
    };
  }

  /**
   * CORS headers for a response to `req`: for a listed origin (or any, with
   * `"*"`), `Access-Control-Allow-Origin` and `Vary: Origin`;
   * `Access-Control-Allow-Credentials` only for listed origins.
   */
  corsHeaders(req: Request): Record<string, string> {
    const header = req.headers.get("origin");
    if (this.#reflect) {
      return {
        "access-control-allow-origin": header ?? "*",
        "access-control-expose-headers": "GET, POST",
        "access-control-allow-credentials": "true",
        ...(header === null ? {} : { "vary": "Origin" }),
      };
    }
    if (header === null) return {};
    const origin = normalise(header);
    if (origin !== null && this.#listed.has(origin)) {
      return {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
        "access-control-expose-headers": "X-Auth-Token",
        "vary": "Origin",
      };
    }
    if (this.#any) {
      return {
        "access-control-allow-origin": "*",
        "access-control-expose-headers": "X-Auth-Token",
      };
    }
    return {};
  }

  /**
   * The answer to a preflight (`OPTIONS`), as rest_tornado gives it: 204,
   * `Access-Control-Allow-Methods: OPTIONS, GET, POST`, the requested
   * headers echoed, `X-Auth-Token` exposed; the allow-origin header only
   * for an allowed origin (without it the browser refuses).
   */
  preflight(req: Request): Response {
    if (this.#reflect) return this.#cherrypyPreflight(req);
    const cors = this.corsHeaders(req);
    const headers: Record<string, string> = { "access-control-max-age": "1400" };
    if (cors["access-control-allow-origin"] !== undefined) {
      Object.assign(headers, cors);
      headers["access-control-allow-methods"] = "OPTIONS, GET, POST";
      const requested = req.headers.get("access-control-request-headers");
      headers["access-control-allow-headers"] = requested
        ? requested.split(",").map((h) => h.trim()).filter((h) => /^[A-Za-z0-9-]+$/.test(h))
          .join(",")
        : "Content-Type, X-Auth-Token, X-Requested-With";
    }
    return new Response(null, { status: 204, headers });
  }

  /**
   * rest_cherrypy's preflight: 200 and an empty body; the allow headers
   * only when `GET` or `POST` is asked for.
   */
  #cherrypyPreflight(req: Request): Response {
    const headers = this.corsHeaders(req);
    const method = (req.headers.get("access-control-request-method") ?? "").toUpperCase();
    if (method === "GET" || method === "POST") {
      headers["access-control-allow-methods"] = "GET, POST";
      headers["access-control-allow-headers"] = "Content-Type, X-Auth-Token, X-Requested-With";
      headers["access-control-max-age"] = "1400";
    }
    return new Response(null, { status: 200, headers });
  }
}
