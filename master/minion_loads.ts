/**
 * The master's handlers for what minions send over the link: `_minion_event`
 * (fired onto the master bus, reserved tags refused) and `_return` (fired
 * as `salt/job/<jid>/ret/<id>`, spec §7.2).
 *
 * Who may return: a minion's `_return` is accepted only for a job the master
 * published to that minion, once; a `client` link (salt-call) may return only
 * for a job id the master never published (its own). A client may not send a
 * minion daemon's own tags (`minion_start`, `salt/minion/…`, …).
 *
 * @module
 */
import type { EventClient } from "../bus/event_client.ts";
import { genJid, isJid } from "../bus/jid.ts";
import type { BusConfig } from "../bus/config.ts";
import { storedJobMinions } from "../returners/sqlite_pages.ts";
import type { Logger } from "../bus/log.ts";
import { tagify } from "../bus/tagify.ts";
import { reservedTagReason } from "../link/reserved_tags.ts";
import {
  type LinkPeer,
  LinkRequestError,
  type MinionLinkServer,
  ownLoad,
} from "../link/link_server.ts";

/**
 * Sets the `_minion_event` and `_return` handlers of `server`, firing on
 * `events` (a client of the master bus; fire-only is enough).
 *
 * @example
 * ```ts
 * import { handleMinionLoads } from "./minion_loads.ts";
 * import type { MinionLinkServer } from "../link/link_server.ts";
 * import type { EventClient } from "../bus/event_client.ts";
 * import { createLogger } from "../bus/log.ts";
 * declare const server: MinionLinkServer;
 * declare const events: EventClient;
 * handleMinionLoads(server, events, createLogger("info"));
 * ```
 */
export function handleMinionLoads(
  server: MinionLinkServer,
  events: EventClient,
  log: Logger,
  config?: BusConfig,
): void {
  const fire = async (data: Record<string, unknown>, tag: string, peer: LinkPeer) => {
    const sent = await events.fireEvent(data, tag);
    if (!sent) log.warning(`master bus unreachable: event ${tag} from ${peer.id} lost`);
    return sent;
  };
  server.handle("_minion_event", (message, peer) => {
    const load = ownLoad(message, peer);
    if (typeof load.tag !== "string" || load.tag === "") {
      throw new LinkRequestError("_minion_event needs a load with a tag");
    }
    const reason = reservedTagReason(load.tag, peer.id, peer.role);
    if (reason !== null) {
      const link = peer.role === "client" ? " (on a client link)" : "";
      log.warning(`refused event ${load.tag} from minion ${peer.id}${link}: ${reason}`);
      throw new LinkRequestError(`event tag ${load.tag} refused: ${reason}`);
    }
    const { tok: _tok, ...event } = load;
    return fire(event, load.tag, peer);
  });
  // Jobs published before this master started are not in its registry; their
  // returns (queued by the minions while it was away) are taken once each when
  // the job cache says the job went to that minion.
  const startJid = genJid();
  const earlier = new Set<string>();
  const fromEarlierRun = (jid: string, id: string): boolean => {
    if (jid.slice(0, 20) >= startJid || earlier.has(`${jid} ${id}`) || !config) return false;
    if (!(storedJobMinions(config, jid) ?? []).includes(id)) return false;
    if (earlier.size >= 100_000) earlier.clear();
    earlier.add(`${jid} ${id}`);
    log.info(`_return from minion ${id} for job ${jid}, published before this master started`);
    return true;
  };
  server.handle("_return", (message, peer) => {
    const load = ownLoad(message, peer);
    if (!isJid(load.jid)) throw new LinkRequestError(`_return without a valid jid`);
    const refusal = peer.role === "minion"
      ? (server.jobs.acceptReturn(load.jid, peer.id) || fromEarlierRun(load.jid, peer.id)
        ? null
        : `job ${load.jid} was not published to minion ${peer.id}, or it returned already`)
      : server.jobs.isPublished(load.jid)
      ? `job ${load.jid} was published to minions: only they return for it, not a client link`
      : null;
    if (refusal !== null) {
      const link = peer.role === "client" ? " (on a client link)" : "";
      log.warning(`refused _return from minion ${peer.id}${link}: ${refusal}`);
      throw new LinkRequestError(`_return refused: ${refusal}`);
    }
    return fire(load, tagify([load.jid, "ret", peer.id], "job"), peer);
  });
}
