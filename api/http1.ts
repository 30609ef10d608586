/**
 * The HTTP/1.1 wire format the API speaks, over any `Deno.Conn` (TCP or
 * TLS): a buffered reader for request heads and bodies, and a response
 * writer. Strict and bounded on purpose: heads of at most `maxHeadBytes`
 * and `maxHeaders` lines, no line folding, no request with both
 * `Transfer-Encoding` and `Content-Length`, no transfer coding but
 * `chunked`. Anything else is an {@linkcode HttpParseError} carrying the
 * status to answer.
 *
 * @module
 */
import { raceDeadline, TIMED_OUT } from "../bus/async.ts";
import { concatBytes } from "../bus/bytes.ts";
import { SaltbusError } from "../bus/errors.ts";
import { pythonJsonDumps } from "../output/python_json.ts";

/**
 * A request that cannot be parsed; `status` is the answer (400, 413, 431,
 * 501, 505), after which the connection is closed.
 *
 * @example
 * ```ts
 * import { HttpParseError } from "./http1.ts";
 * const err = new HttpParseError(431, "request head over 32768 bytes");
 * console.log(err.status); // 431
 * ```
 */
export class HttpParseError extends SaltbusError {
  /** The HTTP status to answer. */
  readonly status: number;

  /** Creates the error. */
  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HttpParseError";
    this.status = status;
  }
}

/**
 * The client did not send a request body within the request timeout; the
 * connection is closed after a 408.
 *
 * @example
 * ```ts
 * import { BodyTimeoutError } from "./http1.ts";
 * console.log(new BodyTimeoutError(10_000).name); // "BodyTimeoutError"
 * ```
 */
export class BodyTimeoutError extends SaltbusError {
  /** The timeout that passed, in ms. */
  readonly timeoutMs: number;

  /** Creates the error. */
  constructor(timeoutMs: number) {
    super(`the request body did not arrive within ${timeoutMs / 1000} s (api.request_timeout)`);
    this.name = "BodyTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/** A parsed request head. */
export interface RequestHead {
  /** The method, as sent (case-sensitive). */
  method: string;
  /** The request target (origin form `/path?query`, or absolute form). */
  target: string;
  /** `1.0` or `1.1`. */
  version: "1.0" | "1.1";
  /** The header fields. */
  headers: Headers;
}

/** How a request body is delimited. */
export type BodyFraming = { kind: "none" } | { kind: "length"; length: number } | {
  kind: "chunked";
};

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CHUNK_LINE_MAX = 4096;
const TRAILERS_MAX = 8192;
const READ_SIZE = 16 * 1024;

function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

function indexOfCrlfCrlf(buf: Uint8Array, from: number): number {
  for (let i = Math.max(0, from); i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

function indexOfCrlf(buf: Uint8Array, from = 0): number {
  for (let i = from; i + 1 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10) return i;
  }
  return -1;
}

/**
 * Reads from a connection through one buffer, so that bytes read past a
 * request head (a body, a pipelined request) are not lost. At most one
 * `read` is in flight at a time.
 *
 * @example
 * ```ts
 * import { ConnReader } from "./http1.ts";
 * declare const conn: Deno.Conn;
 * const reader = new ConnReader(conn);
 * const head = await reader.readHead({ maxHeadBytes: 32768, maxHeaders: 100 });
 * ```
 */
export class ConnReader {
  readonly #conn: Deno.Conn;
  #buf: Uint8Array = new Uint8Array(0);
  #pending: Promise<boolean> | null = null;
  #eof = false;

  /** Wraps `conn`. */
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Bytes read but not consumed yet. */
  get buffered(): Uint8Array {
    return this.#buf;
  }

  /** Whether the peer has closed its side. */
  get eof(): boolean {
    return this.#eof;
  }

  /** Reads once more into the buffer; false at end of stream. Shares a read already in flight. */
  fill(): Promise<boolean> {
    this.#pending ??= (async () => {
      try {
        if (this.#eof) return false;
        const chunk = new Uint8Array(READ_SIZE);
        const n = await this.#conn.read(chunk);
        if (n === null) {
          this.#eof = true;
          return false;
        }
        this.#buf = this.#buf.length === 0
          ? chunk.subarray(0, n)
          : concatBytes([this.#buf, chunk.subarray(0, n)], this.#buf.length + n);
        return true;
      } catch {
        this.#eof = true;
        return false;
      } finally {
        this.#pending = null;
      }
    })();
    return this.#pending;
  }

  /**
   * Resolves when the peer closes its side (or the connection fails) while
   * nobody else reads: a response being streamed learns that its client
   * went away. Bytes that arrive meanwhile stay buffered.
   */
  async closed(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const more = await raceDeadline(this.fill(), Infinity, signal);
      if (more === TIMED_OUT) return;
      if (!more) return;
      if (this.#buf.length > READ_SIZE * 4) return; // not reading a flood; the response decides
    }
  }

  /** Takes `n` bytes from the buffer. */
  #take(n: number): Uint8Array {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /**
   * Reads one request head; `null` when the peer closes before sending a
   * byte of it.
   *
   * @throws {HttpParseError} for a malformed or oversized head.
   */
  async readHead(
    limits: { maxHeadBytes: number; maxHeaders: number },
  ): Promise<RequestHead | null> {
    // RFC 9112 §2.2: ignore empty lines before a request line.
    let searched = 0;
    for (;;) {
      while (this.#buf.length >= 2 && this.#buf[0] === 13 && this.#buf[1] === 10) this.#take(2);
      const end = indexOfCrlfCrlf(this.#buf, searched - 3);
      if (end >= 0) {
        if (end + 4 > limits.maxHeadBytes) {
          throw new HttpParseError(431, `request head over ${limits.maxHeadBytes} bytes`);
        }
        return parseHead(latin1(this.#take(end + 4).subarray(0, end)), limits.maxHeaders);
      }
      if (this.#buf.length > limits.maxHeadBytes) {
        throw new HttpParseError(431, `request head over ${limits.maxHeadBytes} bytes`);
      }
      searched = this.#buf.length;
      if (!(await this.fill())) {
        if (this.#buf.length === 0) return null;
        throw new HttpParseError(400, "the connection closed in the middle of a request head");
      }
    }
  }

  /** Up to `max` body bytes (from the buffer first); `null` at end of stream. */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (this.#buf.length === 0 && !(await this.fill())) return null;
    return this.#take(Math.min(max, this.#buf.length));
  }

  /** One CRLF-terminated line (without the CRLF), at most `max` bytes. */
  async readLine(max: number): Promise<string> {
    let searched = 0;
    for (;;) {
      const end = indexOfCrlf(this.#buf, Math.max(0, searched - 1));
      if (end >= 0) {
        const line = latin1(this.#take(end + 2).subarray(0, end));
        return line;
      }
      if (this.#buf.length > max) throw new HttpParseError(400, "chunked body line too long");
      searched = this.#buf.length;
      if (!(await this.fill())) {
        throw new HttpParseError(400, "the connection closed in the middle of a chunked body");
      }
    }
  }
}

/** Parses the text of a head (without the final blank line). */
function parseHead(text: string, maxHeaders: number): RequestHead {
  const lines = text.split("\r\n");
  const requestLine = lines[0];
  const parts = requestLine.split(" ");
  if (parts.length !== 3 || !TOKEN.test(parts[0]) || parts[1] === "") {
    throw new HttpParseError(400, "malformed request line");
  }
  const [method, target, protocol] = parts;
  if (protocol !== "HTTP/1.1" && protocol !== "HTTP/1.0") {
    throw new HttpParseError(/^HTTP\/\d\.\d$/.test(protocol) ? 505 : 400, "HTTP/1.1 only");
  }
  if (lines.length - 1 > maxHeaders) {
    throw new HttpParseError(431, `more than ${maxHeaders} header fields`);
  }
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      throw new HttpParseError(400, "folded header lines are not accepted");
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw new HttpParseError(400, "malformed header field");
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    try {
      headers.append(name, value);
    } catch (err) {
      throw new HttpParseError(400, `malformed header field ${name}`, { cause: err });
    }
  }
  return { method, target, version: protocol === "HTTP/1.1" ? "1.1" : "1.0", headers };
}

/**
 * How the body of a request is delimited (RFC 9112 §6.3, strictly).
 *
 * @throws {HttpParseError} 400 for `Transfer-Encoding` with `Content-Length`
 * or a bad length, 501 for a transfer coding other than `chunked`.
 * @example
 * ```ts
 * import { bodyFraming } from "./http1.ts";
 * bodyFraming(new Headers({ "content-length": "5" }), "1.1"); // { kind: "length", length: 5 }
 * ```
 */
export function bodyFraming(headers: Headers, version: "1.0" | "1.1"): BodyFraming {
  const te = headers.get("transfer-encoding");
  const cl = headers.get("content-length");
  if (te !== null) {
    if (cl !== null) {
      throw new HttpParseError(
        400,
        "a request cannot carry both Transfer-Encoding and Content-Length",
      );
    }
    if (version === "1.0" || te.trim().toLowerCase() !== "chunked") {
      throw new HttpParseError(501, `Transfer-Encoding ${te} is not supported (only chunked)`);
    }
    return { kind: "chunked" };
  }
  if (cl === null) return { kind: "none" };
  const values = cl.split(",").map((v) => v.trim());
  if (!values.every((v) => /^[0-9]{1,15}$/.test(v) && v === values[0])) {
    throw new HttpParseError(400, "malformed Content-Length");
  }
  const length = Number(values[0]);
  return length === 0 ? { kind: "none" } : { kind: "length", length };
}

/** State of a request body stream, for deciding whether the connection can be reused. */
export interface BodyState {
  /** Every byte of the body has been read. */
  done: boolean;
}

/**
 * The request body as a stream that reads from the connection only when
 * pulled (nothing is buffered ahead). `deadline` (a `Date.now()` time)
 * bounds how long the client may take; past it the stream errors with
 * {@linkcode BodyTimeoutError}. `onFirstPull` runs before the first read
 * (to send `100 Continue`).
 *
 * @example
 * ```ts
 * import { bodyStream, ConnReader } from "./http1.ts";
 * declare const reader: ConnReader;
 * const state = { done: false };
 * const body = bodyStream(reader, { kind: "length", length: 10 }, state, {
 *   deadline: Date.now() + 10_000,
 *   timeoutMs: 10_000,
 * });
 * ```
 */
export function bodyStream(
  reader: ConnReader,
  framing: BodyFraming,
  state: BodyState,
  options: { deadline: number; timeoutMs: number; onFirstPull?: () => Promise<void> },
): ReadableStream<Uint8Array> {
  let remaining = framing.kind === "length" ? framing.length : 0;
  let chunkLeft = 0;
  let started = false;
  let trailers = false;
  const timed = async <T>(promise: Promise<T>): Promise<T> => {
    const result = await raceDeadline(promise, options.deadline);
    if (result === TIMED_OUT) throw new BodyTimeoutError(options.timeoutMs);
    return result;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        await options.onFirstPull?.();
      }
      if (framing.kind === "length") {
        const bytes = await timed(reader.readSome(Math.min(remaining, 64 * 1024)));
        if (bytes === null) {
          throw new HttpParseError(400, "the connection closed in the middle of a request body");
        }
        remaining -= bytes.length;
        controller.enqueue(bytes.slice());
        if (remaining === 0) {
          state.done = true;
          controller.close();
        }
        return;
      }
      // chunked
      if (chunkLeft === 0) {
        const line = await timed(reader.readLine(CHUNK_LINE_MAX));
        const size = line.split(";")[0].trim();
        if (!/^[0-9a-fA-F]{1,8}$/.test(size)) throw new HttpParseError(400, "malformed chunk size");
        chunkLeft = parseInt(size, 16);
        if (chunkLeft === 0) {
          trailers = true;
          let total = 0;
          for (;;) {
            const trailer = await timed(reader.readLine(TRAILERS_MAX));
            if (trailer === "") break;
            total += trailer.length;
            if (total > TRAILERS_MAX) throw new HttpParseError(400, "trailer fields too large");
          }
          state.done = true;
          controller.close();
          return;
        }
      }
      const bytes = await timed(reader.readSome(Math.min(chunkLeft, 64 * 1024)));
      if (bytes === null) {
        throw new HttpParseError(400, "the connection closed in the middle of a chunked body");
      }
      chunkLeft -= bytes.length;
      controller.enqueue(bytes.slice());
      if (chunkLeft === 0 && !trailers) {
        const crlf = await timed(reader.readLine(2));
        if (crlf !== "") throw new HttpParseError(400, "malformed chunk");
      }
    },
  }, { highWaterMark: 0 });
}

const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

// Set by the writer, never copied from the handler's response.
const HOP_BY_HOP = new Set(["connection", "content-length", "transfer-encoding", "keep-alive"]);

/** Options of {@linkcode writeResponse}. */
export interface WriteResponseOptions {
  /** The request was `HEAD`: headers only. */
  head: boolean;
  /** Keep the connection open afterwards (adds `Connection: close` otherwise). */
  keepAlive: boolean;
  /** Writes one buffer; rejects when the peer is gone or too slow. */
  write: (bytes: Uint8Array) => Promise<void>;
  /** Aborted when the client goes away (stops a streamed body). */
  signal?: AbortSignal;
}

/**
 * Writes `res` as HTTP/1.1: a body of known size (`Content-Length` given,
 * or a body that is not an event stream, read whole) is sent with its
 * length, an event stream (`text/event-stream`) or a body marked
 * `Transfer-Encoding: chunked` chunk by chunk as it is produced. Resolves whether the connection can carry another request.
 *
 * @example
 * ```ts
 * import { writeResponse } from "./http1.ts";
 * declare const conn: Deno.Conn;
 * await writeResponse(new Response("ok"), {
 *   head: false,
 *   keepAlive: true,
 *   write: async (b) => void await conn.write(b),
 * });
 * ```
 */
export async function writeResponse(
  res: Response,
  options: WriteResponseOptions,
): Promise<boolean> {
  const status = res.status;
  let keepAlive = options.keepAlive &&
    (res.headers.get("connection") ?? "").toLowerCase() !== "close";
  const noBody = options.head || status === 204 || status === 304 || status < 200;
  // Event streams, and bodies their handler marks `transfer-encoding:
  // chunked` (large answers such as GET /jobs), go out as they are made.
  const streaming = !noBody && res.body !== null &&
    res.headers.get("content-length") === null &&
    ((res.headers.get("content-type") ?? "").toLowerCase().startsWith("text/event-stream") ||
      (res.headers.get("transfer-encoding") ?? "").toLowerCase() === "chunked");
  let body: Uint8Array | null = null;
  if (!noBody && !streaming) {
    body = res.body === null ? new Uint8Array() : new Uint8Array(await res.arrayBuffer());
  } else if (noBody) {
    await res.body?.cancel().catch(() => {});
  }
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
  head += `date: ${new Date().toUTCString()}\r\n`;
  for (const [name, value] of res.headers) {
    if (HOP_BY_HOP.has(name) || name === "set-cookie") continue;
    head += `${name}: ${value}\r\n`;
  }
  for (const cookie of res.headers.getSetCookie()) head += `set-cookie: ${cookie}\r\n`;
  if (body !== null) head += `content-length: ${body.length}\r\n`;
  else if (streaming) head += "transfer-encoding: chunked\r\n";
  else if (!options.head && status !== 204 && status !== 304 && status >= 200) {
    head += "content-length: 0\r\n";
  }
  if (!keepAlive) head += "connection: close\r\n";
  head += "\r\n";
  const headBytes = latin1Bytes(head);
  if (!streaming) {
    await options.write(body && body.length > 0 ? concatBytes([headBytes, body]) : headBytes);
    return keepAlive;
  }
  await options.write(headBytes);
  const reader = res.body!.getReader();
  const onAbort = () => reader.cancel().catch(() => {});
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      const size = latin1Bytes(`${value.length.toString(16)}\r\n`);
      await options.write(concatBytes([size, value, latin1Bytes("\r\n")]));
    }
    if (options.signal?.aborted) {
      keepAlive = false;
      return false;
    }
    await options.write(latin1Bytes("0\r\n\r\n"));
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  return keepAlive;
}

/**
 * The bytes of a small JSON error response that closes the connection,
 * for failures before a handler runs.
 *
 * @example
 * ```ts
 * import { errorResponseBytes } from "./http1.ts";
 * errorResponseBytes(400, "malformed request line");
 * ```
 */
export function errorResponseBytes(status: number, message: string): Uint8Array {
  const body = pythonJsonDumps({ status, return: message });
  const bodyBytes = new TextEncoder().encode(body);
  const head =
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\ncontent-type: application/json\r\n` +
    `content-length: ${bodyBytes.length}\r\nconnection: close\r\n\r\n`;
  return concatBytes([latin1Bytes(head), bodyBytes]);
}

/** `100 Continue`, sent before the first body read of an `Expect: 100-continue` request. */
export const CONTINUE_BYTES: Uint8Array = latin1Bytes("HTTP/1.1 100 Continue\r\n\r\n");
