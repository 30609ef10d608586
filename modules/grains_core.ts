/**
 * Core grains: facts about this host read with Deno's APIs and a few files
 * (`/etc/os-release`, `/etc/hosts`, `/etc/machine-id`), never a subprocess
 * or the network. Computed once per process. A fact that cannot be read
 * (missing permission, another OS) is left out.
 *
 * @module
 */
import { VERSION } from "../bus/version.ts";

const OS_NAMES: Readonly<Record<string, string>> = {
  debian: "Debian",
  ubuntu: "Ubuntu",
  raspbian: "Raspbian",
  linuxmint: "Mint",
  centos: "CentOS",
  rhel: "RedHat",
  fedora: "Fedora",
  rocky: "Rocky",
  almalinux: "AlmaLinux",
  ol: "OEL",
  amzn: "Amazon",
  alpine: "Alpine",
  arch: "Arch",
  manjaro: "Manjaro",
  gentoo: "Gentoo",
  "opensuse-leap": "Leap",
  "opensuse-tumbleweed": "openSUSE Tumbleweed",
  sles: "SUSE",
  photon: "VMware Photon OS",
  nixos: "NixOS",
};

const OS_FAMILIES: Readonly<Record<string, string>> = {
  Debian: "Debian",
  Ubuntu: "Debian",
  Raspbian: "Debian",
  Mint: "Debian",
  CentOS: "RedHat",
  RedHat: "RedHat",
  Fedora: "RedHat",
  Rocky: "RedHat",
  AlmaLinux: "RedHat",
  OEL: "RedHat",
  Amazon: "RedHat",
  Alpine: "Alpine",
  Arch: "Arch",
  Manjaro: "Arch",
  Gentoo: "Gentoo",
  Leap: "Suse",
  "openSUSE Tumbleweed": "Suse",
  SUSE: "Suse",
  "VMware Photon OS": "RedHat",
  NixOS: "NixOS",
  MacOS: "MacOS",
  Windows: "Windows",
  FreeBSD: "FreeBSD",
};

const KERNELS: Readonly<Record<string, string>> = {
  linux: "Linux",
  darwin: "Darwin",
  windows: "Windows",
  freebsd: "FreeBSD",
  netbsd: "NetBSD",
  openbsd: "OpenBSD",
  solaris: "SunOS",
  illumos: "SunOS",
  android: "Linux",
  aix: "AIX",
};

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * Parses `/etc/os-release` text (shell-style `KEY=value` lines, values
 * optionally quoted).
 *
 * @example
 * ```ts
 * import { parseOsRelease } from "./grains_core.ts";
 * parseOsRelease('NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\n');
 * // { NAME: "Debian GNU/Linux", ID: "debian", VERSION_ID: "12" }
 * ```
 */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m === null) continue;
    let value = m[2].trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\(["\\$`])/g, "$1");
    }
    out[m[1]] = value;
  }
  return out;
}

/**
 * The fully qualified name of `hostname`: itself when it has a dot, else the
 * first dotted name on an `/etc/hosts` line that lists it, else itself.
 *
 * @example
 * ```ts
 * import { fqdnFromHosts } from "./grains_core.ts";
 * fqdnFromHosts("web1", "127.0.1.1 web1.example.com web1\n"); // "web1.example.com"
 * ```
 */
export function fqdnFromHosts(hostname: string, hostsText: string | undefined): string {
  if (hostname.includes(".") || hostsText === undefined) return hostname;
  for (const raw of hostsText.split("\n")) {
    const names = raw.replace(/#.*/, "").trim().split(/\s+/).slice(1);
    if (!names.includes(hostname)) continue;
    const dotted = names.find((n) => n.includes(".") && n.split(".")[0] === hostname);
    if (dotted !== undefined) return dotted;
  }
  return hostname;
}

function osGrains(kernel: string): Record<string, unknown> {
  if (kernel === "Darwin") {
    return { os: "MacOS", os_family: "MacOS", osfullname: "macOS" };
  }
  if (kernel === "Windows") return { os: "Windows", os_family: "Windows", osfullname: "Windows" };
  if (kernel !== "Linux") return { os: kernel, os_family: OS_FAMILIES[kernel] ?? kernel };
  const text = attempt(() => Deno.readTextFileSync("/etc/os-release")) ??
    attempt(() => Deno.readTextFileSync("/usr/lib/os-release"));
  if (text === undefined) return { os: "Linux", os_family: "Linux" };
  const rel = parseOsRelease(text);
  const id = (rel.ID ?? "").toLowerCase();
  const name = rel.NAME ?? "";
  const os = OS_NAMES[id] ?? (name.split(/\s+/)[0] || "Linux");
  let family = OS_FAMILIES[os];
  if (family === undefined) {
    for (const like of (rel.ID_LIKE ?? "").toLowerCase().split(/\s+/)) {
      const f = OS_FAMILIES[OS_NAMES[like] ?? ""];
      if (f !== undefined) {
        family = f;
        break;
      }
    }
  }
  const grains: Record<string, unknown> = {
    os,
    os_family: family ?? os,
    osfullname: name.replace(/\s+GNU\/Linux$/, "") || os,
  };
  let release = rel.VERSION_ID;
  if (os === "Debian") {
    // Salt reports Debian's point release from /etc/debian_version (e.g. "12.5").
    const point = attempt(() => Deno.readTextFileSync("/etc/debian_version").trim());
    if (point !== undefined && /^\d+(\.\d+)*$/.test(point)) release = point;
  }
  if (release !== undefined && release !== "") {
    grains.osrelease = release;
    const major = Number.parseInt(release, 10);
    if (Number.isFinite(major)) grains.osmajorrelease = major;
    grains.osrelease_info = release.split(".").map((p) => /^\d+$/.test(p) ? Number(p) : p);
  }
  const codename = rel.VERSION_CODENAME ?? rel.UBUNTU_CODENAME;
  if (codename !== undefined && codename !== "") grains.oscodename = codename;
  return grains;
}

function compareAddresses(family: "IPv4" | "IPv6") {
  if (family === "IPv6") return (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const key = (ip: string) => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
  return (a: string, b: string) => key(a) - key(b);
}

function networkGrains(): Record<string, unknown> {
  const interfaces = attempt(() => Deno.networkInterfaces());
  if (interfaces === undefined) return {};
  const ipv4 = new Set<string>();
  const ipv6 = new Set<string>();
  const ip4: Record<string, string[]> = {};
  const ip6: Record<string, string[]> = {};
  const hw: Record<string, string> = {};
  for (const iface of interfaces) {
    const v4 = iface.family === "IPv4";
    (v4 ? ipv4 : ipv6).add(iface.address);
    const table = v4 ? ip4 : ip6;
    (table[iface.name] ??= []).push(iface.address);
    hw[iface.name] ??= iface.mac;
  }
  const sortTable = (table: Record<string, string[]>, family: "IPv4" | "IPv6") => {
    const out: Record<string, string[]> = {};
    for (const name of Object.keys(table).sort()) {
      out[name] = [...new Set(table[name])].sort(compareAddresses(family));
    }
    return out;
  };
  const hwSorted: Record<string, string> = {};
  for (const name of Object.keys(hw).sort()) hwSorted[name] = hw[name];
  return {
    ipv4: [...ipv4].sort(compareAddresses("IPv4")),
    ipv6: [...ipv6].sort(compareAddresses("IPv6")),
    ip4_interfaces: sortTable(ip4, "IPv4"),
    ip6_interfaces: sortTable(ip6, "IPv6"),
    hwaddr_interfaces: hwSorted,
  };
}

let hostFacts: Readonly<Record<string, unknown>> | undefined;

function collectHostFacts(): Readonly<Record<string, unknown>> {
  const grains: Record<string, unknown> = {};
  const hostname = attempt(() => Deno.hostname());
  if (hostname !== undefined) {
    const fqdn = fqdnFromHosts(hostname, attempt(() => Deno.readTextFileSync("/etc/hosts")));
    const dot = fqdn.indexOf(".");
    grains.host = hostname.split(".")[0];
    grains.fqdn = fqdn;
    grains.domain = dot >= 0 ? fqdn.slice(dot + 1) : "";
    grains.localhost = hostname;
    grains.nodename = hostname;
  }
  const kernel = KERNELS[Deno.build.os] ?? Deno.build.os;
  grains.kernel = kernel;
  const release = attempt(() => Deno.osRelease());
  if (release !== undefined) grains.kernelrelease = release;
  Object.assign(grains, osGrains(kernel));
  grains.cpuarch = Deno.build.arch;
  grains.num_cpus = navigator.hardwareConcurrency;
  const mem = attempt(() => Deno.systemMemoryInfo());
  if (mem !== undefined) grains.mem_total = Math.floor(mem.total / (1024 * 1024));
  Object.assign(grains, networkGrains());
  const machineId = attempt(() => Deno.readTextFileSync("/etc/machine-id").trim());
  if (machineId) grains.machine_id = machineId;
  grains.pid = Deno.pid;
  const uid = attempt(() => Deno.uid());
  if (uid !== undefined && uid !== null) grains.uid = uid;
  const gid = attempt(() => Deno.gid());
  if (gid !== undefined && gid !== null) grains.gid = gid;
  grains.shell = attempt(() => Deno.env.get("SHELL")) ??
    (kernel === "Windows" ? "C:\\Windows\\system32\\cmd.exe" : "/bin/sh");
  grains.deno_version = Deno.version.deno;
  grains.saltbus_version = VERSION;
  return Object.freeze(grains);
}

/**
 * Salt-style core grains of this host: `id` (`opts.id`, else the fqdn),
 * `host`, `fqdn`, `domain`, `localhost`, `nodename`, `kernel`,
 * `kernelrelease`, `os`, `os_family`, `osfullname`, `osrelease`,
 * `osmajorrelease`, `osrelease_info`, `oscodename`, `cpuarch`, `num_cpus`,
 * `mem_total` (MiB), `ipv4`, `ipv6` (sorted, loopback included),
 * `ip4_interfaces`, `ip6_interfaces`, `hwaddr_interfaces`, `machine_id`,
 * `pid`, `uid`, `gid`, `shell`, `deno_version`, `saltbus_version`. Host facts
 * are read once per process; the result is a fresh object.
 *
 * @example
 * ```ts
 * import { coreGrains } from "./grains_core.ts";
 * const grains = coreGrains({ id: "web1" });
 * console.log(grains.id, grains.os, grains.num_cpus, grains.ipv4);
 * ```
 */
export function coreGrains(opts: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  hostFacts ??= collectHostFacts();
  const id = opts.id !== undefined && opts.id !== null && opts.id !== ""
    ? String(opts.id)
    : hostFacts.fqdn ?? "localhost";
  return { id, ...structuredClone(hostFacts) };
}
