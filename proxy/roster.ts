/**
 * The roster of a proxy run: which devices exist and how to reach them. A
 * YAML mapping of device id to options, each with a `proxytype`:
 *
 * ```yaml
 * edge1:
 *   proxytype: dummy
 *   grains: {role: edge, site: lon}
 * core1:
 *   proxytype: rest_switch
 *   host: 10.0.0.2
 * ```
 *
 * @module
 */
import { readYamlFile, YamlFileError } from "../bus/yaml_file.ts";
import { SaltbusError } from "../bus/errors.ts";
import type { TargetCandidate } from "../jobs/target.ts";
import type { DeviceOptions } from "./proxy_module.ts";

/**
 * A roster that cannot be used: unreadable, not YAML, not a mapping, or a
 * device without a `proxytype`. The message names the file and the device.
 *
 * @example
 * ```ts
 * import { RosterError } from "./roster.ts";
 * const err = new RosterError("device sw1 in /etc/saltbus/roster has no proxytype");
 * console.log(err.name); // "RosterError"
 * ```
 */
export class RosterError extends SaltbusError {
  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RosterError";
  }
}

/**
 * Devices by id.
 *
 * @example
 * ```ts
 * import type { Roster } from "./roster.ts";
 * const roster: Roster = { sw1: { proxytype: "dummy" } };
 * ```
 */
export type Roster = Record<string, DeviceOptions>;

/**
 * Checks a parsed roster (a mapping of device id → options with a
 * `proxytype` string); `source` names it in messages. Ids are strings even
 * when YAML read them as numbers.
 *
 * @throws {RosterError} naming the source and the device.
 * @example
 * ```ts
 * import { parseRoster } from "./roster.ts";
 * parseRoster({ sw1: { proxytype: "dummy" } }); // { sw1: { proxytype: "dummy" } }
 * ```
 */
export function parseRoster(value: unknown, source = "the roster"): Roster {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new RosterError(`${source} must be a mapping of device id: {proxytype: …, …}`);
  }
  const roster: Roster = {};
  for (const [id, options] of Object.entries(value as Record<string, unknown>)) {
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new RosterError(
        `device ${id} in ${source}: expected a mapping such as {proxytype: dummy}, got ${
          JSON.stringify(options)
        }`,
      );
    }
    const device = options as Record<string, unknown>;
    if (typeof device.proxytype !== "string" || device.proxytype === "") {
      throw new RosterError(`device ${id} in ${source} has no proxytype (e.g. proxytype: dummy)`);
    }
    if (
      device.grains !== undefined &&
      (typeof device.grains !== "object" || device.grains === null || Array.isArray(device.grains))
    ) {
      throw new RosterError(`device ${id} in ${source}: grains must be a mapping`);
    }
    roster[String(id)] = device as DeviceOptions;
  }
  return roster;
}

/**
 * Reads a roster file (YAML 1.1, Salt's dialect).
 *
 * @throws {RosterError} when the file cannot be read or is not a valid roster.
 * @example
 * ```ts
 * import { loadRoster } from "./roster.ts";
 * const roster = await loadRoster("/etc/saltbus/roster");
 * console.log(Object.keys(roster));
 * ```
 */
export async function loadRoster(file: string): Promise<Roster> {
  let parsed: unknown;
  try {
    parsed = await readYamlFile(file, "roster file");
  } catch (err) {
    if (err instanceof YamlFileError) throw new RosterError(err.message, { cause: err });
    throw err;
  }
  return parseRoster(parsed, `roster file ${file}`);
}

/**
 * What a roster device is targeted as: its id, its static `grains`, and
 * `{proxy: options}` as pillar (so `I@proxy:proxytype:dummy` works). Devices
 * are not contacted for targeting.
 *
 * @example
 * ```ts
 * import { rosterCandidate } from "./roster.ts";
 * rosterCandidate("sw1", { proxytype: "dummy", grains: { role: "edge" } });
 * // { id: "sw1", grains: { role: "edge" }, pillar: { proxy: { proxytype: "dummy", … } } }
 * ```
 */
export function rosterCandidate(id: string, options: DeviceOptions): TargetCandidate {
  return { id, grains: options.grains ?? {}, pillar: { proxy: options } };
}
