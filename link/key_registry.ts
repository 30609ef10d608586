/**
 * The master's minion key registry, kept as Salt keeps it (`salt/key.py`
 * and the master's `_auth`): one file per minion id in a state directory
 * of `pki_dir`, holding the minion's public key (its NATS NKey public key,
 * `U…`) on one line:
 *
 * - `minions/` — accepted keys;
 * - `minions_pre/` — pending (unaccepted) keys;
 * - `minions_rejected/` — rejected keys;
 * - `minions_denied/` — keys presented for an id that already has a
 *   different accepted or pending key.
 *
 * Directories are 0700, files 0600. Files are written through a temporary
 * dot-file and renamed, so a reader never sees half a key; dot-files are
 * never keys (as Salt's `list_keys` skips them).
 *
 * @module
 */
import { pkiDirOf as transportPkiDirOf } from "../transport/link_transport.ts";
import { join } from "node:path";
import { ConfigError, SaltbusError } from "../bus/errors.ts";
import { isMapping } from "../bus/mapping.ts";
import { permissionError } from "../bus/permission.ts";
import { fnmatch } from "../bus/tag_match.ts";

/**
 * A key state, as {@linkcode KeyRegistry.state} answers it.
 *
 * @example
 * ```ts
 * import type { KeyState } from "./key_registry.ts";
 * const state: KeyState = "pending";
 * ```
 */
export type KeyState = "accepted" | "pending" | "rejected" | "denied";

/**
 * A key state directory of `pki_dir` (Salt's names, used in every answer).
 *
 * @example
 * ```ts
 * import type { KeyDir } from "./key_registry.ts";
 * const dir: KeyDir = "minions_pre";
 * ```
 */
export type KeyDir = "minions" | "minions_pre" | "minions_rejected" | "minions_denied";

/**
 * The directory of each state.
 *
 * @example
 * ```ts
 * import { KEY_DIRS } from "./key_registry.ts";
 * KEY_DIRS.pending; // "minions_pre"
 * ```
 */
export const KEY_DIRS: Readonly<Record<KeyState, KeyDir>> = Object.freeze({
  accepted: "minions",
  pending: "minions_pre",
  rejected: "minions_rejected",
  denied: "minions_denied",
});

/** State of each directory. */
const STATE_OF: Readonly<Record<KeyDir, KeyState>> = Object.freeze({
  minions: "accepted",
  minions_pre: "pending",
  minions_rejected: "rejected",
  minions_denied: "denied",
});

/** The directories in Salt's order (accepted, pending, rejected, denied). */
const DIRS: readonly KeyDir[] = ["minions", "minions_pre", "minions_rejected", "minions_denied"];

/**
 * Which state {@linkcode KeyRegistry.state} reports for an id with files in
 * several directories: the order the master's `_auth` checks them in.
 */
const STATE_PRIORITY: readonly KeyDir[] = [
  "minions_rejected",
  "minions",
  "minions_pre",
  "minions_denied",
];

/**
 * Every key id by state directory, each list sorted.
 *
 * @example
 * ```ts
 * import type { KeyList } from "./key_registry.ts";
 * const keys: KeyList = { minions: ["web1"], minions_pre: [], minions_rejected: [], minions_denied: [] };
 * ```
 */
export type KeyList = Record<KeyDir, string[]>;

/**
 * Ids by state directory, only the non-empty states (Salt's `name_match`
 * answer and the answer of accept/reject/delete).
 *
 * @example
 * ```ts
 * import type { KeysByState } from "./key_registry.ts";
 * const moved: KeysByState = { minions_pre: ["web1"] };
 * ```
 */
export type KeysByState = Partial<Record<KeyDir, string[]>>;

/**
 * What names keys: a glob (`web*`), a comma-separated list of globs, a
 * list of globs, or a mapping of state directories to globs
 * (`{ minions_pre: ["web1"] }`: only those states are looked at).
 *
 * @example
 * ```ts
 * import type { KeyMatch } from "./key_registry.ts";
 * const match: KeyMatch = "web1,db*";
 * ```
 */
export type KeyMatch = string | readonly string[] | KeysByState;

/**
 * How the master treats an id it has no decision for yet.
 *
 * @example
 * ```ts
 * import type { PresentOptions } from "./key_registry.ts";
 * const opts: PresentOptions = { autoAccept: false, autosign: ["web*"] };
 * ```
 */
export interface PresentOptions {
  /** Salt's `auto_accept`: accept every new key. */
  autoAccept: boolean;
  /** Globs of ids to accept automatically (Salt's `autosign_file` lines). */
  autosign: readonly string[];
  /** Globs of ids to reject automatically (Salt's `autoreject_file` lines); wins over autosign. */
  autoreject?: readonly string[];
}

/**
 * The master's verdict on a presented key, as Salt's `auth` event reports
 * it: `act` is what happened, `result` whether the minion may go on
 * (`true` for `accept`, and for `pend`: the minion waits and retries).
 *
 * @example
 * ```ts
 * import type { PresentResult } from "./key_registry.ts";
 * const verdict: PresentResult = { act: "pend", result: true };
 * ```
 */
export interface PresentResult {
  /** `accept`, `pend`, `reject` or `denied`. */
  act: "accept" | "pend" | "reject" | "denied";
  /** True for `accept` and `pend`. */
  result: boolean;
}

/**
 * Called when an id's state (what {@linkcode KeyRegistry.state} answers)
 * changes: `state` is the new one (`null`: no key left), `previous` the
 * old one. The master uses it to cut off a minion whose key was deleted or
 * rejected.
 *
 * @example
 * ```ts
 * import type { KeyChange } from "./key_registry.ts";
 * const onChange: KeyChange = (id, state) => console.log(`${id} is now ${state ?? "unknown"}`);
 * ```
 */
export type KeyChange = (id: string, state: KeyState | null, previous: KeyState | null) => void;

/**
 * A minion id that cannot name a key file, or a public key that cannot be
 * stored; the message names the id.
 *
 * @example
 * ```ts
 * import { KeyRegistryError } from "./key_registry.ts";
 * const err = new KeyRegistryError("invalid minion id '../x'");
 * console.log(err.name); // "KeyRegistryError"
 * ```
 */
export class KeyRegistryError extends SaltbusError {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeyRegistryError";
  }
}

/**
 * Salt's `valid_id`: an id can name a key file. Refused: empty ids, ids
 * containing `/`, `\`, a NUL or `..`, and ids starting with `.`.
 *
 * @example
 * ```ts
 * import { validId } from "./key_registry.ts";
 * validId("web1"); // true
 * validId("../etc/passwd"); // false
 * ```
 */
export function validId(id: unknown): id is string {
  return typeof id === "string" && id !== "" && !id.startsWith(".") && !id.includes("..") &&
    !/[/\\\0]/.test(id);
}

function checkId(id: unknown): string {
  if (!validId(id)) {
    throw new KeyRegistryError(
      `invalid minion id ${JSON.stringify(id)}: an id must not be empty, start with '.', ` +
        "or contain '/', '\\', '..' or a NUL character",
    );
  }
  return id;
}

/**
 * The master's key directory: `config.pki_dir`, or by default
 * `<sock_dir>/pki`, private like the sock_dir (Salt's is
 * `/etc/salt/pki/master`).
 *
 * @throws {ConfigError} when `pki_dir` is set but is not a non-empty string.
 * @example
 * ```ts
 * import { pkiDirOf } from "./key_registry.ts";
 * pkiDirOf({ sock_dir: "/tmp/bus/master" }); // "/tmp/bus/master/pki"
 * pkiDirOf({ sock_dir: "/tmp/bus/master", pki_dir: "/srv/pki" }); // "/srv/pki"
 * ```
 */
export function pkiDirOf(config: { sock_dir: string; pki_dir?: unknown }): string {
  const dir = config.pki_dir;
  if (dir !== undefined && dir !== null && (typeof dir !== "string" || dir === "")) {
    throw new ConfigError(`pki_dir: expected a directory path, not ${JSON.stringify(dir)}`);
  }
  return transportPkiDirOf(config);
}

/**
 * Reads an autosign (or autoreject) file: one id glob a line; blank lines
 * and lines starting with `#` are skipped. A missing file has no globs.
 *
 * @example
 * ```ts
 * import { readAutosignFile } from "./key_registry.ts";
 * const globs = await readAutosignFile("/etc/saltbus/autosign.conf"); // ["web*", "db1"]
 * ```
 */
export async function readAutosignFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw permissionError(err, `reading autosign file ${path}`) ?? err;
  }
  return text.split(/\r?\n/).map((line) => line.trim()).filter((line) =>
    line !== "" && !line.startsWith("#")
  );
}

/**
 * Salt's `pem_finger` with sha256: the SHA-256 of the public key text,
 * as hex pairs joined by `:`.
 *
 * @example
 * ```ts
 * import { fingerprint } from "./key_registry.ts";
 * await fingerprint("UAYM4…"); // "3f:a2:…"
 * ```
 */
export async function fingerprint(publicKey: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(publicKey.trim()));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Salt's `sorted_ignorecase`. */
function sortIds(ids: string[]): string[] {
  return ids.sort((a, b) => {
    const la = a.toLowerCase(), lb = b.toLowerCase();
    return la < lb ? -1 : la > lb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  });
}

function globsOf(match: string | readonly unknown[]): string[] {
  const list = typeof match === "string" ? match.split(",") : match.map(String);
  return list.map((g) => g.trim()).filter((g) => g !== "");
}

function isKeyDir(name: string): name is KeyDir {
  return (DIRS as readonly string[]).includes(name);
}

function checkPublicKey(id: string, pub: unknown): string {
  const key = typeof pub === "string" ? pub.trim() : "";
  if (key === "" || /\s/.test(key)) {
    throw new KeyRegistryError(
      `the public key presented for minion '${id}' must be one non-empty line without spaces`,
    );
  }
  return key;
}

/**
 * The master's minion keys in `pki_dir`.
 *
 * @example
 * ```ts
 * import { KeyRegistry } from "./key_registry.ts";
 * const keys = await KeyRegistry.open("/tmp/bus/pki/master");
 * await keys.present("web1", "UAYM4…", { autoAccept: false, autosign: [] }); // { act: "pend", result: true }
 * await keys.accept("web1"); // { minions_pre: ["web1"] }
 * await keys.state("web1"); // "accepted"
 * ```
 */
export class KeyRegistry {
  /** The key directory. */
  readonly pkiDir: string;
  #onChange: KeyChange | undefined;

  private constructor(pkiDir: string, onChange: KeyChange | undefined) {
    this.pkiDir = pkiDir;
    this.#onChange = onChange;
  }

  /**
   * Opens the registry in `pkiDir`, creating it and its four state
   * directories (mode 0700) when missing; existing ones are set to 0700.
   *
   * @throws {PermissionError} when Deno lacks read or write permission.
   * @example
   * ```ts
   * import { KeyRegistry } from "./key_registry.ts";
   * const keys = await KeyRegistry.open("/tmp/bus/pki/master", {
   *   onChange: (id, state) => console.log(id, state),
   * });
   * ```
   */
  static async open(
    pkiDir: string,
    options: { onChange?: KeyChange } = {},
  ): Promise<KeyRegistry> {
    try {
      for (const dir of [pkiDir, ...DIRS.map((d) => join(pkiDir, d))]) {
        await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
        await Deno.chmod(dir, 0o700);
      }
    } catch (err) {
      throw permissionError(err, `opening the key directory ${pkiDir}`) ??
        new KeyRegistryError(
          `cannot use the key directory ${pkiDir} (pki_dir): ${
            err instanceof Error ? err.message : err
          }`,
          { cause: err },
        );
    }
    return new KeyRegistry(pkiDir, options.onChange);
  }

  /**
   * Every key id by state directory (Salt's `list_keys`), sorted
   * ignoring case.
   *
   * @example
   * ```ts
   * import { KeyRegistry } from "./key_registry.ts";
   * const keys = await KeyRegistry.open("/tmp/bus/pki/master");
   * await keys.list(); // { minions: ["web1"], minions_pre: [], minions_rejected: [], minions_denied: [] }
   * ```
   */
  async list(): Promise<KeyList> {
    const ret = {} as KeyList;
    for (const dir of DIRS) ret[dir] = await this.#ids(dir);
    return ret;
  }

  /**
   * The id's state, or `null` when it has no key. An id with files in
   * several directories reports the first of rejected, accepted, pending,
   * denied (the order the master checks them in).
   *
   * @throws {KeyRegistryError} for an invalid id.
   * @example
   * ```ts
   * import { KeyRegistry } from "./key_registry.ts";
   * const keys = await KeyRegistry.open("/tmp/bus/pki/master");
   * await keys.state("web1"); // "accepted"
   * ```
   */
  async state(id: string): Promise<KeyState | null> {
    const dir = await this.#dirOf(checkId(id));
    return dir === null ? null : STATE_OF[dir];
  }

  /**
   * The id's public key in the state {@linkcode state} reports (or in
   * `state` when given), or `null`.
   *
   * @throws {KeyRegistryError} for an invalid id.
   * @example
   * ```ts
   * import { KeyRegistry } from "./key_registry.ts";
   * const keys = await KeyRegistry.open("/tmp/bus/pki/master");
   * await keys.publicKey("web1"); // "UAYM4…"
   * await keys.publicKey("web1", "denied"); // null
   * ```
   */
  async publicKey(id: string, state?: KeyState): Promise<string | null> {
    checkId(id);
    const dir = state === undefined ? await this.#dirOf(id) : KEY_DIRS[state];
    return dir === null ? null : await this.#read(dir, id);
  }

  /**
   * What the master does when minion `id` presents public key `pub`
   * (Salt's `_auth`):
   *
   * - a rejected id: `reject` (false);
   * - an accepted id: `accept` (true) with the same key; with another key,
   *   the key is written to `minions_denied` and the answer is `denied`
   *   (false), the accepted key staying;
   * - an id without a key (or only a denied one): autoreject → `reject`
   *   (stored as rejected), autosign or `autoAccept` → `accept` (stored as
   *   accepted), otherwise `pend` (true, stored as pending);
   * - a pending id: autoreject → `reject` (moved to rejected); another key
   *   than the pending one → `denied` (false; stored in `minions_denied`,
   *   the pending key staying, as Salt); the same key → `accept` when
   *   autosign or `autoAccept` now matches (moved to accepted), else `pend`.
   *
   * Autosign lines match by glob (an exact id is a glob too).
   *
   * @throws {KeyRegistryError} for an invalid id or an empty or multi-line key.
   * @example
   * ```ts
   * import { KeyRegistry } from "./key_registry.ts";
   * const keys = await KeyRegistry.open("/tmp/bus/pki/master");
   * await keys.present("web1", "UAYM4…", { autoAccept: false, autosign: ["web*"] });
   * // { act: "accept", result: true }
   * ```
   */
  async present(id: string, pub: string, opts: PresentOptions): Promise<PresentResult> {
    checkId(id);
    const key = checkPublicKey(id, pub);
    const autoReject = (opts.autoreject ?? []).some((g) => fnmatch(id, g.trim()));
    const autoSign = opts.autoAccept || opts.autosign.some((g) => fnmatch(id, g.trim()));
    const previous = await this.state(id);
    switch (previous) {
      case "rejected":
        return { act: "reject", result: false };
      case "accepted":
        if (await this.#read("minions", id) === key) return { act: "accept", result: true };
        await this.#write("minions_denied", id, key);
        return { act: "denied", result: false };
      case "pending": {
        if (autoReject) {
          await this.#move("minions_pre", "minions_rejected", id);
          await this.#changed(id, previous);
          return { act: "reject", result: false };
        }
        if (await this.#read("minions_pre", id) !== key) {
          await this.#write("minions_denied", id, key);
          return { act: "denied", result: false };
        }
        if (!autoSign) return { act: "pend", result: true };
        await this.#move("minions_pre", "minions", id);
        await this.#changed(id, previous);
        return { act: "accept", result: true };
      }
      default: {
        const [dir, act]: [KeyDir, PresentResult["act"]] = autoReject
          ? ["minions_rejected", "reject"]
          : autoSign
          ? ["minions", "accept"]
          : ["minions_pre", "pend"];
        await this.#write(dir, id, key);
        await this.#changed(id, previous);
        return { act, result: act !== "reject" };
      }
    }
  }

  /**
   * The ids `match` names, by state (Salt's `name_match`, and `dict_match`
   * for a mapping: only the states it names are looked at). Only
   * non-empty states appear.
   *
   * @example
   * ```ts
   * import { KeyRegistry } from "./key_registry.ts";
   * const keys = await KeyRegistry.open("/tmp/bus/pki/master");
   * await keys.match("web*"); // { minions: ["web1"], minions_pre: ["web2"] }
   * await keys.match({ minions_pre: ["web*"] }); // { minions_pre: ["web2"] }
   * ```
   */
  async match(match: KeyMatch): Promise<KeysByState> {
    const ret: KeysByState = {};
    const all = await this.list();
    if (isMapping(match)) {
      for (const [dir, globs] of Object.entries(match)) {
        if (!isKeyDir(dir)) continue;
        const list = globsOf(Array.isArray(globs) ? globs : [String(globs)]);
        const ids = all[dir].filter((id) => list.some((g) => fnmatch(id, g)));
        if (ids.length > 0) ret[dir] = ids;
      }
      return ret;
    }
    const globs = globsOf(match as string | readonly string[]);
    for (const dir of DIRS) {
      const ids = all[dir].filter((id) => globs.some((g) => fnmatch(id, g)));
      if (ids.length > 0) ret[dir] = ids;
    }
    return ret;
  }

  /**
   * Accepts the pending keys `match` names (and the rejected or denied
   * ones when asked): moves them to `minions`. Answers the moved ids by
   * their previous state, e.g. `{ minions_pre: ["web1"] }` (`{}` when
   * nothing moved). When an id moves from several states, the last one
   * (pending, rejected, denied) gives the accepted key, as Salt.
   *
   * @example
   * ```ts
   * import { KeyRegistry } from "./key_registry.ts";
   * const keys = await KeyRegistry.open("/tmp/bus/pki/master");
   * await keys.accept("web*", { includeRejected: true }); // { minions_pre: ["web2"], minions_rejected: ["web3"] }
   * ```
   */
  async accept(
    match: KeyMatch,
    opts: { includeRejected?: boolean; includeDenied?: boolean } = {},
  ): Promise<KeysByState> {
    const from: KeyDir[] = ["minions_pre"];
    if (opts.includeRejected) from.push("minions_rejected");
    if (opts.includeDenied) from.push("minions_denied");
    return await this.#moveMatched(match, from, "minions");
  }

  /**
   * Rejects the pending keys `match` names (and the accepted or denied
   * ones when asked): moves them to `minions_rejected`. Answers the moved
   * ids by their previous state.
   *
   * @example
   * ```ts
   * import { KeyRegistry } from "./key_registry.ts";
   * const keys = await KeyRegistry.open("/tmp/bus/pki/master");
   * await keys.reject("web1", { includeAccepted: true }); // { minions: ["web1"] }
   * ```
   */
  async reject(
    match: KeyMatch,
    opts: { includeAccepted?: boolean; includeDenied?: boolean } = {},
  ): Promise<KeysByState> {
    const from: KeyDir[] = ["minions_pre"];
    if (opts.includeAccepted) from.push("minions");
    if (opts.includeDenied) from.push("minions_denied");
    return await this.#moveMatched(match, from, "minions_rejected");
  }

  /**
   * Deletes the keys `match` names, in every state (or the states a
   * mapping names). Answers the deleted ids by their previous state.
   *
   * @example
   * ```ts
   * import { KeyRegistry } from "./key_registry.ts";
   * const keys = await KeyRegistry.open("/tmp/bus/pki/master");
   * await keys.delete("web1"); // { minions: ["web1"] }
   * ```
   */
  async delete(match: KeyMatch): Promise<KeysByState> {
    const matched = await this.match(match);
    const ret: KeysByState = {};
    const before = new Map<string, KeyState | null>();
    for (const dir of DIRS) {
      for (const id of matched[dir] ?? []) {
        if (!before.has(id)) before.set(id, await this.state(id));
        if (await this.#remove(dir, id)) (ret[dir] ??= []).push(id);
      }
    }
    for (const [id, previous] of before) await this.#changed(id, previous);
    return ret;
  }

  /**
   * The fingerprints (see {@linkcode fingerprint}) of the keys `match`
   * names, by state; only states with matches appear.
   *
   * @example
   * ```ts
   * import { KeyRegistry } from "./key_registry.ts";
   * const keys = await KeyRegistry.open("/tmp/bus/pki/master");
   * await keys.finger("web1"); // { minions: { web1: "3f:a2:…" } }
   * ```
   */
  async finger(match: KeyMatch): Promise<Partial<Record<KeyDir, Record<string, string>>>> {
    const ret: Partial<Record<KeyDir, Record<string, string>>> = {};
    for (const [dir, ids] of Object.entries(await this.match(match)) as [KeyDir, string[]][]) {
      const prints: Record<string, string> = {};
      for (const id of ids) {
        const key = await this.#read(dir, id);
        if (key !== null) prints[id] = await fingerprint(key);
      }
      if (Object.keys(prints).length > 0) ret[dir] = prints;
    }
    return ret;
  }

  async #moveMatched(match: KeyMatch, from: KeyDir[], to: KeyDir): Promise<KeysByState> {
    const matched = await this.match(match);
    const ret: KeysByState = {};
    const before = new Map<string, KeyState | null>();
    for (const dir of from) {
      for (const id of matched[dir] ?? []) {
        if (!before.has(id)) before.set(id, await this.state(id));
        if (await this.#move(dir, to, id)) (ret[dir] ??= []).push(id);
      }
    }
    for (const [id, previous] of before) await this.#changed(id, previous);
    return ret;
  }

  /** Tells `onChange` about `id` when its state is not `previous` any more. */
  async #changed(id: string, previous: KeyState | null): Promise<void> {
    if (this.#onChange === undefined) return;
    const state = await this.state(id);
    if (state !== previous) this.#onChange(id, state, previous);
  }

  #path(dir: KeyDir, id: string): string {
    return join(this.pkiDir, dir, id);
  }

  async #ids(dir: KeyDir): Promise<string[]> {
    const ids: string[] = [];
    try {
      for await (const entry of Deno.readDir(join(this.pkiDir, dir))) {
        if (entry.isFile && !entry.name.startsWith(".")) ids.push(entry.name);
      }
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw this.#error(err, `listing ${dir}`);
    }
    return sortIds(ids);
  }

  async #dirOf(id: string): Promise<KeyDir | null> {
    for (const dir of STATE_PRIORITY) {
      try {
        if ((await Deno.stat(this.#path(dir, id))).isFile) return dir;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw this.#error(err, `reading ${dir}/${id}`);
      }
    }
    return null;
  }

  async #read(dir: KeyDir, id: string): Promise<string | null> {
    try {
      return (await Deno.readTextFile(this.#path(dir, id))).trim();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw this.#error(err, `reading ${dir}/${id}`);
    }
  }

  /** Writes `dir/id` (0600) through a temporary dot-file and a rename. */
  async #write(dir: KeyDir, id: string, key: string): Promise<void> {
    const tmp = join(this.pkiDir, dir, `.${id}.${crypto.randomUUID()}.tmp`);
    try {
      await Deno.writeTextFile(tmp, `${key}\n`, { mode: 0o600, createNew: true });
      await Deno.chmod(tmp, 0o600);
      await Deno.rename(tmp, this.#path(dir, id));
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      throw this.#error(err, `writing ${dir}/${id}`);
    }
  }

  /** Moves `from/id` to `to/id`; false when there was no such key. */
  async #move(from: KeyDir, to: KeyDir, id: string): Promise<boolean> {
    try {
      await Deno.rename(this.#path(from, id), this.#path(to, id));
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw this.#error(err, `moving ${from}/${id} to ${to}`);
    }
  }

  /** Removes `dir/id`; false when there was no such key. */
  async #remove(dir: KeyDir, id: string): Promise<boolean> {
    try {
      await Deno.remove(this.#path(dir, id));
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw this.#error(err, `deleting ${dir}/${id}`);
    }
  }

  #error(err: unknown, doing: string): Error {
    return permissionError(err, `${doing} in ${this.pkiDir}`) ??
      new KeyRegistryError(
        `${doing} in the key directory ${this.pkiDir}: ${err instanceof Error ? err.message : err}`,
        { cause: err },
      );
  }
}
