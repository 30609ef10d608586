/**
 * The events a minion sends its master when it starts (spec §8.4):
 * `minion_start` (legacy, `enable_legacy_startup_events`) and
 * `salt/minion/<id>/start`, each a `_minion_event` load whose data is
 * `"Minion <id> started at <asctime>"`.
 *
 * @module
 */
import type { BusConfig } from "../bus/config.ts";
import { tagify } from "../bus/tagify.ts";
import { minionEventLoad } from "../link/minion_event_load.ts";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Python's `time.asctime()` for `date` in local time: `Mon Nov 23 18:22:48 2026`.
 *
 * @example
 * ```ts
 * import { asctime } from "./start_events.ts";
 * asctime(new Date(2026, 10, 3, 8, 2, 9)); // "Tue Nov  3 08:02:09 2026"
 * ```
 */
export function asctime(date: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${
    String(date.getDate()).padStart(2, " ")
  } ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())} ${date.getFullYear()}`;
}

/**
 * The start loads for minion `config.id`, in the order Salt sends them.
 *
 * @example
 * ```ts
 * import { startEventLoads } from "./start_events.ts";
 * import { resolveConfig } from "../bus/config.ts";
 * startEventLoads(resolveConfig("minion", { id: "web1" }), {}).map((l) => l.tag);
 * // ["minion_start", "salt/minion/web1/start"]
 * ```
 */
export function startEventLoads(
  config: BusConfig,
  grains: Readonly<Record<string, unknown>>,
): Record<string, unknown>[] {
  const id = config.id ?? "";
  const message = `Minion ${id} started at ${asctime()}`;
  const extra: Record<string, unknown> = {};
  const wanted = config.start_event_grains;
  if (Array.isArray(wanted) && wanted.length > 0) {
    extra.grains = Object.fromEntries(
      wanted.filter((k) => typeof k === "string" && k in grains).map((k) => [k, grains[k]]),
    );
  }
  const tags = config.enable_legacy_startup_events === false ? [] : ["minion_start"];
  tags.push(tagify([id, "start"], "minion"));
  return tags.map((tag) => ({ ...minionEventLoad(id, tag, message), ...extra }));
}
