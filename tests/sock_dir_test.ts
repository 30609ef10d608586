/**
 * A sock_dir that only its owner can touch (issue 10, reproduction 6), with
 * real processes and a real second user: another user squats the default
 * layout (`mkdir -m777 -p <tmp>/saltbus-<uid>/master`), owns a directory on
 * the way, plants a symbolic link or an API token file; the master refuses
 * to start (or to load the file) and says what is wrong and where.
 *
 * The squatter is a user made with `useradd` for the test and removed after
 * it; its commands run with `setpriv --reuid --regid --clear-groups`. The
 * tests that need it are skipped, saying so, when not running as root.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { EXTERNAL_AUTH } from "./api_harness.ts";
import { type CliResult, collect, spawnCli } from "./harness.ts";

const IS_ROOT = Deno.uid() === 0;
const HAS_TOOLS = IS_ROOT && ["/usr/sbin/useradd", "/usr/bin/setpriv"].every((tool) => {
  try {
    return Deno.statSync(tool).isFile;
  } catch {
    return false;
  }
});
if (!HAS_TOOLS) {
  console.log(
    "sock_dir_test: the tests with a second user need root, useradd and setpriv; skipping them " +
      (IS_ROOT ? "(useradd or setpriv missing)" : `(running as uid ${Deno.uid()}, not root)`),
  );
}

/**
 * Runs `cli.ts <args>` and waits for it; a process still running after
 * `ms` (a master that started where it should have refused) is killed, so
 * the test fails instead of hanging.
 */
async function runCli(args: string[], ms = 20_000): Promise<CliResult> {
  const child = spawnCli(args);
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  try {
    const out = await child.output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** A throw-away local user. */
interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** Runs `command` as this user (no supplementary groups); rejects on failure. */
  run(...command: string[]): Promise<void>;
}

async function run(command: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(`${command} ${args.join(" ")}: exit ${out.code}: ${text.decode(out.stderr)}`);
  }
  return text.decode(out.stdout).trim();
}

async function withSquatter(fn: (user: TestUser) => Promise<void>): Promise<void> {
  const name = `sbsq${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`.slice(0, 16);
  // /etc/passwd is locked while another useradd runs: try a few times.
  for (let attempt = 0;; attempt++) {
    try {
      await run("useradd", [
        "--no-create-home",
        "--user-group",
        "--shell",
        "/usr/sbin/nologin",
        name,
      ]);
      break;
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    const uid = Number(await run("id", ["-u", name]));
    const gid = Number(await run("id", ["-g", name]));
    const user: TestUser = {
      name,
      uid,
      gid,
      run: async (...command) =>
        void await run("setpriv", [
          `--reuid=${uid}`,
          `--regid=${gid}`,
          "--clear-groups",
          "--",
          ...command,
        ]),
    };
    await fn(user);
  } finally {
    await run("userdel", [name]).catch((err) => console.error(`cleanup: ${err}`));
  }
}

/** A scratch dir that behaves like /tmp (root-owned, mode 1777), removed at the end. */
async function withSharedTmp(fn: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "saltbus-shared-" });
  await Deno.chmod(tmp, 0o1777);
  try {
    await fn(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

async function sockets(dir: string): Promise<string[]> {
  const out = [];
  try {
    for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}

Deno.test({
  name:
    "a master refuses a sock_dir another user squatted with mkdir -m777 -p …/saltbus-<uid>/master, naming the path and its owner",
  ignore: !HAS_TOOLS,
  fn: () =>
    withSquatter((squatter) =>
      withSharedTmp(async (tmp) => {
        const sockDir = join(tmp, `saltbus-${Deno.uid()}`, "master");
        await squatter.run("mkdir", "-m777", "-p", sockDir);
        const master = await runCli(["master", "--sock-dir", sockDir]);
        assert.equal(master.code, 1, master.stderr);
        assert.match(
          master.stderr,
          new RegExp(
            `^saltbus: sock_dir ${sockDir}: ${join(tmp, `saltbus-${Deno.uid()}`)} is owned by ` +
              `uid ${squatter.uid} \\(neither uid ${Deno.uid()}`,
          ),
        );
        assert.deepEqual(await sockets(sockDir), [], "nothing was bound in the squatted dir");
        // A minion, and a fire (which never binds), are refused or find nothing.
        const minion = await runCli(["minion", "--id", "web1", "--sock-dir", sockDir]);
        assert.equal(minion.code, 1, minion.stderr);
        assert.match(minion.stderr, new RegExp(`is owned by uid ${squatter.uid}`));
      })
    ),
});

Deno.test({
  name: "a master refuses to create its sock_dir inside a directory another user owns",
  ignore: !HAS_TOOLS,
  fn: () =>
    withSquatter((squatter) =>
      withSharedTmp(async (tmp) => {
        const above = join(tmp, `saltbus-${Deno.uid()}`);
        await squatter.run("mkdir", "-m755", above);
        const sockDir = join(above, "master");
        const master = await runCli(["master", "--sock-dir", sockDir]);
        assert.equal(master.code, 1, master.stderr);
        assert.match(master.stderr, new RegExp(`${above} is owned by uid ${squatter.uid}`));
        assert.deepEqual(await sockets(above), [], "the sock_dir was not created there");
      })
    ),
});

Deno.test({
  name: "a master refuses a sock_dir reached through a symbolic link another user planted",
  ignore: !HAS_TOOLS,
  fn: () =>
    withSquatter((squatter) =>
      withSharedTmp(async (tmp) => {
        const mine = await Deno.makeTempDir({ prefix: "saltbus-mine-" });
        try {
          const link = join(tmp, "master");
          await squatter.run("ln", "-s", mine, link);
          const master = await runCli(["master", "--sock-dir", link]);
          assert.equal(master.code, 1, master.stderr);
          assert.match(
            master.stderr,
            new RegExp(`${link} is a symbolic link owned by uid ${squatter.uid}`),
          );
          assert.deepEqual(await sockets(mine), []);
        } finally {
          await Deno.remove(mine, { recursive: true });
        }
      })
    ),
});

Deno.test("a master refuses its own sock_dir when group or others can write it, and says how to fix it", async () => {
  const root = await Deno.makeTempDir({ prefix: "saltbus-mode-" });
  try {
    const sockDir = join(root, "master");
    for (const [mode, who] of [[0o777, "group and others"], [0o770, "group"], [0o702, "others"]]) {
      await Deno.mkdir(sockDir, { recursive: true });
      await Deno.chmod(sockDir, mode as number);
      const master = await runCli(["master", "--sock-dir", sockDir]);
      assert.equal(master.code, 1, master.stderr);
      assert.ok(
        master.stderr.includes(
          `sock_dir ${sockDir} is writable by ${who} (mode 0${(mode as number).toString(8)}); ` +
            `run 'chmod go-w ${sockDir}'`,
        ),
        master.stderr,
      );
      assert.deepEqual(await sockets(sockDir), []);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// ---------------------------------------------------------------- token file

/** A token record as the API keeps it (selector → digest), for `token`. */
function plantedEntries(token: string): string {
  const now = Date.now() / 1000;
  return JSON.stringify([[token.slice(0, 16), {
    start: now,
    expire: now + 3600,
    user: "alice",
    eauth: "saltbus",
    perms: [".*"],
    revoked: false,
    verifier: createHash("sha256").update(token.slice(16)).digest("hex"),
  }]]);
}

/** Starts `cli.ts master` with an api block and `extra` options; resolves its API URL. */
async function withApiMaster(
  dir: string,
  extra: Record<string, unknown>,
  fn: (url: string, stderr: () => string) => Promise<void>,
): Promise<void> {
  const config = join(dir, "master.conf");
  await Deno.writeTextFile(
    config,
    JSON.stringify({ api: { port: 0 }, external_auth: await EXTERNAL_AUTH, ...extra }),
  );
  const child = spawnCli(["master", "--config", config, "--log-level", "info"]);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  try {
    await stderr.waitFor(/API ready on (\S+) /, 20_000);
    await fn(/API ready on (\S+) /.exec(stderr.text)![1], () => stderr.text);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await stdout.done;
    await stderr.done;
  }
}

async function tokenStatus(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}events?token=${token}`);
  await res.body?.cancel();
  return res.status;
}

const TOKEN = "0123456789abcdef".repeat(4);

Deno.test("the API loads its own owner-only token file, and a token from it is accepted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-tokens-" });
  try {
    const sockDir = join(dir, "master");
    await Deno.mkdir(sockDir, { mode: 0o700 });
    await Deno.writeTextFile(join(sockDir, "api_tokens.json"), plantedEntries(TOKEN), {
      mode: 0o600,
    });
    await withApiMaster(dir, { sock_dir: sockDir }, async (url) => {
      assert.equal(await tokenStatus(url, TOKEN), 200);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the API refuses a token file group or others can write: the token in it gets 401 and the refusal is logged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-tokens-" });
  try {
    const sockDir = join(dir, "master");
    await Deno.mkdir(sockDir, { mode: 0o700 });
    const file = join(sockDir, "api_tokens.json");
    await Deno.writeTextFile(file, plantedEntries(TOKEN));
    await Deno.chmod(file, 0o666);
    await withApiMaster(dir, { sock_dir: sockDir }, async (url, stderr) => {
      assert.equal(await tokenStatus(url, TOKEN), 401);
      assert.match(
        stderr(),
        new RegExp(`token file not loaded: refusing ${file} is writable by group and others`),
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "the API refuses a token file another user planted (api_token_file in a shared dir): the planted token gets 401",
  ignore: !HAS_TOOLS,
  fn: () =>
    withSquatter((squatter) =>
      withSharedTmp(async (tmp) => {
        const dir = await Deno.makeTempDir({ prefix: "saltbus-tokens-" });
        try {
          const file = join(tmp, "api_tokens.json");
          await squatter.run(
            "sh",
            "-c",
            `umask 077; printf '%s' '${plantedEntries(TOKEN)}' > '${file}'`,
          );
          assert.equal((await Deno.lstat(file)).uid, squatter.uid);
          const sockDir = join(dir, "master");
          await withApiMaster(
            dir,
            { sock_dir: sockDir, api_token_file: file },
            async (url, stderr) => {
              assert.equal(await tokenStatus(url, TOKEN), 401);
              assert.match(
                stderr(),
                new RegExp(
                  `token file not loaded: refusing ${file} is owned by uid ${squatter.uid}`,
                ),
              );
            },
          );
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      })
    ),
});
