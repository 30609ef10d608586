/**
 * Simulated hosts for multi-host tests: one Linux network namespace per host,
 * all joined through a bridge that lives in its own private "switch"
 * namespace, on a private 10.k.0.0/24 subnet. Every veth pair is created
 * directly inside the namespaces (`ip link add … netns …`), so nothing is ever
 * added to the root namespace and deleting the namespaces removes every link.
 *
 * Needs root and iproute2; {@linkcode makeHosts} returns `null` otherwise so
 * callers can fall back to plain loopback processes.
 *
 * @module
 */

/** Options for {@linkcode Hosts.exec}. */
export interface HostExecOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** stdin; `null` when omitted. */
  stdin?: "piped" | "inherit" | "null";
  /** stdout; `piped` when omitted. */
  stdout?: "piped" | "inherit" | "null";
  /** stderr; `piped` when omitted. */
  stderr?: "piped" | "inherit" | "null";
}

/** A set of simulated hosts made by {@linkcode makeHosts}. */
export interface Hosts extends AsyncDisposable {
  /** The host names, in the order given. */
  names: string[];
  /** The host's IPv4 address on the shared subnet (e.g. `10.213.0.1`). */
  addr(name: string): string;
  /** The host's network namespace name (for `ip netns exec` or `startNatsServer({netns})`). */
  ns(name: string): string;
  /** Spawns `ip netns exec <ns> <cmd…>` (stdout and stderr piped unless told otherwise). */
  exec(name: string, cmd: string[], opts?: HostExecOptions): Deno.ChildProcess;
  /** Runs `cmd` inside the host to completion; resolves its exit code and decoded output. */
  run(name: string, cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Kills whatever still runs in the namespaces, then deletes every namespace (and so every link). */
  cleanup(): Promise<void>;
}

/** Namespace names look like `sb<pid>.<n>-<host>`; this extracts the pid. */
const OWNED = /^sb(\d+)\.\d+-/;

let made = 0;

/** Runs `ip args…`; throws with its stderr on failure. */
async function ip(...args: string[]): Promise<string> {
  const out = await new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")}: ${dec.decode(out.stderr).trim() || out.code}`);
  }
  return dec.decode(out.stdout);
}

/** The names of all network namespaces. */
async function listNamespaces(): Promise<string[]> {
  const text = await ip("netns", "list");
  return text.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((n) => n);
}

/** SIGKILLs every process still running inside `ns`, then deletes it. */
async function deleteNamespace(ns: string): Promise<void> {
  const pids = await ip("netns", "pids", ns).catch(() => "");
  for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already
    }
  }
  await ip("netns", "del", ns).catch(() => {});
}

/** Whether a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Deletes leftover `sb<pid>.<n>-*` namespaces whose creating process is gone
 * (e.g. after a crashed test run). Resolves the names it deleted.
 *
 * @example
 * ```ts ignore
 * const removed = await cleanupStaleHosts();
 * if (removed.length) console.log("removed stale namespaces", removed);
 * ```
 */
export async function cleanupStaleHosts(): Promise<string[]> {
  let names: string[];
  try {
    names = await listNamespaces();
  } catch {
    return [];
  }
  const stale = names.filter((n) => {
    const m = OWNED.exec(n);
    return m !== null && Number(m[1]) !== Deno.pid && !alive(Number(m[1]));
  });
  for (const ns of stale) await deleteNamespace(ns);
  return stale;
}

/** Picks k for 10.k.0.0/24 avoiding every IPv4 route of the root namespace. */
async function pickSubnet(): Promise<number> {
  const routes = await ip("-4", "route", "show", "table", "all").catch(() => "");
  const used = new Set(
    [...routes.matchAll(/\b10\.(\d+)\./g)].map((m) => Number(m[1])),
  );
  const start = (Deno.pid + made * 7) % 50;
  for (let i = 0; i < 50; i++) {
    const k = 200 + (start + i) % 50;
    if (!used.has(k)) return k;
  }
  return 200 + start;
}

/**
 * Makes one network namespace per name, joined through a bridge, with
 * addresses `10.<k>.0.<i+1>/24` (in the order given) and loopback up in each.
 * Returns `null`, logging one line, when namespaces cannot be made here.
 * Names must match `/^[A-Za-z0-9_]{1,32}$/` and be unique.
 *
 * @example
 * ```ts ignore
 * await using hosts = await makeHosts(["hub", "m1"]);
 * if (hosts) {
 *   const r = await hosts.run("m1", ["ping", "-c1", hosts.addr("hub")]);
 *   console.log(r.code);
 * }
 * ```
 */
export async function makeHosts(names: string[]): Promise<Hosts | null> {
  for (const n of names) {
    if (!/^[A-Za-z0-9_]{1,32}$/.test(n)) throw new Error(`bad host name: ${JSON.stringify(n)}`);
  }
  if (new Set(names).size !== names.length) throw new Error(`duplicate host names: ${names}`);
  if (names.length > 250) throw new Error("at most 250 hosts");

  const unavailable = (reason: string) => {
    console.log(`network namespaces unavailable: ${reason}; falling back to loopback`);
    return null;
  };
  if (Deno.build.os !== "linux") return unavailable(`not Linux (${Deno.build.os})`);
  if (Deno.uid() !== 0) return unavailable("not root");
  try {
    await ip("-V");
  } catch (err) {
    return unavailable(`no usable 'ip' (iproute2): ${(err as Error).message}`);
  }

  await cleanupStaleHosts();
  const prefix = `sb${Deno.pid}.${made++}-`;
  const sw = `${prefix}_switch`; // the bridge namespace; "_switch" is reserved as a host name
  const nsOf = new Map(names.map((n) => [n, `${prefix}${n}`]));
  const k = await pickSubnet();
  const addrOf = new Map(names.map((n, i) => [n, `10.${k}.0.${i + 1}`]));
  const created: string[] = [];

  const cleanup = async () => {
    globalThis.removeEventListener("unload", onUnload);
    const all = created.splice(0);
    for (const ns of all.reverse()) await deleteNamespace(ns);
  };
  /** Last resort when the process exits without cleanup: delete synchronously. */
  const onUnload = () => {
    for (const ns of created) {
      try {
        new Deno.Command("ip", { args: ["netns", "del", ns], stdout: "null", stderr: "null" })
          .outputSync();
      } catch {
        // best effort
      }
    }
  };
  globalThis.addEventListener("unload", onUnload);

  try {
    if (nsOf.has("_switch")) throw new Error('the host name "_switch" is reserved');
    await ip("netns", "add", sw);
    created.push(sw);
    await ip("-n", sw, "link", "set", "lo", "up");
    await ip("-n", sw, "link", "add", "name", "br0", "type", "bridge");
    await ip("-n", sw, "link", "set", "br0", "up");
    for (const [i, name] of names.entries()) {
      const ns = nsOf.get(name)!;
      await ip("netns", "add", ns);
      created.push(ns);
      const port = `p${i}`;
      await ip(
        "link",
        "add",
        "name",
        port,
        "netns",
        sw,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        ns,
      );
      await ip("-n", sw, "link", "set", port, "master", "br0");
      await ip("-n", sw, "link", "set", port, "up");
      await ip("-n", ns, "link", "set", "lo", "up");
      await ip("-n", ns, "addr", "add", `${addrOf.get(name)}/24`, "dev", "eth0");
      await ip("-n", ns, "link", "set", "eth0", "up");
    }
  } catch (err) {
    await cleanup();
    return unavailable((err as Error).message);
  }

  const nsName = (name: string) => {
    const ns = nsOf.get(name);
    if (!ns) throw new Error(`unknown host ${JSON.stringify(name)} (have ${names.join(", ")})`);
    return ns;
  };
  const exec = (name: string, cmd: string[], opts: HostExecOptions = {}) =>
    new Deno.Command("ip", {
      args: ["netns", "exec", nsName(name), ...cmd],
      env: opts.env,
      cwd: opts.cwd,
      stdin: opts.stdin ?? "null",
      stdout: opts.stdout ?? "piped",
      stderr: opts.stderr ?? "piped",
    }).spawn();

  return {
    names: [...names],
    addr: (name) => {
      nsName(name);
      return addrOf.get(name)!;
    },
    ns: nsName,
    exec,
    run: async (name, cmd) => {
      const out = await exec(name, cmd).output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    },
    cleanup,
    [Symbol.asyncDispose]: cleanup,
  };
}
