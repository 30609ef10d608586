/**
 * One bus per socket path: an exclusive advisory lock (`flock`, through
 * `Deno.FsFile.tryLock`) on `<socket>.lock` beside each Unix socket, held
 * for as long as the process serves that socket. A second master on the
 * same `sock_dir` is refused even when the first one's socket files were
 * deleted, so there is never a split brain.
 *
 * Why a lock file and not the socket file itself: a socket file can be
 * removed by anyone who can write the directory, and its absence says
 * nothing about whether its listener is alive. A `flock` lock belongs to the
 * open file, so the kernel releases it when the process dies, however it
 * dies (no stale lock to clean up after a SIGKILL), and it is exclusive
 * between processes and between two opens in one process alike.
 *
 * The lock file holds the pid of its holder, for messages. It is removed at
 * release while the lock is still held; a locker checks after locking that
 * the path still names the file it locked, and starts over if not.
 *
 * @module
 */
import { BrokerStartError } from "../bus/errors.ts";
import { createLogger, type Logger } from "../bus/log.ts";
import { UnsafePathError } from "./private_path.ts";

/**
 * Another process (or another bus in this one) holds a socket's lock: a bus
 * already serves that path.
 *
 * @example
 * ```ts
 * import { SocketLockedError } from "./sock_lock.ts";
 * const err = new SocketLockedError("/tmp/m/master_event_pull.ipc", 1234);
 * console.log(err.message); // "a saltbus bus (pid 1234) is already listening on /tmp/m/master_event_pull.ipc: …"
 * ```
 */
export class SocketLockedError extends BrokerStartError {
  /** The socket path that is taken. */
  readonly path: string;
  /** The pid written in the lock file, when there is one. */
  readonly pid: number | null;

  /** Creates the error for socket `path`, locked by `pid`. */
  constructor(path: string, pid: number | null, options?: ErrorOptions) {
    super(
      `a saltbus bus (${pid === null ? "pid unknown" : `pid ${pid}`}) is already listening on ` +
        `${path}: it holds the lock ${lockPathOf(path)} (even if the socket file is gone); ` +
        `stop it first or choose another sock_dir`,
      options,
    );
    this.name = "SocketLockedError";
    this.path = path;
    this.pid = pid;
  }
}

/**
 * The lock file of a Unix socket path: `<path>.lock`.
 *
 * @example
 * ```ts
 * import { lockPathOf } from "./sock_lock.ts";
 * lockPathOf("/tmp/m/master_event_pub.ipc"); // "/tmp/m/master_event_pub.ipc.lock"
 * ```
 */
export function lockPathOf(socketPath: string): string {
  return `${socketPath}.lock`;
}

/** A held socket lock; {@linkcode release} it when the socket is closed. */
export interface SocketLock {
  /** The lock file. */
  readonly path: string;
  /** Removes the lock file (if it is still this one) and releases the lock. Idempotent. */
  release(): Promise<void>;
}

/** Options of {@linkcode acquireSocketLock}. */
export interface SocketLockOptions {
  /** Where a removed or taken-over lock file is reported. @default stderr */
  log?: Logger;
  /**
   * How often the holder checks that the lock file is still its own; a
   * removed one is re-created and locked again at once. `0` never checks.
   * @default 1000
   */
  watchIntervalMs?: number;
}

/**
 * Takes the exclusive lock of Unix socket `socketPath`, without waiting.
 * The directory is expected to be checked already (owner-only); an existing
 * lock file owned by another user, or one that is not a regular file, is
 * refused all the same. While held, the lock file is checked every
 * `watchIntervalMs`: if someone removes it, it is re-created and locked
 * again (so a later second bus is still refused).
 *
 * @throws {SocketLockedError} when another holder has it.
 * @throws {UnsafePathError} when the lock file is not a regular file of this uid.
 * @example
 * ```ts
 * import { acquireSocketLock } from "./sock_lock.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = await acquireSocketLock(`${dir}/master_event_pull.ipc`);
 * await lock.release();
 * ```
 */
export async function acquireSocketLock(
  socketPath: string,
  options: SocketLockOptions = {},
): Promise<SocketLock> {
  const path = lockPathOf(socketPath);
  for (let attempt = 0;; attempt++) {
    await checkLockFile(path);
    const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    try {
      if (!(await file.tryLock(true))) {
        throw new SocketLockedError(socketPath, await holderOf(file));
      }
      // The previous holder may have removed the file between our open and our lock.
      if (!(await names(path, file))) {
        if (attempt >= 10) {
          throw new BrokerStartError(`the lock file ${path} keeps being replaced; giving up`);
        }
        file.close();
        continue;
      }
      await writePid(file);
    } catch (err) {
      closeQuietly(file);
      throw err;
    }
    return new HeldLock(socketPath, path, file, options);
  }
}

/** Whether `path` names the open `file` now. */
async function names(path: string, file: Deno.FsFile): Promise<boolean> {
  const [held, named] = [await file.stat(), await Deno.lstat(path).catch(() => null)];
  return named !== null && held.dev === named.dev && held.ino === named.ino;
}

async function writePid(file: Deno.FsFile): Promise<void> {
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
}

function closeQuietly(file: Deno.FsFile): void {
  try {
    file.close();
  } catch {
    // closed already
  }
}

class HeldLock implements SocketLock {
  readonly path: string;
  readonly #socket: string;
  readonly #log: Logger;
  #file: Deno.FsFile;
  #timer: ReturnType<typeof setInterval> | undefined;
  #checking: Promise<void> | null = null;
  #takenReported = false;
  #released: Promise<void> | null = null;

  constructor(socket: string, path: string, file: Deno.FsFile, options: SocketLockOptions) {
    this.#socket = socket;
    this.path = path;
    this.#file = file;
    this.#log = options.log ?? createLogger("warning");
    const every = options.watchIntervalMs ?? 1000;
    if (every > 0) {
      this.#timer = setInterval(() => {
        this.#checking ??= this.#check().finally(() => this.#checking = null);
      }, every);
      Deno.unrefTimer(this.#timer);
    }
  }

  async #check(): Promise<void> {
    if (this.#released) return;
    try {
      if (await names(this.path, this.#file)) {
        this.#takenReported = false;
        return;
      }
      // Removed (or replaced): lock what is there now, or a new file, before anyone else does.
      const next = await Deno.open(this.path, {
        read: true,
        write: true,
        create: true,
        mode: 0o600,
      });
      if (!(await next.tryLock(true))) {
        const pid = await holderOf(next);
        closeQuietly(next);
        if (!this.#takenReported) {
          this.#takenReported = true;
          this.#log.error(
            `the lock file ${this.path} was replaced and another process (${
              pid === null ? "pid unknown" : `pid ${pid}`
            }) holds it now: two buses may be serving ${this.#socket}; stop one of them`,
          );
        }
        return;
      }
      if (this.#released || !(await names(this.path, next))) {
        closeQuietly(next);
        return;
      }
      await writePid(next);
      closeQuietly(this.#file);
      this.#file = next;
      this.#log.warning(`the lock file ${this.path} was removed; re-created and locked it again`);
    } catch (err) {
      this.#log.warning(
        `cannot check the lock file ${this.path}: ${err instanceof Error ? err.message : err}`,
      );
    }
  }

  release(): Promise<void> {
    this.#released ??= (async () => {
      clearInterval(this.#timer);
      await this.#checking;
      try {
        if (await names(this.path, this.#file)) await Deno.remove(this.path).catch(() => {});
      } finally {
        closeQuietly(this.#file); // releases the lock
      }
    })();
    return this.#released;
  }
}

async function checkLockFile(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  const uid = Deno.uid();
  const problem = !info.isFile
    ? "is not a regular file"
    : uid !== null && info.uid !== null && info.uid !== uid
    ? `is owned by uid ${info.uid}, not by uid ${uid} (the user running saltbus)`
    : null;
  if (problem !== null) {
    throw new UnsafePathError({
      path,
      problem,
      advice: "remove it (saltbus creates its lock files itself)",
      context: "refusing lock file ",
    });
  }
}

async function holderOf(file: Deno.FsFile): Promise<number | null> {
  try {
    const buffer = new Uint8Array(32);
    const n = await file.read(buffer);
    const pid = Number(new TextDecoder().decode(buffer.subarray(0, n ?? 0)).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
