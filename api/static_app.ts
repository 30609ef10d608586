/**
 * Static web apps from the API's origin: rest_cherrypy's `static`,
 * `static_path` (default `/static`), `app`, `app_path` (default `/app`) and
 * its `html_override` tool (a browser asking for `text/html` on any route
 * gets the app, so single-page apps route themselves). Read from the
 * `api:` block or a Salt `rest_cherrypy:` block (`api:` wins).
 *
 * @module
 */
import { realpathSync, statSync } from "node:fs";
import { ConfigError } from "../bus/errors.ts";
import { pythonJsonDumps } from "../output/python_json.ts";

/** The checked static/app options. */
export interface StaticAppSettings {
  /** The real path of the `static` directory, or `null`. */
  staticDir: string | null;
  /** Where `static` is served (default `/static`). */
  staticPath: string;
  /** The real path of the `app` HTML file, or `null`. */
  appFile: string | null;
  /** Where `app` is served (default `/app`). */
  appPath: string;
  /** Browsers asking for `text/html` on other routes get the app (default: on when `app` is set). */
  htmlOverride: boolean;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  map: "application/json",
  txt: "text/plain; charset=utf-8",
  xml: "application/xml",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  ico: "image/x-icon",
  wasm: "application/wasm",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  pdf: "application/pdf",
};

/**
 * The Content-Type of a file name, by its extension
 * (`application/octet-stream` when unknown).
 *
 * @example
 * ```ts
 * import { contentTypeOf } from "./static_app.ts";
 * contentTypeOf("app.js"); // "text/javascript; charset=utf-8"
 * ```
 */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf(".");
  const ext = dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
  return TYPES[ext] ?? "application/octet-stream";
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads `static`, `static_path`, `app`, `app_path` and `html_override` from
 * a master config's `api:` block, else its `rest_cherrypy:` block. Relative
 * paths are taken from the current directory.
 *
 * @throws {ConfigError} naming the option and `source` (a missing directory or file, a bad path).
 * @example
 * ```ts
 * import { resolveStaticApp } from "./static_app.ts";
 * resolveStaticApp({ rest_cherrypy: { port: 8000 } }).staticPath; // "/static"
 * ```
 */
export function resolveStaticApp(
  config: Record<string, unknown>,
  source = "options",
): StaticAppSettings {
  const blocks: [string, Record<string, unknown>][] = [];
  for (const name of ["api", "rest_cherrypy"]) {
    if (isMapping(config[name])) blocks.push([name, config[name] as Record<string, unknown>]);
  }
  const option = (key: string): [string, unknown] => {
    for (const [name, block] of blocks) {
      if (block[key] !== undefined && block[key] !== null) return [`${name}.${key}`, block[key]];
    }
    return [key, undefined];
  };
  const bad = (name: string, expected: string, value: unknown): never => {
    throw new ConfigError(`${name} in ${source}: ${expected}, got ${JSON.stringify(value)}`);
  };
  const urlPath = (key: string, fallback: string): string => {
    const [name, value] = option(key);
    if (value === undefined) return fallback;
    if (
      typeof value !== "string" || !/^\/[A-Za-z0-9._~\-\/]*$/.test(value) ||
      value.split("/").some((s) => s === "." || s === "..")
    ) {
      bad(name, 'expected a URL path like "/static"', value);
    }
    const trimmed = (value as string).replace(/\/+$/, "");
    if (trimmed === "") bad(name, 'expected a URL path other than "/"', value);
    return trimmed;
  };
  const existing = (key: string, kind: "directory" | "file"): string | null => {
    const [name, value] = option(key);
    if (value === undefined || value === false || value === "") return null;
    if (typeof value !== "string") return bad(name, `expected the path of a ${kind}`, value);
    let real: string;
    try {
      real = realpathSync(value);
    } catch {
      return bad(name, `the ${kind} does not exist`, value);
    }
    const isDir = statSync(real).isDirectory();
    if (kind === "directory" ? !isDir : isDir) {
      bad(name, `expected a ${kind}, not a ${isDir ? "directory" : "file"}`, value);
    }
    return real;
  };
  const staticDir = existing("static", "directory");
  const staticPath = urlPath("static_path", "/static");
  const appFile = existing("app", "file");
  const appPath = urlPath("app_path", "/app");
  const [overrideName, override] = option("html_override");
  if (override !== undefined && typeof override !== "boolean") {
    bad(overrideName, "expected true or false", override);
  }
  return {
    staticDir,
    staticPath,
    appFile,
    appPath,
    htmlOverride: appFile !== null && override !== false,
  };
}

/**
 * Whether a request's `Accept` header names `text/html` (with a quality
 * above 0): a browser navigating, not an API client.
 *
 * @example
 * ```ts
 * import { wantsHtml } from "./static_app.ts";
 * wantsHtml("text/html,application/xhtml+xml,*\/*;q=0.8"); // true
 * wantsHtml("application/json"); // false
 * ```
 */
export function wantsHtml(accept: string | null): boolean {
  if (accept === null) return false;
  for (const part of accept.split(",")) {
    const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    if (type !== "text/html") continue;
    const q = params.find((p) => p.startsWith("q="));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(prefix + "/");
}

function notFound(message: string): Response {
  return new Response(pythonJsonDumps({ status: 404, return: message }), {
    status: 404,
    headers: { "content-type": "application/json" },
  });
}

/**
 * Serves `static` and `app` and applies `html_override`. `route` answers
 * `null` for requests it does not take.
 *
 * @example
 * ```ts
 * import { resolveStaticApp, StaticApp } from "./static_app.ts";
 * const site = new StaticApp(resolveStaticApp({ api: { static: "." } }));
 * const res = await site.route(new Request("http://h/static/README.md"), "/static/README.md");
 * res?.status; // 200
 * ```
 */
export class StaticApp {
  readonly #settings: StaticAppSettings;

  /** Serves what `settings` names. */
  constructor(settings: StaticAppSettings) {
    this.#settings = settings;
  }

  /** The response for `req` (whose URL path is `path`), or `null` when other routes take it. */
  async route(req: Request, path: string): Promise<Response | null> {
    const { staticDir, staticPath, appFile, appPath, htmlOverride } = this.#settings;
    const read = req.method === "GET" || req.method === "HEAD";
    if (staticDir !== null && under(path, staticPath)) {
      if (!read) return methodNotAllowed();
      return await this.#static(staticDir, path.slice(staticPath.length), req.method);
    }
    if (appFile === null) return null;
    // rest_cherrypy's App.GET(*args): every path below app_path is the app.
    if (under(path, appPath)) {
      return read ? await this.#file(appFile, req.method) : methodNotAllowed();
    }
    if (htmlOverride && read && wantsHtml(req.headers.get("accept"))) {
      return await this.#file(appFile, req.method);
    }
    return null;
  }

  async #static(dir: string, rest: string, method: string): Promise<Response> {
    const segments: string[] = [];
    for (const raw of rest.split("/")) {
      if (raw === "") continue;
      let segment: string;
      try {
        segment = decodeURIComponent(raw);
      } catch {
        return notFound("no such file");
      }
      if (segment === "." || segment === ".." || /[\/\\\0]/.test(segment)) {
        return notFound("no such file");
      }
      segments.push(segment);
    }
    if (segments.length === 0) return notFound("no such file");
    let real: string;
    try {
      real = await Deno.realPath(`${dir}/${segments.join("/")}`);
    } catch {
      return notFound("no such file");
    }
    // Symlinks that lead out of the directory are not followed.
    if (!real.startsWith(dir + "/")) return notFound("no such file");
    return await this.#file(real, method);
  }

  async #file(file: string, method: string): Promise<Response> {
    let bytes: Uint8Array;
    try {
      const info = await Deno.stat(file);
      // No directory listings.
      if (!info.isFile) return notFound("no such file");
      bytes = await Deno.readFile(file);
    } catch {
      return notFound("no such file");
    }
    const headers = {
      "content-type": contentTypeOf(file),
      "content-length": String(bytes.length),
      "x-content-type-options": "nosniff",
    };
    return new Response(method === "HEAD" ? null : bytes as Uint8Array<ArrayBuffer>, { headers });
  }
}

function methodNotAllowed(): Response {
  return new Response(pythonJsonDumps({ status: 405, return: "use GET or HEAD" }), {
    status: 405,
    headers: { "content-type": "application/json", allow: "GET, HEAD" },
  });
}
