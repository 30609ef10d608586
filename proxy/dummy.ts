/**
 * The built-in `dummy` proxy module (after Salt's `salt/proxy/dummy.py`): an
 * in-memory device, for trying proxy runs, tests and benchmarks without any
 * network. Each device gets grains and an ARP table derived from its id, so
 * the same roster always gives the same answers.
 *
 * Roster options it reads, besides `proxytype: dummy`:
 * - `grains`: extra grains (over the dummy's own);
 * - `latency_ms`: milliseconds every call waits, like a slow device;
 * - `unreachable`: `true` makes `init()` fail, as a device that is down.
 *
 * @module
 */
import { delay } from "../bus/async.ts";
import type { ProxyContext } from "./proxy_module.ts";

/**
 * One ARP entry, in NAPALM's `get_arp_table` shape.
 *
 * @example
 * ```ts
 * import type { ArpEntry } from "./dummy.ts";
 * const e: ArpEntry = { interface: "Ethernet1", mac: "00:1C:58:29:4A:71", ip: "10.0.0.1", age: 0 };
 * ```
 */
export interface ArpEntry {
  /** Interface name. */
  interface: string;
  /** MAC address, upper-case, colon-separated. */
  mac: string;
  /** IPv4 address. */
  ip: string;
  /** Seconds since the entry was learned. */
  age: number;
}

/** FNV-1a of a string: a stable number per device id. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function hex(n: number): string {
  return (n & 0xff).toString(16).toUpperCase().padStart(2, "0");
}

/**
 * The ARP table of the dummy device `id`: three entries derived from the id.
 *
 * @example
 * ```ts
 * import { dummyArpTable } from "./dummy.ts";
 * dummyArpTable("sw1")[0].interface; // "Ethernet1"
 * ```
 */
export function dummyArpTable(id: string): ArpEntry[] {
  const h = hash(id);
  return [1, 2, 3].map((n) => ({
    interface: `Ethernet${n}`,
    mac: ["00", "1C", hex(h >>> 16), hex(h >>> 8), hex(h), hex(n * 0x11)].join(":"),
    ip: `10.${(h >>> 8) & 0xff}.${h & 0xff}.${n}`,
    age: (n - 1) * 150.5,
  }));
}

async function latency(context: ProxyContext): Promise<void> {
  const ms = Number(context.opts.proxy.latency_ms ?? 0);
  if (ms > 0) await delay(ms);
}

/**
 * Opens the in-memory "connection": fails when the roster says
 * `unreachable: true`.
 *
 * @example
 * ```ts
 * import { init } from "./dummy.ts";
 * // called by the proxy runner with `this` = the device's ProxyContext
 * ```
 */
export async function init(this: ProxyContext): Promise<void> {
  await latency(this);
  if (this.opts.proxy.unreachable === true) {
    throw new Error(`dummy device ${this.id} is unreachable (unreachable: true in the roster)`);
  }
  this.state.connected = true;
  this.state.arp = dummyArpTable(this.id);
}

/**
 * Whether `init()` has connected.
 *
 * @example
 * ```ts
 * import { alive } from "./dummy.ts";
 * // alive.call(context) === true after init
 * ```
 */
export function alive(this: ProxyContext): boolean {
  return this.state.connected === true;
}

/**
 * The device's grains: `os: dummy`, a vendor, model, serial and version, and
 * its interfaces.
 *
 * @example
 * ```ts
 * import { grains } from "./dummy.ts";
 * // grains.call(context).os === "dummy"
 * ```
 */
export function grains(this: ProxyContext): Record<string, unknown> {
  const h = hash(this.id);
  return {
    os: "dummy",
    vendor: "saltbus",
    model: "Dummy-48",
    serial: `DMY${h.toString(16).toUpperCase().padStart(8, "0")}`,
    version: "1.0",
    host: this.id,
    interfaces: ["Ethernet1", "Ethernet2", "Ethernet3", "Management0"],
  };
}

/**
 * Answers `true` while connected (`test.ping` does not need it; this is the
 * proxy's own ping).
 *
 * @example
 * ```ts
 * import { ping } from "./dummy.ts";
 * // await ping.call(context) === true
 * ```
 */
export async function ping(this: ProxyContext): Promise<boolean> {
  await latency(this);
  return this.state.connected === true;
}

/**
 * The device's ARP table (what the `net.arp` execution function returns
 * under `out`).
 *
 * @example
 * ```ts
 * import { arp } from "./dummy.ts";
 * // (await arp.call(context))[0].interface === "Ethernet1"
 * ```
 */
export async function arp(this: ProxyContext): Promise<ArpEntry[]> {
  await latency(this);
  if (this.state.connected !== true) throw new Error(`dummy device ${this.id} is not connected`);
  return (this.state.arp as ArpEntry[]).map((entry) => ({ ...entry }));
}

/**
 * Closes the "connection".
 *
 * @example
 * ```ts
 * import { shutdown } from "./dummy.ts";
 * // shutdown.call(context)
 * ```
 */
export function shutdown(this: ProxyContext): void {
  this.state.connected = false;
}
