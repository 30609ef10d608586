/**
 * Salt's presence events (spec §8.4, `presence_events: True`): the master
 * fires `salt/presence/change` with `{new, lost}` when minions connect or
 * go, and `salt/presence/present` with `{present}` every `loop_interval`
 * seconds. Salt finds changes by polling each interval; saltbus sees the
 * connections themselves, so a change is fired at once.
 *
 * @module
 */
import type { EventClient } from "../bus/event_client.ts";

/**
 * Fires presence events for a master.
 *
 * @example
 * ```ts
 * import { PresenceReporter } from "./presence.ts";
 * import type { EventClient } from "../bus/event_client.ts";
 * declare const events: EventClient;
 * await using presence = new PresenceReporter(events, () => ["web1"], 60);
 * presence.changed("db1", true); // salt/presence/change {"new": ["db1"], "lost": []}
 * ```
 */
export class PresenceReporter implements AsyncDisposable {
  readonly #events: EventClient;
  readonly #present: () => string[];
  readonly #timer: ReturnType<typeof setInterval>;
  #pending: Promise<unknown> = Promise.resolve();

  /**
   * Starts reporting: `present()` lists the connected minions; `salt/presence/present`
   * goes out every `intervalSeconds`.
   */
  constructor(events: EventClient, present: () => string[], intervalSeconds: number) {
    this.#events = events;
    this.#present = present;
    this.#timer = setInterval(
      () => this.#fire({ present: this.#present() }, "present"),
      intervalSeconds * 1000,
    );
  }

  /** Reports that minion `id` connected (`true`) or went away (`false`). */
  changed(id: string, connected: boolean): void {
    this.#fire(connected ? { new: [id], lost: [] } : { new: [], lost: [id] }, "change");
  }

  /** Stops the periodic event and waits for those in flight. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#pending;
  }

  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #fire(data: Record<string, unknown>, kind: "present" | "change"): void {
    this.#pending = this.#pending.then(() => this.#events.fireEvent(data, `salt/presence/${kind}`))
      .catch(() => false);
  }
}
