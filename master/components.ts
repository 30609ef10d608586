/**
 * The master's built-in components, in the order `startMaster` starts
 * them: the minion link server (with the `_minion_event` and `_return`
 * handlers), job publishing, presence events, and the HTTP API (when the
 * config has an `api:` block). The reactor, engines and event returners
 * plug in the same way.
 *
 * @module
 */
import { hasApiBlock } from "../api/config.ts";
import { type ApiServer, startApi } from "../api/server.ts";
import { LinkRequestError, MinionLinkServer } from "../link/link_server.ts";
import { Reactor } from "../reactor/reactor.ts";
import { startEngines } from "../engines/start_engines.ts";
import type { EngineSupervisor } from "../engines/supervisor.ts";
import { listenLink } from "../transport/link_transport.ts";
import { mergeListeners } from "../transport/merged_listener.ts";
import { type NatsLink, startNatsLink } from "./nats_link.ts";
import { publishJob, type PublishRequest, serveJobs } from "./job_publisher.ts";
import { jobCacheComponent } from "./job_cache.ts";
import { eventReturnComponent } from "./event_return.ts";
import type { MasterComponent, MasterContext } from "./master_context.ts";
import { handleMinionLoads } from "./minion_loads.ts";
import { PresenceReporter } from "./presence.ts";

/**
 * The minion link server: listens where minions connect, and fires what
 * they send onto the master bus. `known_minions_expire` (seconds, default
 * 86400) and `known_minions_max` (default 10000) bound the minions it keeps
 * known after they went away.
 *
 * @example
 * ```ts
 * import { linkServerComponent } from "./components.ts";
 * console.log(linkServerComponent().name); // "link"
 * ```
 */
export function linkServerComponent(): MasterComponent {
  let server: MinionLinkServer | null = null;
  let nats: NatsLink | null = null;
  return {
    name: "link",
    async start(ctx: MasterContext) {
      const { known_minions_expire: expire, known_minions_max: knownMax } = ctx.config;
      const unix = await listenLink(ctx.config, { log: ctx.log });
      if (ctx.config.transport === "nats") {
        try {
          nats = await startNatsLink(ctx);
        } catch (err) {
          await unix.close();
          throw err;
        }
      }
      server = MinionLinkServer.listen({
        listener: nats ? mergeListeners([unix, nats.listener]) : unix,
        log: ctx.log,
        maxFrameSize: ctx.config.max_frame_size,
        knownExpireMs: typeof expire === "number" ? expire * 1000 : undefined,
        knownMax: typeof knownMax === "number" ? knownMax : undefined,
      });
      handleMinionLoads(server, ctx.events, ctx.log, ctx.config);
      ctx.setMinions(server);
    },
    async close() {
      nats?.close();
      await server?.close();
    },
  };
}

/**
 * Job publishing (`_publish`) and the `manage.*` answers (`_manage`).
 *
 * @example
 * ```ts
 * import { jobPublisherComponent } from "./components.ts";
 * console.log(jobPublisherComponent().name); // "jobs"
 * ```
 */
export function jobPublisherComponent(): MasterComponent {
  return {
    name: "jobs",
    start(ctx: MasterContext) {
      serveJobs(ctx.minions, ctx.events, ctx.log, ctx.config.ext_job_cache);
    },
    close() {},
  };
}

/**
 * The engines (spec §13) of the `engines` option, each in its own Worker,
 * supervised with back-off; a failure is logged and fired as
 * `saltbus/engine/<name>/error`. A bad `engines` option or an unknown
 * engine stops the master's start with a `ConfigError` naming it.
 *
 * @example
 * ```ts
 * import { enginesComponent } from "./components.ts";
 * console.log(enginesComponent().name); // "engines"
 * ```
 */
export function enginesComponent(): MasterComponent {
  let engines: EngineSupervisor | null = null;
  return {
    name: "engines",
    async start(ctx: MasterContext) {
      engines = await startEngines({
        config: ctx.config as unknown as Record<string, unknown>,
        source: ctx.source,
        role: "master",
        log: ctx.log,
        events: ctx.events,
      });
    },
    async close() {
      await engines?.close();
    },
  };
}

/**
 * The reactor (spec §12), when the `reactor` option is set (a non-empty
 * list, or the path of a YAML file with one): reacts to master bus events;
 * `local` reactions publish jobs as user `Reactor`. Serves `_reactor`
 * (the `reactor.*` runners); without a reactor it answers
 * `Reactor system is not running.`
 *
 * @example
 * ```ts
 * import { reactorComponent } from "./components.ts";
 * console.log(reactorComponent().name); // "reactor"
 * ```
 */
export function reactorComponent(): MasterComponent {
  let reactor: Reactor | null = null;
  return {
    name: "reactor",
    async start(ctx: MasterContext) {
      const option = ctx.config.reactor;
      const wanted = typeof option === "string" ? option !== "" : Array.isArray(option) &&
        option.length > 0;
      const server = ctx.minions;
      if (wanted) {
        reactor = new Reactor({
          config: ctx.config,
          log: ctx.log,
          listener: ctx.bus.getEvent(),
          events: ctx.events,
          services: ctx.services,
          publish: (request) =>
            publishJob(server, ctx.events, request as PublishRequest, {
              log: ctx.log,
              extJobCache: ctx.config.ext_job_cache,
            }),
        });
        await reactor.start();
      }
      server.handle("_reactor", async (message) => {
        if (reactor === null) throw new LinkRequestError("Reactor system is not running.");
        const { op, event, reactors, value } = message.data;
        switch (op) {
          case "list":
            return await reactor.list();
          case "add":
            return reactor.add(String(event), reactors as string[]);
          case "delete":
            return reactor.delete(String(event));
          case "is_leader":
            return reactor.leader;
          case "set_leader":
            reactor.leader = value === true;
            return reactor.leader;
          default:
            throw new LinkRequestError(`reactor.${String(op)} is not available`);
        }
      });
    },
    async close() {
      await reactor?.close();
    },
  };
}

/**
 * `presence_events`: `salt/presence/change` as minions come and go, and
 * `salt/presence/present` every `loop_interval`.
 *
 * @example
 * ```ts
 * import { presenceComponent } from "./components.ts";
 * console.log(presenceComponent().name); // "presence"
 * ```
 */
export function presenceComponent(): MasterComponent {
  let reporter: PresenceReporter | null = null;
  return {
    name: "presence",
    start(ctx: MasterContext) {
      if (ctx.config.presence_events !== true) return;
      const minions = ctx.minions;
      const presence = new PresenceReporter(
        ctx.events,
        () => minions.minions.map((m) => m.id),
        (ctx.config.loop_interval as number | undefined) ?? 60,
      );
      reporter = presence;
      minions.onPresence((id, connected) => presence.changed(id, connected));
    },
    async close() {
      await reporter?.close();
    },
  };
}

/**
 * The HTTP API, when the config has an `api:` block; it reads the bus
 * in-process. `onReady` hears its address once it listens.
 *
 * @example
 * ```ts
 * import { apiComponent } from "./components.ts";
 * console.log(apiComponent((api) => console.log(api.url)).name); // "api"
 * ```
 */
export function apiComponent(onReady?: (api: ApiServer) => void): MasterComponent {
  let api: ApiServer | null = null;
  return {
    name: "api",
    async start(ctx: MasterContext) {
      if (!hasApiBlock(ctx.config)) return;
      api = await startApi({ config: ctx.config, bus: ctx.bus, log: ctx.log, source: ctx.source });
      onReady?.(api);
    },
    async close() {
      await api?.close();
    },
  };
}

/**
 * The master's components in their start order.
 *
 * @example
 * ```ts
 * import { defaultMasterComponents } from "./components.ts";
 * console.log(defaultMasterComponents().map((c) => c.name)); // ["link", "jobs", "engines", "reactor", …, "api"]
 * ```
 */
export function defaultMasterComponents(
  options: { onApiReady?: (api: ApiServer) => void } = {},
): MasterComponent[] {
  return [
    linkServerComponent(),
    jobPublisherComponent(),
    enginesComponent(),
    reactorComponent(),
    jobCacheComponent(),
    eventReturnComponent(),
    presenceComponent(),
    apiComponent(options.onApiReady),
  ];
}
