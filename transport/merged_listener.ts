/**
 * Several link listeners as one: the master's Unix socket (clients on its
 * host) and NATS (minions on other hosts) feed one link server.
 *
 * @module
 */
import type { ByteChannel } from "../bus/transport.ts";
import type { LinkListener } from "./link_endpoints.ts";

/**
 * Merges `listeners`: `accept()` yields every listener's connections as they
 * come; `close()` closes them all.
 *
 * @example
 * ```ts
 * import { mergeListeners } from "./merged_listener.ts";
 * import type { LinkListener } from "./link_endpoints.ts";
 * declare const unix: LinkListener, nats: LinkListener;
 * const both = mergeListeners([unix, nats]);
 * for await (const channel of both.accept()) channel.close();
 * ```
 */
export function mergeListeners(listeners: readonly LinkListener[]): LinkListener {
  const waiting: ByteChannel[] = [];
  let wake: (() => void) | null = null;
  let open = listeners.length;
  let started = false;
  const pump = (listener: LinkListener) =>
    (async () => {
      try {
        for await (const channel of listener.accept()) {
          waiting.push(channel);
          wake?.();
        }
      } finally {
        open--;
        wake?.();
      }
    })();
  return {
    address: listeners.map((l) => l.address).join(" and "),
    async *accept() {
      if (!started) {
        started = true;
        for (const listener of listeners) pump(listener);
      }
      while (true) {
        const next = waiting.shift();
        if (next) {
          yield next;
          continue;
        }
        if (open === 0) return;
        await new Promise<void>((resolve) => wake = resolve);
        wake = null;
      }
    },
    async close() {
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}
