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
import { isJid } from "../bus/jid.ts";
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
  server.handle("_return", (message, peer) => {
    const load = ownLoad(message, peer);
    if (!isJid(load.jid)) throw new LinkRequestError(`_return without a valid jid`);
    const refusal = peer.role === "minion"
      ? (server.jobs.acceptReturn(load.jid, peer.id)
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
