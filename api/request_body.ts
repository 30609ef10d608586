/**
 * Reading a request body with a size limit: `Content-Length` over the
 * limit is refused before a byte is read, and a chunked (or lying) body is
 * counted as it streams and cut off at the limit.
 *
 * @module
 */
import { concatBytes } from "../bus/bytes.ts";
import { SaltbusError } from "../bus/errors.ts";
import { BodyTimeoutError, HttpParseError } from "./http1.ts";

/**
 * A request body that cannot be read: `status` 413 (over `limit`), 408
 * (not sent in time) or 400 (broken framing). The connection is closed
 * after the answer.
 *
 * @example
 * ```ts
 * import { RequestBodyError } from "./request_body.ts";
 * const err = new RequestBodyError(413, "body over max_request_body_size (1048576 bytes)");
 * console.log(err.status); // 413
 * ```
 */
export class RequestBodyError extends SaltbusError {
  /** The HTTP status to answer. */
  readonly status: number;

  /** Creates the error. */
  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RequestBodyError";
    this.status = status;
  }
}

/** Options of {@linkcode readRequestBody}. */
export interface ReadBodyOptions {
  /** Largest body in bytes. */
  limit: number;
  /** The option that sets `limit`, for messages. */
  option: string;
}

/**
 * The declared `Content-Length` when it is over `limit` (so the caller can
 * answer 413 without reading), else `null`.
 *
 * @example
 * ```ts
 * import { declaredOver } from "./request_body.ts";
 * declaredOver(new Request("http://x", { method: "POST", body: "abc" }), 2); // 3
 * ```
 */
export function declaredOver(req: Request, limit: number): number | null {
  const declared = Number(req.headers.get("content-length") ?? NaN);
  return Number.isFinite(declared) && declared > limit ? declared : null;
}

/**
 * Reads the whole body, at most `limit` bytes.
 *
 * @throws {RequestBodyError} 413 over the limit (declared or counted), 408
 * when the client is too slow, 400 for a broken chunked body.
 * @example
 * ```ts
 * import { readRequestBody } from "./request_body.ts";
 * const req = new Request("http://x/hook", { method: "POST", body: "a=1" });
 * await readRequestBody(req, { limit: 1024, option: "max_request_body_size" }); // Uint8Array(3)
 * ```
 */
export async function readRequestBody(req: Request, options: ReadBodyOptions): Promise<Uint8Array> {
  const { limit, option } = options;
  const over = () => new RequestBodyError(413, `body over ${option} (${limit} bytes)`);
  if (declaredOver(req, limit) !== null) throw over();
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > limit) throw over();
      parts.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    if (err instanceof RequestBodyError) throw err;
    if (err instanceof BodyTimeoutError) {
      throw new RequestBodyError(408, err.message, { cause: err });
    }
    if (err instanceof HttpParseError) {
      throw new RequestBodyError(err.status, err.message, { cause: err });
    }
    throw new RequestBodyError(400, `cannot read the request body: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return concatBytes(parts, length);
}
