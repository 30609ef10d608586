/**
 * A private PostgreSQL for tests: its own cluster (initdb into a temp dir,
 * trust auth, run as the `postgres` system user when the tests run as root),
 * on a free 127.0.0.1 port with its socket in the cluster's dir. It does not
 * use the cluster Debian's package creates.
 *
 * @module
 */

/** A running private PostgreSQL server. */
export interface PrivatePostgres extends AsyncDisposable {
  /** Its TCP port on 127.0.0.1. */
  port: number;
  /** The host to connect to (`127.0.0.1`). */
  host: string;
  /** The superuser to connect as (trust auth, no password). */
  user: string;
  /** Creates a fresh, empty database; resolves its name. */
  createDatabase(): Promise<string>;
  /** Runs `psql -At -c sql` against `db`; resolves standard output (throws on failure). */
  psql(db: string, sql: string): Promise<string>;
  /** Stops the server (fast shutdown) and removes its directory. */
  close(): Promise<void>;
}

/** The directory of the newest installed PostgreSQL's binaries (`/usr/lib/postgresql/<v>/bin`). */
export async function postgresBinDir(): Promise<string> {
  const versions: number[] = [];
  try {
    for await (const e of Deno.readDir("/usr/lib/postgresql")) {
      if (/^\d+$/.test(e.name)) versions.push(Number(e.name));
    }
  } catch {
    // not installed
  }
  versions.sort((a, b) => b - a);
  for (const v of versions) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    try {
      await Deno.stat(`${dir}/initdb`);
      return dir;
    } catch {
      // next
    }
  }
  throw new Error("PostgreSQL is not installed: apt-get install -y postgresql postgresql-client");
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const asRoot = Deno.uid() === 0;

/** The `postgres` system user's uid and gid (initdb and postgres refuse to run as root). */
async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => {
    const out = await new Deno.Command("id", { args: [flag, "postgres"], stdout: "piped" })
      .output();
    if (!out.success) throw new Error("no 'postgres' system user: apt-get install -y postgresql");
    return Number(new TextDecoder().decode(out.stdout).trim());
  };
  return { uid: await id("-u"), gid: await id("-g") };
}

let ids: { uid: number; gid: number } | null = null;

/** Runs `bin` directly (as the postgres user when we are root), so signals reach it. */
async function command(bin: string, args: string[]): Promise<Deno.Command> {
  if (asRoot) ids ??= await postgresIds();
  return new Deno.Command(bin, {
    args,
    stdout: "piped",
    stderr: "piped",
    ...(asRoot ? { uid: ids!.uid, gid: ids!.gid } : {}),
  });
}

async function run(bin: string, args: string[]): Promise<string> {
  const out = await (await command(bin, args)).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${bin} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

/**
 * Starts a private PostgreSQL (on `options.port`, else a free port) and waits
 * until it accepts connections.
 *
 * @example
 * ```ts
 * await using pg = await startPostgres();
 * const db = await pg.createDatabase();
 * console.log(await pg.psql(db, "select 1")); // "1\n"
 * ```
 */
export async function startPostgres(options: { port?: number } = {}): Promise<PrivatePostgres> {
  const bin = await postgresBinDir();
  const dir = await Deno.makeTempDir({ prefix: "saltbus-pg-" });
  const data = `${dir}/data`;
  await Deno.mkdir(data, { mode: 0o700 });
  if (asRoot) {
    const out = await new Deno.Command("chown", { args: ["-R", "postgres:postgres", dir] })
      .output();
    if (!out.success) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw new Error(`chown postgres ${dir} failed`);
    }
  }
  const cleanup = async () => await Deno.remove(dir, { recursive: true }).catch(() => {});
  const user = "postgres";
  try {
    await run(`${bin}/initdb`, ["-D", data, "--auth=trust", "-U", user, "-E", "UTF8", "--no-sync"]);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const port = options.port ?? freePort();
  const child = (await command(`${bin}/postgres`, [
    "-D",
    data,
    "-p",
    String(port),
    "-k",
    dir,
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    "fsync=off",
    "-c",
    "max_connections=200",
  ])).spawn();
  const stderrDone = child.stderr.pipeTo(new WritableStream()).catch(() => {});
  const stdoutDone = child.stdout.pipeTo(new WritableStream()).catch(() => {});
  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= (async () => {
      try {
        // SIGINT: PostgreSQL's fast shutdown.
        child.kill("SIGINT");
      } catch {
        // gone
      }
      await child.status;
      await stderrDone;
      await stdoutDone;
      await cleanup();
    })();
    return closed;
  };
  const host = "127.0.0.1";
  const psqlArgs = (db: string) => ["-h", host, "-p", String(port), "-U", user, "-d", db];
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = (await new Deno.Command(`${bin}/pg_isready`, {
      args: ["-h", host, "-p", String(port), "-U", user],
      stdout: "null",
      stderr: "null",
    }).output()).success;
    if (ok) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`private PostgreSQL on port ${port} did not become ready`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  let n = 0;
  const psql = async (db: string, sql: string) => {
    const out = await new Deno.Command("psql", {
      args: [...psqlArgs(db), "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`psql: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout);
  };
  return {
    port,
    host,
    user,
    async createDatabase() {
      const name = `saltbus_test_${Deno.pid}_${++n}`;
      await psql("postgres", `CREATE DATABASE ${name}`);
      return name;
    },
    psql,
    close,
    [Symbol.asyncDispose]: close,
  };
}
