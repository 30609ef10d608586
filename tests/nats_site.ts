/**
 * A multi-host saltbus site on NATS for tests: network namespaces (a hub
 * with the nats-server and the master, one host per minion; loopback
 * processes when namespaces cannot be made), a private nats-server whose
 * authorization the master writes, and `cli.ts` daemons started inside the
 * hosts. Everything is stopped and removed at the end.
 *
 * @module
 */
import { basename, join } from "node:path";
import type { EventClient } from "../bus/event_client.ts";
import { getEvent } from "../mod.ts";
import type { Daemon } from "./daemons.ts";
import { cliArgv, collect } from "./harness.ts";
import { makeHosts } from "./netns.ts";
import { type NatsServer, startNatsServer } from "./nats_server.ts";
import type { Certs } from "./tls_certs.ts";

/** Options of {@linkcode startNatsSite}. */
export interface NatsSiteOptions {
  /** Minion host names (each gets a namespace). */
  minions: string[];
  /** TLS certificates for the server (its IP in the SAN), or none. */
  certs?: (serverIp: string) => Promise<Certs>;
  /** Extra master config lines. */
  masterConfig?: string;
}

/** A running site. */
export interface NatsSite extends AsyncDisposable {
  /** Whether the hosts are real network namespaces. */
  namespaces: boolean;
  /** The NATS server. */
  nats: NatsServer;
  /** The URL minions and the master use. */
  natsUrl: string;
  /** The master's sock_dir (on the shared filesystem). */
  masterDir: string;
  /** The master's config file. */
  masterConf: string;
  /** Scratch directory. */
  root: string;
  /** The certificates, with TLS. */
  certs: Certs | null;
  /** Starts the master (in the hub). */
  master(): Promise<Daemon>;
  /**
   * Starts a minion daemon on its host; `extra` config lines are added
   * (`tls: false` leaves out the site's `nats_tls`). Resolves once it is ready.
   */
  minion(id: string, extra?: string, options?: { tls?: boolean }): Promise<Daemon>;
  /** A minion's config file (written on first use). */
  minionConf(id: string, extra?: string, options?: { tls?: boolean }): Promise<string>;
  /** A minion's sock_dir. */
  minionDir(id: string): string;
  /** Runs `cli.ts <args>` on `host` ("hub" or a minion id) to completion. */
  cli(host: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Runs any command on `host` to completion. */
  run(host: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A listener on the master bus, closed with the site. */
  masterBus(): Promise<EventClient>;
}

/**
 * Starts the hosts and the nats-server (not the daemons).
 *
 * @example
 * ```ts ignore
 * await using site = await startNatsSite({ minions: ["web1"] });
 * await using master = await site.master();
 * ```
 */
export async function startNatsSite(options: NatsSiteOptions): Promise<NatsSite> {
  const hosts = await makeHosts(["hub", ...options.minions]);
  if (hosts === null) {
    console.log("network namespaces unavailable: running the hosts as loopback processes");
  }
  const root = await Deno.makeTempDir({ prefix: "saltbus-nats-site-" });
  const cleanups: (() => Promise<void>)[] = [];
  const daemons: Daemon[] = [];
  const clients: EventClient[] = [];
  const hungDaemons: string[] = [];
  try {
    const hubIp = hosts ? hosts.addr("hub") : "127.0.0.1";
    const certs = options.certs ? await options.certs(hubIp) : null;
    const authFile = join(root, "nats_auth.conf");
    const pidFile = join(root, "nats.pid");
    await Deno.writeTextFile(authFile, "# the master writes this file\n");
    const tls = certs
      ? `tls {\n  cert_file: ${JSON.stringify(certs.serverCert)}\n  key_file: ${
        JSON.stringify(certs.serverKey)
      }\n}\n`
      : "";
    const nats = await startNatsServer({
      host: hubIp,
      netns: hosts?.ns("hub"),
      // nats-server reads an include relative to its config file, even an absolute path.
      config: `pid_file: ${JSON.stringify(pidFile)}\ninclude ${
        JSON.stringify(`../${basename(root)}/nats_auth.conf`)
      }\n${tls}`,
    });
    cleanups.push(() => nats.close());
    const natsUrl = `${certs ? "tls" : "nats"}://${hubIp}:${nats.port}`;
    const tlsLines = certs
      ? `nats_tls:\n  ca_file: ${certs.caCert}\n  server_name: ${hubIp}\n`
      : "";
    const masterDir = join(root, "master");
    const masterConf = join(root, "master.conf");
    await Deno.writeTextFile(
      masterConf,
      `sock_dir: ${masterDir}\ntransport: nats\nnats_servers: [${natsUrl}]\n` +
        `nats_auth_file: ${authFile}\nnats_server_pid_file: ${pidFile}\n${tlsLines}` +
        (options.masterConfig ?? ""),
    );
    const spawn = (host: string, args: string[]) => spawnArgv(host, cliArgv(args));
    const spawnArgv = (host: string, argv: string[]) => {
      if (hosts) {
        return hosts.exec(host === "hub" ? "hub" : host, argv, { env: { NO_COLOR: "1" } });
      }
      return new Deno.Command(argv[0], {
        args: argv.slice(1),
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    };
    const start = async (host: string, args: string[], ready: string | RegExp) => {
      const child = spawn(host, [...args, "--log-level", "info"]);
      const stderr = collect(child.stderr);
      const stdout = collect(child.stdout);
      let stopped: Promise<number> | null = null;
      const stop = () =>
        stopped ??= (async () => {
          try {
            child.kill("SIGTERM");
          } catch { /* gone */ }
          // A daemon must stop on SIGTERM; one that does not is killed and reported.
          let hung = false;
          const timer = setTimeout(() => {
            hung = true;
            try {
              child.kill("SIGKILL");
            } catch { /* gone */ }
          }, 15_000);
          const status = await child.status;
          clearTimeout(timer);
          if (hung) {
            hungDaemons.push(
              `${args.join(" ")}:\n${stderr.text.split("\n").slice(-15).join("\n")}`,
            );
          }
          await stderr.done;
          await stdout.done;
          return status.code;
        })();
      const daemon: Daemon = {
        child,
        stderr,
        stop,
        [Symbol.asyncDispose]: async () => void await stop(),
      };
      daemons.push(daemon);
      try {
        await stderr.waitFor(ready, 30_000);
      } catch (err) {
        await stop();
        throw new Error(`${(err as Error).message}\n${stderr.text}`);
      }
      return daemon;
    };
    const runArgv = async (host: string, argv: string[]) => {
      const child = spawnArgv(host, argv);
      const [status, stdout, stderr] = await Promise.all([
        child.status,
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ]);
      return { code: status.code, stdout, stderr };
    };
    const minionDir = (id: string) => join(root, `minion-${id}`);
    const minionConf = async (id: string, extra = "", opts: { tls?: boolean } = {}) => {
      const file = join(root, `minion-${id}.conf`);
      await Deno.writeTextFile(
        file,
        `id: ${id}\nsock_dir: ${minionDir(id)}\ntransport: nats\nnats_servers: [${natsUrl}]\n` +
          `${opts.tls === false ? "" : tlsLines}${extra}`,
      );
      return file;
    };
    return {
      namespaces: hosts !== null,
      nats,
      natsUrl,
      masterDir,
      masterConf,
      root,
      certs,
      master: () => start("hub", ["master", "-c", masterConf], "master bus ready"),
      async minion(id, extra, opts) {
        const conf = await minionConf(id, extra, opts);
        return await start(id, ["minion", "-c", conf], `minion ${id} ready`);
      },
      minionConf,
      minionDir,
      cli: (host, args) => runArgv(host, cliArgv(args)),
      run: (host, argv) => runArgv(host, argv),
      async masterBus() {
        const listener = getEvent("master", { sockDir: masterDir });
        clients.push(listener);
        if (!(await listener.connected())) throw new Error(`no master bus at ${masterDir}`);
        return listener;
      },
      async [Symbol.asyncDispose]() {
        for (const client of clients) await client.close();
        for (const daemon of daemons.reverse()) await daemon.stop();
        for (const cleanup of cleanups.reverse()) await cleanup();
        await certs?.cleanup();
        await hosts?.cleanup();
        await Deno.remove(root, { recursive: true });
        if (hungDaemons.length > 0) {
          throw new Error(
            `daemons did not stop on SIGTERM within 15 s:\n${hungDaemons.join("\n")}`,
          );
        }
      },
    };
  } catch (err) {
    for (const daemon of daemons.reverse()) await daemon.stop();
    for (const cleanup of cleanups.reverse()) await cleanup();
    await hosts?.cleanup();
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw err;
  }
}
