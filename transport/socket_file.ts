/**
 * A Unix socket file that this process knows to be its own: bound under a
 * short temporary name, given its mode, then renamed into place (so the
 * path never shows a socket with the wrong mode, and a stale file is
 * replaced in one step), and remembered by device and inode.
 *
 * Deno's `Listener.close()` unlinks the path it bound, whoever holds that
 * path by then. Binding under a temporary name keeps that unlink away from
 * the real path: saltbus removes the real path itself, and only while it
 * still names the inode recorded at bind time.
 *
 * @module
 */
import { dirname, join } from "node:path";

/** Device and inode of a file: what a path named when it was checked. */
export interface FileIdentity {
  /** Device id. */
  dev: number;
  /** Inode number. */
  ino: number;
}

/** A listener bound on a Unix socket path, with the identity of its file. */
export interface BoundSocketFile {
  /** The listener. */
  listener: Deno.Listener;
  /** Device and inode of the socket file at `path`, right after it was put there. */
  identity: FileIdentity;
}

/**
 * Binds a Unix socket listener at `path` with file mode `mode`, replacing
 * what is at `path` (the caller has made sure nothing live is there).
 *
 * @throws the bind, chmod or rename error (the temporary file is removed).
 * @example
 * ```ts
 * import { bindSocketFile } from "./socket_file.ts";
 * const dir = await Deno.makeTempDir();
 * const { listener, identity } = await bindSocketFile(`${dir}/x.ipc`, 0o600);
 * console.log(identity.ino > 0); // true
 * listener.close();
 * ```
 */
export async function bindSocketFile(path: string, mode: number): Promise<BoundSocketFile> {
  // Shorter than every socket name saltbus uses, so it fits wherever the real name fits.
  const random = crypto.getRandomValues(new Uint8Array(4));
  const temp = join(
    dirname(path),
    `.sb-${Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("")}`,
  );
  const listener = Deno.listen({ transport: "unix", path: temp });
  try {
    await Deno.chmod(temp, mode);
    await Deno.rename(temp, path);
    const info = await Deno.lstat(path);
    return { listener, identity: identityOf(info) };
  } catch (err) {
    listener.close(); // Deno unlinks `temp` when it is still there
    throw err;
  }
}

/**
 * The identity of a stat result.
 *
 * @example
 * ```ts
 * import { identityOf } from "./socket_file.ts";
 * identityOf(await Deno.lstat("/")); // { dev: …, ino: 2 }
 * ```
 */
export function identityOf(info: Deno.FileInfo): FileIdentity {
  return { dev: info.dev ?? 0, ino: info.ino ?? 0 };
}

/**
 * What `path` names now: `"ours"` (the recorded identity), `"missing"`, or
 * `"other"` (a different file: replaced by someone else).
 *
 * @example
 * ```ts
 * import { socketFileState } from "./socket_file.ts";
 * await socketFileState("/nonexistent", { dev: 1, ino: 1 }); // "missing"
 * ```
 */
export async function socketFileState(
  path: string,
  identity: FileIdentity,
): Promise<"ours" | "missing" | "other"> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "missing";
    throw err;
  }
  return info.dev === identity.dev && info.ino === identity.ino ? "ours" : "other";
}

/**
 * Removes `path` only while it still names the file recorded in `identity`;
 * resolves whether it did.
 *
 * @example
 * ```ts
 * import { bindSocketFile, removeSocketFileIfOurs } from "./socket_file.ts";
 * const dir = await Deno.makeTempDir();
 * const { listener, identity } = await bindSocketFile(`${dir}/x.ipc`, 0o600);
 * listener.close();
 * await removeSocketFileIfOurs(`${dir}/x.ipc`, identity); // true
 * ```
 */
export async function removeSocketFileIfOurs(
  path: string,
  identity: FileIdentity,
): Promise<boolean> {
  if ((await socketFileState(path, identity).catch(() => "other")) !== "ours") return false;
  try {
    await Deno.remove(path);
    return true;
  } catch {
    return false;
  }
}
