/**
 * salt-sproxy style proxy runs: a function on the roster's devices through
 * proxy modules, without proxy minions.
 *
 * ```ts
 * import { runProxy } from "@saltbus/saltbus/proxy";
 *
 * const run = await runProxy({ tgt: "*", fun: "test.ping", roster: "/etc/salt/roster" });
 * console.log(run.results);
 * ```
 *
 * @module
 */
export type { DeviceResult, DeviceStatus } from "./device_runner.ts";
export { ProxyRunError } from "./pool.ts";
export type { ProxySummary } from "./proxy_events.ts";
export {
  type DeviceOptions,
  type ProxyContext,
  type ProxyFunction,
  type ProxyFunctions,
  proxyFunctions,
  type ProxyModule,
} from "./proxy_module.ts";
export { loadRoster, parseRoster, type Roster, RosterError } from "./roster.ts";
export { type ProxyProgress, type ProxyRun, runProxy, type RunProxyOptions } from "./run_proxy.ts";
