/**
 * The proxy module interface (Salt's proxy modules, `salt/proxy/*.py`): how
 * saltbus talks to a device that runs no minion. A proxy module is a
 * TypeScript file `<proxytype>.ts` exporting `init`, `alive`, `grains`,
 * `shutdown` and any other functions; every function is called with `this`
 * set to the device's {@linkcode ProxyContext}, which holds the device's
 * options and a `state` object for its connection. Module-level variables
 * are shared by every device a worker handles, so keep per-device data in
 * `this.state`.
 *
 * Execution modules reach the proxy through `this.opts.__proxy__` (Salt's
 * `__proxy__`): the proxy module's functions by `"<proxytype>.<function>"`,
 * already bound to the device; {@linkcode proxyFunctions} reads it with types.
 *
 * @module
 */
import type { Logger } from "../bus/log.ts";
import type { ModuleContext } from "../modules/context.ts";

/**
 * A device's entry in the roster: `proxytype` names its proxy module; the
 * other options are for that module (host, credentials, …). Static `grains`
 * are used for targeting and merged under the module's grains.
 *
 * @example
 * ```ts
 * import type { DeviceOptions } from "./proxy_module.ts";
 * const sw1: DeviceOptions = { proxytype: "dummy", grains: { role: "edge" } };
 * ```
 */
export interface DeviceOptions {
  /** The proxy module: `dummy`, or `<proxytype>.ts` in a proxy module directory. */
  proxytype: string;
  /** Static grains (targeting, and defaults under the module's grains). */
  grains?: Record<string, unknown>;
  /** Anything the proxy module reads. */
  [option: string]: unknown;
}

/**
 * What a proxy module function sees as `this`: the device id, the options
 * saltbus runs with (`opts`, with `opts.proxy` = the device's roster
 * options, Salt's `__opts__["proxy"]`), a per-device `state` object, and a
 * logger.
 *
 * @example
 * ```ts
 * import type { ProxyContext } from "./proxy_module.ts";
 * export function init(this: ProxyContext) {
 *   this.state.session = { host: this.opts.proxy.host, open: true };
 * }
 * ```
 */
export interface ProxyContext {
  /** The device id (its key in the roster). */
  readonly id: string;
  /** Salt's `__opts__` for this device: the configuration, `id`, and `proxy`. */
  readonly opts: Readonly<Record<string, unknown>> & { readonly proxy: DeviceOptions };
  /** Per-device state, e.g. the open connection; starts empty. */
  readonly state: Record<string, unknown>;
  /** Where to log. */
  readonly log: Logger;
}

/**
 * A function of a proxy module: `this` is the device's {@linkcode ProxyContext}.
 *
 * @example
 * ```ts
 * import type { ProxyFunction } from "./proxy_module.ts";
 * const uptime: ProxyFunction = function () {
 *   return { device: this.id, seconds: 42 };
 * };
 * ```
 */
// deno-lint-ignore no-explicit-any
export type ProxyFunction = (this: ProxyContext, ...args: any[]) => unknown;

/**
 * A proxy module, as `import * as mod from "<proxytype>.ts"` gives it. Every
 * function is optional: a module without `init` needs no connection. For a
 * device, saltbus calls `init(opts)`, then `alive(opts)` (a `false` answer
 * makes the device unreachable), then `grains()`, runs the execution
 * function, and finally `shutdown(opts)`. Other exported functions are
 * offered to execution modules through `__proxy__`.
 *
 * @example
 * ```ts
 * // <proxy_module_dirs>/rest_switch.ts
 * import type { ProxyContext } from "./proxy_module.ts";
 *
 * export async function init(this: ProxyContext) {
 *   this.state.base = `https://${this.opts.proxy.host}/api`;
 * }
 * export function alive(this: ProxyContext) {
 *   return this.state.base !== undefined;
 * }
 * export function grains(this: ProxyContext) {
 *   return { vendor: "Example", os: "exos" };
 * }
 * export async function arp(this: ProxyContext) {
 *   const res = await fetch(`${this.state.base}/arp`);
 *   return await res.json();
 * }
 * export function shutdown(this: ProxyContext) {
 *   delete this.state.base;
 * }
 * ```
 */
export interface ProxyModule {
  /** Opens the connection to the device; throwing makes it unreachable. */
  init?(this: ProxyContext, opts: ProxyContext["opts"]): unknown;
  /** Whether the connection works; `false` makes the device unreachable. */
  alive?(this: ProxyContext, opts: ProxyContext["opts"]): unknown;
  /** The device's grains (merged over the roster's static `grains`). */
  grains?(this: ProxyContext): unknown;
  /** Closes the connection (also after a failure). */
  shutdown?(this: ProxyContext, opts: ProxyContext["opts"]): unknown;
  /** Any other function, offered to execution modules as `"<proxytype>.<name>"`. */
  [name: string]: unknown;
}

/**
 * Salt's `__proxy__`: a device's proxy functions by
 * `"<proxytype>.<function>"`, bound to that device.
 *
 * @example
 * ```ts
 * import type { ProxyFunctions } from "./proxy_module.ts";
 * async function arpOf(proxy: ProxyFunctions) {
 *   return await proxy["dummy.arp"]();
 * }
 * ```
 */
export type ProxyFunctions = Readonly<Record<string, (...args: unknown[]) => Promise<unknown>>>;

/**
 * The `__proxy__` mapping of the device an execution function runs for
 * (`this.opts.__proxy__`), or `undefined` outside a proxy run.
 *
 * @example
 * ```ts
 * import type { ModuleContext } from "../modules/context.ts";
 * import { proxyFunctions } from "./proxy_module.ts";
 * // <module_dirs>/switch.ts
 * export async function arp(this: ModuleContext) {
 *   const proxy = proxyFunctions(this);
 *   const type = (this.opts.proxy as { proxytype: string }).proxytype;
 *   return await proxy?.[`${type}.arp`]?.();
 * }
 * ```
 */
export function proxyFunctions(context: Pick<ModuleContext, "opts">): ProxyFunctions | undefined {
  const value = context.opts.__proxy__;
  return typeof value === "object" && value !== null ? value as ProxyFunctions : undefined;
}
