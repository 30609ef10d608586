/**
 * Authentication of the HTTP API: PBKDF2 password hashes (Web Crypto),
 * the token store, and where a request carries its token.
 *
 * Tokens are 64 hex digits, like Salt's sha256 eauth tokens. The first 16
 * digits select the record; the other 48 are kept only as a SHA-256 digest
 * and compared in constant time, so neither memory nor the token file holds
 * a usable token and a lookup's timing tells nothing about the secret part.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";
import { dirname } from "node:path";
import type { Logger } from "../bus/log.ts";
import { checkPrivateFile, UnsafePathError } from "../transport/private_path.ts";

const PREFIX = "pbkdf2-sha256";

/** Default PBKDF2 iterations of {@linkcode hashPassword} (OWASP's 2023 figure for SHA-256). */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;

/** A parsed password hash. */
export interface PasswordHash {
  /** PBKDF2 iterations. */
  iterations: number;
  /** The salt. */
  salt: Uint8Array;
  /** The derived key. */
  hash: Uint8Array;
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number, bytes: number) {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, iterations },
    key,
    bytes * 8,
  );
  return new Uint8Array(bits);
}

/**
 * Hashes a password for the `external_auth: {saltbus: …}` config:
 * `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>`, 16 random salt
 * bytes, 32 hash bytes.
 *
 * @example
 * ```ts
 * import { hashPassword } from "./auth.ts";
 * const hash = await hashPassword("s3cret"); // "pbkdf2-sha256$600000$…$…"
 * ```
 */
export async function hashPassword(
  password: string,
  options: { iterations?: number } = {},
): Promise<string> {
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await pbkdf2(password, salt, iterations, 32);
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
  return `${PREFIX}$${iterations}$${b64(salt)}$${b64(hash)}`;
}

/**
 * Parses a hash made by {@linkcode hashPassword}; `null` when it is not one.
 *
 * @example
 * ```ts
 * import { parsePasswordHash } from "./auth.ts";
 * parsePasswordHash("plain text"); // null
 * ```
 */
export function parsePasswordHash(text: string): PasswordHash | null {
  const parts = text.split("$");
  if (parts.length !== 4 || parts[0] !== PREFIX || !/^[1-9][0-9]{0,8}$/.test(parts[1])) return null;
  const b64 = /^[A-Za-z0-9+/]+={0,2}$/;
  if (!b64.test(parts[2]) || !b64.test(parts[3])) return null;
  const salt = new Uint8Array(Buffer.from(parts[2], "base64"));
  const hash = new Uint8Array(Buffer.from(parts[3], "base64"));
  if (salt.length < 8 || hash.length < 16) return null;
  return { iterations: Number(parts[1]), salt, hash };
}

// Checked against when the user does not exist, so that the time taken does
// not tell whether a user name is known.
let dummyHash: Promise<string> | null = null;

/**
 * Checks `password` against a hash from {@linkcode hashPassword} (constant
 * time comparison). `hash` `undefined` (unknown user) still costs one
 * derivation and resolves `false`.
 *
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from "./auth.ts";
 * const hash = await hashPassword("s3cret", { iterations: 1000 });
 * await verifyPassword("s3cret", hash); // true
 * ```
 */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  const known = hash !== undefined;
  const parsed = parsePasswordHash(hash ?? await (dummyHash ??= hashPassword("dummy")));
  if (parsed === null) return false;
  const derived = await pbkdf2(password, parsed.salt, parsed.iterations, parsed.hash.length);
  return timingSafeEqual(derived, parsed.hash) && known;
}

/** A token as `POST /login` returns it (Salt's shape); times in epoch seconds. */
export interface TokenInfo {
  /** The token: 64 hex digits. */
  token: string;
  /** When it was issued. */
  start: number;
  /** When it stops being accepted. */
  expire: number;
  /** The user it was issued to. */
  user: string;
  /** The eauth backend (`saltbus`). */
  eauth: string;
  /** The user's permissions from the config. */
  perms: unknown[];
}

/** A valid token's record (without the token itself). */
export type TokenRecord = Omit<TokenInfo, "token"> & {
  /** Set by logout; streams using the token end. */
  revoked: boolean;
};

interface StoredToken extends TokenRecord {
  verifier: Uint8Array;
}

const TOKEN_RE = /^[0-9a-fA-F]{64}$/;

function digest(text: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(text).digest());
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/**
 * Issued tokens, optionally kept in a file (digests only, mode 0600) so that
 * they survive an API restart, as Salt's `localfs` token store does.
 *
 * @example
 * ```ts
 * import { TokenStore } from "./auth.ts";
 * const store = new TokenStore();
 * const info = await store.issue("alice", "saltbus", [".*"], 3600);
 * store.lookup(info.token)?.user; // "alice"
 * ```
 */
export class TokenStore {
  readonly #file: string | null;
  readonly #log?: Logger;
  readonly #tokens = new Map<string, StoredToken>();
  #saving: Promise<void> = Promise.resolve();

  /** Creates a store; with `file`, call {@linkcode load} before use. */
  constructor(options: { file?: string | null; log?: Logger } = {}) {
    this.#file = options.file ?? null;
    this.#log = options.log;
  }

  /**
   * Reads the token file (a missing or unreadable file is an empty store).
   * A file that another user owns or that group or others can write (or
   * that sits where another user could replace it) is refused: logged, not
   * loaded, so that a planted token digest never lets anyone in.
   */
  async load(): Promise<void> {
    if (this.#file === null) return;
    let entries: [string, StoredToken & { verifier: string }][];
    try {
      if (!(await checkPrivateFile(this.#file, { option: "api_token_file" }))) return;
      entries = JSON.parse(await Deno.readTextFile(this.#file));
    } catch (err) {
      if (err instanceof UnsafePathError) {
        this.#log?.error(`token file not loaded: ${err.message}`);
      } else if (!(err instanceof Deno.errors.NotFound)) {
        this.#log?.warning(`ignoring token file ${this.#file}: ${(err as Error).message}`);
      }
      return;
    }
    const now = Date.now() / 1000;
    for (const [selector, record] of entries) {
      if (record.expire > now && !record.revoked) {
        this.#tokens.set(selector, {
          ...record,
          verifier: new Uint8Array(Buffer.from(record.verifier, "hex")),
        });
      }
    }
  }

  /**
   * Issues a token for `user`, valid for `ttlSeconds`.
   *
   * @example
   * ```ts
   * import { TokenStore } from "./auth.ts";
   * const info = await new TokenStore().issue("alice", "saltbus", [], 60);
   * ```
   */
  async issue(
    user: string,
    eauth: string,
    perms: unknown[],
    ttlSeconds: number,
  ): Promise<TokenInfo> {
    const token = hex(crypto.getRandomValues(new Uint8Array(32)));
    const start = Date.now() / 1000;
    const record: StoredToken = {
      start,
      expire: start + ttlSeconds,
      user,
      eauth,
      perms,
      revoked: false,
      verifier: digest(token.slice(16)),
    };
    this.#tokens.set(token.slice(0, 16), record);
    await this.#save();
    return { token, start, expire: record.expire, user, eauth, perms };
  }

  /**
   * The record of a valid token, or `null` when it is malformed (not 64 hex
   * digits), unknown, revoked or expired.
   */
  lookup(token: string | null | undefined): TokenRecord | null {
    if (typeof token !== "string" || !TOKEN_RE.test(token)) return null;
    const lower = token.toLowerCase();
    const record = this.#tokens.get(lower.slice(0, 16));
    if (record === undefined) return null;
    if (!timingSafeEqual(digest(lower.slice(16)), record.verifier)) return null;
    return TokenStore.valid(record) ? record : null;
  }

  /** Whether a record is still valid now (not revoked, not expired). */
  static valid(record: TokenRecord): boolean {
    return !record.revoked && Date.now() / 1000 < record.expire;
  }

  /** Revokes a token (logout); resolves whether it was known. */
  async revoke(token: string): Promise<boolean> {
    const record = this.lookup(token);
    if (record === null) return false;
    (record as StoredToken).revoked = true;
    this.#tokens.delete(token.toLowerCase().slice(0, 16));
    await this.#save();
    return true;
  }

  /** Writes the file (atomically, 0600), one write at a time. */
  #save(): Promise<void> {
    const file = this.#file;
    if (file === null) return Promise.resolve();
    this.#saving = this.#saving.then(async () => {
      const now = Date.now() / 1000;
      const entries = [...this.#tokens].filter(([, r]) => r.expire > now).map((
        [selector, r],
      ) => [selector, { ...r, verifier: hex(r.verifier) }]);
      const tmp = `${file}.${Deno.pid}.${hex(crypto.getRandomValues(new Uint8Array(4)))}.tmp`;
      try {
        await Deno.mkdir(dirname(file), { recursive: true, mode: 0o700 });
        // createNew: never follows a planted symbolic link or reuses another's file.
        await Deno.writeTextFile(tmp, JSON.stringify(entries), { mode: 0o600, createNew: true });
        await Deno.rename(tmp, file);
      } catch (err) {
        await Deno.remove(tmp).catch(() => {});
        this.#log?.warning(`cannot write token file ${file}: ${(err as Error).message}`);
      }
    });
    return this.#saving;
  }
}

/**
 * The token a request carries, as salt-api looks for it (§6.1): query
 * `token`, then query `salt_token`, then the `X-Auth-Token` header, then the
 * `session_id` cookie. `null` when there is none.
 *
 * @example
 * ```ts
 * import { requestToken } from "./auth.ts";
 * const req = new Request("http://x/events?token=abc");
 * requestToken(req, new URL(req.url)); // "abc"
 * ```
 */
export function requestToken(req: Request, url: URL): string | null {
  return requestCredential(req, url)?.token ?? null;
}

/** A token and where the request carried it. */
export interface RequestCredential {
  /** The token as sent. */
  token: string;
  /** `query` and `header` tokens are sent on purpose; a `cookie` is sent by the browser on its own. */
  source: "query" | "header" | "cookie";
}

/**
 * The token a request carries and where it was found, in the order of
 * {@linkcode requestToken}; `null` when there is none. Only a `cookie`
 * token can be sent by a page from another origin without knowing it.
 *
 * @example
 * ```ts
 * import { requestCredential } from "./auth.ts";
 * const req = new Request("http://x/hook", { headers: { cookie: "session_id=abc" } });
 * requestCredential(req, new URL(req.url)); // { token: "abc", source: "cookie" }
 * ```
 */
export function requestCredential(req: Request, url: URL): RequestCredential | null {
  const query = url.searchParams.get("token") || url.searchParams.get("salt_token");
  if (query) return { token: query, source: "query" };
  const header = req.headers.get("x-auth-token");
  if (header) return { token: header, source: "header" };
  const session = cookie(req, "session_id");
  return session ? { token: session, source: "cookie" } : null;
}

function cookie(req: Request, name: string): string | null {
  const header = req.headers.get("cookie");
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}
