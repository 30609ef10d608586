/**
 * Salt's `_minion_event` load (spec §1.8): what a minion sends its master
 * for one event, and what the master fires with the event's own tag.
 *
 * @module
 */

/**
 * The load for one event from minion `id`: `{cmd, id, tag, data, pretag}`.
 *
 * @example
 * ```ts
 * import { minionEventLoad } from "./minion_event_load.ts";
 * minionEventLoad("web1", "myco/done", { ok: true });
 * // { cmd: "_minion_event", id: "web1", tag: "myco/done", data: { ok: true }, pretag: null }
 * ```
 */
export function minionEventLoad(
  id: string,
  tag: string,
  data: unknown,
  pretag: unknown = null,
): Record<string, unknown> {
  return { cmd: "_minion_event", id, tag, data, pretag: pretag ?? null };
}
