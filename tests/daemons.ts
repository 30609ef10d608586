/**
 * Test helpers for daemons as real processes: a `cli.ts master` and
 * `cli.ts minion` on fresh temp socket directories, stopped with SIGTERM and
 * cleaned up.
 *
 * @module
 */
import type { EventClient } from "../bus/event_client.ts";
import { getEvent } from "../mod.ts";
import { collect, type OutputCollector, spawnCli } from "./harness.ts";

/** A `cli.ts` daemon process. */
export interface Daemon extends AsyncDisposable {
  /** The process. */
  child: Deno.ChildProcess;
  /** Its standard error, as it arrives. */
  stderr: OutputCollector;
  /** Stops it with SIGTERM and waits; resolves the exit code. */
  stop(): Promise<number>;
}

/**
 * Starts `cli.ts <args>` (under `ulimit -n` with `options.ulimit`) and
 * waits for `ready` on its standard error.
 *
 * @example
 * ```ts
 * await using master = await startDaemon(["master", "--sock-dir", dir], "master bus ready");
 * ```
 */
export async function startDaemon(
  args: string[],
  ready: string | RegExp,
  options: { ulimit?: number } = {},
): Promise<Daemon> {
  const child = spawnCli([...args, "--log-level", "info"], options);
  const stderr = collect(child.stderr);
  const stdout = collect(child.stdout);
  let stopped: Promise<number> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const status = await child.status;
      await stderr.done;
      await stdout.done;
      return status.code;
    })();
    return stopped;
  };
  try {
    await stderr.waitFor(ready, 20_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, stderr, stop, [Symbol.asyncDispose]: async () => void await stop() };
}

/** Temp directories for one master and its minions, removed at the end. */
export interface Site extends AsyncDisposable {
  /** The master's sock_dir. */
  masterDir: string;
  /** The minions' sock_dir. */
  minionDir: string;
  /** A scratch dir for configs, modules and scripts. */
  workDir: string;
  /** Starts `cli.ts master` on `masterDir`. */
  master(): Promise<Daemon>;
  /** Starts `cli.ts minion --id <id>` on `minionDir`, pointed at the master. */
  minion(id: string, extra?: string[]): Promise<Daemon>;
  /** The flags that point a minion-side command at this site. */
  minionFlags(id: string): string[];
  /** A connected listener on the master bus, closed with the site. */
  masterBus(): Promise<EventClient>;
}

/**
 * Makes a site in fresh temp dirs; every daemon started through it is stopped
 * at the end.
 *
 * @example
 * ```ts
 * await using site = await makeSite();
 * await using master = await site.master();
 * await using minion = await site.minion("web1");
 * ```
 */
export async function makeSite(): Promise<Site> {
  const root = await Deno.makeTempDir({ prefix: "saltbus-site-" });
  const masterDir = `${root}/master`;
  const minionDir = `${root}/minion`;
  const workDir = `${root}/work`;
  await Deno.mkdir(workDir);
  const daemons: Daemon[] = [];
  const clients: EventClient[] = [];
  const minionFlags = (id: string) => [
    "--id",
    id,
    "--sock-dir",
    minionDir,
    "--master-sock-dir",
    masterDir,
  ];
  return {
    masterDir,
    minionDir,
    workDir,
    async master() {
      const daemon = await startDaemon(["master", "--sock-dir", masterDir], "master bus ready");
      daemons.push(daemon);
      return daemon;
    },
    async minion(id, extra = []) {
      const daemon = await startDaemon(
        ["minion", ...minionFlags(id), ...extra],
        `minion ${id} ready`,
      );
      daemons.push(daemon);
      return daemon;
    },
    minionFlags,
    async masterBus() {
      const listener = getEvent("master", { sockDir: masterDir });
      clients.push(listener);
      if (!(await listener.connected())) throw new Error(`no master bus at ${masterDir}`);
      return listener;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) await client.close();
      for (const daemon of daemons.reverse()) await daemon.stop();
      await Deno.remove(root, { recursive: true });
    },
  };
}
