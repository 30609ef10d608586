/**
 * `POST /hook/<path…>` (§6.4): fires `salt/netapi/hook/<path…>` with
 * `{"body", "post", "headers"}` as rest_cherrypy does.
 *
 * @module
 */
import { readRequestBody, RequestBodyError } from "./request_body.ts";

/** Why a webhook request was refused. */
export class WebhookError extends Error {
  /** Creates the error with the HTTP status to answer. */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "WebhookError";
  }
}

/** Headers never copied into the event: they carry credentials. */
const SECRET_HEADERS = new Set(["x-auth-token", "cookie", "authorization"]);

/**
 * The tag a hook path fires: `salt/netapi/hook` plus the path's segments.
 *
 * @example
 * ```ts
 * import { hookTag } from "./webhook.ts";
 * hookTag("/hook/github/push"); // "salt/netapi/hook/github/push"
 * ```
 */
export function hookTag(pathname: string): string {
  const decode = (segment: string) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment; // a malformed %-escape stays as it came
    }
  };
  const segments = pathname.split("/").filter((s) => s !== "").slice(1).map(decode);
  return ["salt", "netapi", "hook", ...segments].join("/");
}

/** `content-type` → `Content-Type`, as CherryPy presents header names. */
function titleCase(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash, c) => dash + c.toUpperCase());
}

/**
 * The event data of a webhook request: `body` (the raw body as text),
 * `post` (the body parsed as JSON or a form, else `{}`) and `headers`
 * (Title-Case names, as CherryPy; `X-Auth-Token`, `Cookie` and
 * `Authorization` left out so that no credential reaches the bus).
 *
 * @throws {WebhookError} 413 for a body over `maxBody`, 400 for a JSON body
 * that does not parse.
 * @example
 * ```ts
 * import { hookData } from "./webhook.ts";
 * const req = new Request("http://x/hook/a", { method: "POST", body: "a=1&b=2",
 *   headers: { "content-type": "application/x-www-form-urlencoded" } });
 * await hookData(req, 1 << 20); // { body: "a=1&b=2", post: { a: "1", b: "2" }, headers: {…} }
 * ```
 */
export async function hookData(req: Request, maxBody: number): Promise<Record<string, unknown>> {
  let raw: Uint8Array;
  try {
    raw = await readRequestBody(req, { limit: maxBody, option: "webhook_max_body" });
  } catch (err) {
    if (err instanceof RequestBodyError) throw new WebhookError(err.status, err.message);
    throw err;
  }
  return hookDataFrom(req.headers, raw);
}

/**
 * The event data of a webhook whose body has been read already (see
 * {@linkcode hookData}).
 *
 * @throws {WebhookError} 400 for a JSON body that does not parse.
 * @example
 * ```ts
 * import { hookDataFrom } from "./webhook.ts";
 * hookDataFrom(new Headers({ "content-type": "application/json" }), new TextEncoder().encode("{}"));
 * ```
 */
export function hookDataFrom(requestHeaders: Headers, raw: Uint8Array): Record<string, unknown> {
  const body = new TextDecoder().decode(raw);
  const type = (requestHeaders.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  let post: unknown = {};
  if (type === "application/json" || type.endsWith("+json")) {
    try {
      post = body === "" ? {} : JSON.parse(body);
    } catch (err) {
      throw new WebhookError(400, `the body is not valid JSON: ${(err as Error).message}`);
    }
  } else if (type === "application/x-www-form-urlencoded") {
    const form: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(body)) {
      const prev = form[key];
      form[key] = prev === undefined
        ? value
        : Array.isArray(prev)
        ? [...prev, value]
        : [prev, value];
    }
    post = form;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of requestHeaders) {
    if (!SECRET_HEADERS.has(name)) headers[titleCase(name)] = value;
  }
  return { body, post, headers };
}
