/**
 * The `net` execution module of proxy runs (after Salt's NAPALM `net`
 * module): functions that ask the device's proxy module through
 * `__proxy__` and answer in NAPALM's `{out, result, comment}` shape.
 *
 * @module
 */
import type { ModuleContext } from "../../modules/context.ts";
import { proxyFunctions } from "../proxy_module.ts";

/**
 * NAPALM's return shape: the data under `out`, `result: false` and a
 * `comment` when it could not be read.
 *
 * @example
 * ```ts
 * import type { NapalmReturn } from "./net.ts";
 * const ret: NapalmReturn = { out: [], result: true, comment: "" };
 * ```
 */
export interface NapalmReturn {
  /** The data, or `null` on failure. */
  out: unknown;
  /** Whether it worked. */
  result: boolean;
  /** Why not, or `""`. */
  comment: string;
}

/**
 * The device's ARP table from its proxy module's `arp()`, optionally
 * filtered by interface, IP and MAC address (`net.arp interface=Ethernet1`).
 *
 * CLI example: `cli.ts proxy 'edge*' net.arp` or `cli.ts proxy sw1 net.arp ipaddr=10.0.0.1`
 *
 * @example
 * ```ts
 * // {"out": [{"interface": "Ethernet1", "mac": "00:1C:58:29:4A:71", "ip": "10.0.0.1", "age": 0}],
 * //  "result": true, "comment": ""}
 * ```
 */
export async function arp(
  this: ModuleContext,
  iface = "",
  ipaddr = "",
  macaddr = "",
): Promise<NapalmReturn> {
  const proxytype = (this.opts.proxy as { proxytype?: string } | undefined)?.proxytype;
  const fn = proxyFunctions(this)?.[`${proxytype}.arp`];
  if (fn === undefined) {
    return {
      out: null,
      result: false,
      comment: proxytype === undefined
        ? "net.arp runs on proxied devices only (cli.ts proxy …)"
        : `the ${proxytype} proxy module has no arp() function`,
    };
  }
  const table = await fn();
  if (!Array.isArray(table)) {
    return { out: null, result: false, comment: `${proxytype}.arp() did not return a list` };
  }
  const mac = String(macaddr).toUpperCase();
  const out = table.filter((entry) =>
    (iface === "" || entry?.interface === iface) &&
    (ipaddr === "" || entry?.ip === ipaddr) &&
    (mac === "" || String(entry?.mac).toUpperCase() === mac)
  );
  return { out, result: true, comment: "" };
}
// Salt's keyword is `interface`, a reserved word in JavaScript.
arp.params = ["interface", "ipaddr", "macaddr"];
