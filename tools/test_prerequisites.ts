/**
 * Installs what the test suite needs beyond Deno, when it is missing: Debian's
 * `python3-msgpack` (the Python interop tests speak Salt's wire format from a
 * non-Deno process), `chromium` (the browser tests), `postgresql` and
 * `postgresql-client` (the tests start a private PostgreSQL cluster),
 * `salt-pepper` (the real salt-api client), `nats-server`, `iproute2` (network
 * namespaces as hosts) and `openssl` (TLS certificates). `deno task
 * test` runs this first, so the README's one test command works on a fresh
 * machine that has only Node.js and npm.
 *
 * As root it runs `apt-get update` and `apt-get install -y …`; as another user
 * it prints the command to run and lets the tests go on (those that need the
 * package then fail, naming it).
 *
 * ```sh
 * deno run --allow-run --allow-read tools/test_prerequisites.ts
 * ```
 *
 * @module
 */

/** One Debian package the tests need, and how to tell it is there. */
export interface Prerequisite {
  /** The Debian package name. */
  pkg: string;
  /** Resolves true when what the package provides is already usable. */
  present: () => Promise<boolean>;
}

/** True when `path` is a file. */
async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** True when some PostgreSQL server binaries (`initdb`) are installed. */
async function hasInitdb(): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
      if (await isFile(`/usr/lib/postgresql/${entry.name}/bin/initdb`)) return true;
    }
  } catch {
    // not installed
  }
  return false;
}

/** Runs a command quietly; true when it exits 0. */
async function succeeds(cmd: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** The packages the suite needs. */
export const PREREQUISITES: readonly Prerequisite[] = [
  { pkg: "python3-msgpack", present: () => succeeds("/usr/bin/python3", ["-c", "import msgpack"]) },
  { pkg: "chromium", present: () => isFile("/usr/bin/chromium") },
  { pkg: "postgresql", present: hasInitdb },
  { pkg: "postgresql-client", present: () => isFile("/usr/bin/psql") },
  { pkg: "salt-pepper", present: () => isFile("/usr/bin/salt-pepper") },
  { pkg: "nats-server", present: () => isFile("/usr/sbin/nats-server") },
  { pkg: "iproute2", present: () => isFile("/usr/sbin/ip").then((a) => a || isFile("/sbin/ip")) },
  { pkg: "openssl", present: () => isFile("/usr/bin/openssl") },
];

/**
 * The packages among `prerequisites` that are missing here.
 *
 * @example
 * ```ts
 * import { missingPackages, PREREQUISITES } from "./test_prerequisites.ts";
 * console.log(await missingPackages(PREREQUISITES)); // e.g. ["chromium"]
 * ```
 */
export async function missingPackages(
  prerequisites: readonly Prerequisite[],
): Promise<string[]> {
  const missing: string[] = [];
  for (const p of prerequisites) if (!await p.present()) missing.push(p.pkg);
  return missing;
}

if (import.meta.main) {
  const missing = await missingPackages(PREREQUISITES);
  if (missing.length > 0) {
    const command = `apt-get update && apt-get install -y ${missing.join(" ")}`;
    if (Deno.uid() !== 0) {
      console.error(
        `test prerequisites: missing Debian packages ${missing.join(", ")}; ` +
          `run as root: ${command} (the tests that need them will fail)`,
      );
    } else {
      console.error(`test prerequisites: installing ${missing.join(", ")}`);
      const env = { DEBIAN_FRONTEND: "noninteractive" };
      const update = await new Deno.Command("apt-get", { args: ["update", "-qq"], env }).output();
      const install = update.success &&
        (await new Deno.Command("apt-get", {
          args: ["install", "-y", "-qq", ...missing],
          env,
          stdout: "null",
        }).output()).success;
      if (!install) {
        console.error(
          `test prerequisites: '${command}' failed; the tests that need them will fail`,
        );
      }
    }
  }
}
