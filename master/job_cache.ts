/**
 * The master job cache (spec §14.1, §14.3): a component that listens on the
 * master bus in-process and stores each job in the `master_job_cache`
 * returner (default `sqlite`, the embedded store in `cachedir`):
 * `salt/job/<jid>/new` → `save_load(jid, load, minions)`, and
 * `salt/job/<jid>/ret/<id>` → `returner(load)` unless `job_cache` is
 * `false` or `ext_job_cache` is set. With `ext_job_cache` (a returner the
 * minions send every return to, as Salt's `store_job`), the publish load is
 * also saved there and the master stores no returns itself. Writes are
 * batched by the returner. Every `loop_interval`
 * seconds (Salt's default 60) `clean_old_jobs` removes what is older than
 * `keep_jobs_seconds` (default 86400). It also answers the `_jobs` link
 * request (`{fun: "active"}`) from what it saw: the jobs some targeted,
 * connected minion has not returned for yet.
 *
 * @module
 */
import { isMapping } from "../bus/mapping.ts";
import { LinkRequestError } from "../link/link_server.ts";
import { openReturner } from "../returners/registry.ts";
import type { Returner, ReturnLoad } from "../returners/returner.ts";
import type { MasterComponent, MasterContext } from "./master_context.ts";

/** Jobs remembered as running at most (the oldest are forgotten first). */
const ACTIVE_MAX = 10_000;

interface ActiveJob {
  load: Record<string, unknown>;
  running: Set<string>;
}

const NEW = /^salt\/job\/([^/]+)\/new$/;
const RET = /^salt\/job\/([^/]+)\/ret\/(.+)$/;

/**
 * The job cache component (after `jobs` in the master's components).
 *
 * @example
 * ```ts
 * import { jobCacheComponent } from "./job_cache.ts";
 * console.log(jobCacheComponent().name); // "job_cache"
 * ```
 */
export function jobCacheComponent(): MasterComponent {
  let store: Returner | null = null;
  let ext: Returner | null = null;
  let loop: Promise<void> | null = null;
  let cleaner: ReturnType<typeof setInterval> | null = null;
  const abort = new AbortController();
  const active = new Map<string, ActiveJob>();
  return {
    name: "job_cache",
    async start(ctx: MasterContext) {
      const { config, log } = ctx;
      const name = config.master_job_cache ?? "sqlite";
      const extName = config.ext_job_cache;
      const hasExt = extName !== undefined && extName !== null && extName !== ""; // a non-string fails to open
      const returns = config.job_cache !== false && !hasExt;
      const cache = await openReturner(name, config);
      store = cache;
      const extCache = hasExt ? await openReturner(extName, config, "ext_job_cache") : null;
      ext = extCache;
      const failed = (what: string, by = cache) => (err: unknown) =>
        log.error(
          `The specified '${by.name}' returner threw a stack trace (${what}): ` +
            `${err instanceof Error ? err.message : err}`,
        );
      const listener = ctx.bus.getEvent();
      const server = ctx.minions;
      loop = (async () => {
        try {
          for await (
            const event of listener.iterEvents<Record<string, unknown>>({
              tag: "salt/job/",
              full: true,
              signal: abort.signal,
              autoReconnect: true,
              keepAlive: false,
            })
          ) {
            const { _stamp, ...data } = event.data;
            let m = NEW.exec(event.tag);
            if (m) {
              const jid = m[1];
              const minions = Array.isArray(data.minions) ? data.minions.map(String) : [];
              const missing = Array.isArray(data.missing) ? data.missing.map(String) : [];
              const { minions: _m, missing: _x, ...load } = data;
              extCache?.save_load(jid, load, minions).catch(failed(`save_load ${jid}`, extCache));
              cache.save_load(jid, load, minions).catch(failed(`save_load ${jid}`));
              const running = new Set(minions.filter((id) => !missing.includes(id)));
              if (running.size > 0) {
                active.set(jid, { load: { ...load, Minions: minions }, running });
                if (active.size > ACTIVE_MAX) active.delete(active.keys().next().value!);
              }
              continue;
            }
            m = RET.exec(event.tag);
            if (!m) continue;
            const [, jid, id] = m;
            const job = active.get(jid);
            job?.running.delete(id);
            if (job?.running.size === 0) active.delete(jid);
            if (returns && typeof data.id === "string" && data.jid === jid && "return" in data) {
              cache.returner(data as ReturnLoad).catch(failed(`returner ${jid}/${id}`));
            }
          }
        } finally {
          await listener.close();
        }
      })();
      server.onPresence((id, connected) => {
        if (connected) return;
        for (const [jid, job] of active) {
          if (job.running.delete(id) && job.running.size === 0) active.delete(jid);
        }
      });
      server.handle("_jobs", (message) => {
        const fun = isMapping(message.data) ? message.data.fun : undefined;
        if (fun !== "active") throw new LinkRequestError(`jobs: '${String(fun)}' is not served`);
        const out: Record<string, { load: Record<string, unknown>; running: string[] }> = {};
        for (const [jid, job] of active) {
          out[jid] = { load: job.load, running: [...job.running].sort() };
        }
        return out;
      });
      const interval = typeof config.loop_interval === "number" ? config.loop_interval : 60;
      cleaner = setInterval(() => {
        cache.clean_old_jobs().then(
          (n) => n > 0 && log.info(`job cache: removed ${n} job(s) older than keep_jobs_seconds`),
          failed("clean_old_jobs"),
        );
      }, interval * 1000);
      const why = hasExt ? `ext_job_cache is ${extName}` : "job_cache is false";
      log.info(`job cache: ${cache.name}${returns ? "" : ` (loads only: ${why})`}`);
    },
    async close() {
      if (cleaner !== null) clearInterval(cleaner);
      abort.abort();
      await loop?.catch(() => {});
      await store?.close();
      await ext?.close();
    },
  };
}
