/**
 * The socket directory and its Unix socket files, as Salt keeps them (§1.5): `sock_dir` created
 * 0700 and refused when another user owns or can write it (or a directory
 * above it), sockets 0600 (the pub socket 0660 when group access is
 * configured), a stale socket file from a crashed broker replaced, a live
 * broker never taken over.
 *
 * @module
 */
import { BrokerStartError } from "../bus/errors.ts";
import { checkPrivateDir, UnsafePathError } from "./private_path.ts";

/**
 * Creates `sockDir` when missing (mode 0700, and each missing directory
 * above it 0700, one at a time) and checks it before anything is bound
 * there: the sock_dir must be owned by the running uid and not writable by
 * group or others, and every directory above it owned by the uid or root
 * and not writable by group or others unless sticky (`/tmp`). A squatted
 * path (another user's `mkdir -m777 -p /tmp/saltbus-<uid>/master`) is
 * refused, never used with a warning. Group read and search bits are
 * allowed (the master pub socket's group access, 0660, needs them).
 *
 * @throws {UnsafePathError} naming the offending directory and what is wrong.
 * @throws {BrokerStartError} when it cannot be created or written, saying what to do.
 * @example
 * ```ts
 * import { ensureSockDir } from "./sock_dir.ts";
 * await ensureSockDir(await Deno.makeTempDir());
 * ```
 */
export async function ensureSockDir(sockDir: string): Promise<void> {
  try {
    await checkPrivateDir(sockDir, { create: true, option: "sock_dir" });
  } catch (err) {
    if (err instanceof BrokerStartError) throw err;
    throw new BrokerStartError(
      `sock_dir ${sockDir} cannot be created by uid ${Deno.uid()}: ${messageOf(err)}; ` +
        `create it or set sock_dir`,
      { cause: err },
    );
  }
  const probe = `${sockDir}/.saltbus-write-check-${Deno.pid}`;
  try {
    const file = await Deno.open(probe, { createNew: true, write: true, mode: 0o600 });
    file.close();
    await Deno.remove(probe);
  } catch (err) {
    throw new BrokerStartError(
      `sock_dir ${sockDir} is not writable by uid ${Deno.uid()}: create it or set sock_dir`,
      { cause: err },
    );
  }
}

/**
 * Removes a socket file nobody answers on (left by a crashed broker).
 * Resolves quietly when the path does not exist.
 *
 * @throws {BrokerStartError} when a live broker answers on `path`, or the
 * path is something other than a socket.
 * @throws {UnsafePathError} when the socket file belongs to another user.
 * @example
 * ```ts
 * import { clearStaleSocket } from "./sock_dir.ts";
 * await clearStaleSocket("/tmp/saltbus-test/master_event_pub.ipc");
 * ```
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  if (!info.isSocket) {
    throw new BrokerStartError(
      `${path} exists and is not a socket; remove it or choose another sock_dir`,
    );
  }
  const uid = Deno.uid();
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    throw new UnsafePathError({
      path,
      problem: `is a socket owned by uid ${info.uid}, not by uid ${uid} (the user running saltbus)`,
      advice: "another user put it there: remove it, and check who can write the sock_dir",
      context: "refusing ",
    });
  }
  const state = await probeSocket(path);
  if (state === "stale") {
    // Nothing answers: stale file from a broker that did not shut down cleanly.
    await Deno.remove(path).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    return;
  }
  if (state === "missing") return;
  throw new BrokerStartError(
    `a broker is already listening on ${path}; stop it first or choose another sock_dir`,
  );
}

/**
 * Whether something listens on Unix socket `path`: `"live"` (it accepts, or
 * its backlog is full), `"stale"` (connection refused: a socket file nobody
 * listens on) or `"missing"`.
 *
 * @throws {BrokerStartError} when it cannot tell (for instance this process
 * is out of file descriptors), so that a live socket is never taken for stale.
 * @example
 * ```ts
 * import { probeSocket } from "./sock_dir.ts";
 * await probeSocket("/nonexistent/x.ipc"); // "missing"
 * ```
 */
export async function probeSocket(path: string): Promise<"live" | "stale" | "missing"> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return "live";
  } catch (err) {
    if (err instanceof Deno.errors.ConnectionRefused) return "stale";
    if (err instanceof Deno.errors.NotFound) return "missing";
    if (err instanceof Deno.errors.WouldBlock) return "live"; // backlog full
    throw new BrokerStartError(
      `cannot tell whether anything listens on ${path}: ${messageOf(err)}`,
      { cause: err },
    );
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
