/**
 * The NATS subjects of the master↔minion link, and the encoding that keeps
 * a minion id inside one subject token. Subjects forbid `.` (a token
 * separator), `*` and `>` (wildcards) and whitespace in a token, and nats.js
 * accepts `a.*.b` or `a..b` without complaint, so every id is encoded:
 * those characters (and `%` itself) become `%XX`, so `web1.example.com` is
 * the token `web1%2Eexample%2Ecom`. The encoding is one-to-one, and the
 * per-minion permissions of the NATS server name the encoded token.
 *
 * | subject | direction | use |
 * |---|---|---|
 * | `salt.link.open.<id>` | minion → master | request/reply: open a link session |
 * | `salt.link.up.<id>` | minion → master | the session's frames (hello, returns, `_minion_event`) |
 * | `salt.link.down.<id>` | master → minion | the session's frames (jobs, replies) |
 * | `salt.auth.<id>` | pending minion → master | request/reply: present a key, ask to be accepted |
 *
 * @module
 */

/** The prefix of every link subject. */
export const LINK_PREFIX = "salt.link";

/** Characters a subject token cannot hold as they are. */
const UNSAFE = new RegExp(
  `[.*>%\\s${String.fromCharCode(0)}-${String.fromCharCode(31)}${String.fromCharCode(127)}]`,
  "gu",
);

/**
 * Encodes `id` as one subject token.
 *
 * @example
 * ```ts
 * import { encodeToken } from "./nats_subjects.ts";
 * encodeToken("web1.example.com"); // "web1%2Eexample%2Ecom"
 * encodeToken("web1"); // "web1"
 * ```
 */
export function encodeToken(id: string): string {
  if (id === "") throw new Error("an empty id cannot be a subject token");
  return id.replace(UNSAFE, (c) => {
    const bytes = new TextEncoder().encode(c);
    return [...bytes].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join("");
  });
}

/**
 * Decodes a token made by {@linkcode encodeToken}; `null` for one it could
 * not have made.
 *
 * @example
 * ```ts
 * import { decodeToken } from "./nats_subjects.ts";
 * decodeToken("web1%2Eexample%2Ecom"); // "web1.example.com"
 * ```
 */
export function decodeToken(token: string): string | null {
  try {
    const id = decodeURIComponent(token);
    return encodeToken(id) === token ? id : null;
  } catch {
    return null;
  }
}

/**
 * The subjects of one minion's link.
 *
 * @example
 * ```ts
 * import { linkSubjects } from "./nats_subjects.ts";
 * linkSubjects("web1").up; // "salt.link.up.web1"
 * ```
 */
export function linkSubjects(id: string): {
  open: string;
  up: string;
  down: string;
  auth: string;
  inbox: string;
} {
  const token = encodeToken(id);
  return {
    open: `${LINK_PREFIX}.open.${token}`,
    up: `${LINK_PREFIX}.up.${token}`,
    down: `${LINK_PREFIX}.down.${token}`,
    auth: `salt.auth.${token}`,
    inbox: `_INBOX_${token}`,
  };
}
