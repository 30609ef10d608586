/**
 * A site for the resource-route and wheel tests: an in-process master (its
 * bus, job cache and API, port 0) and two real minion processes, web1
 * (with a `pillar:` block) and web2.
 *
 * @module
 */
import { createLogger } from "../bus/log.ts";
import { socketServices } from "../link/node_services.ts";
import { startMaster } from "../master/start_master.ts";
import type { RunnerContext } from "../runners/runner_context.ts";
import type { ApiServer } from "../api/server.ts";
import { startTestApi } from "./api_harness.ts";
import { type Daemon, startDaemon } from "./daemons.ts";
import { captureLog, startTestBus, type TestBus } from "./harness.ts";

/** The running site. */
export interface ResourceSite extends AsyncDisposable {
  /** The master bus. */
  t: TestBus;
  /** The API. */
  api: ApiServer & { logs: string[] };
  /** The minion processes by id. */
  minions: Record<string, Daemon>;
  /** A runner/wheel context on the master. */
  ctx: Omit<RunnerContext, "fun">;
  /** Scratch directory. */
  workDir: string;
}

/** Starts the site; `extra` adds master options. */
export async function startResourceSite(
  extra: Record<string, unknown> = {},
): Promise<ResourceSite> {
  const t = await startTestBus({ config: { loop_interval: 60, ...extra } });
  const cleanups: (() => Promise<unknown>)[] = [() => t.close()];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const master = await startMaster({ config: t.config, bus: t.bus, log: captureLog().log });
    cleanups.push(() => master.close());
    const api = await startTestApi(t, extra);
    cleanups.push(() => api.close());
    const workDir = await Deno.makeTempDir({ prefix: "saltbus-res-" });
    cleanups.push(() => Deno.remove(workDir, { recursive: true }));
    const minions: Record<string, Daemon> = {};
    for (const id of ["web1", "web2"]) {
      const config = `${workDir}/${id}.yaml`;
      await Deno.writeTextFile(
        config,
        `grains:\n  role: web\npillar:\n  app: shop-${id}\n  db:\n    host: db1\n`,
      );
      const daemon = await startDaemon([
        "minion",
        "--id",
        id,
        "--config",
        config,
        "--sock-dir",
        `${workDir}/${id}-sock`,
        "--master-sock-dir",
        t.sockDir,
      ], `minion ${id} ready`);
      cleanups.push(() => daemon.stop());
      minions[id] = daemon;
    }
    for (const m of Object.values(minions)) await m.stderr.waitFor("connected to the master");
    const log = createLogger("error");
    const ctx: Omit<RunnerContext, "fun"> = {
      opts: t.config,
      configFor: () => Promise.resolve(t.config),
      log,
      services: socketServices,
      print: () => {},
    };
    return { t, api, minions, ctx, workDir, [Symbol.asyncDispose]: close };
  } catch (err) {
    await close();
    throw err;
  }
}
