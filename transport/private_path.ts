/**
 * Owner-only paths: the checks saltbus makes before it trusts a directory
 * (a `sock_dir`, and every directory above it) or a state file (the API's
 * token file, a lock file). Anyone who can write a directory on the way can
 * replace what is in it (a socket that captures fired events, a token file
 * with a digest of their choosing), so such a path is refused, never used
 * with a warning.
 *
 * The rules, for the running uid `U`:
 * - the directory itself (or the file) is owned by `U` and is not writable
 *   by group or others;
 * - every directory above it is owned by `U` or by root, and is not
 *   writable by group or others unless its sticky bit is set (as `/tmp`'s
 *   is: others can add entries there but cannot remove or rename ours);
 * - a symbolic link on the way is owned by `U` or by root, and the
 *   directories it leads to pass the same checks.
 *
 * On Windows (no uid) nothing is checked.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { BrokerStartError } from "../bus/errors.ts";

/**
 * A path saltbus refuses to trust: owned by another user, writable by group
 * or others, or not the kind of file expected. Thrown where a bus starts (so
 * it is a {@linkcode BrokerStartError}); the API logs it when it refuses a
 * state file.
 *
 * @example
 * ```ts
 * import { UnsafePathError } from "./private_path.ts";
 * const err = new UnsafePathError({
 *   path: "/tmp/saltbus-1000/master",
 *   problem: "is owned by uid 1001, not by uid 1000 (the user running saltbus)",
 *   advice: "remove it, or set sock_dir to a directory only you can write",
 * });
 * console.log(err.name); // "UnsafePathError"
 * ```
 */
export class UnsafePathError extends BrokerStartError {
  /** The path that is refused (the sock_dir, a directory above it, or a file). */
  readonly path: string;
  /** What is wrong with it, e.g. `is writable by group and others (mode 0777)`. */
  readonly problem: string;

  /** Creates the error; the message is `<context><path> <problem>; <advice>`. */
  constructor(
    facts: { path: string; problem: string; advice: string; context?: string },
    options?: ErrorOptions,
  ) {
    super(`${facts.context ?? ""}${facts.path} ${facts.problem}; ${facts.advice}`, options);
    this.name = "UnsafePathError";
    this.path = facts.path;
    this.problem = facts.problem;
  }
}

/** What a directory on a checked path is for. */
type Role = "target" | "above";

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}

function writers(mode: number): string {
  const group = (mode & 0o020) !== 0;
  const other = (mode & 0o002) !== 0;
  return group && other ? "group and others" : group ? "group" : "others";
}

/**
 * What is wrong with one existing path component, or `null`. `role` says
 * whether it is the checked directory itself or one above it.
 */
function problemOf(info: Deno.FileInfo, uid: number, role: Role): string | null {
  const mode = info.mode ?? 0;
  const owner = info.uid ?? uid;
  if (info.isSymlink) {
    return owner === uid || owner === 0
      ? null
      : `is a symbolic link owned by uid ${owner} (neither uid ${uid} nor root)`;
  }
  if (!info.isDirectory) return "exists and is not a directory";
  if (role === "target") {
    if (owner !== uid) {
      return `is owned by uid ${owner}, not by uid ${uid} (the user running saltbus)`;
    }
    if (mode & 0o022) return `is writable by ${writers(mode)} (mode ${octal(mode)})`;
    return null;
  }
  if (owner !== uid && owner !== 0) {
    return `is owned by uid ${owner} (neither uid ${uid}, the user running saltbus, nor root)`;
  }
  if ((mode & 0o022) && !(mode & 0o1000)) {
    return `is writable by ${writers(mode)} without the sticky bit (mode ${octal(mode)})`;
  }
  return null;
}

function adviceFor(path: string, problem: string, what: string): string {
  if (problem.startsWith("is writable")) {
    return `run 'chmod go-w ${path}', or set ${what} to a directory only you can write`;
  }
  if (problem.startsWith("exists and is not")) return `remove it or set ${what}`;
  return `another user could replace what saltbus keeps there: remove it (or chown it), ` +
    `or set ${what} to a directory only you can write`;
}

/** Every prefix of an absolute path, `/` first. */
function prefixes(path: string): string[] {
  const out: string[] = [];
  for (let p = path;; p = dirname(p)) {
    out.unshift(p);
    if (dirname(p) === p) return out;
  }
}

/** Options of {@linkcode checkPrivateDir}. */
export interface PrivateDirOptions {
  /** Create the directory (and missing ones above it) with mode 0700. Default false. */
  create?: boolean;
  /** The option that sets the path, for messages. @default "sock_dir" */
  option?: string;
}

/**
 * Walks `path` from `/` down, checking each component (`last` is the role of
 * the last one), creating missing directories when `create` is set. Resolves
 * whether a symbolic link was on the way.
 */
async function walk(
  path: string,
  uid: number,
  facts: { last: Role; create: boolean; option: string; context: (at: string) => string },
): Promise<boolean> {
  let symlinks = false;
  const all = prefixes(path);
  for (const [i, component] of all.entries()) {
    const role: Role = i === all.length - 1 ? facts.last : "above";
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(component);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound) || !facts.create) throw err;
      try {
        await Deno.mkdir(component, { mode: 0o700 });
      } catch (mkdirErr) {
        if (!(mkdirErr instanceof Deno.errors.AlreadyExists)) throw mkdirErr;
      }
      info = await Deno.lstat(component);
    }
    let problem = problemOf(info, uid, role);
    if (problem === null && info.isSymlink) {
      symlinks = true;
      if (!(await Deno.stat(component)).isDirectory) {
        problem = "is a symbolic link to something that is not a directory";
      }
    }
    if (problem !== null) {
      throw new UnsafePathError({
        path: component,
        problem,
        advice: adviceFor(component, problem, facts.option),
        context: facts.context(component),
      });
    }
  }
  return symlinks;
}

/** Checks `path` and every directory above it; the real path when links were on the way. */
async function walkAll(
  path: string,
  uid: number,
  facts: { last: Role; create: boolean; option: string; context: (at: string) => string },
): Promise<string> {
  if (!(await walk(path, uid, facts))) return path;
  // A symbolic link on the way: the directories it leads to must pass too.
  const real = await Deno.realPath(path);
  await walk(real, uid, { ...facts, create: false });
  return real;
}

/**
 * Checks that `dir` (and every directory above it) passes the owner-only
 * rules of this module; with `create`, makes the missing directories one
 * at a time (mode 0700), each only inside a directory already checked.
 * Resolves the real path of `dir`.
 *
 * @throws {UnsafePathError} naming the offending path and what is wrong.
 * @throws {Deno.errors.NotFound} when `dir` is missing and `create` is false.
 * @example
 * ```ts
 * import { checkPrivateDir } from "./private_path.ts";
 * const dir = await Deno.makeTempDir();
 * await checkPrivateDir(`${dir}/run/master`, { create: true }); // made 0700, and checked
 * ```
 */
export async function checkPrivateDir(
  dir: string,
  options: PrivateDirOptions = {},
): Promise<string> {
  const uid = Deno.uid();
  const target = resolve(dir);
  const create = options.create ?? false;
  if (uid === null) {
    if (create) await Deno.mkdir(target, { recursive: true, mode: 0o700 });
    return target;
  }
  const option = options.option ?? "sock_dir";
  return await walkAll(target, uid, {
    last: "target",
    create,
    option,
    context: (at) => at === target ? `${option} ` : `${option} ${dir}: `,
  });
}

/**
 * Checks a state file before it is read: a regular file (not a symbolic
 * link) owned by the running uid and not writable by group or others, in a
 * directory that nobody else can replace it in (every directory above it
 * owned by the uid or root, and not writable by group or others unless
 * sticky). Group or other read bits are removed (the file is made 0600)
 * rather than refused, since they let nobody in.
 *
 * @returns `false` when the file does not exist; `true` when it may be read.
 * @throws {UnsafePathError} naming the file (or a directory above it) and what is wrong.
 * @example
 * ```ts
 * import { checkPrivateFile } from "./private_path.ts";
 * const file = `${await Deno.makeTempDir()}/api_tokens.json`;
 * await checkPrivateFile(file); // false: not there yet
 * await Deno.writeTextFile(file, "[]", { mode: 0o600 });
 * await checkPrivateFile(file); // true
 * ```
 */
export async function checkPrivateFile(
  file: string,
  options: { option?: string } = {},
): Promise<boolean> {
  const uid = Deno.uid();
  const path = resolve(file);
  const option = options.option ?? "the file's location";
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  if (uid === null) return true;
  const refuse = (problem: string, advice: string): never => {
    throw new UnsafePathError({ path, problem, advice, context: "refusing " });
  };
  if (info.isSymlink) refuse("is a symbolic link", "remove it; saltbus writes the file itself");
  if (!info.isFile) refuse("is not a regular file", `remove it or set ${option}`);
  const owner = info.uid ?? uid;
  if (owner !== uid) {
    refuse(
      `is owned by uid ${owner}, not by uid ${uid} (the user running saltbus)`,
      `another user may have planted it: remove it, or set ${option}`,
    );
  }
  const mode = info.mode ?? 0;
  if (mode & 0o022) {
    refuse(
      `is writable by ${writers(mode)} (mode ${octal(mode)})`,
      "anyone with write access could have changed it: remove it (saltbus writes it 0600)",
    );
  }
  await walkAll(dirname(path), uid, {
    last: "above",
    create: false,
    option,
    context: () => `refusing ${path}: `,
  });
  if (mode & 0o077) await Deno.chmod(path, 0o600);
  return true;
}
