/**
 * The body of `POST /minions`: lowstate chunks for the `local_async`
 * client, as JSON, YAML or form data (salt-api's `hypermedia_in` and
 * `lowdata_fmt`): a mapping becomes a one-chunk list; a scalar `arg`
 * becomes `[arg]`.
 *
 * @module
 */
import { parse as parseYaml } from "npm:yaml@2.9.1";
import { isMapping } from "../bus/mapping.ts";

/**
 * A body salt-api would refuse, with its status: 400 (bad document, not
 * lowstate) or 406 (content type not supported).
 *
 * @example
 * ```ts
 * import { BodyError } from "./minions_body.ts";
 * const err = new BodyError(400, "Invalid JSON document");
 * console.log(err.status); // 400
 * ```
 */
export class BodyError extends Error {
  /** The HTTP status to answer with. */
  readonly status: number;

  /** Creates the error. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "BodyError";
    this.status = status;
  }
}

function form(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    if (!Object.hasOwn(out, key)) out[key] = value;
    else if (Array.isArray(out[key])) (out[key] as unknown[]).push(value);
    else out[key] = [out[key], value];
  }
  return out;
}

/**
 * Parses the body of `POST /minions` into lowstate chunks.
 *
 * @throws {BodyError} for a bad document, a content type salt-api does not take, or a non-mapping chunk.
 * @example
 * ```ts
 * import { lowstateChunks } from "./minions_body.ts";
 * const bytes = new TextEncoder().encode("tgt=*&fun=test.ping");
 * lowstateChunks("application/x-www-form-urlencoded", bytes); // [{ tgt: "*", fun: "test.ping" }]
 * ```
 */
export function lowstateChunks(
  contentType: string | null,
  bytes: Uint8Array,
): Record<string, unknown>[] {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  const text = new TextDecoder().decode(bytes);
  let body: unknown;
  if (bytes.length === 0) body = null;
  else if (type === "application/json") {
    try {
      body = JSON.parse(text);
    } catch {
      throw new BodyError(400, "Invalid JSON document");
    }
  } else if (type === "application/x-yaml" || type === "text/yaml") {
    try {
      body = parseYaml(text);
    } catch {
      throw new BodyError(400, "Invalid YAML document");
    }
  } else if (type === "application/x-www-form-urlencoded" || type === "") {
    body = form(text);
  } else if (type === "text/plain") {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  } else {
    throw new BodyError(406, "Content type not supported");
  }
  const chunks = isMapping(body) ? [body] : body;
  if (!Array.isArray(chunks)) throw new BodyError(400, "Lowstates must be a list");
  return chunks.map((chunk) => {
    if (!isMapping(chunk)) throw new BodyError(400, "Each lowstate chunk must be a mapping");
    const out = { ...chunk } as Record<string, unknown>;
    if ("arg" in out && !Array.isArray(out.arg)) out.arg = [out.arg];
    return out;
  });
}
