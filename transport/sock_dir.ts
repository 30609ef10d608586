/**
 * The socket directory and its Unix socket files, as Salt keeps them (§1.5): `sock_dir` created
 * 0700, sockets 0600 (the pub socket 0660 when group access is configured),
 * a stale socket file from a crashed broker replaced, a live broker never
 * taken over.
 *
 * @module
 */
import { BrokerStartError } from "../bus/errors.ts";

/**
 * Creates `sockDir` (mode 0700, parents included) when missing and checks
 * that it is a writable directory.
 *
 * @throws {BrokerStartError} saying what is wrong and what to do.
 * @example
 * ```ts
 * import { ensureSockDir } from "./sock_dir.ts";
 * await ensureSockDir(await Deno.makeTempDir());
 * ```
 */
export async function ensureSockDir(sockDir: string): Promise<void> {
  try {
    await Deno.mkdir(sockDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new BrokerStartError(
      `sock_dir ${sockDir} cannot be created by uid ${Deno.uid()}: ${messageOf(err)}; ` +
        `create it or set sock_dir`,
      { cause: err },
    );
  }
  const info = await Deno.stat(sockDir);
  if (!info.isDirectory) {
    throw new BrokerStartError(`sock_dir ${sockDir} exists and is not a directory; set sock_dir`);
  }
  const probe = `${sockDir}/.saltbus-write-check-${Deno.pid}`;
  try {
    await Deno.writeFile(probe, new Uint8Array(0));
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
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
  } catch {
    // Nothing answers: stale file from a broker that did not shut down cleanly.
    await Deno.remove(path).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
    return;
  }
  throw new BrokerStartError(
    `a broker is already listening on ${path}; stop it first or choose another sock_dir`,
  );
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
